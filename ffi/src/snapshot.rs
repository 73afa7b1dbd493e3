//! [`SnapshotHandle`] (`ppdb_snapshot`): a consistent read view that C holds for as long as it
//! likes, and the state that iterators share with it.

use std::sync::Arc;

use ppdb_core::Snapshot;

use crate::db::{Database, SharedDb};
use crate::guard::{bytes, guard, guard_void, handle, out};
use crate::status::{Status, PPDB_OK};
use crate::value::Value;

/// A snapshot together with the database it reads, so that it can outlive the `ppdb_db`
/// handle. Field order matters: `snapshot` (which borrows `db`'s engine) drops first.
pub(crate) struct SnapshotState {
    snapshot: Snapshot<'static>,
    db: SharedDb,
}

impl SnapshotState {
    /// Takes a snapshot of the latest committed state of `db`.
    pub(crate) fn take(db: &SharedDb) -> Arc<SnapshotState> {
        let db = Arc::clone(db);
        let snapshot = db.snapshot();
        // SAFETY: the snapshot borrows the engine inside the `Arc` allocation, which never
        // moves and stays alive as long as the `Arc` clone stored beside it. The 'static
        // lifetime never leaves this struct: `snapshot()` lends it out only for as long as
        // `&self`, and the field order drops the snapshot before the `Arc`.
        let snapshot = unsafe { std::mem::transmute::<Snapshot<'_>, Snapshot<'static>>(snapshot) };
        Arc::new(SnapshotState { snapshot, db })
    }

    /// The snapshot, for as long as the state is borrowed.
    pub(crate) fn snapshot(&self) -> &Snapshot<'_> {
        &self.snapshot
    }

    /// The database the snapshot reads.
    pub(crate) fn db(&self) -> &SharedDb {
        &self.db
    }
}

/// A consistent read view of a database at one version (opaque). Made by
/// `ppdb_snapshot_take`, released by `ppdb_snapshot_release`. May be used from many threads at
/// once; it keeps the versions it can see from being merged away, so release it when done.
pub struct SnapshotHandle {
    pub(crate) state: Arc<SnapshotState>,
}

impl std::fmt::Debug for SnapshotHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotHandle")
            .field("version", &self.state.snapshot.seq())
            .finish()
    }
}

/// Takes a snapshot of the latest committed state. On success `*out_snapshot` is the new
/// handle (release it with `ppdb_snapshot_release`); on failure it is NULL.
///
/// # Safety
///
/// `db` must be a live handle; `out_snapshot` must point to writable memory for one pointer.
#[no_mangle]
pub unsafe extern "C" fn ppdb_snapshot_take(
    db: *const Database,
    out_snapshot: *mut *mut SnapshotHandle,
) -> Status {
    guard(|| {
        // SAFETY: the caller guarantees `out_snapshot` is writable.
        let out_snapshot = unsafe { out(out_snapshot, "out_snapshot") }?;
        out_snapshot.write(std::ptr::null_mut());
        // SAFETY: the caller guarantees a live handle.
        let db = unsafe { handle(db, "db") }?;
        let state = SnapshotState::take(&db.db);
        out_snapshot.write(Box::into_raw(Box::new(SnapshotHandle { state })));
        Ok(PPDB_OK)
    })
}

/// The version the snapshot reads at (the last version committed when it was taken). 0 if
/// `snapshot` is NULL.
///
/// # Safety
///
/// `snapshot` must be NULL or a live snapshot handle.
#[no_mangle]
pub unsafe extern "C" fn ppdb_snapshot_version(snapshot: *const SnapshotHandle) -> u64 {
    let mut version = 0;
    guard_void(|| {
        // SAFETY: the caller guarantees NULL or a live handle.
        if let Some(snapshot) = unsafe { snapshot.as_ref() } {
            version = snapshot.state.snapshot.seq();
        }
    });
    version
}

/// Reads `key` as of the snapshot: like `ppdb_get`, blind to every later write. (Expiry is
/// judged at the current time.)
///
/// # Safety
///
/// `snapshot` must be a live snapshot handle; `key` must point to `key_len` readable bytes;
/// `out_value` must point to writable memory for one `ppdb_value`.
#[no_mangle]
pub unsafe extern "C" fn ppdb_snapshot_get(
    snapshot: *const SnapshotHandle,
    key: *const u8,
    key_len: usize,
    out_value: *mut Value,
) -> Status {
    guard(|| {
        // SAFETY: the caller guarantees the out-parameter is writable.
        let out_value = unsafe { out(out_value, "out_value") }?;
        out_value.write(Value::EMPTY);
        // SAFETY: the caller guarantees a live handle and `key_len` readable bytes.
        let (snapshot, key) =
            unsafe { (handle(snapshot, "snapshot")?, bytes(key, key_len, "key")?) };
        let state = &snapshot.state;
        Ok(Value::found(
            &out_value,
            state.db.get_at(state.snapshot(), key)?,
        ))
    })
}

/// Releases a snapshot. Iterators opened on it stay usable until freed. NULL is ignored.
///
/// # Safety
///
/// `snapshot` must be NULL or a handle from `ppdb_snapshot_take` not released yet, and no
/// other call may use it at the same time or afterwards.
#[no_mangle]
pub unsafe extern "C" fn ppdb_snapshot_release(snapshot: *mut SnapshotHandle) {
    guard_void(|| {
        if !snapshot.is_null() {
            // SAFETY: the handle came from `Box::into_raw` in `ppdb_snapshot_take` and is
            // released only here (the caller's promise).
            drop(unsafe { Box::from_raw(snapshot) });
        }
    });
}
