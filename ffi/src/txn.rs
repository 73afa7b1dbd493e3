//! [`Txn`] (`ppdb_txn`): optimistic transactions, begun, read and written, then committed
//! (possibly with `PPDB_CONFLICT`) or aborted.

use ppdb_core::{Isolation, PutOptions, Transaction};

use crate::db::{Database, SharedDb};
use crate::guard::{bytes, guard, guard_void, handle, handle_mut, optional_out, out};
use crate::status::{Failure, Status, PPDB_OK};
use crate::value::Value;

/// Snapshot isolation: a transaction conflicts if a key it writes changed since it began.
pub const PPDB_ISOLATION_SNAPSHOT: u32 = 0;
/// Serializable: a transaction also conflicts if a key it read changed since it began.
pub const PPDB_ISOLATION_SERIALIZABLE: u32 = 1;

/// An open transaction (opaque). Made by `ppdb_txn_begin`; ended, and freed, by exactly one
/// `ppdb_txn_commit` or `ppdb_txn_abort`. Used by one thread at a time.
// Field order matters: the transaction (which borrows the engine) drops before the database.
pub struct Txn {
    txn: Transaction<'static>,
    db: SharedDb,
}

impl std::fmt::Debug for Txn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Txn").field("txn", &self.txn).finish()
    }
}

/// Begins a transaction at `isolation` (`PPDB_ISOLATION_SNAPSHOT` or
/// `PPDB_ISOLATION_SERIALIZABLE`). It reads a snapshot taken now and buffers its writes until
/// commit. On success `*out_txn` is the new handle; on failure it is NULL.
///
/// # Safety
///
/// `db` must be a live handle; `out_txn` must point to writable memory for one pointer.
#[no_mangle]
pub unsafe extern "C" fn ppdb_txn_begin(
    db: *const Database,
    isolation: u32,
    out_txn: *mut *mut Txn,
) -> Status {
    guard(|| {
        // SAFETY: the caller guarantees `out_txn` is writable.
        let out_txn = unsafe { out(out_txn, "out_txn") }?;
        out_txn.write(std::ptr::null_mut());
        // SAFETY: the caller guarantees a live handle.
        let db = unsafe { handle(db, "db") }?;
        let isolation = match isolation {
            PPDB_ISOLATION_SNAPSHOT => Isolation::Snapshot,
            PPDB_ISOLATION_SERIALIZABLE => Isolation::Serializable,
            other => return Err(Failure::invalid(format!("unknown isolation level {other}"))),
        };
        let db = SharedDb::clone(&db.db);
        let txn = db.begin(isolation);
        // SAFETY: the transaction borrows the engine inside the `Arc` allocation, which never
        // moves and stays alive as long as the `Arc` clone stored beside it in `Txn`. The
        // 'static lifetime never leaves `Txn`, whose field order drops the transaction first
        // (and `ppdb_txn_commit` consumes it before dropping the `Arc`).
        let txn = unsafe { std::mem::transmute::<Transaction<'_>, Transaction<'static>>(txn) };
        out_txn.write(Box::into_raw(Box::new(Txn { txn, db })));
        Ok(PPDB_OK)
    })
}

/// Reads `key` within the transaction: its own pending write if any (with version 0), else the
/// value at its snapshot. `PPDB_OK` fills `*out_value` (free it with `ppdb_value_free`);
/// `PPDB_NOT_FOUND` leaves it empty. A serializable transaction remembers the read.
///
/// # Safety
///
/// `txn` must be a live transaction used by no other thread now; `key` must point to
/// `key_len` readable bytes; `out_value` must point to writable memory for one `ppdb_value`.
#[no_mangle]
pub unsafe extern "C" fn ppdb_txn_get(
    txn: *mut Txn,
    key: *const u8,
    key_len: usize,
    out_value: *mut Value,
) -> Status {
    guard(|| {
        // SAFETY: the caller guarantees the out-parameter is writable.
        let out_value = unsafe { out(out_value, "out_value") }?;
        out_value.write(Value::EMPTY);
        // SAFETY: the caller guarantees an exclusive live handle and readable key bytes.
        let (txn, key) = unsafe { (handle_mut(txn, "txn")?, bytes(key, key_len, "key")?) };
        Ok(Value::found(&out_value, txn.txn.get(key)?))
    })
}

/// Buffers a put of `value` under `key` with `flags` and `expire_at` (as for `ppdb_put`).
/// Nothing is visible to others until commit.
///
/// # Safety
///
/// `txn` must be a live transaction used by no other thread now; `key` and `value` must point
/// to `key_len` and `value_len` readable bytes (`value` may be NULL when `value_len` is 0).
#[no_mangle]
pub unsafe extern "C" fn ppdb_txn_put(
    txn: *mut Txn,
    key: *const u8,
    key_len: usize,
    value: *const u8,
    value_len: usize,
    flags: u32,
    expire_at: u64,
) -> Status {
    guard(|| {
        // SAFETY: the caller guarantees an exclusive live handle and readable bytes.
        let (txn, key, value) = unsafe {
            (
                handle_mut(txn, "txn")?,
                bytes(key, key_len, "key")?,
                bytes(value, value_len, "value")?,
            )
        };
        let options = PutOptions {
            flags,
            expire_at,
            ..PutOptions::default()
        };
        txn.txn.put_with(key, value, options)?;
        Ok(PPDB_OK)
    })
}

/// Buffers a delete of `key`.
///
/// # Safety
///
/// `txn` must be a live transaction used by no other thread now; `key` must point to
/// `key_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn ppdb_txn_delete(txn: *mut Txn, key: *const u8, key_len: usize) -> Status {
    guard(|| {
        // SAFETY: the caller guarantees an exclusive live handle and readable key bytes.
        let (txn, key) = unsafe { (handle_mut(txn, "txn")?, bytes(key, key_len, "key")?) };
        txn.txn.delete(key)?;
        Ok(PPDB_OK)
    })
}

/// Commits the transaction and frees its handle, whatever the outcome. `PPDB_OK`: all its
/// writes became visible at once, and `*out_version` (if not NULL) is the version of the last
/// one. `PPDB_CONFLICT`: a concurrent commit won and nothing was written; begin a new
/// transaction to retry. The handle must not be used afterwards in either case.
///
/// # Safety
///
/// `txn` must be a live transaction used by no other thread now; `out_version` must be NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn ppdb_txn_commit(txn: *mut Txn, out_version: *mut u64) -> Status {
    guard(|| {
        // SAFETY: the caller guarantees `out_version` is NULL or writable.
        let out_version = unsafe { optional_out(out_version) };
        if let Some(out_version) = &out_version {
            out_version.write(0);
        }
        if txn.is_null() {
            return Err(Failure::invalid("txn is NULL"));
        }
        // SAFETY: the handle came from `Box::into_raw` in `ppdb_txn_begin` and is ended only
        // once (the caller's promise); from here on this call owns it.
        let Txn { txn, db } = *unsafe { Box::from_raw(txn) };
        // `commit` consumes the transaction before `db` is dropped below.
        let result = txn.commit();
        drop(db);
        let version = result?;
        if let Some(out_version) = &out_version {
            out_version.write(version);
        }
        Ok(PPDB_OK)
    })
}

/// Aborts the transaction (its writes are discarded) and frees its handle. NULL is ignored.
///
/// # Safety
///
/// `txn` must be NULL or a live transaction used by no other thread now; the handle must not
/// be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn ppdb_txn_abort(txn: *mut Txn) {
    guard_void(|| {
        if !txn.is_null() {
            // SAFETY: the handle came from `Box::into_raw` in `ppdb_txn_begin` and is ended
            // only once (the caller's promise). Dropping `Txn` drops the transaction (a
            // rollback) before the database, by field order.
            drop(unsafe { Box::from_raw(txn) });
        }
    });
}
