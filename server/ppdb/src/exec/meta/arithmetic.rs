//! `ma <key> <flag>*`: meta arithmetic.
//!
//! Adds or subtracts `D` (default 1) like `incr`/`decr`, keeping the item's flags, and gives it
//! a new CAS unique (`E`'s if given) and `T`'s TTL if given. With `N`, a miss creates the item
//! with value `J` (default 0) and `N`'s TTL, without applying the delta. With `C`, a differing
//! CAS unique is `EX`.

use ppdb_core::{BatchOp, PutOptions, VersionRef};
use ppdb_memcache::arithmetic::{apply_delta, parse_counter, write_counter, ArithmeticMode};
use ppdb_memcache::meta::{MetaArithmetic, MetaArithmeticOutcome};
use ppdb_memcache::{ClientError, ErrorReply};

use super::super::{write_store_error, Cx};
use super::{created_expiry, expire_at, key_tags, ttl_secs, written_cas};

/// What an `ma` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    /// The delta was applied, or the item created (`created`).
    Done {
        value: u64,
        expire_at: u64,
        created: bool,
    },
    /// No item, no `N`.
    Missing,
    /// `C` differed.
    Exists,
    /// The value is not a number.
    NonNumeric,
}

/// `ma`: `HD` or `VA` (nothing with `q`), `NF`, `EX`, or `CLIENT_ERROR cannot increment or
/// decrement non-numeric value`. Counts `incr`/`decr` hits and misses as the classic commands.
pub(crate) fn meta_arithmetic(cx: &Cx<'_>, a: &MetaArithmetic<'_>, out: &mut Vec<u8>) {
    let increment = a.mode == ArithmeticMode::Increment;
    let result = cx.store().update(a.key.as_bytes(), cx.now, |current| {
        decide(a, current.as_ref(), cx.now)
    });
    let outcome = match result {
        Ok((
            Found::Done {
                value,
                expire_at,
                created,
            },
            seq,
        )) => {
            if created {
                cx.state().count_linked();
            } else {
                cx.count(if increment {
                    |c| &c.incr_hits
                } else {
                    |c| &c.decr_hits
                });
            }
            let cas = written_cas(a.flags.new_cas.unwrap_or(0), seq);
            MetaArithmeticOutcome::Done {
                value,
                cas,
                ttl: ttl_secs(expire_at, cx.now),
            }
        }
        Ok((Found::Missing, _)) => {
            cx.count(if increment {
                |c| &c.incr_misses
            } else {
                |c| &c.decr_misses
            });
            MetaArithmeticOutcome::NotFound
        }
        Ok((Found::Exists, _)) => MetaArithmeticOutcome::Exists,
        Ok((Found::NonNumeric, _)) => {
            return ErrorReply::Client(ClientError::NonNumericValue).write_to(out);
        }
        Err(e) => return write_store_error(&e, out),
    };
    a.write_reply(out, outcome);
}

/// Decides the write of an `ma` given the key's current item.
fn decide(
    a: &MetaArithmetic<'_>,
    current: Option<&VersionRef<'_>>,
    now: u64,
) -> (Option<BatchOp>, Found) {
    let f = &a.flags;
    let key = a.key.as_bytes();
    let cas_origin = f.new_cas.unwrap_or(0);
    let mut text = Vec::with_capacity(20);
    let Some(v) = current else {
        if f.vivify_ttl.is_none() {
            return (None, Found::Missing);
        }
        let expire_at = created_expiry(f, now);
        write_counter(a.initial(), 0, &mut text);
        let tags = key_tags(&a.key);
        let options = PutOptions {
            flags: 0,
            expire_at,
            cas_origin,
            tags,
        };
        let done = Found::Done {
            value: a.initial(),
            expire_at,
            created: true,
        };
        return (Some(BatchOp::put(key, &text, options)), done);
    };
    if f.compare_cas.is_some_and(|c| c != v.cas()) {
        return (None, Found::Exists);
    }
    let Some(number) = parse_counter(v.value) else {
        return (None, Found::NonNumeric);
    };
    let value = apply_delta(number, a.mode, a.delta());
    write_counter(value, v.value.len(), &mut text);
    let expire_at = f.ttl.map_or(v.expire_at, |t| expire_at(t, now));
    let options = PutOptions {
        expire_at,
        cas_origin,
        ..v.options()
    };
    let done = Found::Done {
        value,
        expire_at,
        created: false,
    };
    (Some(BatchOp::put(key, &text, options)), done)
}
