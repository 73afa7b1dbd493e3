//! `ms <key> <datalen> <flag>*`: meta set in the modes `S` (set), `E` (add), `A` (append),
//! `P` (prepend) and `R` (replace).
//!
//! With `C`, set and replace compare the CAS unique first (`NF` when missing, `EX` when it
//! differs) and append and prepend refuse a differing one (`EX`). With `C` and `I`, a CAS
//! older than the item's still stores, as a stale value that keeps the item's TTL and win
//! state. `N` makes append and prepend create a missing item. `E` sets the new CAS unique.

use std::sync::Arc;

use ppdb_core::{BatchOp, PutOptions, VersionRef};
use ppdb_memcache::meta::{MetaSet, MetaSetStatus, SetMode};
use ppdb_memcache::{item_size_bytes, ErrorReply, Response, ServerError};

use super::super::{tags, write_store_error, Cx};
use super::{expire_at, key_tags, written_cas};
use crate::store::{joined, StoreError};

/// What an `ms` did, for the reply and the CAS counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Outcome {
    status: MetaSetStatus,
    /// The CAS comparison of set/replace with `C`: `Some(true)` matched (or stored stale),
    /// `Some(false)` differed, `None` not compared or nothing to compare with.
    compared: Option<bool>,
}

impl Outcome {
    fn new(status: MetaSetStatus) -> Self {
        Outcome {
            status,
            compared: None,
        }
    }
}

/// `ms`: `HD` when stored (nothing with `q`), `NS`, `EX` or `NF`, with `O`, `k` and `c`.
pub(crate) fn meta_set(cx: &Cx<'_>, s: &MetaSet<'_>, out: &mut Vec<u8>) {
    let key = s.key.as_bytes();
    let item_size_max = cx.shared.settings.item_size_max;
    // The value's one copy, made before the shard's commit lock is taken (see
    // `BatchOp::put_shared`).
    let data = Arc::<[u8]>::from(s.data);
    let result = cx.store().update(key, cx.now, |current| {
        decide(s, &data, current.as_ref(), cx.now, item_size_max)
    });
    let (outcome, seq) = match result {
        Ok(done) => done,
        // The combined value of an append or prepend is over the engine's limit.
        Err(StoreError::TooLarge) if matches!(s.mode, SetMode::Append | SetMode::Prepend) => {
            (Outcome::new(MetaSetStatus::NotStored), None)
        }
        // The engine's value limit is below the item size limit for this key.
        Err(StoreError::TooLarge) => {
            cx.count(|c| &c.store_too_large);
            let _ = cx.store().delete(key, cx.now);
            return ErrorReply::Server(ServerError::ObjectTooLarge).write_to(out);
        }
        Err(StoreError::OutOfMemory) => {
            cx.count(|c| &c.store_no_memory);
            // As memcached: a failed store must not leave the old value readable.
            let _ = cx.store().delete(key, cx.now);
            return Response::ServerError(b"out of memory storing object").write_to(out);
        }
        Err(e) => return write_store_error(&e, out),
    };
    cx.count(|c| &c.cmd_set);
    let in_cas_mode =
        s.flags.compare_cas.is_some() && matches!(s.mode, SetMode::Set | SetMode::Replace);
    if in_cas_mode {
        cx.count(match outcome.compared {
            Some(true) => |c| &c.cas_hits,
            Some(false) => |c| &c.cas_badval,
            None => |c| &c.cas_misses,
        });
    }
    let cas = if outcome.status == MetaSetStatus::Stored {
        cx.state().count_linked();
        written_cas(s.flags.new_cas.unwrap_or(0), seq)
    } else {
        0
    };
    s.write_reply(out, outcome.status, cas);
}

/// A decision: the write to make, and what to report.
type Decision = (Option<BatchOp>, Outcome);

/// The write that stores `value` with `options`.
fn stored(key: &[u8], value: Arc<[u8]>, options: PutOptions) -> Decision {
    let op = BatchOp::put_shared(key, value, options);
    (Some(op), Outcome::new(MetaSetStatus::Stored))
}

/// No write, and this status.
fn refused(status: MetaSetStatus) -> Decision {
    (None, Outcome::new(status))
}

/// Decides the write of an `ms` given the key's current item.
fn decide(
    s: &MetaSet<'_>,
    data: &Arc<[u8]>,
    current: Option<&VersionRef<'_>>,
    now: u64,
    item_size_max: usize,
) -> Decision {
    let f = &s.flags;
    let key = s.key.as_bytes();
    let fresh = PutOptions {
        flags: f.client_flags.unwrap_or(0),
        expire_at: expire_at(f.ttl.unwrap_or(0), now),
        cas_origin: f.new_cas.unwrap_or(0),
        tags: key_tags(&s.key),
    };
    if let (Some(compare), SetMode::Set | SetMode::Replace) = (f.compare_cas, s.mode) {
        return compare_and_set(s, data, current, compare, fresh);
    }
    match (s.mode, current) {
        (SetMode::Set, _) | (SetMode::Add, None) | (SetMode::Replace, Some(_)) => {
            stored(key, data.clone(), fresh)
        }
        (SetMode::Add, Some(_)) | (SetMode::Replace, None) => refused(MetaSetStatus::NotStored),
        (SetMode::Append | SetMode::Prepend, None) => match f.vivify_ttl {
            Some(n) => {
                let expire_at = expire_at(n, now);
                stored(key, data.clone(), PutOptions { expire_at, ..fresh })
            }
            None => refused(MetaSetStatus::NotStored),
        },
        (SetMode::Append | SetMode::Prepend, Some(v)) => join(s, v, fresh, item_size_max),
    }
}

/// Set or replace with `C`: `NF` when missing, stored when the CAS unique matches (or, with
/// `I`, is older: then the value is stored stale, keeping the item's TTL and win state), `EX`
/// otherwise.
fn compare_and_set(
    s: &MetaSet<'_>,
    data: &Arc<[u8]>,
    current: Option<&VersionRef<'_>>,
    compare: u64,
    fresh: PutOptions,
) -> Decision {
    let key = s.key.as_bytes();
    let Some(v) = current else {
        return refused(MetaSetStatus::NotFound);
    };
    let (op, mut outcome) = if v.cas() == compare {
        stored(key, data.clone(), fresh)
    } else if s.flags.invalidate && compare < v.cas() {
        let tags = fresh.tags | tags::STALE | (v.tags & tags::WIN_SENT);
        let expire_at = v.expire_at;
        stored(
            key,
            data.clone(),
            PutOptions {
                expire_at,
                tags,
                ..fresh
            },
        )
    } else {
        refused(MetaSetStatus::Exists)
    };
    outcome.compared = Some(op.is_some());
    (op, outcome)
}

/// Append or prepend to the item `v`: `EX` when `C` differs, `NS` when the result would be over
/// the item size limit. The item keeps its flags and TTL.
fn join(s: &MetaSet<'_>, v: &VersionRef<'_>, fresh: PutOptions, item_size_max: usize) -> Decision {
    let key = s.key.as_bytes();
    if s.flags.compare_cas.is_some_and(|c| c != v.cas()) {
        return refused(MetaSetStatus::Exists);
    }
    let len = v.value.len() + s.data.len();
    if item_size_bytes(key.len(), v.flags, len) > item_size_max {
        return refused(MetaSetStatus::NotStored);
    }
    let joined = match s.mode {
        SetMode::Append => joined(v.value, s.data),
        _ => joined(s.data, v.value),
    };
    let (flags, expire_at) = (v.flags, v.expire_at);
    stored(
        key,
        joined,
        PutOptions {
            flags,
            expire_at,
            ..fresh
        },
    )
}
