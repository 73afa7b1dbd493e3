//! The boundary: every entry point runs its body through [`guard`] (no panic escapes, failures
//! become a status and a last-error message), and turns raw pointers into references only
//! through the checked helpers here (NULL is an error, never a crash).

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::status::{set_last_error, Failure, Status, PPDB_INTERNAL, PPDB_OK};

/// Runs `body`, catching panics. A failure or a panic records the last error and returns its
/// status; success returns `PPDB_OK` or the body's non-error outcome (`PPDB_NOT_FOUND`, ...).
pub(crate) fn guard(body: impl FnOnce() -> Result<Status, Failure>) -> Status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(status)) => status,
        Ok(Err(failure)) => {
            set_last_error(&failure.message);
            failure.status
        }
        Err(payload) => {
            set_last_error(&format!(
                "internal error (a bug in ppdb): panic: {}",
                panic_message(payload.as_ref())
            ));
            PPDB_INTERNAL
        }
    }
}

/// Runs `body` for a function that returns nothing (a release); a panic is swallowed after
/// recording the last error.
pub(crate) fn guard_void(body: impl FnOnce()) {
    let _ = guard(|| {
        body();
        Ok(PPDB_OK)
    });
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&'static str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "(no message)"
    }
}

/// The `len` bytes at `ptr`, or an error naming `what` if `ptr` is NULL while `len` is not 0
/// (a zero length needs no pointer) or if `len` is larger than any object can be.
///
/// # Safety
///
/// If `ptr` is not NULL and `len` is not 0, `ptr` must point to `len` readable bytes that stay
/// valid and unchanged for `'a`.
pub(crate) unsafe fn bytes<'a>(
    ptr: *const u8,
    len: usize,
    what: &str,
) -> Result<&'a [u8], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Failure::invalid(format!(
            "{what} is NULL but its length is {len}"
        )));
    }
    if len > isize::MAX as usize {
        return Err(Failure::invalid(format!(
            "{what}: length {len} is too large"
        )));
    }
    // SAFETY: `ptr` is not NULL, `u8` needs no alignment, `len` fits an object, and the caller
    // guarantees `len` readable bytes that outlive `'a`.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// An optional byte string: `None` if `ptr` is NULL (whatever `len` says).
///
/// # Safety
///
/// As for [`bytes`].
pub(crate) unsafe fn optional_bytes<'a>(
    ptr: *const u8,
    len: usize,
    what: &str,
) -> Result<Option<&'a [u8]>, Failure> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded from the caller.
    unsafe { bytes(ptr, len, what) }.map(Some)
}

/// The object behind a handle, or an error naming `what` if it is NULL.
///
/// # Safety
///
/// If not NULL, `ptr` must come from the matching constructor of this library, not yet
/// released, and not used mutably elsewhere during `'a`.
pub(crate) unsafe fn handle<'a, T>(ptr: *const T, what: &str) -> Result<&'a T, Failure> {
    // SAFETY: forwarded from the caller; `as_ref` checks for NULL.
    unsafe { ptr.as_ref() }.ok_or_else(|| Failure::invalid(format!("{what} is NULL")))
}

/// The object behind a handle for exclusive use, or an error naming `what` if it is NULL.
///
/// # Safety
///
/// If not NULL, `ptr` must come from the matching constructor of this library, not yet
/// released, and used by no other thread or call during `'a`.
pub(crate) unsafe fn handle_mut<'a, T>(ptr: *mut T, what: &str) -> Result<&'a mut T, Failure> {
    // SAFETY: forwarded from the caller; `as_mut` checks for NULL.
    unsafe { ptr.as_mut() }.ok_or_else(|| Failure::invalid(format!("{what} is NULL")))
}

/// An out-parameter: a checked, non-NULL place that is only ever written (never read, so it
/// may hold uninitialised memory when the call begins).
#[derive(Debug)]
pub(crate) struct Out<T> {
    ptr: std::ptr::NonNull<T>,
}

impl<T: Copy> Out<T> {
    /// Writes `value` to the place (the old contents are neither read nor dropped).
    pub(crate) fn write(&self, value: T) {
        // SAFETY: `out` checked the pointer is not NULL and its caller guaranteed it valid for
        // writes of a `T`, aligned and exclusive for the call; `T: Copy` has no drop glue, so
        // overwriting without dropping loses nothing.
        unsafe { self.ptr.as_ptr().write(value) }
    }
}

/// The out-parameter at `ptr`, or an error naming `what` if it is NULL.
///
/// # Safety
///
/// If not NULL, `ptr` must be valid for writes of a `T`, aligned for it, and accessed by
/// nothing else until the returned [`Out`] is dropped (within the current call).
pub(crate) unsafe fn out<T>(ptr: *mut T, what: &str) -> Result<Out<T>, Failure> {
    match std::ptr::NonNull::new(ptr) {
        Some(ptr) => Ok(Out { ptr }),
        None => Err(Failure::invalid(format!("{what} is NULL"))),
    }
}

/// Like [`out`] for an optional out-parameter: `None` if `ptr` is NULL.
///
/// # Safety
///
/// As for [`out`].
pub(crate) unsafe fn optional_out<T>(ptr: *mut T) -> Option<Out<T>> {
    std::ptr::NonNull::new(ptr).map(|ptr| Out { ptr })
}
