//! The file and file-system traits (shaped like redb's storage backend: `&self`, positional).
//!
//! Durability contract, which every implementation must honour and the conformance suite checks:
//!
//! - Bytes written with [`File::write_at`] are visible to later reads at once, but survive a
//!   crash only after [`File::sync_data`] returned `Ok` for that file.
//! - A file created, removed or renamed is durable only after [`FileSystem::sync_dir`] on its
//!   parent directory returned `Ok`. Until then a crash may undo the change.
//! - A failed `sync_data` leaves the file in an unknown state: the caller must treat the data
//!   written since the last successful sync as lost (the engine poisons itself).

use alloc::string::String;
use alloc::vec::Vec;

use crate::{Error, ErrorKind, Result};

/// How [`FileSystem::open`] treats an existing or missing file. Files are always opened for
/// reading and writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpenMode {
    /// Open an existing file; `NotFound` if it does not exist.
    Existing,
    /// Open the file, creating it empty if it does not exist.
    Create,
    /// Create a new file; `AlreadyExists` if it exists (exclusive create).
    CreateNew,
    /// Create the file, or open it and truncate it to zero length.
    Truncate,
}

/// One open file, accessed with positional I/O through a shared reference.
pub trait File: Send + Sync {
    /// The current length of the file in bytes.
    fn len(&self) -> Result<u64>;

    /// Whether the file is empty.
    fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Reads up to `buf.len()` bytes at `offset`. Returns how many bytes were read, which may be
    /// fewer than asked (a short read); 0 means `offset` is at or past the end of the file.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize>;

    /// Writes all of `buf` at `offset`, extending the file if needed (a gap is zero-filled).
    fn write_at(&self, buf: &[u8], offset: u64) -> Result<()>;

    /// Truncates or extends the file to `len` bytes; an extension reads back as zeros.
    fn set_len(&self, len: u64) -> Result<()>;

    /// Makes the file's data (and the metadata needed to read it, such as its length) durable.
    fn sync_data(&self) -> Result<()>;

    /// Fills `buf` from `offset`, looping over short reads; `UnexpectedEof` if the file ends
    /// first.
    fn read_exact_at(&self, mut buf: &mut [u8], mut offset: u64) -> Result<()> {
        while !buf.is_empty() {
            match self.read_at(buf, offset) {
                Ok(0) => return Err(Error::new(ErrorKind::UnexpectedEof, "read_exact_at")),
                Ok(n) => {
                    buf = &mut buf[n..];
                    offset += n as u64;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// A rooted namespace of files. Paths are relative, `/`-separated UTF-8 strings; `""` is the
/// root directory. Implementations reject absolute paths and `..` with `InvalidInput`.
pub trait FileSystem: Send + Sync {
    /// The file type this file system opens.
    type File: File;

    /// Opens `path` for reading and writing according to `mode`.
    fn open(&self, path: &str, mode: OpenMode) -> Result<Self::File>;

    /// Removes the file at `path`.
    fn remove(&self, path: &str) -> Result<()>;

    /// Renames `from` to `to`, atomically replacing `to` if it exists.
    fn rename(&self, from: &str, to: &str) -> Result<()>;

    /// The names (not paths) of the entries of directory `dir`, sorted.
    fn list(&self, dir: &str) -> Result<Vec<String>>;

    /// Creates directory `dir` and its parents; no error if it exists.
    fn create_dir_all(&self, dir: &str) -> Result<()>;

    /// Whether a file or directory exists at `path`.
    fn exists(&self, path: &str) -> Result<bool>;

    /// Makes the creations, removals and renames of entries in `dir` durable.
    fn sync_dir(&self, dir: &str) -> Result<()>;
}

/// Checks a relative path: not absolute, no `..`, no empty components, no backslashes.
pub fn validate_path(path: &str) -> Result<()> {
    if path.is_empty() {
        return Ok(());
    }
    let bad = path.starts_with('/')
        || path.contains('\\')
        || path.contains('\0')
        || path.split('/').any(|c| c.is_empty() || c == "." || c == "..");
    if bad {
        Err(Error::new(ErrorKind::InvalidInput, "path must be relative, without '.' or '..'"))
    } else {
        Ok(())
    }
}

/// The parent directory of `path` (`""` for a top-level entry).
pub fn parent_dir(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[..i],
        None => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_validation() {
        assert!(validate_path("a/b.log").is_ok());
        assert!(validate_path("").is_ok());
        for bad in ["/a", "a/../b", "a//b", "./a", "a\\b", "a/"] {
            assert_eq!(validate_path(bad).unwrap_err().kind(), ErrorKind::InvalidInput, "{bad}");
        }
    }

    #[test]
    fn parents() {
        assert_eq!(parent_dir("a/b/c"), "a/b");
        assert_eq!(parent_dir("c"), "");
    }
}
