//! [`Database`] (`ppdb_db`): open and close, point reads and writes.

use std::sync::Arc;

use ppdb_core::{Db, PutOptions};
use ppdb_platform_std::StdPlatform;

use crate::guard::{bytes, guard, guard_void, handle, optional_out, out};
use crate::options::Options;
use crate::status::{Failure, Status, PPDB_OK};
use crate::value::Value;

/// The engine as the C API holds it: shared by the database handle and every snapshot,
/// transaction and iterator made from it.
pub(crate) type SharedDb = Arc<Db<StdPlatform>>;

// A `ppdb_db` is used from many threads at once.
const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<Db<StdPlatform>>();
};

/// An open database (opaque). Made by `ppdb_open`, released by `ppdb_close`. May be used from
/// many threads at once.
#[derive(Debug)]
pub struct Database {
    pub(crate) db: SharedDb,
}

/// Opens a database. `options` may be NULL for the defaults (memory mode, no memory limit).
/// On success `*out_db` is the new handle; on failure it is NULL and `ppdb_last_error()` says
/// why (`PPDB_INVALID_CONFIG` for an option out of range, `PPDB_IO` or `PPDB_CORRUPTION` when a
/// `data_dir` cannot be opened or recovered).
///
/// # Safety
///
/// `options` must be NULL or point to a `ppdb_options` initialised by `ppdb_options_init`;
/// `out_db` must point to writable memory for one pointer.
#[no_mangle]
pub unsafe extern "C" fn ppdb_open(options: *const Options, out_db: *mut *mut Database) -> Status {
    guard(|| {
        // SAFETY: the caller guarantees `out_db` is writable (or NULL, refused by `out`).
        let out_db = unsafe { out(out_db, "out_db") }?;
        out_db.write(std::ptr::null_mut());
        // SAFETY: the caller guarantees `options` is NULL or a valid `ppdb_options`.
        let options = unsafe { options.as_ref() }
            .copied()
            .unwrap_or_else(Options::defaults);
        let config = options.to_config()?;
        let db = if options.data_dir.is_null() {
            // Memory mode never touches the file system; the platform's root is a placeholder.
            Db::open(config, StdPlatform::new("."))?
        } else {
            // SAFETY: the caller guarantees a non-NULL `data_dir` is a NUL-terminated string
            // that stays valid during the call.
            let dir = unsafe { std::ffi::CStr::from_ptr(options.data_dir) }
                .to_str()
                .map_err(|_| Failure::invalid("ppdb_options.data_dir is not UTF-8"))?;
            if dir.is_empty() {
                return Err(Failure::invalid("ppdb_options.data_dir is empty"));
            }
            std::fs::create_dir_all(dir).map_err(|e| {
                Failure::new(
                    crate::status::PPDB_IO,
                    format!("cannot create the data directory {dir}: {e}"),
                )
            })?;
            let options = ppdb_core::DiskOptions::default();
            Db::open_dir(config, StdPlatform::new(dir), "", options)?.0
        };
        let handle = Box::new(Database { db: Arc::new(db) });
        out_db.write(Box::into_raw(handle));
        Ok(PPDB_OK)
    })
}

/// Closes a database handle. Snapshots, transactions and iterators made from it stay usable;
/// the database is freed when the last of them is released. NULL is ignored.
///
/// # Safety
///
/// `db` must be NULL or a handle from `ppdb_open` that was not closed yet, and no other call
/// may use it at the same time or afterwards.
#[no_mangle]
pub unsafe extern "C" fn ppdb_close(db: *mut Database) {
    guard_void(|| {
        if !db.is_null() {
            // SAFETY: `db` came from `Box::into_raw` in `ppdb_open` and is released only here
            // (the caller's promise).
            drop(unsafe { Box::from_raw(db) });
        }
    });
}

/// Reads the live value of `key`. Returns `PPDB_OK` and fills `*out_value` (free it with
/// `ppdb_value_free`), or `PPDB_NOT_FOUND` (absent, deleted or expired) with `*out_value`
/// empty.
///
/// # Safety
///
/// `db` must be a live handle from `ppdb_open`; `key` must point to `key_len` readable bytes;
/// `out_value` must point to writable memory for one `ppdb_value`.
#[no_mangle]
pub unsafe extern "C" fn ppdb_get(
    db: *const Database,
    key: *const u8,
    key_len: usize,
    out_value: *mut Value,
) -> Status {
    guard(|| {
        // SAFETY: the caller guarantees the out-parameter is writable.
        let out_value = unsafe { out(out_value, "out_value") }?;
        out_value.write(Value::EMPTY);
        // SAFETY: the caller guarantees a live handle and `key_len` readable bytes.
        let (db, key) = unsafe { (handle(db, "db")?, bytes(key, key_len, "key")?) };
        Ok(Value::found(&out_value, db.db.get(key)?))
    })
}

/// Stores `value` under `key` with `flags` (opaque to the database) and `expire_at` (unix time
/// in seconds after which the value is gone; 0 means never; see `ppdb_now`). If `out_version`
/// is not NULL it receives the new version.
///
/// # Safety
///
/// `db` must be a live handle; `key` and `value` must point to `key_len` and `value_len`
/// readable bytes (`value` may be NULL when `value_len` is 0); `out_version` must be NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn ppdb_put(
    db: *const Database,
    key: *const u8,
    key_len: usize,
    value: *const u8,
    value_len: usize,
    flags: u32,
    expire_at: u64,
    out_version: *mut u64,
) -> Status {
    guard(|| {
        // SAFETY: the caller guarantees a live handle and readable key and value bytes.
        let (db, key, value) = unsafe {
            (
                handle(db, "db")?,
                bytes(key, key_len, "key")?,
                bytes(value, value_len, "value")?,
            )
        };
        let options = PutOptions {
            flags,
            expire_at,
            ..PutOptions::default()
        };
        let version = db.db.put_with(key, value, options)?;
        // SAFETY: the caller guarantees `out_version` is NULL or writable.
        if let Some(out_version) = unsafe { optional_out(out_version) } {
            out_version.write(version);
        }
        Ok(PPDB_OK)
    })
}

/// Deletes `key` (deleting an absent key is not an error). If `out_version` is not NULL it
/// receives the version of the deletion.
///
/// # Safety
///
/// `db` must be a live handle; `key` must point to `key_len` readable bytes; `out_version`
/// must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ppdb_delete(
    db: *const Database,
    key: *const u8,
    key_len: usize,
    out_version: *mut u64,
) -> Status {
    guard(|| {
        // SAFETY: the caller guarantees a live handle and readable key bytes.
        let (db, key) = unsafe { (handle(db, "db")?, bytes(key, key_len, "key")?) };
        let version = db.db.delete(key)?;
        // SAFETY: the caller guarantees `out_version` is NULL or writable.
        if let Some(out_version) = unsafe { optional_out(out_version) } {
            out_version.write(version);
        }
        Ok(PPDB_OK)
    })
}

/// The database's clock: unix time in seconds, as used for `expire_at`. 0 if `db` is NULL.
///
/// # Safety
///
/// `db` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn ppdb_now(db: *const Database) -> u64 {
    let mut now = 0;
    guard_void(|| {
        // SAFETY: the caller guarantees NULL or a live handle.
        if let Some(db) = unsafe { db.as_ref() } {
            now = db.db.now();
        }
    });
    now
}
