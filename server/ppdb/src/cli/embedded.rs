//! The embedded backend: the language's database calls on a `ppdb_core::Db` in this process.
//!
//! Read-modify-write calls (add, replace, append, prepend, cas, incr, decr, touch, delete) run
//! through the engine's atomic `update`; `keys` and `scan` are native range scans; `(txn ...)`
//! runs its body on a serializable transaction and commits it, running the body again on a
//! conflict. The decisions (what a storage command does with the current item) are pure
//! functions shared by the plain and the transactional paths.

use std::ops::Bound;
use std::path::Path;
use std::time::Instant;

use ppdb_core::{BatchOp, Config, Db, Isolation, Item, KeyRange, PutOptions, Transaction};
use ppdb_lisp::{Backend, Entry, Error, Store, StoreMode, StoreOutcome, TxnBody, Value};
use ppdb_memcache::{expiry_to_deadline, Expiry};
use ppdb_platform_std::StdPlatform;

use super::lock::DirLock;
use super::output::Output;

/// The longest decimal value `incr`/`decr` accept (memcached's limit: 20 digits).
const COUNTER_DIGITS_MAX: usize = 20;

fn db_error(e: &ppdb_core::Error) -> Error {
    Error::db(e.to_string())
}

/// The engine's expiry (a unix time, 0 for never) for a memcached exptime sent at `now`.
fn expire_at(exptime: i64, now: u64) -> u64 {
    match expiry_to_deadline(exptime, now) {
        Expiry::Never => 0,
        Expiry::At(deadline) => deadline,
        // Any time not after now: the item is stored and never seen again.
        Expiry::Expired => 1,
    }
}

/// The live item a decision looks at.
struct Current<'a> {
    value: &'a [u8],
    flags: u32,
    expire_at: u64,
    cas: u64,
}

impl<'a> Current<'a> {
    fn of_item(item: &'a Item) -> Current<'a> {
        Current {
            value: &item.value,
            flags: item.flags,
            expire_at: item.expire_at,
            cas: item.cas,
        }
    }
}

/// What a storage command writes (value and options), if anything, and its outcome.
fn decide_store(
    s: &Store<'_>,
    current: Option<&Current<'_>>,
    now: u64,
) -> (Option<(Vec<u8>, PutOptions)>, StoreOutcome) {
    let fresh = PutOptions {
        flags: s.flags,
        expire_at: expire_at(s.exptime, now),
        ..PutOptions::default()
    };
    match (s.mode, current) {
        (StoreMode::Add, Some(_)) => (None, StoreOutcome::NotStored),
        (StoreMode::Replace | StoreMode::Append | StoreMode::Prepend, None) => {
            (None, StoreOutcome::NotStored)
        }
        (StoreMode::Cas(_), None) => (None, StoreOutcome::NotFound),
        (StoreMode::Cas(unique), Some(c)) if c.cas != unique => (None, StoreOutcome::Exists),
        (StoreMode::Append | StoreMode::Prepend, Some(c)) => {
            let value = if s.mode == StoreMode::Append {
                [c.value, s.value].concat()
            } else {
                [s.value, c.value].concat()
            };
            let options = PutOptions {
                flags: c.flags,
                expire_at: c.expire_at,
                ..PutOptions::default()
            };
            (Some((value, options)), StoreOutcome::Stored)
        }
        _ => (Some((s.value.to_vec(), fresh)), StoreOutcome::Stored),
    }
}

/// The new counter value and its bytes, or why not.
fn decide_incr(
    current: &Current<'_>,
    delta: u64,
    decrement: bool,
) -> Result<(u64, Vec<u8>), Error> {
    let digits = current.value.trim_ascii_end();
    let n = (!digits.is_empty() && digits.len() <= COUNTER_DIGITS_MAX)
        .then(|| std::str::from_utf8(digits).ok()?.parse::<u64>().ok())
        .flatten()
        .ok_or_else(|| Error::db("cannot increment or decrement non-numeric value"))?;
    let n = if decrement {
        n.saturating_sub(delta)
    } else {
        n.wrapping_add(delta)
    };
    Ok((n, n.to_string().into_bytes()))
}

/// The range of keys that start with `prefix`.
fn prefix_range(prefix: &[u8]) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let mut end = prefix.to_vec();
    while let Some(&last) = end.last() {
        if last == 0xff {
            end.pop();
        } else {
            if let Some(b) = end.last_mut() {
                *b += 1;
            }
            return (Bound::Included(prefix.to_vec()), Bound::Excluded(end));
        }
    }
    (Bound::Included(prefix.to_vec()), Bound::Unbounded)
}

fn key_range(range: &(Bound<Vec<u8>>, Bound<Vec<u8>>)) -> KeyRange<'_> {
    KeyRange::new(
        range.0.as_ref().map(Vec::as_slice),
        range.1.as_ref().map(Vec::as_slice),
    )
}

/// Where the shell's database lives.
#[derive(Debug, Clone)]
pub(crate) enum Location<'a> {
    /// In memory, for as long as the shell runs.
    Memory,
    /// In a directory (locked).
    Dir(&'a Path),
}

/// The language's database in this process.
pub(crate) struct Embedded {
    db: Db<StdPlatform>,
    pub(crate) out: Output,
    clock: Instant,
    /// Held as long as the database is open.
    _lock: Option<DirLock>,
}

/// Opens (or creates) the database in `dir`, whose lock the caller holds, in disk mode: every
/// write is durable (`Durability::Sync`) before the shell goes on.
fn open_dir(dir: &Path, _lock: &DirLock) -> Result<Db<StdPlatform>, String> {
    let options = ppdb_core::DiskOptions::default();
    let (db, _recovery) = Db::open_dir(Config::default(), StdPlatform::new(dir), "", options)
        .map_err(|e| format!("cannot open {}: {e}", dir.display()))?;
    Ok(db)
}

impl Embedded {
    /// Opens the database at `location`.
    pub(crate) fn open(location: &Location<'_>, out: Output) -> Result<Embedded, String> {
        let (db, lock) = match location {
            Location::Memory => {
                let db = Db::open(Config::default(), StdPlatform::new("."))
                    .map_err(|e| format!("cannot open the database: {e}"))?;
                (db, None)
            }
            Location::Dir(dir) => {
                let lock = DirLock::acquire(dir).map_err(|e| {
                    format!("cannot lock {}: {e} (is a server using it?)", dir.display())
                })?;
                (open_dir(dir, &lock)?, Some(lock))
            }
        };
        Ok(Embedded {
            db,
            out,
            clock: Instant::now(),
            _lock: lock,
        })
    }

    /// Runs `decide` on the live item of `key` and writes what it returns, atomically.
    fn update<R>(
        &mut self,
        key: &[u8],
        mut decide: impl FnMut(Option<&Current<'_>>, u64) -> (Option<BatchOp>, R),
    ) -> ppdb_lisp::Result<R> {
        let now = self.db.now();
        let (result, _) = self
            .db
            .engine()
            .update(key, now, |live| {
                let current = live.map(|v| Current {
                    value: v.value,
                    flags: v.flags,
                    expire_at: v.expire_at,
                    cas: v.cas(),
                });
                decide(current.as_ref(), now)
            })
            .map_err(|e| db_error(&e))?;
        Ok(result)
    }
}

impl Backend for Embedded {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.clock.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn print(&mut self, bytes: &[u8]) -> ppdb_lisp::Result<()> {
        self.out.write(bytes)
    }

    fn get(&mut self, key: &[u8]) -> ppdb_lisp::Result<Option<Entry>> {
        let item = self.db.get(key).map_err(|e| db_error(&e))?;
        Ok(item.map(|i| Entry {
            value: i.value,
            flags: i.flags,
            cas: i.cas,
        }))
    }

    fn store(&mut self, s: Store<'_>) -> ppdb_lisp::Result<StoreOutcome> {
        self.update(s.key, |current, now| {
            let (write, outcome) = decide_store(&s, current, now);
            let op = write.map(|(value, options)| BatchOp::put(s.key, &value, options));
            (op, outcome)
        })
    }

    fn delete(&mut self, key: &[u8]) -> ppdb_lisp::Result<bool> {
        self.update(key, |current, _| match current {
            Some(_) => (Some(BatchOp::delete(key)), true),
            None => (None, false),
        })
    }

    fn incr(&mut self, key: &[u8], delta: u64, decrement: bool) -> ppdb_lisp::Result<Option<u64>> {
        self.update(key, |current, _| match current {
            None => (None, Ok(None)),
            Some(c) => match decide_incr(c, delta, decrement) {
                Ok((n, bytes)) => {
                    let options = PutOptions {
                        flags: c.flags,
                        expire_at: c.expire_at,
                        ..PutOptions::default()
                    };
                    (Some(BatchOp::put(key, &bytes, options)), Ok(Some(n)))
                }
                Err(e) => (None, Err(e)),
            },
        })?
    }

    fn touch(&mut self, key: &[u8], exptime: i64) -> ppdb_lisp::Result<bool> {
        self.update(key, |current, now| match current {
            None => (None, false),
            Some(c) => {
                let options = PutOptions {
                    flags: c.flags,
                    expire_at: expire_at(exptime, now),
                    cas_origin: c.cas,
                    ..PutOptions::default()
                };
                (Some(BatchOp::put(key, c.value, options)), true)
            }
        })
    }

    fn flush(&mut self, delay: u32) -> ppdb_lisp::Result<()> {
        if delay != 0 {
            return Err(Error::db(
                "flush with a delay needs a server; the embedded mode flushes at once",
            ));
        }
        self.db.engine().flush_all(self.db.now());
        Ok(())
    }

    fn stats(&mut self, group: Option<&str>) -> ppdb_lisp::Result<Vec<(String, String)>> {
        if let Some(group) = group {
            return Err(Error::db(format!(
                "the embedded mode has no stats group `{group}`: use (stats)"
            )));
        }
        let s = self.db.stats();
        let items = self.db.scan(..).count();
        let pairs: [(&str, String); 14] = [
            ("curr_items", items.to_string()),
            ("seq_visible", s.seq_visible.to_string()),
            ("memory_bytes", s.memory_bytes.to_string()),
            ("active_versions", s.active_versions.to_string()),
            ("frozen_memtables", s.frozen_memtables.to_string()),
            ("snapshots_live", s.snapshots_live.to_string()),
            ("rotations", s.rotations.to_string()),
            ("merges", s.merges.to_string()),
            ("versions_dropped", s.versions_dropped.to_string()),
            ("conflicts", s.conflicts.to_string()),
            ("evictions", s.evictions.to_string()),
            ("expired_reclaimed", s.expired_reclaimed.to_string()),
            ("writes_refused", s.writes_refused.to_string()),
            ("flushes", s.flushes.to_string()),
        ];
        Ok(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    fn keys(&mut self, prefix: &[u8], limit: usize) -> ppdb_lisp::Result<Vec<Vec<u8>>> {
        let range = prefix_range(prefix);
        Ok(self
            .db
            .scan(key_range(&range))
            .take(limit)
            .map(|(k, _)| k)
            .collect())
    }

    fn scan(&mut self, prefix: &[u8], limit: usize) -> ppdb_lisp::Result<Vec<(Vec<u8>, Entry)>> {
        let range = prefix_range(prefix);
        Ok(self
            .db
            .scan(key_range(&range))
            .take(limit)
            .map(|(k, i)| {
                let entry = Entry {
                    value: i.value,
                    flags: i.flags,
                    cas: i.cas,
                };
                (k, entry)
            })
            .collect())
    }

    fn transaction(&mut self, body: &mut TxnBody<'_>) -> ppdb_lisp::Result<Value> {
        let retries = self.db.engine().config().txn_retries_max;
        let mut attempt = 0;
        loop {
            let mut txn = self.db.begin(Isolation::Serializable);
            let value = {
                let mut inside = InTxn {
                    txn: &mut txn,
                    out: &mut self.out,
                    clock: self.clock,
                };
                body(&mut inside)?
            };
            match txn.commit() {
                Ok(_) => return Ok(value),
                Err(ppdb_core::Error::Conflict) if attempt < retries => attempt += 1,
                Err(ppdb_core::Error::Conflict) => {
                    return Err(Error::db(format!(
                        "transaction conflict: gave up after {retries} retries"
                    )))
                }
                Err(e) => return Err(db_error(&e)),
            }
        }
    }
}

/// The backend inside `(txn ...)`: reads and writes go through the transaction.
struct InTxn<'t, 'db> {
    txn: &'t mut Transaction<'db>,
    out: &'t mut Output,
    clock: Instant,
}

impl InTxn<'_, '_> {
    fn current(&mut self, key: &[u8]) -> ppdb_lisp::Result<Option<Item>> {
        self.txn.get(key).map_err(|e| db_error(&e))
    }

    fn put(&mut self, key: &[u8], value: &[u8], options: PutOptions) -> ppdb_lisp::Result<()> {
        self.txn
            .put_with(key, value, options)
            .map_err(|e| db_error(&e))
    }
}

impl Backend for InTxn<'_, '_> {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.clock.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn print(&mut self, bytes: &[u8]) -> ppdb_lisp::Result<()> {
        self.out.write(bytes)
    }

    fn get(&mut self, key: &[u8]) -> ppdb_lisp::Result<Option<Entry>> {
        Ok(self.current(key)?.map(|i| Entry {
            value: i.value,
            flags: i.flags,
            cas: i.cas,
        }))
    }

    fn store(&mut self, s: Store<'_>) -> ppdb_lisp::Result<StoreOutcome> {
        let item = self.current(s.key)?;
        let current = item.as_ref().map(Current::of_item);
        let (write, outcome) = decide_store(&s, current.as_ref(), self.txn.now());
        if let Some((value, options)) = write {
            self.put(s.key, &value, options)?;
        }
        Ok(outcome)
    }

    fn delete(&mut self, key: &[u8]) -> ppdb_lisp::Result<bool> {
        if self.current(key)?.is_none() {
            return Ok(false);
        }
        self.txn.delete(key).map_err(|e| db_error(&e))?;
        Ok(true)
    }

    fn incr(&mut self, key: &[u8], delta: u64, decrement: bool) -> ppdb_lisp::Result<Option<u64>> {
        let Some(item) = self.current(key)? else {
            return Ok(None);
        };
        let (n, bytes) = decide_incr(&Current::of_item(&item), delta, decrement)?;
        let options = PutOptions {
            flags: item.flags,
            expire_at: item.expire_at,
            ..PutOptions::default()
        };
        self.put(key, &bytes, options)?;
        Ok(Some(n))
    }

    fn touch(&mut self, key: &[u8], exptime: i64) -> ppdb_lisp::Result<bool> {
        let Some(item) = self.current(key)? else {
            return Ok(false);
        };
        let options = PutOptions {
            flags: item.flags,
            expire_at: expire_at(exptime, self.txn.now()),
            cas_origin: item.cas,
            ..PutOptions::default()
        };
        self.put(key, &item.value, options)?;
        Ok(true)
    }

    fn flush(&mut self, _delay: u32) -> ppdb_lisp::Result<()> {
        Err(Error::db("flush cannot run inside a transaction"))
    }

    fn stats(&mut self, _group: Option<&str>) -> ppdb_lisp::Result<Vec<(String, String)>> {
        Err(Error::db("stats cannot run inside a transaction"))
    }

    fn keys(&mut self, prefix: &[u8], limit: usize) -> ppdb_lisp::Result<Vec<Vec<u8>>> {
        Ok(self
            .scan(prefix, limit)?
            .into_iter()
            .map(|(k, _)| k)
            .collect())
    }

    fn scan(&mut self, prefix: &[u8], limit: usize) -> ppdb_lisp::Result<Vec<(Vec<u8>, Entry)>> {
        let range = prefix_range(prefix);
        let items = self
            .txn
            .scan(key_range(&range), limit)
            .map_err(|e| db_error(&e))?;
        Ok(items
            .into_iter()
            .map(|(k, i)| {
                let entry = Entry {
                    value: i.value,
                    flags: i.flags,
                    cas: i.cas,
                };
                (k, entry)
            })
            .collect())
    }

    fn transaction(&mut self, _body: &mut TxnBody<'_>) -> ppdb_lisp::Result<Value> {
        Err(Error::db("`txn` cannot nest inside another `txn`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_ranges() {
        assert_eq!(
            prefix_range(b"ab"),
            (
                Bound::Included(b"ab".to_vec()),
                Bound::Excluded(b"ac".to_vec())
            )
        );
        assert_eq!(
            prefix_range(b"a\xff"),
            (
                Bound::Included(b"a\xff".to_vec()),
                Bound::Excluded(b"b".to_vec())
            )
        );
        assert_eq!(
            prefix_range(b""),
            (Bound::Included(Vec::new()), Bound::Unbounded)
        );
    }

    #[test]
    fn counters_follow_memcached() {
        let c = |v: &'static [u8]| Current {
            value: v,
            flags: 0,
            expire_at: 0,
            cas: 1,
        };
        assert_eq!(decide_incr(&c(b"41"), 1, false).unwrap().0, 42);
        assert_eq!(decide_incr(&c(b"5 "), 10, true).unwrap().0, 0);
        assert_eq!(
            decide_incr(&c(b"18446744073709551615"), 2, false)
                .unwrap()
                .0,
            1
        );
        assert!(decide_incr(&c(b"x"), 1, false).is_err());
        assert!(decide_incr(&c(b""), 1, false).is_err());
    }

    #[test]
    fn expiry_follows_memcached() {
        assert_eq!(expire_at(0, 1000), 0);
        assert_eq!(expire_at(10, 1000), 1010);
        assert_eq!(expire_at(-1, 1000), 1);
        assert_eq!(expire_at(5_000_000_000, 1000), 5_000_000_000);
    }
}
