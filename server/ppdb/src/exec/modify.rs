//! `delete`, `incr` and `decr`.

use ppdb_memcache::arithmetic::{Arithmetic, ArithmeticMode};
use ppdb_memcache::delete::Delete;
use ppdb_memcache::{ClientError, ErrorReply, Response};

use super::detail::Op;
use super::{write_store_error, Cx};
use crate::store::StoreError;

/// `delete <key>`: `DELETED` or `NOT_FOUND`; nothing with `noreply`.
pub(crate) fn delete(cx: &Cx<'_>, d: &Delete<'_>, out: &mut Vec<u8>) {
    cx.state().detail.record(d.key, Op::Delete);
    let mut reply = Vec::new();
    match cx.store().delete(d.key, cx.now) {
        Ok(true) => {
            cx.count(|c| &c.delete_hits);
            Response::Deleted.write_to(&mut reply);
        }
        Ok(false) => {
            cx.count(|c| &c.delete_misses);
            Response::NotFound.write_to(&mut reply);
        }
        Err(e) => write_store_error(&e, &mut reply),
    }
    if !d.noreply {
        out.extend_from_slice(&reply);
    }
}

/// `incr`/`decr <key> <delta>`: the new value, `NOT_FOUND`, or `CLIENT_ERROR cannot increment
/// or decrement non-numeric value`; nothing with `noreply`.
pub(crate) fn arithmetic(cx: &Cx<'_>, a: &Arithmetic<'_>, out: &mut Vec<u8>) {
    let increment = a.mode == ArithmeticMode::Increment;
    let mut reply = Vec::new();
    match cx.store().arithmetic(a.key, a.mode, a.delta, cx.now) {
        Ok(Some(value)) => {
            cx.count(if increment {
                |c| &c.incr_hits
            } else {
                |c| &c.decr_hits
            });
            Response::Number(value).write_to(&mut reply);
        }
        Ok(None) => {
            cx.count(if increment {
                |c| &c.incr_misses
            } else {
                |c| &c.decr_misses
            });
            Response::NotFound.write_to(&mut reply);
        }
        Err(StoreError::NonNumeric) => {
            ErrorReply::Client(ClientError::NonNumericValue).write_to(&mut reply);
        }
        Err(e) => write_store_error(&e, &mut reply),
    }
    if !a.noreply {
        out.extend_from_slice(&reply);
    }
}
