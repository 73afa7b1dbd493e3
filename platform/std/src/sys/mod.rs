//! What differs per operating system: positional I/O, data and directory sync, OS error codes.
//!
//! Each family module exports the same `pub(crate)` functions; this module picks one.

#[cfg(not(any(unix, windows)))]
compile_error!("ppdb-platform-std supports unix-like systems and Windows");

#[cfg(target_os = "macos")]
mod macos;
#[cfg(unix)]
mod unix;
#[cfg(windows)]
mod windows;

#[cfg(unix)]
pub(crate) use unix::{kind_from_os_code, read_at, sync_data, sync_dir, write_all_at};
#[cfg(windows)]
pub(crate) use windows::{kind_from_os_code, read_at, sync_data, sync_dir, write_all_at};
