//! The lock on a database directory: one process at a time.
//!
//! Whoever opens a data directory (the embedded shell, and the server once disk mode exists)
//! first takes an exclusive, non-blocking lock on the file `LOCK` in it. The operating system
//! drops the lock when the process ends, however it ends, so a crash leaves no stale lock
//! behind. On Unix this is `flock(2)`; elsewhere the file is created exclusively and removed on
//! drop (a crash there leaves it behind, and the error says which file to remove).

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// The lock file's name inside a data directory.
pub const LOCK_FILE: &str = "LOCK";

/// An exclusive lock on a data directory, held until dropped.
#[derive(Debug)]
pub struct DirLock {
    path: PathBuf,
    _file: File,
}

impl DirLock {
    /// Creates `dir` if needed and locks it; fails with [`io::ErrorKind::WouldBlock`] if another
    /// process holds the lock.
    pub fn acquire(dir: &Path) -> io::Result<DirLock> {
        fs::create_dir_all(dir)?;
        let path = dir.join(LOCK_FILE);
        let file = lock_file(&path)?;
        Ok(DirLock { path, _file: file })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(unix)]
fn lock_file(path: &Path) -> io::Result<File> {
    use std::os::fd::AsRawFd;

    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    #[expect(
        unsafe_code,
        reason = "flock(2) has no safe wrapper in std at our MSRV"
    )]
    // SAFETY: the descriptor belongs to `file`, which is open for the whole call.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::WouldBlock {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                format!("{} is held by another process", path.display()),
            ));
        }
        return Err(e);
    }
    Ok(file)
}

#[cfg(not(unix))]
fn lock_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            if e.kind() == io::ErrorKind::AlreadyExists {
                io::Error::new(
                    io::ErrorKind::WouldBlock,
                    format!(
                        "{} exists: another process holds the directory (remove the file if \
                         none does)",
                        path.display()
                    ),
                )
            } else {
                e
            }
        })
}

#[cfg(not(unix))]
impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_is_locked_once() {
        let dir = tempfile::tempdir().unwrap();
        let first = DirLock::acquire(dir.path()).unwrap();
        let second = DirLock::acquire(dir.path()).unwrap_err();
        assert_eq!(second.kind(), io::ErrorKind::WouldBlock);
        assert!(second.to_string().contains("LOCK"), "{second}");
        drop(first);
        let again = DirLock::acquire(dir.path()).unwrap();
        assert_eq!(again.path(), dir.path().join(LOCK_FILE));
    }

    #[test]
    fn a_missing_directory_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        let _lock = DirLock::acquire(&nested).unwrap();
        assert!(nested.join(LOCK_FILE).exists());
    }
}
