//! `mg <key> <flag>*`: meta get, with touch (`T`), autovivify (`N`), recache (`R`) and the
//! stale/win machinery.
//!
//! A hit that changes nothing (the item was fetched before, no `T`, no win to hand out) is
//! answered from a plain read. Otherwise the same decision is taken again under the key's
//! commit lock and written: the new TTL, the fetched bit, the win token, or the item `N`
//! creates. Those writes keep the CAS unique, except that a created item gets a new one.

use ppdb_core::{BatchOp, PutOptions, VersionRef};
use ppdb_memcache::meta::{MetaGet, MetaItem, Recache};

use super::super::retrieval::count_lookup;
use super::super::{tags, write_store_error, Cx};
use super::{created_expiry, expire_at, key_tags, ttl_secs, written_cas};
use crate::store::Found;

/// What an `mg` does to the item it finds (or creates), decided from the item alone.
#[derive(Debug, Clone, Copy)]
struct Plan {
    /// The item's expiry afterwards.
    expire_at: u64,
    /// The item's tags afterwards.
    tags: u8,
    /// Whether the item was fetched before this request (`h`).
    fetched: bool,
    /// `W`, `X`, `Z`.
    recache: Recache,
    /// `N` creates the item.
    create: bool,
    /// Something must be written.
    write: bool,
}

impl Plan {
    /// The plan for `current`; `None` is a miss. With `may_write` false (after a failed
    /// write) nothing is created and no win is handed out.
    fn new(
        g: &MetaGet<'_>,
        current: Option<&VersionRef<'_>>,
        now: u64,
        may_write: bool,
    ) -> Option<Plan> {
        let f = &g.flags;
        let fetched_tag = if f.no_bump { 0 } else { tags::FETCHED };
        let Some(v) = current else {
            f.vivify_ttl.filter(|_| may_write)?;
            let recache = Recache {
                won: true,
                stale: false,
                win_sent: false,
            };
            return Some(Plan {
                expire_at: created_expiry(f, now),
                tags: key_tags(&g.key) | tags::WIN_SENT | fetched_tag,
                fetched: false,
                recache,
                create: true,
                write: true,
            });
        };
        let win_sent = v.tags & tags::WIN_SENT != 0;
        let stale = v.tags & tags::STALE != 0;
        let mut expiry = v.expire_at;
        let mut won = false;
        for token in f.tokens() {
            match (token[0], f.ttl, f.recache_ttl) {
                (b'T', Some(ttl), _) => expiry = expire_at(ttl, now),
                // memcached reads the threshold like an exptime; 0 or a past time never wins.
                (b'R', _, Some(r)) => {
                    let threshold = expire_at(r, now);
                    won |= !win_sent && expiry != 0 && threshold > 1 && expiry < threshold;
                }
                _ => {}
            }
        }
        won = (won || (stale && !win_sent)) && may_write;
        let tags = v.tags | fetched_tag | if won { tags::WIN_SENT } else { 0 };
        Some(Plan {
            expire_at: expiry,
            tags: if may_write { tags } else { v.tags },
            fetched: v.tags & tags::FETCHED != 0,
            recache: Recache {
                won,
                stale,
                win_sent,
            },
            create: false,
            write: may_write && (f.ttl.is_some() || tags != v.tags),
        })
    }

    /// The write that carries the plan out, for the item `current` (or a new one).
    fn op(&self, g: &MetaGet<'_>, current: Option<&VersionRef<'_>>) -> Option<BatchOp> {
        if !self.write {
            return None;
        }
        let key = g.key.as_bytes();
        let (value, flags, cas_origin) = match current {
            Some(v) => (v.value, v.flags, v.cas()),
            None => (&b""[..], 0, g.flags.new_cas.unwrap_or(0)),
        };
        let options = PutOptions {
            flags,
            expire_at: self.expire_at,
            cas_origin,
            tags: self.tags,
        };
        Some(BatchOp::put(key, value, options))
    }
}

/// `mg`: `VA`/`HD` with the requested flags on a hit, `EN` on a miss (nothing with `q`).
///
/// Counts like memcached: a hit with `T` is a touch hit, any other hit (a created item too) a
/// get hit; a miss is a get miss.
pub(crate) fn meta_get(cx: &Cx<'_>, g: &MetaGet<'_>, out: &mut Vec<u8>) {
    let key = g.key.as_bytes();
    let (found, needs_write) = cx.store().get_with(key, cx.now, |current| {
        match Plan::new(g, current.as_ref(), cx.now, true) {
            Some(plan) if plan.write => true,
            Some(plan) => {
                if let Some(v) = current {
                    write_hit(cx, g, &plan, v.flags, v.cas(), v.value, out);
                }
                false
            }
            None => {
                g.write_miss(out);
                false
            }
        }
    });
    if !needs_write {
        cx.count(|c| &c.cmd_get);
        return count_lookup(cx, found);
    }
    let hit = update(cx, g, out);
    if hit && g.flags.ttl.is_some() {
        cx.count(|c| &c.cmd_touch);
        cx.count(|c| &c.touch_hits);
    } else {
        cx.count(|c| &c.cmd_get);
        cx.count(if hit {
            |c| &c.get_hits
        } else {
            |c| &c.get_misses
        });
    }
}

/// The write path of `mg`; whether it was a hit.
fn update(cx: &Cx<'_>, g: &MetaGet<'_>, out: &mut Vec<u8>) -> bool {
    let key = g.key.as_bytes();
    let mut value = Vec::new();
    let result = cx.store().update(key, cx.now, |current| {
        let Some(plan) = Plan::new(g, current.as_ref(), cx.now, true) else {
            return (None, None);
        };
        value.clear();
        let (flags, cas) = match &current {
            Some(v) => {
                value.extend_from_slice(v.value);
                (v.flags, v.cas())
            }
            None => (0, 0),
        };
        (plan.op(g, current.as_ref()), Some((plan, flags, cas)))
    });
    match result {
        Ok((Some((plan, flags, mut cas)), seq)) => {
            if plan.create {
                cx.state().count_linked();
                cas = written_cas(g.flags.new_cas.unwrap_or(0), seq);
            }
            write_hit(cx, g, &plan, flags, cas, &value, out);
            true
        }
        Ok((None, _)) => {
            g.write_miss(out);
            false
        }
        Err(e) if g.flags.ttl.is_some() => {
            write_store_error(&e, out);
            false
        }
        // Only bookkeeping (or a vivify, which memcached also skips when it cannot allocate)
        // failed: answer from a plain read.
        Err(_) => read_only(cx, g, out),
    }
}

/// Answers an `mg` without writing anything; whether it was a hit.
fn read_only(cx: &Cx<'_>, g: &MetaGet<'_>, out: &mut Vec<u8>) -> bool {
    let (found, ()) = cx.store().get_with(g.key.as_bytes(), cx.now, |current| {
        match (Plan::new(g, current.as_ref(), cx.now, false), current) {
            (Some(plan), Some(v)) => write_hit(cx, g, &plan, v.flags, v.cas(), v.value, out),
            _ => g.write_miss(out),
        }
    });
    found == Found::Hit
}

/// Writes the hit reply.
fn write_hit(
    cx: &Cx<'_>,
    g: &MetaGet<'_>,
    plan: &Plan,
    flags: u32,
    cas: u64,
    value: &[u8],
    out: &mut Vec<u8>,
) {
    let item = MetaItem {
        key: g.key.as_bytes(),
        key_binary: plan.tags & tags::KEY_BINARY != 0,
        client_flags: flags,
        value_len: value.len(),
        cas,
        ttl: ttl_secs(plan.expire_at, cx.now),
        last_access_secs: 0,
        fetched: plan.fetched,
    };
    let value = g.flags.return_value.then_some(value);
    g.write_hit(out, &item, value, plan.recache);
}
