//! `flush_all`, `version`, `verbosity`, `quit` and `shutdown`.

use std::sync::atomic::Ordering;

use ppdb_memcache::misc::{FlushAll, Shutdown, Verbosity, SHUTDOWN_DISABLED};
use ppdb_memcache::{flush_all_deadline, ClientError, ErrorReply, Request, Response};

use super::{Cx, VERSION};
use crate::shared::Action;

/// memcached's `MAX_VERBOSITY_LEVEL`: `verbosity` clamps to it.
pub(crate) const VERBOSITY_MAX: u32 = 2;

/// The administrative commands; any other request is a bug in the dispatcher and is answered
/// `ERROR`.
pub(crate) fn admin(cx: &Cx<'_>, request: Request<'_>, out: &mut Vec<u8>) -> Action {
    match request {
        Request::FlushAll(f) => flush_all(cx, f, out),
        Request::Version => Response::Version(VERSION.as_bytes()).write_to(out),
        Request::Verbosity(v) => verbosity(cx, v, out),
        Request::Quit => return Action::Close,
        Request::Shutdown(mode) => return shutdown(cx, mode, out),
        _ => Response::Error.write_to(out),
    }
    Action::Continue
}

/// `flush_all [delay]`: `OK`. Every item stored before the deadline is gone from then on.
fn flush_all(cx: &Cx<'_>, f: FlushAll, out: &mut Vec<u8>) {
    cx.count(|c| &c.cmd_flush);
    cx.store()
        .flush_all(flush_all_deadline(f.delay, cx.now), cx.now);
    if !f.noreply {
        Response::Ok.write_to(out);
    }
}

/// `verbosity <level>`: `OK`; the level is clamped to [`VERBOSITY_MAX`].
fn verbosity(cx: &Cx<'_>, v: Verbosity, out: &mut Vec<u8>) {
    let level = v.level.min(VERBOSITY_MAX) as u8;
    cx.shared.verbosity.store(level, Ordering::Relaxed);
    if !v.noreply {
        Response::Ok.write_to(out);
    }
}

/// `shutdown [graceful]`: stops the server without a reply when shutdown is enabled (`-A`);
/// `ERROR: shutdown not enabled` otherwise.
fn shutdown(cx: &Cx<'_>, mode: Shutdown, out: &mut Vec<u8>) -> Action {
    if !cx.shared.settings.shutdown_enabled {
        Response::Line(SHUTDOWN_DISABLED.as_bytes()).write_to(out);
        return Action::Continue;
    }
    match mode {
        Shutdown::Immediate | Shutdown::Graceful => Action::Shutdown,
        Shutdown::Invalid => {
            ErrorReply::Client(ClientError::InvalidShutdownMode).write_to(out);
            Action::Continue
        }
    }
}
