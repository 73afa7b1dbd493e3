//! Unix: `pread`/`pwrite` through `std::os::unix::fs::FileExt`, `fdatasync` (or macOS's full
//! sync), and `fsync` on an open directory to make its entries durable.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use ppdb_platform::ErrorKind;

/// One `pread` at `offset`, retried if a signal interrupts it; may return fewer bytes than
/// asked, 0 at the end of the file.
pub(crate) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    loop {
        match file.read_at(buf, offset) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            result => return result,
        }
    }
}

/// `pwrite` until all of `buf` is written (retrying interruptions); a gap is a zero-filled hole.
pub(crate) fn write_all_at(file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    file.write_all_at(buf, offset)
}

/// Makes the file's data and length durable: `fdatasync` (macOS: `F_FULLFSYNC`).
#[cfg(not(target_os = "macos"))]
pub(crate) fn sync_data(file: &File) -> io::Result<()> {
    file.sync_data()
}

#[cfg(target_os = "macos")]
pub(crate) use super::macos::full_fsync as sync_data;

/// Makes the entries of the directory at `path` durable: `fsync` on the directory opened
/// read-only (macOS: `F_FULLFSYNC`).
pub(crate) fn sync_dir(path: &Path) -> io::Result<()> {
    let dir = File::open(path)?;
    #[cfg(target_os = "macos")]
    return super::macos::full_fsync(&dir);
    #[cfg(not(target_os = "macos"))]
    return dir.sync_all();
}

/// The kind of the errno values `io::ErrorKind` does not map (or maps to a kind the engine does
/// not branch on).
pub(crate) fn kind_from_os_code(code: i32) -> Option<ErrorKind> {
    match code {
        libc::ENOSPC | libc::EDQUOT => Some(ErrorKind::NoSpace),
        libc::EROFS => Some(ErrorKind::PermissionDenied),
        libc::ENAMETOOLONG => Some(ErrorKind::InvalidInput),
        _ => None,
    }
}
