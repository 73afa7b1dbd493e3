//! The manifest: the log of changes to the set of live tables, and the `CURRENT` pointer to
//! the manifest in force.
//!
//! A manifest is a log in the WAL's framing ([`crate::wal`], magic `PPDB-MAN`) whose records
//! are [`VersionEdit`]s. Its first record is a snapshot of the whole [`Version`]
//! ([`Version::snapshot_edit`]), so a manifest stands on its own; later records are changes.
//! Replaying the records in order ([`replay`]) rebuilds the version. A torn tail is dropped (an
//! edit is in force only once the manifest was synced after it); damage before a later `Sync`
//! record is corruption.
//!
//! Switching to a new manifest (to compact a long one, or after a torn tail): write the
//! snapshot to `MANIFEST-<n>`, sync it, sync the directory, then [`write_current`].

pub mod current;
pub mod edit;

#[cfg(test)]
mod tests;

pub use current::{
    join, manifest_file_name, parse_file_name, read_current, table_file_name, temp_file_name,
    wal_file_name, write_current, FileKind, CURRENT, CURRENT_TEMP,
};
pub use edit::{TableMeta, VersionEdit};

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

use ppdb_platform::{File, FileSystem, OpenMode};

use crate::wal::{LogEnd, LogKind, LogReader, LogWriter, ReadOptions};
use crate::{Error, Result};

/// The number of levels a version has.
pub const LEVELS: usize = 7;

/// The state the manifest describes: live tables per level, the oldest WAL segment still
/// needed, the file number and sequence counters, and the `flush_all` markers to remember.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// The oldest WAL segment still needed; older segments may be deleted.
    pub log_number: u64,
    /// The next file number to hand out.
    pub next_file_number: u64,
    /// The last sequence number recorded.
    pub last_sequence: u64,
    levels: Vec<BTreeMap<u64, TableMeta>>,
    flush_markers: BTreeSet<u64>,
}

impl Default for Version {
    fn default() -> Self {
        Version {
            log_number: 0,
            next_file_number: 1,
            last_sequence: 0,
            levels: alloc::vec![BTreeMap::new(); LEVELS],
            flush_markers: BTreeSet::new(),
        }
    }
}

impl Version {
    /// The tables of `level`, by file number (empty for a level beyond [`LEVELS`]).
    pub fn tables(&self, level: usize) -> impl Iterator<Item = &TableMeta> {
        self.levels.get(level).into_iter().flat_map(|l| l.values())
    }

    /// Every live table, level by level.
    pub fn all_tables(&self) -> impl Iterator<Item = &TableMeta> {
        self.levels.iter().flat_map(|l| l.values())
    }

    /// The number of live tables.
    pub fn table_count(&self) -> usize {
        self.levels.iter().map(BTreeMap::len).sum()
    }

    /// Whether table `number` is live (in any level).
    pub fn contains_table(&self, number: u64) -> bool {
        self.levels.iter().any(|l| l.contains_key(&number))
    }

    /// The `flush_all` markers recorded, ascending.
    pub fn flush_markers(&self) -> impl Iterator<Item = u64> + '_ {
        self.flush_markers.iter().copied()
    }

    /// Applies an edit. Fails (changing nothing) if it adds a table that is live, removes one
    /// that is not, names a level beyond [`LEVELS`], or moves a counter backwards.
    pub fn apply(&mut self, edit: &VersionEdit) -> core::result::Result<(), &'static str> {
        let mut next = self.clone();
        if let Some(v) = edit.log_number {
            if v < next.log_number {
                return Err("log number moves backwards");
            }
            next.log_number = v;
        }
        if let Some(v) = edit.next_file_number {
            if v < next.next_file_number {
                return Err("next file number moves backwards");
            }
            next.next_file_number = v;
        }
        if let Some(v) = edit.last_sequence {
            if v < next.last_sequence {
                return Err("last sequence moves backwards");
            }
            next.last_sequence = v;
        }
        for &(level, number) in &edit.removed_tables {
            let removed = next
                .levels
                .get_mut(level as usize)
                .and_then(|l| l.remove(&number));
            if removed.is_none() {
                return Err("edit removes a table that is not live");
            }
        }
        for t in &edit.added_tables {
            if next.contains_table(t.number) {
                return Err("edit adds a table that is live");
            }
            let level = next
                .levels
                .get_mut(t.level as usize)
                .ok_or("edit adds a table beyond the last level")?;
            level.insert(t.number, t.clone());
        }
        for seq in &edit.removed_flush_markers {
            next.flush_markers.remove(seq);
        }
        next.flush_markers
            .extend(edit.added_flush_markers.iter().copied());
        *self = next;
        Ok(())
    }

    /// One edit that rebuilds this version from an empty one: the first record of a manifest.
    pub fn snapshot_edit(&self) -> VersionEdit {
        VersionEdit {
            log_number: Some(self.log_number),
            next_file_number: Some(self.next_file_number),
            last_sequence: Some(self.last_sequence),
            added_tables: self.all_tables().cloned().collect(),
            removed_tables: Vec::new(),
            added_flush_markers: self.flush_markers().collect(),
            removed_flush_markers: Vec::new(),
        }
    }
}

/// What [`replay`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    /// The version after every edit.
    pub version: Version,
    /// The number of edits applied.
    pub edits: u64,
    /// How the manifest ended (a torn tail is dropped; the caller may cut it and resume, or
    /// start a new manifest).
    pub end: LogEnd,
}

/// Replays manifest `number` from `file`.
pub fn replay<F: File>(file: F, number: u64) -> Result<Replay> {
    let mut reader = LogReader::new(file, LogKind::Manifest, number, ReadOptions::default())?;
    let mut version = Version::default();
    let mut edits = 0;
    while let Some(record) = reader.next_record()? {
        let edit = VersionEdit::decode(record.data, record.offset)?;
        version
            .apply(&edit)
            .map_err(|what| Error::corruption(what, record.offset))?;
        edits += 1;
    }
    let end = reader
        .end()
        .ok_or(Error::corruption("manifest read did not end", 0))?;
    if edits == 0 {
        return Err(Error::corruption("manifest holds no edit", end.offset()));
    }
    Ok(Replay {
        version,
        edits,
        end,
    })
}

/// Reads `CURRENT` in `dir` and replays the manifest it names; `None` for a new database.
pub fn load<FS: FileSystem>(fs: &FS, dir: &str) -> Result<Option<(u64, Replay)>> {
    let current = read_current(fs, dir).map_err(|e| e.in_file(&join(dir, CURRENT)))?;
    let Some(number) = current else {
        return Ok(None);
    };
    let path = join(dir, &manifest_file_name(number));
    let file = fs.open(&path, OpenMode::Existing)?;
    let replayed = replay(file, number).map_err(|e| e.in_file(&path))?;
    Ok(Some((number, replayed)))
}

/// Appends edits to a manifest.
#[derive(Debug)]
pub struct ManifestWriter<F: File> {
    log: LogWriter<F>,
    scratch: Vec<u8>,
}

impl<F: File> ManifestWriter<F> {
    /// Starts manifest `number` in `file` (opened empty) with a snapshot of `version`. Nothing
    /// is durable before [`ManifestWriter::sync`].
    pub fn create(file: F, number: u64, version: &Version) -> Result<Self> {
        let mut writer = ManifestWriter {
            log: LogWriter::create(file, LogKind::Manifest, number),
            scratch: Vec::new(),
        };
        writer.append(&version.snapshot_edit())?;
        Ok(writer)
    }

    /// Continues manifest `number` after its valid records, which end at `offset` (the file
    /// cut there and synced by the caller).
    pub fn resume(file: F, number: u64, offset: u64) -> Self {
        ManifestWriter {
            log: LogWriter::resume(file, LogKind::Manifest, number, offset),
            scratch: Vec::new(),
        }
    }

    /// Appends an edit (durable after [`ManifestWriter::sync`]).
    pub fn append(&mut self, edit: &VersionEdit) -> Result<()> {
        self.scratch.clear();
        edit.encode(&mut self.scratch);
        self.log.append(&self.scratch)?;
        Ok(())
    }

    /// Makes every appended edit durable.
    pub fn sync(&mut self) -> Result<()> {
        self.log.sync()
    }

    /// Drops the edits appended since the last successful sync and cuts the file back, after a
    /// failed write. [`Error::Poisoned`] after a failed sync: the file's state is unknown.
    pub fn discard_unsynced(&mut self) -> Result<()> {
        self.log.discard_unsynced()
    }

    /// The manifest's size so far (to decide when to start a new one).
    pub fn offset(&self) -> u64 {
        self.log.offset()
    }

    /// Gives the file back.
    pub fn into_file(self) -> F {
        self.log.into_file()
    }
}
