//! [`Disk`]: the engine's disk storage, the WAL plus the manifest in force, and the flush of
//! frozen memtables to tables.
//!
//! ## Flush
//!
//! 1. The engine's merge rules that need no older data pick the versions
//!    (`mvcc::merge::flush_into`); they go to a [`TableWriter`] on `<n>.tmp`, which is synced,
//!    renamed to `<n>.sst`, and the directory synced. The table is opened for reading (which
//!    checks its footer and metadata).
//! 2. A manifest edit records the table, the new `log_number` (the segment started when the
//!    newest flushed memtable was frozen: every older segment holds only flushed sequences),
//!    the last flushed sequence and the `flush_all` markers up to it; the manifest is synced.
//!    From here the flush is in force.
//! 3. WAL segments below `log_number` are deleted (best effort: recovery removes leftovers and
//!    replays only segments from `log_number` on).
//!
//! A failure before step 2 removes the file and leaves everything as it was (the engine keeps
//! the frozen memtables and tries again at its next maintenance). A failed manifest write is
//! cut back and retried likewise; a failed manifest *sync* poisons the engine, since what the
//! manifest holds is then unknown. A crash at any point leaves either the old manifest (the
//! table, if its name survived, is an orphan that recovery removes) or the new one.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use ppdb_platform::{File, FileSystem, OpenMode, Platform};

use super::log::{LogBatch, Wal};
use super::table::DiskTable;
use super::{DiskStats, FlushRequest, Storage, TableSink, TableSource};
use crate::manifest::{
    join, parse_file_name, table_file_name, temp_file_name, FileKind, ManifestWriter, TableMeta,
    Version, VersionEdit,
};
use crate::memtable::VersionRef;
use crate::sync::{AtomicU64, Mutex};
use crate::table::{TableOptions, TableProperties, TableReader, TableWriter};
use crate::{Error, Result};

type FileOf<P> = <<P as Platform>::Fs as FileSystem>::File;

/// The disk storage of one engine.
pub(crate) struct Disk<P: Platform> {
    platform: P,
    dir: String,
    wal: Wal<P>,
    manifest: Mutex<(ManifestWriter<FileOf<P>>, Version)>,
    next_file_number: AtomicU64,
    /// `(sequence, segment)` per rotation since the open: the segment started when the
    /// active memtable was frozen at that commit sequence. Once every sequence up to it is in
    /// tables, the segments below it are no longer needed.
    rotations: Mutex<VecDeque<(u64, u64)>>,
    read_errors: Arc<AtomicU64>,
    flushes: AtomicU64,
    flush_errors: AtomicU64,
    segments_deleted: AtomicU64,
}

impl<P: Platform> Disk<P> {
    pub(crate) fn new(
        platform: P,
        dir: String,
        wal: Wal<P>,
        manifest: ManifestWriter<FileOf<P>>,
        version: Version,
        next_file_number: u64,
        read_errors: Arc<AtomicU64>,
    ) -> Self {
        Disk {
            platform,
            dir,
            wal,
            manifest: Mutex::new((manifest, version)),
            next_file_number: AtomicU64::new(next_file_number),
            rotations: Mutex::new(VecDeque::new()),
            read_errors,
            flushes: AtomicU64::new(0),
            flush_errors: AtomicU64::new(0),
            segments_deleted: AtomicU64::new(0),
        }
    }

    fn new_file_number(&self) -> u64 {
        self.next_file_number.fetch_add(1, Ordering::Relaxed)
    }

    /// The oldest segment still needed once every sequence up to `seq_flushed` is in tables.
    fn log_number_after(&self, seq_flushed: u64, current: u64) -> u64 {
        let rotations = self.rotations.lock();
        rotations
            .iter()
            .filter(|&&(seq, _)| seq <= seq_flushed)
            .map(|&(_, segment)| segment)
            .fold(current, u64::max)
    }

    /// Writes the table under a temporary name, syncs it, renames it and syncs the directory.
    /// Returns its properties (`None`: nothing was written, no file remains).
    fn write_table(
        &self,
        number: u64,
        fill: &mut dyn FnMut(&mut dyn TableSink) -> Result<()>,
    ) -> Result<Option<TableProperties>> {
        let fs = self.platform.fs();
        let temp = join(&self.dir, &temp_file_name(number));
        let path = join(&self.dir, &table_file_name(number));
        let outcome = (|| -> Result<Option<TableProperties>> {
            let file = fs.open(&temp, OpenMode::Truncate)?;
            let mut sink = Sink {
                writer: TableWriter::new(file, TableOptions::default()),
            };
            fill(&mut sink)?;
            if sink.writer.entries() == 0 {
                return Ok(None);
            }
            let (properties, file) = sink.writer.finish()?;
            file.sync_data()?;
            drop(file);
            fs.rename(&temp, &path)?;
            fs.sync_dir(&self.dir)?;
            Ok(Some(properties))
        })();
        match outcome {
            Ok(Some(properties)) => Ok(Some(properties)),
            Ok(None) => {
                let _ = fs.remove(&temp);
                Ok(None)
            }
            Err(e) => {
                let _ = fs.remove(&temp);
                let _ = fs.remove(&path);
                Err(super::write_error(e))
            }
        }
    }

    /// Appends `edit` to the manifest, syncs it and applies it to the version.
    fn log_edit(&self, edit: &VersionEdit) -> Result<()> {
        let mut guard = self.manifest.lock();
        let (writer, version) = &mut *guard;
        let mut next = version.clone();
        next.apply(edit)
            .map_err(|what| Error::corruption(what, 0))?;
        if let Err(e) = writer.append(edit).and_then(|()| writer.sync()) {
            if writer.discard_unsynced().is_err() {
                self.wal.poison();
                return Err(Error::Poisoned);
            }
            return Err(super::write_error(e));
        }
        *version = next;
        Ok(())
    }

    /// Deletes the WAL segments below `log_number` (best effort).
    fn delete_segments_below(&self, log_number: u64) {
        let fs = self.platform.fs();
        let Ok(names) = fs.list(&self.dir) else {
            return;
        };
        for name in names {
            if let Some(FileKind::Wal(n)) = parse_file_name(&name) {
                if n < log_number && fs.remove(&join(&self.dir, &name)).is_ok() {
                    self.segments_deleted.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    fn flush_inner(
        &self,
        request: FlushRequest<'_>,
        fill: &mut dyn FnMut(&mut dyn TableSink) -> Result<()>,
    ) -> Result<Option<Arc<dyn TableSource>>> {
        if self.wal.is_poisoned() {
            return Err(Error::Poisoned);
        }
        let fs = self.platform.fs();
        let number = self.new_file_number();
        let properties = self.write_table(number, fill)?;
        let path = join(&self.dir, &table_file_name(number));
        let table = match &properties {
            None => None,
            Some(_) => {
                let opened = fs
                    .open(&path, OpenMode::Existing)
                    .map_err(Error::from)
                    .and_then(TableReader::open);
                match opened {
                    Ok(reader) => Some(DiskTable::new(number, reader, self.read_errors.clone())),
                    Err(e) => {
                        let _ = fs.remove(&path);
                        return Err(e);
                    }
                }
            }
        };
        let (log_number, last_sequence, known_markers) = {
            let guard = self.manifest.lock();
            let version = &guard.1;
            (
                self.log_number_after(request.seq_flushed, version.log_number),
                version.last_sequence.max(request.seq_flushed),
                version.flush_markers().collect::<Vec<u64>>(),
            )
        };
        let edit = VersionEdit {
            log_number: Some(log_number),
            next_file_number: Some(self.next_file_number.load(Ordering::Relaxed)),
            last_sequence: Some(last_sequence),
            added_tables: properties
                .iter()
                .map(|p| TableMeta {
                    number,
                    level: 0,
                    size_bytes: p.file_bytes,
                    seq_min: p.seq_min,
                    seq_max: p.seq_max,
                    smallest_key: p.smallest_key.clone(),
                    largest_key: p.largest_key.clone(),
                })
                .collect(),
            added_flush_markers: request
                .flush_markers
                .iter()
                .copied()
                .filter(|m| !known_markers.contains(m))
                .collect(),
            ..VersionEdit::default()
        };
        // A failed manifest write may still reach the disk (a crash could undo the cut), so
        // the table stays: if the manifest does not list it, recovery removes it.
        self.log_edit(&edit)?;
        self.rotations
            .lock()
            .retain(|&(seq, _)| seq > request.seq_flushed);
        self.delete_segments_below(log_number);
        self.flushes.fetch_add(1, Ordering::Relaxed);
        Ok(table.map(|t| Arc::new(t) as Arc<dyn TableSource>))
    }
}

/// The table writer of a flush, as the engine sees it.
struct Sink<F: File> {
    writer: TableWriter<F>,
}

impl<F: File> TableSink for Sink<F> {
    fn add(&mut self, v: &VersionRef<'_>) -> Result<()> {
        self.writer.add(v.key, v.seq, v.kind, &v.options(), v.value)
    }
}

impl<P: Platform> Storage for Disk<P> {
    fn append(&self, first_seq: u64, batch: LogBatch<'_>) -> Result<()> {
        self.wal.append(first_seq, batch)
    }

    fn rotate(&self, seq_last: u64) -> Result<()> {
        let number = self.new_file_number();
        self.wal.rotate(number)?;
        self.rotations.lock().push_back((seq_last, number));
        Ok(())
    }

    fn wait_durable(&self, seq: u64) -> Result<()> {
        self.wal.wait_durable(seq)
    }

    fn sync(&self) -> Result<()> {
        self.wal.sync()
    }

    fn flush(
        &self,
        request: FlushRequest<'_>,
        fill: &mut dyn FnMut(&mut dyn TableSink) -> Result<()>,
    ) -> Result<Option<Arc<dyn TableSource>>> {
        let outcome = self.flush_inner(request, fill);
        if outcome.is_err() {
            self.flush_errors.fetch_add(1, Ordering::Relaxed);
        }
        outcome
    }

    fn is_poisoned(&self) -> bool {
        self.wal.is_poisoned()
    }

    fn stats(&self) -> DiskStats {
        let (wal_syncs, wal_records, wal_bytes, wal_write_errors, seq_durable) =
            self.wal.counters();
        let (tables, table_bytes) = {
            let guard = self.manifest.lock();
            let version = &guard.1;
            (
                version.table_count(),
                version.all_tables().map(|t| t.size_bytes).sum(),
            )
        };
        DiskStats {
            poisoned: self.wal.is_poisoned(),
            stalled: self.wal.is_stalled(),
            wal_syncs,
            wal_records,
            wal_bytes,
            wal_write_errors,
            wal_log_number: self.wal.log_number(),
            seq_durable,
            tables,
            table_bytes,
            flushes: self.flushes.load(Ordering::Relaxed),
            flush_errors: self.flush_errors.load(Ordering::Relaxed),
            segments_deleted: self.segments_deleted.load(Ordering::Relaxed),
            read_errors: self.read_errors.load(Ordering::Relaxed),
        }
    }
}

/// Opens the tables `version` lists, newest first.
pub(crate) fn open_tables<FS: FileSystem>(
    fs: &FS,
    dir: &str,
    version: &Version,
    read_errors: &Arc<AtomicU64>,
) -> Result<Vec<Arc<dyn TableSource>>>
where
    FS::File: 'static,
{
    let mut metas: Vec<&TableMeta> = version.all_tables().collect();
    metas.sort_by_key(|t| core::cmp::Reverse(t.seq_max));
    let mut out: Vec<Arc<dyn TableSource>> = Vec::with_capacity(metas.len());
    for meta in metas {
        let path = join(dir, &table_file_name(meta.number));
        let file = fs.open(&path, OpenMode::Existing)?;
        let reader = TableReader::open(file).map_err(|e| e.in_file(&path))?;
        out.push(Arc::new(DiskTable::new(
            meta.number,
            reader,
            read_errors.clone(),
        )));
    }
    Ok(out)
}
