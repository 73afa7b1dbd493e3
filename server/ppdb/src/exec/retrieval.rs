//! `get`, `gets`, `gat`, `gats` and `touch`.

use ppdb_core::{BatchOp, PutOptions};
use ppdb_memcache::response::write_value_header;
use ppdb_memcache::retrieval::Retrieval;
use ppdb_memcache::touch::Touch;
use ppdb_memcache::Response;

use super::detail::Op;
use super::meta::expire_at;
use super::{tags, write_store_error, Cx};
use crate::store::{Found, StoreError};

/// One `VALUE` block per key found (with the CAS unique for `gets`/`gats`), then `END`.
///
/// `get`/`gets` count `cmd_get` and a hit or miss per key; `gat`/`gats` count `cmd_touch` and
/// a touch hit or miss per key instead, as memcached does.
pub(crate) fn retrieval(cx: &Cx<'_>, r: &Retrieval<'_>, out: &mut Vec<u8>) {
    let with_cas = r.command.returns_cas();
    let start = out.len();
    let mut value = Vec::new();
    for key in r.keys() {
        let hit = match r.exptime {
            None => get_one(cx, key, with_cas, out),
            Some(exptime) => {
                let expire_at = expire_at(exptime, cx.now);
                match touch_item(cx, key, expire_at, Some(&mut value)) {
                    Ok(item) => {
                        if let Some((flags, cas)) = item {
                            let cas = with_cas.then_some(cas);
                            write_value_header(out, key, flags, value.len(), cas);
                            out.extend_from_slice(&value);
                            out.extend_from_slice(b"\r\n");
                        }
                        item.is_some()
                    }
                    Err(_) => {
                        // memcached drops the values found so far when it cannot answer.
                        out.truncate(start);
                        let reason = b"out of memory writing get response";
                        return Response::ServerError(reason).write_to(out);
                    }
                }
            }
        };
        cx.state().detail.record(key, Op::Get(hit));
    }
    Response::End.write_to(out);
}

/// A `get`/`gets` of one key, without copying the value; whether it hit.
fn get_one(cx: &Cx<'_>, key: &[u8], with_cas: bool, out: &mut Vec<u8>) -> bool {
    let (found, ()) = cx.store().get_with(key, cx.now, |version| {
        if let Some(v) = version {
            write_value_header(out, key, v.flags, v.value.len(), with_cas.then(|| v.cas()));
            out.extend_from_slice(v.value);
            out.extend_from_slice(b"\r\n");
        }
    });
    cx.count(|c| &c.cmd_get);
    count_lookup(cx, found);
    found == Found::Hit
}

/// Counts a read's outcome: a hit, or a miss (an expired or flushed item counts as both a miss
/// and its own kind).
pub(crate) fn count_lookup(cx: &Cx<'_>, found: Found) {
    match found {
        Found::Hit => cx.count(|c| &c.get_hits),
        Found::Miss => cx.count(|c| &c.get_misses),
        Found::Expired => {
            cx.count(|c| &c.get_misses);
            cx.count(|c| &c.get_expired);
        }
        Found::Flushed => {
            cx.count(|c| &c.get_misses);
            cx.count(|c| &c.get_flushed);
        }
    }
}

/// Gives `key` a new expiry, keeping its CAS unique, and marks it fetched (as memcached's
/// `touch` and `gat` do); copies its value into `value` if given. Returns the item's flags and
/// CAS unique, or `None` if it is not there; counts a touch hit or miss.
fn touch_item(
    cx: &Cx<'_>,
    key: &[u8],
    expire_at: u64,
    mut value: Option<&mut Vec<u8>>,
) -> Result<Option<(u32, u64)>, StoreError> {
    let (item, _) = cx.store().update(key, cx.now, |current| {
        let Some(v) = current else {
            return (None, None);
        };
        if let Some(value) = value.as_deref_mut() {
            value.clear();
            value.extend_from_slice(v.value);
        }
        let options = PutOptions {
            expire_at,
            cas_origin: v.cas(),
            tags: v.tags | tags::FETCHED,
            ..v.options()
        };
        (
            Some(BatchOp::put(key, v.value, options)),
            Some((v.flags, v.cas())),
        )
    })?;
    cx.count(|c| &c.cmd_touch);
    cx.count(if item.is_some() {
        |c| &c.touch_hits
    } else {
        |c| &c.touch_misses
    });
    Ok(item)
}

/// `touch <key> <exptime>`: `TOUCHED` or `NOT_FOUND`. The CAS unique stays.
pub(crate) fn touch(cx: &Cx<'_>, t: &Touch<'_>, out: &mut Vec<u8>) {
    let mut reply = Vec::new();
    match touch_item(cx, t.key, expire_at(t.exptime, cx.now), None) {
        Ok(found) => {
            let response = if found.is_some() {
                Response::Touched
            } else {
                Response::NotFound
            };
            response.write_to(&mut reply);
        }
        Err(e) => write_store_error(&e, &mut reply),
    }
    if !t.noreply {
        out.extend_from_slice(&reply);
    }
}
