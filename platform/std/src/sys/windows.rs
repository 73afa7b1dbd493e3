//! Windows: positional I/O with `seek_read`/`seek_write` (which also move the cursor, which
//! nothing uses), `FlushFileBuffers` for data, and no directory sync.

use std::fs::File;
use std::io;
use std::os::windows::fs::FileExt;
use std::path::Path;

use ppdb_platform::ErrorKind;

/// `ERROR_HANDLE_DISK_FULL`.
const ERROR_HANDLE_DISK_FULL: i32 = 39;
/// `ERROR_DISK_FULL`.
const ERROR_DISK_FULL: i32 = 112;
/// `ERROR_INVALID_NAME`.
const ERROR_INVALID_NAME: i32 = 123;
/// `ERROR_FILENAME_EXCED_RANGE`.
const ERROR_FILENAME_EXCED_RANGE: i32 = 206;

/// One positioned read, retried if interrupted; may return fewer bytes than asked, 0 at the end
/// of the file.
pub(crate) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    loop {
        match file.seek_read(buf, offset) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            result => return result,
        }
    }
}

/// Positioned writes until all of `buf` is written; a gap reads back as zeros.
pub(crate) fn write_all_at(file: &File, mut buf: &[u8], mut offset: u64) -> io::Result<()> {
    while !buf.is_empty() {
        match file.seek_write(buf, offset) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
            Ok(n) => {
                buf = &buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `FlushFileBuffers`: data, length and the file's own metadata. std's `File::sync_data` is
/// exactly that call on Windows (Windows has no data-only flush, so `sync_data` and `sync_all`
/// are the same there).
pub(crate) fn sync_data(file: &File) -> io::Result<()> {
    file.sync_data()
}

/// A no-op: NTFS journals directory changes itself and Windows offers no call to flush a
/// directory on demand, so a created, removed or renamed entry may be lost by a power cut
/// within the journal's commit interval. The caller already checked that `path` is a directory.
pub(crate) fn sync_dir(_path: &Path) -> io::Result<()> {
    Ok(())
}

/// The kind of the Windows error codes `io::ErrorKind` does not map.
pub(crate) fn kind_from_os_code(code: i32) -> Option<ErrorKind> {
    match code {
        ERROR_DISK_FULL | ERROR_HANDLE_DISK_FULL => Some(ErrorKind::NoSpace),
        ERROR_INVALID_NAME | ERROR_FILENAME_EXCED_RANGE => Some(ErrorKind::InvalidInput),
        _ => None,
    }
}
