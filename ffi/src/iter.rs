//! [`Iter`] (`ppdb_iter`): ordered iteration over a key range at one snapshot, fetched from the
//! engine in chunks.

use std::collections::VecDeque;
use std::ops::Bound;
use std::sync::Arc;

use ppdb_core::Item;

use crate::db::Database;
use crate::guard::{guard, guard_void, handle, handle_mut, optional_bytes, out, Out};
use crate::snapshot::{SnapshotHandle, SnapshotState};
use crate::status::{Failure, Status, PPDB_END, PPDB_OK};
use crate::value::Entry;

/// How many items one refill fetches from the engine.
const CHUNK_ITEMS: usize = 256;

/// An iterator over the live items of a key range, in key order, at one snapshot (opaque).
/// Made by `ppdb_iter_open` or `ppdb_snapshot_iter`, freed by `ppdb_iter_free`. Used by one
/// thread at a time.
pub struct Iter {
    state: Arc<SnapshotState>,
    next_start: Bound<Vec<u8>>,
    end: Bound<Vec<u8>>,
    buffer: VecDeque<(Vec<u8>, Item)>,
    /// The entry last handed out; C borrows its bytes until the next call.
    current: Option<(Vec<u8>, Item)>,
    exhausted: bool,
}

impl std::fmt::Debug for Iter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Iter")
            .field("version", &self.state.snapshot().seq())
            .field("buffered", &self.buffer.len())
            .field("exhausted", &self.exhausted)
            .finish()
    }
}

impl Iter {
    fn new(state: Arc<SnapshotState>, start: Option<&[u8]>, end: Option<&[u8]>) -> Iter {
        let bound = |key: Option<&[u8]>, inclusive: bool| match key {
            None | Some([]) => Bound::Unbounded,
            Some(key) if inclusive => Bound::Included(key.to_vec()),
            Some(key) => Bound::Excluded(key.to_vec()),
        };
        Iter {
            state,
            next_start: bound(start, true),
            end: bound(end, false),
            buffer: VecDeque::new(),
            current: None,
            exhausted: false,
        }
    }

    /// Fetches the next chunk after the last key fetched.
    fn refill(&mut self) {
        let start = self.next_start.as_ref().map(Vec::as_slice);
        let end = self.end.as_ref().map(Vec::as_slice);
        let db = self.state.db();
        let chunk = db.scan_at(self.state.snapshot(), (start, end), CHUNK_ITEMS);
        self.exhausted = chunk.len() < CHUNK_ITEMS;
        if let Some((last, _)) = chunk.last() {
            self.next_start = Bound::Excluded(last.clone());
        }
        self.buffer.extend(chunk);
    }

    /// Moves to the next entry; false at the end.
    fn advance(&mut self) -> bool {
        if self.buffer.is_empty() && !self.exhausted {
            self.refill();
        }
        self.current = self.buffer.pop_front();
        self.current.is_some()
    }
}

/// Opens an iterator and hands it to `out_iter`.
fn open(
    state: Arc<SnapshotState>,
    start: Option<&[u8]>,
    end: Option<&[u8]>,
    out_iter: &Out<*mut Iter>,
) -> Result<Status, Failure> {
    let iter = Box::new(Iter::new(state, start, end));
    out_iter.write(Box::into_raw(iter));
    Ok(PPDB_OK)
}

/// Opens an iterator over the keys from `start` (inclusive) to `end` (exclusive), at a snapshot
/// taken now. A NULL (or empty) `start` means from the first key, a NULL (or empty) `end` to the
/// last. On success `*out_iter` is the new handle (free it with `ppdb_iter_free`).
///
/// # Safety
///
/// `db` must be a live handle; `start` and `end` must each be NULL or point to `start_len` and
/// `end_len` readable bytes; `out_iter` must point to writable memory for one pointer.
#[no_mangle]
pub unsafe extern "C" fn ppdb_iter_open(
    db: *const Database,
    start: *const u8,
    start_len: usize,
    end: *const u8,
    end_len: usize,
    out_iter: *mut *mut Iter,
) -> Status {
    guard(|| {
        // SAFETY: the caller guarantees `out_iter` is writable.
        let out_iter = unsafe { out(out_iter, "out_iter") }?;
        out_iter.write(std::ptr::null_mut());
        // SAFETY: the caller guarantees a live handle and readable bounds (or NULL).
        let (db, start, end) = unsafe {
            (
                handle(db, "db")?,
                optional_bytes(start, start_len, "start")?,
                optional_bytes(end, end_len, "end")?,
            )
        };
        open(SnapshotState::take(&db.db), start, end, &out_iter)
    })
}

/// Like `ppdb_iter_open`, at an existing snapshot. The iterator keeps the snapshot alive even
/// if `ppdb_snapshot_release` is called first.
///
/// # Safety
///
/// `snapshot` must be a live snapshot handle; otherwise as for `ppdb_iter_open`.
#[no_mangle]
pub unsafe extern "C" fn ppdb_snapshot_iter(
    snapshot: *const SnapshotHandle,
    start: *const u8,
    start_len: usize,
    end: *const u8,
    end_len: usize,
    out_iter: *mut *mut Iter,
) -> Status {
    guard(|| {
        // SAFETY: the caller guarantees `out_iter` is writable.
        let out_iter = unsafe { out(out_iter, "out_iter") }?;
        out_iter.write(std::ptr::null_mut());
        // SAFETY: the caller guarantees a live handle and readable bounds (or NULL).
        let (snapshot, start, end) = unsafe {
            (
                handle(snapshot, "snapshot")?,
                optional_bytes(start, start_len, "start")?,
                optional_bytes(end, end_len, "end")?,
            )
        };
        open(Arc::clone(&snapshot.state), start, end, &out_iter)
    })
}

/// Moves to the next entry. `PPDB_OK` fills `*out_entry`, whose key and value bytes belong to
/// the iterator and stay valid until the next `ppdb_iter_next` or `ppdb_iter_free` on it;
/// `PPDB_END` means there are no more entries (and leaves `*out_entry` empty).
///
/// # Safety
///
/// `iter` must be a live iterator used by no other thread now; `out_entry` must point to
/// writable memory for one `ppdb_entry`.
#[no_mangle]
pub unsafe extern "C" fn ppdb_iter_next(iter: *mut Iter, out_entry: *mut Entry) -> Status {
    guard(|| {
        // SAFETY: the caller guarantees `out_entry` is writable.
        let out_entry = unsafe { out(out_entry, "out_entry") }?;
        out_entry.write(Entry::EMPTY);
        // SAFETY: the caller guarantees an exclusive live handle.
        let iter = unsafe { handle_mut(iter, "iter") }?;
        if !iter.advance() {
            return Ok(PPDB_END);
        }
        if let Some((key, item)) = &iter.current {
            out_entry.write(Entry::borrowing(key, item));
        }
        Ok(PPDB_OK)
    })
}

/// Frees an iterator (and with it the last entry's bytes). NULL is ignored.
///
/// # Safety
///
/// `iter` must be NULL or a live iterator not freed yet, used by no other call now or later.
#[no_mangle]
pub unsafe extern "C" fn ppdb_iter_free(iter: *mut Iter) {
    guard_void(|| {
        if !iter.is_null() {
            // SAFETY: the handle came from `Box::into_raw` in `open` and is freed only here
            // (the caller's promise).
            drop(unsafe { Box::from_raw(iter) });
        }
    });
}
