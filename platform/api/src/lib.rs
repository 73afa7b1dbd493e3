//! # ppdb-platform: the seams between the engine and the operating system
//!
//! `ppdb-core` never names a file descriptor, a socket, a thread or a clock source. It asks for
//! them through the traits in this crate:
//!
//! - [`File`]: positional, `&self` I/O on one file (`len`, `read_at`, `write_at`, `set_len`,
//!   `sync_data`).
//! - [`FileSystem`]: a rooted namespace of files (`open`, `remove`, `rename`, `list`,
//!   `sync_dir`). Paths are relative, `/`-separated UTF-8 strings.
//! - [`Clock`]: a monotonic clock and the unix wall clock.
//! - [`Platform`]: the bundle the engine is opened with.
//!
//! Implementations live in their own crates: `ppdb-platform-std` (the operating system) and
//! `ppdb-platform-sim` (a deterministic simulator with fault injection). Both must pass the
//! conformance suite of the `testing` feature (`conformance`).
//!
//! ## Durability contract, in short
//!
//! The full text heads `src/fs.rs`; `docs/platform.md` explains the choices.
//!
//! - Writes are visible at once; they survive a crash only once [`File::sync_data`] returned
//!   `Ok`. Unsynced data comes back old, new or torn, per [`SECTOR_SIZE`] block; untouched
//!   blocks keep their synced bytes.
//! - Creating, removing and renaming files survive a crash only once [`FileSystem::sync_dir`]
//!   of the parent returned `Ok`; until then each change may be undone on its own. A rename is
//!   atomic: a durable target names the old or the new file, never nothing.
//! - A failed sync leaves everything since the last successful one in an unknown state.
//!
//! This crate is `#![no_std]` + `alloc`, so that the engine can run on a target with no operating
//! system, given an implementation of these traits.
#![no_std]

extern crate alloc;

mod error;
mod fs;
mod time;

#[cfg(feature = "testing")]
pub mod conformance;

pub use error::{Error, ErrorKind, Result};
pub use fs::{parent_dir, validate_path, File, FileSystem, OpenMode, SECTOR_SIZE};
pub use time::{Clock, Instant};

pub use core::time::Duration;

/// Everything the engine needs from its environment, bundled so that `Db::open` takes one value.
pub trait Platform: Send + Sync + 'static {
    /// The file system type.
    type Fs: FileSystem;
    /// The clock type.
    type Clock: Clock;
    /// The file system the engine stores its files in.
    fn fs(&self) -> &Self::Fs;
    /// The clock the engine reads time from (only the runtime reads it; the core takes `now`).
    fn clock(&self) -> &Self::Clock;
}
