//! The file and file-system traits (shaped like redb's storage backend: `&self`, positional).
//!
//! # Durability contract
//!
//! Every implementation honours this contract; the engine relies on nothing more. The
//! conformance suite (feature `testing`) checks it, crash rules included when the implementation
//! can simulate a crash. A *crash* is a power loss or kernel panic followed by a restart; a
//! process that merely exits loses nothing the operating system has accepted.
//!
//! **Visibility.** A change is visible to every later operation, through every handle, as soon
//! as the call that made it returns: [`File::write_at`], [`File::set_len`],
//! [`FileSystem::open`] (creating or truncating), [`FileSystem::remove`],
//! [`FileSystem::rename`], [`FileSystem::create_dir_all`].
//!
//! **File data.** [`File::sync_data`] returning `Ok` makes durable the contents and the length
//! the file had when the call began. After a crash, a file whose entry survived reads back as
//! follows, where *touched* means written by `write_at` or inside a range cut or added by
//! `set_len` since the last successful `sync_data` of that file:
//!
//! - its length is the length at the last successful sync or a length the file had since;
//! - a byte in a sector ([`SECTOR_SIZE`]-aligned block) that holds no touched byte reads back
//!   exactly as it was synced;
//! - any other byte reads back as its synced value (zero past the synced length) or as a value
//!   written to it since. Nothing is promised about which: unsynced sectors survive or vanish
//!   independently of one another and of the order the writes were issued in, and a sector may
//!   even be torn. Readers must detect such damage with checksums.
//!
//! **Entries.** Creating a file (by [`FileSystem::open`]), removing it and renaming it change
//! entries of directories; [`FileSystem::create_dir_all`] adds entries to the parents of the
//! directories it creates. Such a change is durable once [`FileSystem::sync_dir`] returned `Ok`
//! for the directory holding the entry (both directories for a rename between two
//! directories; each parent for a new directory). Until then a crash may undo it, and each
//! unsynced change is kept or undone independently of the others. A rename is atomic all the
//! same: after a crash, a target that existed durably names either its old file or the renamed
//! one, never nothing and never a mix, and the source name is gone if the target names the
//! renamed file. [`FileSystem::rename`] is therefore the way to replace a file atomically
//! (write a temporary file, `sync_data`, `rename`, `sync_dir`).
//!
//! **Data and entries are independent.** `sync_data` does not make the file's entry durable,
//! and `sync_dir` does not make its data durable: a file created, written and synced but whose
//! directory was not synced may vanish; a file whose entry was synced but whose data was not
//! may come back empty or short.
//!
//! **Failed syncs.** A failed `sync_data` or `sync_dir` leaves everything it was to make durable
//! in an unknown state, even if a later sync succeeds (an operating system may drop the dirty
//! pages of a failed write-back and report the next sync as clean). The caller must treat the
//! changes since its last successful sync as lost: the engine poisons itself.
//!
//! **Handles across a crash.** Handles opened before a crash must not be used after it; an
//! implementation that simulates crashes makes them return errors.
//!
//! **Assumptions.** An implementation on real hardware keeps this contract only as far as the
//! host does: the device must honour cache flushes and write each physical sector whole (old or
//! new). An implementation states where it falls short (`ppdb-platform-std` on Windows has no
//! directory sync). `docs/platform.md` discusses the choices.

use alloc::string::String;
use alloc::vec::Vec;

use crate::{Error, ErrorKind, Result};

/// The unit of the crash rules: a crash keeps or loses unsynced data in aligned blocks of this
/// many bytes (and may tear a block). It is the smallest sector of common disks; the rules only
/// need a lower bound.
pub const SECTOR_SIZE: u64 = 512;

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

    /// Makes the file's data, and the metadata needed to read it such as its length, durable as
    /// they were when the call began. Does not make the file's directory entry durable (see
    /// [`FileSystem::sync_dir`]). An error leaves the data since the last successful sync in an
    /// unknown state, even after a later successful sync.
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
/// root directory. Implementations reject every path that [`validate_path`] rejects (absolute
/// paths, `..`, ...) with `InvalidInput`, before touching anything.
pub trait FileSystem: Send + Sync {
    /// The file type this file system opens.
    type File: File;

    /// Opens the file at `path` for reading and writing according to `mode`. The parent
    /// directory must exist (`NotFound` otherwise).
    fn open(&self, path: &str, mode: OpenMode) -> Result<Self::File>;

    /// Removes the file at `path` (`NotFound` if there is none). Directories are not removed.
    /// Handles already open on the file stay usable until dropped.
    fn remove(&self, path: &str) -> Result<()>;

    /// Renames the file `from` to `to`, atomically replacing the file `to` if it exists:
    /// every observer, after a crash too, sees `to` as either the old or the renamed file.
    /// `NotFound` if `from` does not exist or the parent of `to` does not exist.
    fn rename(&self, from: &str, to: &str) -> Result<()>;

    /// The names (not paths) of the direct entries (files and directories) of directory `dir`,
    /// sorted bytewise; `NotFound` if `dir` does not exist.
    fn list(&self, dir: &str) -> Result<Vec<String>>;

    /// Creates directory `dir` and its parents; no error if it exists.
    fn create_dir_all(&self, dir: &str) -> Result<()>;

    /// Whether a file or directory exists at `path`.
    fn exists(&self, path: &str) -> Result<bool>;

    /// Makes the creations, removals and renames of entries in `dir` that happened before the
    /// call durable (not the data of the files: see [`File::sync_data`]).
    fn sync_dir(&self, dir: &str) -> Result<()>;
}

/// Checks a relative path: not absolute, no `.` or `..` component, no empty component (so no
/// leading, trailing or doubled `/`), no backslash, colon or NUL (which some systems read as a
/// drive, a stream or a terminator). `""` (the root) is valid.
pub fn validate_path(path: &str) -> Result<()> {
    if path.is_empty() {
        return Ok(());
    }
    let bad = path.starts_with('/')
        || path.contains(['\\', ':', '\0'])
        || path
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..");
    if bad {
        Err(Error::new(
            ErrorKind::InvalidInput,
            "invalid path (absolute, '..', empty or bad char)",
        ))
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
        for bad in [
            "/a", "a/../b", "a//b", "./a", "a\\b", "a/", "..", "C:x", "a\0b",
        ] {
            assert_eq!(
                validate_path(bad).unwrap_err().kind(),
                ErrorKind::InvalidInput,
                "{bad}"
            );
        }
    }

    #[test]
    fn parents() {
        assert_eq!(parent_dir("a/b/c"), "a/b");
        assert_eq!(parent_dir("c"), "");
    }
}
