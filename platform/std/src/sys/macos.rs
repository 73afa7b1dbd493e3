//! macOS: `fsync` only hands the data to the drive, whose cache may still lose it on power
//! loss; `fcntl(F_FULLFSYNC)` also flushes the drive's cache. It is the only unsafe code of
//! the crate: std has no wrapper for it.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

/// `fcntl(fd, F_FULLFSYNC)`, retried on `EINTR`. File systems that do not support it (some
/// network and FAT volumes answer `ENOTSUP`, `EINVAL` or `ENOTTY`) fall back to `fsync`, as
/// SQLite does.
#[expect(
    unsafe_code,
    reason = "fcntl(F_FULLFSYNC) and fsync have no safe wrapper in std"
)]
pub(crate) fn full_fsync(file: &File) -> io::Result<()> {
    let fd = file.as_raw_fd();
    loop {
        // SAFETY: `fd` is an open descriptor owned by `file`, which outlives the call;
        // F_FULLFSYNC takes no third argument and touches no memory of ours.
        if unsafe { libc::fcntl(fd, libc::F_FULLFSYNC) } != -1 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => {}
            Some(libc::ENOTSUP | libc::EINVAL | libc::ENOTTY) => break,
            _ => return Err(e),
        }
    }
    loop {
        // SAFETY: as above; fsync only takes the descriptor.
        if unsafe { libc::fsync(fd) } != -1 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}
