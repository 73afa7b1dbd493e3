//! Status codes, their mapping from engine errors, and the per-thread last error message.

use std::cell::RefCell;
use std::ffi::{c_char, CString};

use ppdb_core::Error;

/// The result of every fallible call: `PPDB_OK` (0), `PPDB_NOT_FOUND` or `PPDB_END` (outcomes,
/// not errors), or an error code. After an error, `ppdb_last_error()` says more.
pub type Status = i32;

/// Success.
pub const PPDB_OK: Status = 0;
/// The key has no live value (absent, deleted or expired). Not an error.
pub const PPDB_NOT_FOUND: Status = 1;
/// The iterator has no more entries. Not an error.
pub const PPDB_END: Status = 2;
/// The transaction lost against a concurrent commit and wrote nothing: begin it again.
pub const PPDB_CONFLICT: Status = 3;
/// A NULL handle or pointer, a length too large, an unknown isolation level, or an options
/// struct not initialised with `ppdb_options_init`.
pub const PPDB_INVALID_ARGUMENT: Status = 4;
/// A key is empty or longer than the configured maximum.
pub const PPDB_INVALID_KEY: Status = 5;
/// A value is longer than the configured maximum.
pub const PPDB_VALUE_TOO_LARGE: Status = 6;
/// A transaction holds more writes than the configured maximum.
pub const PPDB_TOO_MANY_OPERATIONS: Status = 7;
/// The memory limit is reached and eviction is off (or nothing could be evicted).
pub const PPDB_OUT_OF_MEMORY: Status = 8;
/// An option is out of range; the message names it.
pub const PPDB_INVALID_CONFIG: Status = 9;
/// The request needs a feature this build does not have yet (directory mode: `data_dir`).
pub const PPDB_NOT_SUPPORTED: Status = 10;
/// The operating system failed (file system, clock).
pub const PPDB_IO: Status = 11;
/// Stored data failed a check, or was written in a format this version cannot read.
pub const PPDB_CORRUPTION: Status = 12;
/// An earlier sync failed: the database refuses writes until it is reopened.
pub const PPDB_POISONED: Status = 13;
/// A bug in ppdb (a caught panic, or an error this version does not know); the message says
/// what happened.
pub const PPDB_INTERNAL: Status = 14;

/// A failed call: its status and the message for `ppdb_last_error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) status: Status,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(status: Status, message: impl Into<String>) -> Failure {
        Failure {
            status,
            message: message.into(),
        }
    }

    /// `PPDB_INVALID_ARGUMENT` with `message`.
    pub(crate) fn invalid(message: impl Into<String>) -> Failure {
        Failure::new(PPDB_INVALID_ARGUMENT, message)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        let status = match &e {
            Error::Conflict => PPDB_CONFLICT,
            Error::InvalidKey { .. } => PPDB_INVALID_KEY,
            Error::ValueTooLarge { .. } => PPDB_VALUE_TOO_LARGE,
            Error::BatchTooLarge { .. } => PPDB_TOO_MANY_OPERATIONS,
            Error::OutOfMemory { .. } => PPDB_OUT_OF_MEMORY,
            Error::InvalidConfig(_) => PPDB_INVALID_CONFIG,
            Error::Platform(_) => PPDB_IO,
            Error::Corruption { .. } | Error::UnsupportedFormat { .. } => PPDB_CORRUPTION,
            Error::Poisoned => PPDB_POISONED,
            _ => PPDB_INTERNAL,
        };
        Failure::new(status, e.to_string())
    }
}

thread_local! {
    /// The message of the last failed call on this thread.
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

/// Records `message` as this thread's last error (NUL bytes become spaces).
pub(crate) fn set_last_error(message: &str) {
    let clean: Vec<u8> = message
        .bytes()
        .map(|b| if b == 0 { b' ' } else { b })
        .collect();
    let text = CString::new(clean).unwrap_or_default();
    // At thread exit the slot may be gone already; the message is then dropped.
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = Some(text);
        }
    });
}

/// A static NUL-terminated string.
fn static_str(text: &'static [u8]) -> *const c_char {
    debug_assert_eq!(text.last(), Some(&0));
    text.as_ptr().cast()
}

/// The message of the last call on this thread that returned an error (not `PPDB_NOT_FOUND` or
/// `PPDB_END`), or `""` if there was none. The string belongs to the library and stays valid
/// until the next failing call on the same thread; copy it to keep it. Never NULL.
#[no_mangle]
pub extern "C" fn ppdb_last_error() -> *const c_char {
    let ptr = std::panic::catch_unwind(|| {
        LAST_ERROR
            .try_with(|slot| {
                slot.try_borrow()
                    .ok()
                    .and_then(|slot| slot.as_ref().map(|text| text.as_ptr()))
            })
            .ok()
            .flatten()
    });
    match ptr {
        Ok(Some(ptr)) => ptr,
        _ => static_str(b"\0"),
    }
}

/// The name of a status code (`"PPDB_CONFLICT"`), or `"PPDB_UNKNOWN"`. A static string.
#[no_mangle]
pub extern "C" fn ppdb_status_name(status: Status) -> *const c_char {
    static_str(match status {
        PPDB_OK => b"PPDB_OK\0",
        PPDB_NOT_FOUND => b"PPDB_NOT_FOUND\0",
        PPDB_END => b"PPDB_END\0",
        PPDB_CONFLICT => b"PPDB_CONFLICT\0",
        PPDB_INVALID_ARGUMENT => b"PPDB_INVALID_ARGUMENT\0",
        PPDB_INVALID_KEY => b"PPDB_INVALID_KEY\0",
        PPDB_VALUE_TOO_LARGE => b"PPDB_VALUE_TOO_LARGE\0",
        PPDB_TOO_MANY_OPERATIONS => b"PPDB_TOO_MANY_OPERATIONS\0",
        PPDB_OUT_OF_MEMORY => b"PPDB_OUT_OF_MEMORY\0",
        PPDB_INVALID_CONFIG => b"PPDB_INVALID_CONFIG\0",
        PPDB_NOT_SUPPORTED => b"PPDB_NOT_SUPPORTED\0",
        PPDB_IO => b"PPDB_IO\0",
        PPDB_CORRUPTION => b"PPDB_CORRUPTION\0",
        PPDB_POISONED => b"PPDB_POISONED\0",
        PPDB_INTERNAL => b"PPDB_INTERNAL\0",
        _ => b"PPDB_UNKNOWN\0",
    })
}

/// The library's version, `"MAJOR.MINOR.PATCH"`. A static string.
#[no_mangle]
pub extern "C" fn ppdb_version() -> *const c_char {
    static_str(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes())
}
