//! The C API called from Rust, as C would call it: handles, ownership, status codes, NULLs.
#![allow(
    clippy::undocumented_unsafe_blocks,
    reason = "every call passes live handles and local buffers; the tests check the API itself"
)]

use std::ffi::CStr;
use std::ptr::{null, null_mut};

use super::*;
use crate::guard::guard;

fn open_default() -> *mut Database {
    let mut db = null_mut();
    assert_eq!(unsafe { ppdb_open(null(), &mut db) }, PPDB_OK);
    assert!(!db.is_null());
    db
}

fn last_error() -> String {
    unsafe { CStr::from_ptr(ppdb_last_error()) }
        .to_string_lossy()
        .into_owned()
}

fn put(db: *mut Database, key: &[u8], value: &[u8]) -> u64 {
    let mut version = 0;
    let status = unsafe {
        ppdb_put(
            db,
            key.as_ptr(),
            key.len(),
            value.as_ptr(),
            value.len(),
            0,
            0,
            &mut version,
        )
    };
    assert_eq!(status, PPDB_OK, "{}", last_error());
    version
}

/// The value of `key` (bytes, flags), read with `ppdb_get` and freed.
fn get(db: *mut Database, key: &[u8]) -> Option<(Vec<u8>, u32)> {
    let mut value = Value::EMPTY;
    match unsafe { ppdb_get(db, key.as_ptr(), key.len(), &mut value) } {
        PPDB_OK => Some(take(&mut value)),
        PPDB_NOT_FOUND => {
            assert!(value.data.is_null());
            None
        }
        other => panic!("get: status {other}: {}", last_error()),
    }
}

/// Copies and frees a value.
fn take(value: &mut Value) -> (Vec<u8>, u32) {
    let bytes = if value.data.is_null() {
        Vec::new()
    } else {
        unsafe { std::slice::from_raw_parts(value.data, value.len) }.to_vec()
    };
    let flags = value.flags;
    unsafe { ppdb_value_free(value) };
    assert!(value.data.is_null() && value.len == 0);
    (bytes, flags)
}

/// Every key of an iterator, which is freed.
fn drain(iter: *mut Iter) -> Vec<Vec<u8>> {
    let mut keys = Vec::new();
    let mut entry = Entry::EMPTY;
    loop {
        match unsafe { ppdb_iter_next(iter, &mut entry) } {
            PPDB_OK => {
                keys.push(unsafe { std::slice::from_raw_parts(entry.key, entry.key_len) }.to_vec())
            }
            PPDB_END => break,
            other => panic!("iter_next: status {other}: {}", last_error()),
        }
    }
    unsafe { ppdb_iter_free(iter) };
    keys
}

#[test]
fn put_get_delete_with_flags_and_expiry() {
    let db = open_default();
    let v1 = put(db, b"k", b"one");
    assert_eq!(get(db, b"k"), Some((b"one".to_vec(), 0)));

    let now = unsafe { ppdb_now(db) };
    assert!(now > 1_577_836_800, "unix time, not {now}");
    let mut v2 = 0;
    let status = unsafe {
        ppdb_put(
            db,
            b"k".as_ptr(),
            1,
            b"two".as_ptr(),
            3,
            7,
            now + 3600,
            &mut v2,
        )
    };
    assert_eq!(status, PPDB_OK);
    assert!(v2 > v1);
    let mut value = Value::EMPTY;
    assert_eq!(
        unsafe { ppdb_get(db, b"k".as_ptr(), 1, &mut value) },
        PPDB_OK
    );
    assert_eq!(
        (value.flags, value.expire_at, value.version),
        (7, now + 3600, v2)
    );
    assert_eq!(take(&mut value), (b"two".to_vec(), 7));

    // Already expired: gone.
    let status = unsafe { ppdb_put(db, b"old".as_ptr(), 3, b"x".as_ptr(), 1, 0, 1, null_mut()) };
    assert_eq!(status, PPDB_OK);
    assert_eq!(get(db, b"old"), None);

    // An empty value is a value, with a NULL data pointer.
    assert_eq!(
        unsafe { ppdb_put(db, b"e".as_ptr(), 1, null(), 0, 0, 0, null_mut()) },
        PPDB_OK
    );
    assert_eq!(get(db, b"e"), Some((Vec::new(), 0)));

    let mut v3 = 0;
    assert_eq!(
        unsafe { ppdb_delete(db, b"k".as_ptr(), 1, &mut v3) },
        PPDB_OK
    );
    assert!(v3 > v2);
    assert_eq!(get(db, b"k"), None);
    unsafe { ppdb_close(db) };
}

#[test]
fn null_pointers_are_errors_not_crashes() {
    let db = open_default();
    let mut value = Value::EMPTY;
    let mut entry = Entry::EMPTY;
    let cases = [
        (
            unsafe { ppdb_get(null(), b"k".as_ptr(), 1, &mut value) },
            "db is NULL",
        ),
        (
            unsafe { ppdb_get(db, null(), 1, &mut value) },
            "key is NULL",
        ),
        (
            unsafe { ppdb_get(db, b"k".as_ptr(), 1, null_mut()) },
            "out_value is NULL",
        ),
        (
            unsafe { ppdb_put(db, b"k".as_ptr(), 1, null(), 5, 0, 0, null_mut()) },
            "value is NULL",
        ),
        (unsafe { ppdb_open(null(), null_mut()) }, "out_db is NULL"),
        (
            unsafe { ppdb_txn_put(null_mut(), b"k".as_ptr(), 1, null(), 0, 0, 0) },
            "txn is NULL",
        ),
        (
            unsafe { ppdb_txn_commit(null_mut(), null_mut()) },
            "txn is NULL",
        ),
        (
            unsafe { ppdb_iter_next(null_mut(), &mut entry) },
            "iter is NULL",
        ),
        (unsafe { ppdb_options_init(null_mut()) }, "options is NULL"),
    ];
    for (status, message) in cases {
        assert_eq!(status, PPDB_INVALID_ARGUMENT, "{message}");
    }
    assert_eq!(
        unsafe { ppdb_get(db, null(), 1, &mut value) },
        PPDB_INVALID_ARGUMENT
    );
    assert_eq!(last_error(), "key is NULL but its length is 1");
    // Releasing NULL is a no-op.
    unsafe {
        ppdb_close(null_mut());
        ppdb_snapshot_release(null_mut());
        ppdb_txn_abort(null_mut());
        ppdb_iter_free(null_mut());
        ppdb_value_free(null_mut());
        ppdb_close(db);
    }
    assert_eq!(unsafe { ppdb_now(null()) }, 0);
    assert_eq!(unsafe { ppdb_snapshot_version(null()) }, 0);
}

#[test]
fn engine_errors_map_to_codes_with_messages() {
    let db = open_default();
    let mut value = Value::EMPTY;
    assert_eq!(
        unsafe { ppdb_get(db, b"".as_ptr(), 0, &mut value) },
        PPDB_INVALID_KEY
    );
    assert!(
        last_error().starts_with("invalid key: 0 bytes"),
        "{}",
        last_error()
    );
    let mut txn = null_mut();
    assert_eq!(
        unsafe { ppdb_txn_begin(db, 9, &mut txn) },
        PPDB_INVALID_ARGUMENT
    );
    assert!(txn.is_null());
    assert_eq!(last_error(), "unknown isolation level 9");
    unsafe { ppdb_close(db) };

    let name = |status| {
        unsafe { CStr::from_ptr(ppdb_status_name(status)) }
            .to_str()
            .unwrap()
    };
    assert_eq!(name(PPDB_CONFLICT), "PPDB_CONFLICT");
    assert_eq!(name(PPDB_INTERNAL), "PPDB_INTERNAL");
    assert_eq!(name(-1), "PPDB_UNKNOWN");
    let version = unsafe { CStr::from_ptr(ppdb_version()) }.to_str().unwrap();
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
}

#[test]
fn options_are_checked() {
    let mut options = Options::defaults();
    assert_eq!(unsafe { ppdb_options_init(&mut options) }, PPDB_OK);
    let mut db = null_mut();

    let mut bad = options;
    bad.struct_size = 8;
    assert_eq!(unsafe { ppdb_open(&bad, &mut db) }, PPDB_INVALID_ARGUMENT);
    assert!(
        last_error().contains("ppdb_options_init"),
        "{}",
        last_error()
    );

    let mut empty = options;
    empty.data_dir = c"".as_ptr();
    assert_eq!(unsafe { ppdb_open(&empty, &mut db) }, PPDB_INVALID_ARGUMENT);
    assert!(db.is_null());
    assert!(last_error().contains("data_dir"), "{}", last_error());

    let mut small = options;
    small.memtable_bytes_max = 100;
    assert_eq!(unsafe { ppdb_open(&small, &mut db) }, PPDB_INVALID_CONFIG);
    assert!(
        last_error().contains("memtable_bytes_max"),
        "{}",
        last_error()
    );

    let mut tight = options;
    tight.key_bytes_max = 4;
    tight.value_bytes_max = 8;
    tight.memtable_bytes_max = 64 << 10;
    tight.memory_bytes_max = 256 << 10;
    tight.evict = 0;
    assert_eq!(unsafe { ppdb_open(&tight, &mut db) }, PPDB_OK);
    let status = unsafe { ppdb_put(db, b"12345".as_ptr(), 5, b"v".as_ptr(), 1, 0, 0, null_mut()) };
    assert_eq!(status, PPDB_INVALID_KEY);
    let status = unsafe { ppdb_put(db, b"k".as_ptr(), 1, [0u8; 9].as_ptr(), 9, 0, 0, null_mut()) };
    assert_eq!(status, PPDB_VALUE_TOO_LARGE);
    let mut status = PPDB_OK;
    for i in 0..100_000u32 {
        let key = (i % 9000).to_le_bytes();
        status = unsafe {
            ppdb_put(
                db,
                key.as_ptr(),
                4,
                b"12345678".as_ptr(),
                8,
                0,
                0,
                null_mut(),
            )
        };
        if status != PPDB_OK {
            break;
        }
    }
    assert_eq!(status, PPDB_OUT_OF_MEMORY, "{}", last_error());
    unsafe { ppdb_close(db) };
}

#[test]
fn snapshots_do_not_see_later_writes_and_outlive_the_handle() {
    let db = open_default();
    put(db, b"a", b"1");
    let mut snap = null_mut();
    assert_eq!(unsafe { ppdb_snapshot_take(db, &mut snap) }, PPDB_OK);
    let version = unsafe { ppdb_snapshot_version(snap) };
    put(db, b"a", b"2");
    put(db, b"b", b"2");
    let mut iter = null_mut();
    assert_eq!(
        unsafe { ppdb_snapshot_iter(snap, null(), 0, null(), 0, &mut iter) },
        PPDB_OK
    );
    // Close the database and release the snapshot: the iterator still holds both.
    unsafe { ppdb_close(db) };
    let mut value = Value::EMPTY;
    assert_eq!(
        unsafe { ppdb_snapshot_get(snap, b"a".as_ptr(), 1, &mut value) },
        PPDB_OK
    );
    assert_eq!(value.version, version);
    assert_eq!(take(&mut value), (b"1".to_vec(), 0));
    assert_eq!(
        unsafe { ppdb_snapshot_get(snap, b"b".as_ptr(), 1, &mut value) },
        PPDB_NOT_FOUND
    );
    unsafe { ppdb_snapshot_release(snap) };
    assert_eq!(drain(iter), vec![b"a".to_vec()]);
}

#[test]
fn transactions_commit_abort_and_conflict() {
    let db = open_default();
    put(db, b"x", b"0");
    let (mut t1, mut t2) = (null_mut(), null_mut());
    assert_eq!(
        unsafe { ppdb_txn_begin(db, PPDB_ISOLATION_SNAPSHOT, &mut t1) },
        PPDB_OK
    );
    assert_eq!(
        unsafe { ppdb_txn_begin(db, PPDB_ISOLATION_SNAPSHOT, &mut t2) },
        PPDB_OK
    );
    let mut value = Value::EMPTY;
    assert_eq!(
        unsafe { ppdb_txn_get(t1, b"x".as_ptr(), 1, &mut value) },
        PPDB_OK
    );
    assert_eq!(take(&mut value).0, b"0");
    assert_eq!(
        unsafe { ppdb_txn_put(t1, b"x".as_ptr(), 1, b"1".as_ptr(), 1, 3, 0) },
        PPDB_OK
    );
    assert_eq!(
        unsafe { ppdb_txn_put(t2, b"x".as_ptr(), 1, b"2".as_ptr(), 1, 0, 0) },
        PPDB_OK
    );
    // Own writes are visible inside, with version 0, and invisible outside.
    assert_eq!(
        unsafe { ppdb_txn_get(t1, b"x".as_ptr(), 1, &mut value) },
        PPDB_OK
    );
    assert_eq!((value.version, value.flags), (0, 3));
    take(&mut value);
    assert_eq!(get(db, b"x").unwrap().0, b"0");

    let mut version = 0;
    assert_eq!(unsafe { ppdb_txn_commit(t1, &mut version) }, PPDB_OK);
    assert!(version > 0);
    assert_eq!(unsafe { ppdb_txn_commit(t2, &mut version) }, PPDB_CONFLICT);
    assert_eq!(version, 0);
    assert!(last_error().contains("conflict"), "{}", last_error());
    assert_eq!(get(db, b"x"), Some((b"1".to_vec(), 3)));

    let mut t3 = null_mut();
    assert_eq!(
        unsafe { ppdb_txn_begin(db, PPDB_ISOLATION_SERIALIZABLE, &mut t3) },
        PPDB_OK
    );
    assert_eq!(unsafe { ppdb_txn_delete(t3, b"x".as_ptr(), 1) }, PPDB_OK);
    assert_eq!(
        unsafe { ppdb_txn_get(t3, b"x".as_ptr(), 1, &mut value) },
        PPDB_NOT_FOUND
    );
    unsafe { ppdb_txn_abort(t3) };
    assert_eq!(get(db, b"x").unwrap().0, b"1");

    // A transaction outlives the database handle.
    let mut t4 = null_mut();
    assert_eq!(
        unsafe { ppdb_txn_begin(db, PPDB_ISOLATION_SNAPSHOT, &mut t4) },
        PPDB_OK
    );
    unsafe { ppdb_close(db) };
    assert_eq!(
        unsafe { ppdb_txn_put(t4, b"y".as_ptr(), 1, b"1".as_ptr(), 1, 0, 0) },
        PPDB_OK
    );
    assert_eq!(unsafe { ppdb_txn_commit(t4, null_mut()) }, PPDB_OK);
}

#[test]
fn iteration_covers_ranges_across_chunks() {
    let db = open_default();
    for i in 0..1000u32 {
        put(db, format!("key{i:04}").as_bytes(), b"v");
    }
    put(db, b"gone", b"v");
    unsafe { ppdb_delete(db, b"gone".as_ptr(), 4, null_mut()) };

    let mut iter = null_mut();
    assert_eq!(
        unsafe { ppdb_iter_open(db, null(), 0, null(), 0, &mut iter) },
        PPDB_OK
    );
    let all = drain(iter);
    assert_eq!(all.len(), 1000);
    assert!(all.windows(2).all(|w| w[0] < w[1]), "key order");

    let (start, end) = (b"key0100", b"key0700");
    let status = unsafe { ppdb_iter_open(db, start.as_ptr(), 7, end.as_ptr(), 7, &mut iter) };
    assert_eq!(status, PPDB_OK);
    let keys = drain(iter);
    assert_eq!(keys.len(), 600);
    assert_eq!(keys[0], b"key0100");
    assert_eq!(keys[599], b"key0699");

    // The iterator reads a snapshot: later writes are not seen.
    let status = unsafe { ppdb_iter_open(db, b"key0998".as_ptr(), 7, null(), 0, &mut iter) };
    assert_eq!(status, PPDB_OK);
    put(db, b"key0999x", b"v");
    assert_eq!(drain(iter).len(), 2);
    unsafe { ppdb_close(db) };
}

#[test]
fn panics_become_internal_errors() {
    let status = guard(|| panic!("boom"));
    assert_eq!(status, PPDB_INTERNAL);
    assert_eq!(last_error(), "internal error (a bug in ppdb): panic: boom");
}

#[test]
fn last_error_is_per_thread() {
    let db = open_default();
    let mut value = Value::EMPTY;
    assert_eq!(
        unsafe { ppdb_get(db, b"".as_ptr(), 0, &mut value) },
        PPDB_INVALID_KEY
    );
    let other = std::thread::spawn(last_error).join().unwrap();
    assert_eq!(other, "");
    assert!(last_error().starts_with("invalid key"));
    unsafe { ppdb_close(db) };
}

#[test]
fn a_data_dir_keeps_the_data_across_close_and_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = std::ffi::CString::new(dir.path().to_str().unwrap()).unwrap();
    let mut options = Options::defaults();
    assert_eq!(unsafe { ppdb_options_init(&mut options) }, PPDB_OK);
    options.data_dir = path.as_ptr();
    let mut db = null_mut();
    assert_eq!(
        unsafe { ppdb_open(&options, &mut db) },
        PPDB_OK,
        "{}",
        last_error()
    );
    put(db, b"kept", b"on disk");
    unsafe { ppdb_close(db) };
    let mut db = null_mut();
    assert_eq!(
        unsafe { ppdb_open(&options, &mut db) },
        PPDB_OK,
        "{}",
        last_error()
    );
    assert_eq!(get(db, b"kept").map(|(v, _)| v), Some(b"on disk".to_vec()));
    unsafe { ppdb_close(db) };
    assert!(std::fs::read_dir(dir.path()).unwrap().count() > 0);
}
