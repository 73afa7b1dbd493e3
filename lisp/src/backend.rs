//! The one door out of the sandbox: the database, printing and a clock, through [`Backend`].
//!
//! A script reaches nothing else. The remote mode (the memcached protocol over TCP) and the
//! embedded mode (the engine in-process) implement the same trait, so a script runs unchanged
//! on either; what one mode cannot do (a transaction over the wire) answers with a clear
//! error.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Error, Result};
use crate::value::Value;

/// An item as the database returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The value bytes.
    pub value: Vec<u8>,
    /// memcached's client flags.
    pub flags: u32,
    /// The CAS unique (0 for a write not yet committed inside a transaction).
    pub cas: u64,
}

/// How a storage command stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    /// Always.
    Set,
    /// Only if the key is missing.
    Add,
    /// Only if the key exists.
    Replace,
    /// Append to an existing value (flags and expiry stay).
    Append,
    /// Prepend to an existing value (flags and expiry stay).
    Prepend,
    /// Only if the key's CAS unique is still this one.
    Cas(u64),
}

/// What a storage command did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOutcome {
    /// Stored.
    Stored,
    /// Not stored: `add` on an existing key, `replace`/`append`/`prepend` on a missing one.
    NotStored,
    /// `cas`: the key changed since its unique was read.
    Exists,
    /// `cas`: the key is missing.
    NotFound,
}

/// A storage request.
#[derive(Debug, Clone, Copy)]
pub struct Store<'a> {
    /// How to store.
    pub mode: StoreMode,
    /// The key.
    pub key: &'a [u8],
    /// The value.
    pub value: &'a [u8],
    /// memcached's client flags.
    pub flags: u32,
    /// memcached's exptime: 0 never; up to 30 days relative seconds; above, a unix time;
    /// negative: already expired.
    pub exptime: i64,
}

/// The body of a transaction: runs the script's forms against the transaction's backend. It
/// may run more than once (a conflict retries it).
pub type TxnBody<'b> = dyn FnMut(&mut dyn Backend) -> Result<Value> + 'b;

/// What scripts may touch: the database, printing, and a clock for the timeout.
///
/// Errors are [`Error`]s: use [`Error::db`] for a refusal or failure of the database (scripts
/// may catch it with `try`), [`Error::interrupted`] when the interrupt flag was seen while
/// waiting, and [`crate::ErrorKind::Output`] when printing failed.
pub trait Backend {
    /// A monotonic clock in milliseconds (any origin): the wall-clock timeout reads it.
    fn now_ms(&self) -> u64;

    /// Writes bytes to the script's output.
    fn print(&mut self, bytes: &[u8]) -> Result<()>;

    /// Reads `key`.
    fn get(&mut self, key: &[u8]) -> Result<Option<Entry>>;

    /// Stores a value.
    fn store(&mut self, store: Store<'_>) -> Result<StoreOutcome>;

    /// Deletes `key`; returns whether it existed.
    fn delete(&mut self, key: &[u8]) -> Result<bool>;

    /// Adds `delta` to (or, with `decrement`, subtracts it from) a decimal value as memcached
    /// does (wrapping at 2^64, stopping at 0); returns the new value, `None` if the key is
    /// missing.
    fn incr(&mut self, key: &[u8], delta: u64, decrement: bool) -> Result<Option<u64>>;

    /// Sets a new exptime; returns whether the key exists.
    fn touch(&mut self, key: &[u8], exptime: i64) -> Result<bool>;

    /// Invalidates every item (after `delay` seconds, if not 0).
    fn flush(&mut self, delay: u32) -> Result<()>;

    /// Statistics as name/value pairs; `group` as in memcached's `stats <group>`.
    fn stats(&mut self, group: Option<&str>) -> Result<Vec<(String, String)>>;

    /// Up to `limit` keys that start with `prefix`, in key order.
    fn keys(&mut self, prefix: &[u8], limit: usize) -> Result<Vec<Vec<u8>>>;

    /// Up to `limit` items whose keys start with `prefix`, in key order. The default reads
    /// [`Backend::keys`] and then each item (skipping keys deleted in between).
    fn scan(&mut self, prefix: &[u8], limit: usize) -> Result<Vec<(Vec<u8>, Entry)>> {
        let keys = self.keys(prefix, limit)?;
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(entry) = self.get(&key)? {
                out.push((key, entry));
            }
        }
        Ok(out)
    }

    /// Runs `body` as one serializable transaction, retrying it on conflict. The default
    /// refuses: only the embedded mode has transactions.
    fn transaction(&mut self, body: &mut TxnBody<'_>) -> Result<Value> {
        let _ = body;
        Err(Error::db(
            "txn needs the embedded mode: run the script with `ppdb shell` \
             (the memcached protocol has no transactions)",
        ))
    }
}
