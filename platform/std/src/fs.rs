//! [`StdFs`] and [`StdFile`]: the `FileSystem` and `File` traits on `std::fs`, rooted at one
//! directory, with positional I/O.

use std::fs;
use std::path::{Path, PathBuf};

use ppdb_platform::{validate_path, Error, ErrorKind, File, FileSystem, OpenMode, Result};

use crate::error::io_error;
use crate::sys;

/// The host's file system under one root directory. Every path is validated with
/// [`validate_path`] and joined to the root, so nothing outside the root can be named.
#[derive(Debug, Clone)]
pub struct StdFs {
    root: PathBuf,
}

impl StdFs {
    /// A file system rooted at `root`. The root need not exist yet: `create_dir_all("")`
    /// creates it.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        StdFs { root: root.into() }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The host path of the relative `path`, after validation.
    fn host_path(&self, path: &str) -> Result<PathBuf> {
        validate_path(path)?;
        let mut host = self.root.clone();
        if !path.is_empty() {
            host.extend(path.split('/'));
        }
        Ok(host)
    }
}

impl FileSystem for StdFs {
    type File = StdFile;

    fn open(&self, path: &str, mode: OpenMode) -> Result<StdFile> {
        let host = self.host_path(path)?;
        let mut options = fs::OpenOptions::new();
        options.read(true).write(true);
        match mode {
            OpenMode::Existing => {}
            OpenMode::Create => {
                options.create(true);
            }
            OpenMode::CreateNew => {
                options.create_new(true);
            }
            OpenMode::Truncate => {
                options.create(true).truncate(true);
            }
        }
        let file = options.open(host).map_err(|e| io_error(&e, "open"))?;
        Ok(StdFile { file })
    }

    fn remove(&self, path: &str) -> Result<()> {
        let host = self.host_path(path)?;
        fs::remove_file(host).map_err(|e| io_error(&e, "remove"))
    }

    fn rename(&self, from: &str, to: &str) -> Result<()> {
        let (from, to) = (self.host_path(from)?, self.host_path(to)?);
        fs::rename(from, to).map_err(|e| io_error(&e, "rename"))
    }

    fn list(&self, dir: &str) -> Result<Vec<String>> {
        let host = self.host_path(dir)?;
        let mut names = Vec::new();
        for entry in fs::read_dir(host).map_err(|e| io_error(&e, "list"))? {
            let entry = entry.map_err(|e| io_error(&e, "list"))?;
            let name = entry.file_name().into_string().map_err(|_| {
                Error::new(ErrorKind::InvalidInput, "list: a file name is not UTF-8")
            })?;
            names.push(name);
        }
        names.sort_unstable();
        Ok(names)
    }

    fn create_dir_all(&self, dir: &str) -> Result<()> {
        let host = self.host_path(dir)?;
        fs::create_dir_all(host).map_err(|e| io_error(&e, "create_dir_all"))
    }

    fn exists(&self, path: &str) -> Result<bool> {
        let host = self.host_path(path)?;
        host.try_exists().map_err(|e| io_error(&e, "exists"))
    }

    fn sync_dir(&self, dir: &str) -> Result<()> {
        let host = self.host_path(dir)?;
        let metadata = fs::metadata(&host).map_err(|e| io_error(&e, "sync_dir"))?;
        if !metadata.is_dir() {
            return Err(Error::new(ErrorKind::Other, "sync_dir: not a directory"));
        }
        sys::sync_dir(&host).map_err(|e| io_error(&e, "sync_dir"))
    }
}

/// An open file of a [`StdFs`], read and written with positional I/O (the file cursor is never
/// relied on, so one handle serves many threads).
#[derive(Debug)]
pub struct StdFile {
    file: fs::File,
}

impl File for StdFile {
    fn len(&self) -> Result<u64> {
        let metadata = self.file.metadata().map_err(|e| io_error(&e, "len"))?;
        Ok(metadata.len())
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        sys::read_at(&self.file, buf, offset).map_err(|e| io_error(&e, "read_at"))
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        sys::write_all_at(&self.file, buf, offset).map_err(|e| io_error(&e, "write_at"))
    }

    fn set_len(&self, len: u64) -> Result<()> {
        self.file.set_len(len).map_err(|e| io_error(&e, "set_len"))
    }

    fn sync_data(&self) -> Result<()> {
        sys::sync_data(&self.file).map_err(|e| io_error(&e, "sync_data"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_under_the_root() {
        let fs = StdFs::new("/base/db");
        assert_eq!(fs.host_path("").unwrap(), Path::new("/base/db"));
        assert_eq!(
            fs.host_path("a/b.log").unwrap(),
            Path::new("/base/db/a/b.log")
        );
        for bad in ["/etc/passwd", "../x", "a/../../x", "C:x"] {
            assert_eq!(
                fs.host_path(bad).unwrap_err().kind(),
                ErrorKind::InvalidInput,
                "{bad}"
            );
        }
    }

    #[test]
    fn root_is_created_by_create_dir_all() {
        let tmp = tempfile::tempdir().unwrap();
        let fs = StdFs::new(tmp.path().join("not/yet"));
        assert!(!fs.exists("").unwrap());
        fs.create_dir_all("").unwrap();
        assert!(fs.exists("").unwrap());
        assert!(fs.list("").unwrap().is_empty());
        assert_eq!(fs.root(), tmp.path().join("not/yet"));
    }

    #[test]
    fn errors_carry_context_and_os_code() {
        let tmp = tempfile::tempdir().unwrap();
        let fs = StdFs::new(tmp.path());
        let e = fs.open("missing", OpenMode::Existing).unwrap_err();
        assert_eq!((e.kind(), e.context()), (ErrorKind::NotFound, "open"));
        assert!(e.os_code().is_some(), "{e}");
        fs.open("file", OpenMode::CreateNew).unwrap();
        let e = fs.sync_dir("file").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Other);
    }
}
