//! # ppdb-platform-std: the platform traits on the Rust standard library
//!
//! [`StdFs`] implements `FileSystem` on a root directory of the host's file system,
//! [`StdClock`] implements `Clock` on the host's clocks, and [`StdPlatform`] bundles the two for
//! the engine. Only the `ppdb` binary (and tests) pick this crate; the engine sees the traits.
//!
//! The portable part (path mapping, open modes, error mapping) lives in `fs` and `error`; what
//! differs per operating system lives in `sys`, one module per family:
//!
//! - unix: positional I/O with `pread`/`pwrite`, `fdatasync`, and a directory `fsync`;
//! - macOS: `fcntl(F_FULLFSYNC)` instead, because a plain `fsync` there does not flush the
//!   drive's write cache;
//! - Windows: `seek_read`/`seek_write` in loops, `FlushFileBuffers`, and no directory sync
//!   (NTFS journals its metadata; Windows has no call to flush a directory).
//!
//! The durability contract this crate implements is the one of `ppdb-platform`; where the host
//! falls short of it (a file system mounted without barriers, a drive that lies about its
//! cache), no code here can help. See `docs/platform.md`.

mod clock;
mod error;
mod fs;
mod sys;

pub use clock::StdClock;
pub use error::io_error;
pub use fs::{StdFile, StdFs};

use std::path::PathBuf;

use ppdb_platform::Platform;

/// The operating system as a [`Platform`]: files under one root directory and the host's
/// clocks.
#[derive(Debug, Clone)]
pub struct StdPlatform {
    /// The file system, rooted at the database directory.
    pub fs: StdFs,
    /// The host's clocks.
    pub clock: StdClock,
}

impl StdPlatform {
    /// A platform whose file system is rooted at `root` (which need not exist yet:
    /// `create_dir_all("")` creates it).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        StdPlatform {
            fs: StdFs::new(root),
            clock: StdClock::new(),
        }
    }
}

impl Platform for StdPlatform {
    type Fs = StdFs;
    type Clock = StdClock;

    fn fs(&self) -> &StdFs {
        &self.fs
    }

    fn clock(&self) -> &StdClock {
        &self.clock
    }
}
