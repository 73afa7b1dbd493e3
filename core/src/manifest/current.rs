//! File names of a database directory and the `CURRENT` pointer, replaced atomically.
//!
//! ```text
//!   CURRENT            "MANIFEST-000005\n": the manifest in force
//!   CURRENT.tmp        the next CURRENT while it is written
//!   MANIFEST-000005    a manifest (log of version edits)
//!   000007.wal         a WAL segment
//!   000009.sst         a table
//!   000009.tmp         a file being written, renamed once synced
//! ```
//!
//! Every number comes from one counter (`next_file_number` in the manifest), so names never
//! collide across kinds.

use alloc::format;
use alloc::string::String;
use alloc::vec;

use ppdb_platform::{ErrorKind, File, FileSystem, OpenMode};

use crate::{Error, Result};

/// The name of the pointer file.
pub const CURRENT: &str = "CURRENT";
/// The name the pointer is written under before it is renamed to [`CURRENT`].
pub const CURRENT_TEMP: &str = "CURRENT.tmp";

/// The longest `CURRENT` a reader accepts.
const CURRENT_BYTES_MAX: u64 = 64;

/// What a file name in a database directory names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `CURRENT`.
    Current,
    /// `CURRENT.tmp`.
    CurrentTemp,
    /// `MANIFEST-<n>`.
    Manifest(u64),
    /// `<n>.wal`.
    Wal(u64),
    /// `<n>.sst`.
    Table(u64),
    /// `<n>.tmp`.
    Temp(u64),
}

/// The file name of manifest `number`.
pub fn manifest_file_name(number: u64) -> String {
    format!("MANIFEST-{number:06}")
}

/// The file name of WAL segment `number`.
pub fn wal_file_name(number: u64) -> String {
    format!("{number:06}.wal")
}

/// The file name of table `number`.
pub fn table_file_name(number: u64) -> String {
    format!("{number:06}.sst")
}

/// The temporary name of file `number` while it is written.
pub fn temp_file_name(number: u64) -> String {
    format!("{number:06}.tmp")
}

fn parse_number(digits: &str) -> Option<u64> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// What `name` names; `None` for names the database does not use.
pub fn parse_file_name(name: &str) -> Option<FileKind> {
    match name {
        CURRENT => return Some(FileKind::Current),
        CURRENT_TEMP => return Some(FileKind::CurrentTemp),
        _ => {}
    }
    if let Some(n) = name.strip_prefix("MANIFEST-") {
        return parse_number(n).map(FileKind::Manifest);
    }
    let (stem, ext) = name.rsplit_once('.')?;
    let n = parse_number(stem)?;
    match ext {
        "wal" => Some(FileKind::Wal(n)),
        "sst" => Some(FileKind::Table(n)),
        "tmp" => Some(FileKind::Temp(n)),
        _ => None,
    }
}

/// `dir/name` (`name` alone in the root directory).
pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        String::from(name)
    } else {
        format!("{dir}/{name}")
    }
}

/// Points `CURRENT` in `dir` at manifest `number`, atomically: writes `CURRENT.tmp`, syncs
/// it, renames it over `CURRENT` and syncs the directory. Once this returns `Ok` the new
/// pointer survives a crash; if it fails, a crash leaves the old pointer or the new one,
/// never a mix. The manifest must be synced (data and directory entry) before.
pub fn write_current<FS: FileSystem>(fs: &FS, dir: &str, number: u64) -> Result<()> {
    let temp = join(dir, CURRENT_TEMP);
    let contents = format!("{}\n", manifest_file_name(number));
    {
        let file = fs.open(&temp, OpenMode::Truncate)?;
        file.write_at(contents.as_bytes(), 0)?;
        file.sync_data()?;
    }
    fs.rename(&temp, &join(dir, CURRENT))?;
    fs.sync_dir(dir)?;
    Ok(())
}

/// The manifest number `CURRENT` in `dir` points at; `None` if there is no `CURRENT` (a new
/// database).
pub fn read_current<FS: FileSystem>(fs: &FS, dir: &str) -> Result<Option<u64>> {
    let file = match fs.open(&join(dir, CURRENT), OpenMode::Existing) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let corrupt = Error::corruption("CURRENT does not name a manifest", 0);
    let len = file.len()?;
    if len > CURRENT_BYTES_MAX {
        return Err(corrupt);
    }
    let mut bytes = vec![0u8; len as usize];
    file.read_exact_at(&mut bytes, 0)?;
    let number = core::str::from_utf8(&bytes)
        .ok()
        .and_then(|s| s.strip_suffix('\n'))
        .and_then(parse_file_name);
    match number {
        Some(FileKind::Manifest(n)) => Ok(Some(n)),
        _ => Err(corrupt),
    }
}
