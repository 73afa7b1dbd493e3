//! `me <key> [b]`: meta debug, an item's internals.

use ppdb_memcache::meta::{MetaDebug, MetaDebugInfo};

use super::super::{item_size, tags, Cx, SLAB_CLASS};
use super::ttl_secs;

/// `me`: `ME <key> exp=<ttl> la=<secs> cas=<n> fetch=<yes|no> cls=1 size=<n>`, or `EN`.
///
/// `exp` is the TTL left (`-1`: never). PPDB does not track access times, so `la` is 0. Counts
/// `cmd_meta`, which memcached bumps for `me` only.
pub(crate) fn meta_debug(cx: &Cx<'_>, d: &MetaDebug<'_>, out: &mut Vec<u8>) {
    cx.count(|c| &c.cmd_meta);
    let key = d.key.as_bytes();
    cx.store().get_with(key, cx.now, |current| match current {
        Some(v) => {
            let info = MetaDebugInfo {
                key,
                key_binary: v.tags & tags::KEY_BINARY != 0,
                exp: ttl_secs(v.expire_at, cx.now),
                last_access_secs: 0,
                cas: v.cas(),
                fetched: v.tags & tags::FETCHED != 0,
                class: SLAB_CLASS,
                size: item_size(key.len(), v.flags, v.value.len()),
            };
            d.write_hit(out, &info);
        }
        None => d.write_miss(out),
    });
}
