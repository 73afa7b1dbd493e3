//! `md <key> <flag>*`: meta delete.
//!
//! Removes the item (`HD`), or with `I` marks it stale instead: it keeps its value, gets a new
//! CAS unique and `T`'s TTL if given, and the next `mg` wins the recache. With `x` the value
//! is dropped but the item stays, empty, with `F`'s flags and `T`'s TTL (0: never expires).
//! With `C` the CAS unique must match (`EX` otherwise). A miss is `NF`.

use ppdb_core::{BatchOp, PutOptions, VersionRef};
use ppdb_memcache::meta::{MetaDelete, MetaDeleteStatus};

use super::super::{tags, write_store_error, Cx};
use super::expire_at;

/// `md`: `HD` (nothing with `q`), `NF` or `EX`, with `O` and `k`.
///
/// Counts a delete hit when the item is removed (or emptied by `x`), a delete miss on `NF` and
/// `EX`; invalidating counts neither, as in memcached.
pub(crate) fn meta_delete(cx: &Cx<'_>, d: &MetaDelete<'_>, out: &mut Vec<u8>) {
    let key = d.key.as_bytes();
    let result = cx
        .store()
        .update(key, cx.now, |current| decide(d, current.as_ref(), cx.now));
    match result {
        Ok(((status, removed), _)) => {
            if status != MetaDeleteStatus::Deleted {
                cx.count(|c| &c.delete_misses);
            } else if removed {
                cx.count(|c| &c.delete_hits);
            }
            d.write_reply(out, status);
        }
        Err(e) => write_store_error(&e, out),
    }
}

/// Decides the write of an `md`: the status, and whether it counts as a removal.
fn decide(
    d: &MetaDelete<'_>,
    current: Option<&VersionRef<'_>>,
    now: u64,
) -> (Option<BatchOp>, (MetaDeleteStatus, bool)) {
    let f = &d.flags;
    let key = d.key.as_bytes();
    let Some(v) = current else {
        return (None, (MetaDeleteStatus::NotFound, false));
    };
    if f.compare_cas.is_some_and(|c| c != v.cas()) {
        return (None, (MetaDeleteStatus::Exists, false));
    }
    let deleted = MetaDeleteStatus::Deleted;
    // `x`: the item stays, emptied, with the request's flags and TTL.
    let emptied = PutOptions {
        flags: f.client_flags.unwrap_or(0),
        expire_at: expire_at(f.ttl.unwrap_or(0), now),
        cas_origin: f.new_cas.unwrap_or(v.cas()),
        tags: v.tags & tags::KEY_BINARY,
    };
    if f.invalidate {
        let (value, base) = if f.remove_value {
            (&b""[..], emptied)
        } else {
            let expire_at = f.ttl.map_or(v.expire_at, |t| expire_at(t, now));
            (
                v.value,
                PutOptions {
                    expire_at,
                    ..v.options()
                },
            )
        };
        let options = PutOptions {
            cas_origin: f.new_cas.unwrap_or(0),
            tags: (base.tags | tags::STALE) & !tags::WIN_SENT,
            ..base
        };
        return (Some(BatchOp::put(key, value, options)), (deleted, false));
    }
    if f.remove_value {
        return (Some(BatchOp::put(key, b"", emptied)), (deleted, true));
    }
    (Some(BatchOp::delete(key)), (deleted, true))
}
