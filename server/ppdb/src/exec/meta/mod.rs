//! The meta commands: `mg`, `ms`, `md`, `ma` and `me` (`mn` needs no state).
//!
//! Each runs as one atomic read-modify-write of its key ([`Store::update`]), except a `mg` that
//! changes nothing, which reads without taking the shard's commit lock. The parsed request
//! writes its own reply ([`MetaGet::write_hit`] and friends), so this module only decides what
//! happens to the item and what to report.
//!
//! Item state lives in the version's [`tags`](super::tags): whether it was fetched, whether
//! it is stale, whether a win token (`W`) was handed out, whether its key is binary. A write
//! that only changes that state (a first fetch, a win) keeps the CAS unique, as memcached
//! changes the flags of its item in place.
//!
//! [`Store::update`]: crate::store::Store::update
//! [`MetaGet::write_hit`]: ppdb_memcache::meta::MetaGet::write_hit

pub(crate) mod arithmetic;
pub(crate) mod debug;
pub(crate) mod delete;
pub(crate) mod get;
pub(crate) mod set;

use ppdb_memcache::meta::MetaFlags;
use ppdb_memcache::{expiry_to_deadline, Expiry, Key};

use super::tags;

/// The engine's expiry field for a protocol expiry: 0 never, 1 (long past) already expired.
pub(crate) fn engine_expiry(expiry: Expiry) -> u64 {
    match expiry {
        Expiry::Never => 0,
        Expiry::At(t) => t.max(1),
        Expiry::Expired => 1,
    }
}

/// The engine's expiry field for an `exptime` sent at `now`.
pub(crate) fn expire_at(exptime: i64, now: u64) -> u64 {
    engine_expiry(expiry_to_deadline(exptime, now))
}

/// The seconds an item expiring at `expire_at` has left (`t`, `me`'s `exp`): `-1` for never.
pub(crate) fn ttl_secs(expire_at: u64, now: u64) -> i64 {
    if expire_at == 0 {
        -1
    } else {
        Expiry::At(expire_at).ttl_secs(now)
    }
}

/// The expiry of an item a meta command creates (`mg`/`ma` with `N`): the `N` and `T` flags
/// apply in the order sent, the later one winning, as in memcached.
pub(crate) fn created_expiry(flags: &MetaFlags<'_>, now: u64) -> u64 {
    let mut expiry = 0;
    for token in flags.tokens() {
        match (token[0], flags.vivify_ttl, flags.ttl) {
            (b'N', Some(n), _) => expiry = expire_at(n, now),
            (b'T', _, Some(t)) => expiry = expire_at(t, now),
            _ => {}
        }
    }
    expiry
}

/// The tag bits an item stored under `key` starts with.
pub(crate) fn key_tags(key: &Key<'_>) -> u8 {
    if key.is_binary() {
        tags::KEY_BINARY
    } else {
        0
    }
}

/// The CAS unique a write reports: the `E` value it asked for, else its sequence number.
pub(crate) fn written_cas(cas_origin: u64, seq: Option<u64>) -> u64 {
    if cas_origin != 0 {
        cas_origin
    } else {
        seq.unwrap_or(0)
    }
}
