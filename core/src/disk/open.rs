//! Opening a database directory: recovery, then a fresh manifest and WAL segment.
//!
//! 1. `CURRENT` names the manifest in force; replaying it gives the live tables, the oldest
//!    WAL segment still needed (`log_number`), the last sequence written to tables and the
//!    `flush_all` markers. No `CURRENT`: a new database.
//!    The tables the manifest lists are opened (footer, index, filter and properties checked).
//! 2. The WAL segments numbered `log_number` and above are replayed in order into the
//!    memtable. Every segment but the newest was synced whole before the next one was created,
//!    so damage in it is corruption; the newest may end in a torn tail, which is cut (the file
//!    truncated and synced) and reported. A batch whose first sequence is not above the last
//!    one replayed is skipped: the sequences up to the manifest's `last_sequence` are in tables,
//!    and a batch below the last one replayed is the bytes of a failed write that a crash
//!    brought back.
//! 3. A new manifest (a snapshot of the version) and a new segment are created and synced,
//!    the directory synced, and `CURRENT` switched to the new manifest. Files no longer
//!    needed (older manifests, segments below `log_number`, tables the manifest does not list,
//!    temporary files) are removed; segments that replayed nothing are among them.
//! 4. If recovery skipped corrupt regions ([`RecoveryMode::SkipCorrupt`]), what was replayed
//!    is flushed to a table at once, which retires the damaged segments: the next open,
//!    strict or not, does not meet them again.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use ppdb_platform::{Clock, File, FileSystem, OpenMode, Platform};

use super::flush::{open_tables, Disk};
use super::log::{create_segment, Wal};
use super::{DiskOptions, RecoveryInfo, RecoveryMode};
use crate::manifest::{
    self, join, manifest_file_name, parse_file_name, wal_file_name, write_current, FileKind,
    ManifestWriter, Version,
};
use crate::mvcc::{Config, Engine};
use crate::sync::AtomicU64;
use crate::wal::{BatchDecoder, LogEnd, LogKind, LogReader, ReadOptions, SEGMENT_HEADER_BYTES};
use crate::{Error, Result};

impl Engine {
    /// Opens (or creates) the database in directory `dir` of `platform`'s file system, in disk
    /// mode: recovers the tables and the WAL (see `docs/durability.md`), then logs every
    /// commit. Returns the engine and what recovery found (for the log).
    pub fn open_dir<P: Platform + Clone>(
        config: Config,
        platform: P,
        dir: &str,
        options: DiskOptions,
    ) -> Result<(Engine, RecoveryInfo)> {
        let start = platform.clock().now();
        let fs = platform.fs();
        if !dir.is_empty() && !fs.exists(dir)? {
            fs.create_dir_all(dir)?;
            fs.sync_dir(ppdb_platform::parent_dir(dir))?;
        }
        let loaded = manifest::load(fs, dir)?;
        let mut info = RecoveryInfo {
            created: loaded.is_none(),
            manifest_number: loaded.as_ref().map(|(n, _)| *n),
            ..RecoveryInfo::default()
        };
        let mut version = loaded.map(|(_, r)| r.version).unwrap_or_default();
        let files = list_files(fs, dir)?;
        let max_number = files.iter().map(|&(_, n)| n).max().unwrap_or(0);
        let mut next = version.next_file_number.max(max_number + 1);

        // Disk mode never evicts: an evicted key would come back at the next recovery.
        let config = Config {
            evict: false,
            ..config
        };
        let mut engine = Engine::new(config)?;
        let markers: Vec<u64> = version.flush_markers().collect();
        engine.restore(version.last_sequence, &markers);
        let read_errors = Arc::new(AtomicU64::new(0));
        let tables = open_tables(fs, dir, &version, &read_errors)?;
        info.tables = tables.len();
        engine.restore_tables(tables);

        let mut segments: Vec<u64> = files
            .iter()
            .filter_map(|&(kind, n)| (kind == Kind::Wal && n >= version.log_number).then_some(n))
            .collect();
        if info.created {
            segments.clear();
        }
        segments.sort_unstable();
        replay(&engine, fs, dir, &segments, options.recovery, &mut info)?;
        info.seq_last = engine.seq_last();

        // A fresh manifest and segment; the replayed segments stay until their data is flushed,
        // unless they brought nothing into the memtable (all stale, skipped or empty).
        let manifest_number = next;
        let segment_number = next + 1;
        next += 2;
        version.next_file_number = next;
        if info.records == 0 {
            version.log_number = segment_number;
        }
        let manifest_path = join(dir, &manifest_file_name(manifest_number));
        let mut manifest = ManifestWriter::create(
            fs.open(&manifest_path, OpenMode::Truncate)?,
            manifest_number,
            &version,
        )?;
        manifest.sync()?;
        let writer = create_segment(fs, dir, segment_number)?;
        write_current(fs, dir, manifest_number)?;
        remove_obsolete(fs, dir, manifest_number, &version);

        let wal = Wal::new(
            platform.clone(),
            String::from(dir),
            options.durability,
            writer,
            info.seq_last,
        );
        let disk = Disk::new(
            platform.clone(),
            String::from(dir),
            wal,
            manifest,
            version,
            next,
            read_errors,
        );
        engine.attach_storage(Box::new(disk));
        let now = platform.clock().unix_time_secs();
        engine.after_recovery(now);
        if info.skipped_regions > 0 && info.records > 0 {
            // The damaged segments would fail the next strict open: flush what they gave, so
            // that they are retired now. A failed flush (counted in the disk stats) leaves
            // them for a later one, as any flush.
            engine.rotate(now);
            engine.maintain(now);
        }
        info.elapsed = platform.clock().now().saturating_duration_since(start);
        Ok((engine, info))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Wal,
    Other,
}

/// The numbered files of `dir`.
fn list_files<FS: FileSystem>(fs: &FS, dir: &str) -> Result<Vec<(Kind, u64)>> {
    let mut out = Vec::new();
    for name in fs.list(dir)? {
        match parse_file_name(&name) {
            Some(FileKind::Wal(n)) => out.push((Kind::Wal, n)),
            Some(FileKind::Manifest(n) | FileKind::Table(n) | FileKind::Temp(n)) => {
                out.push((Kind::Other, n))
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Replays `segments` (ascending) into `engine`.
fn replay<FS: FileSystem>(
    engine: &Engine,
    fs: &FS,
    dir: &str,
    segments: &[u64],
    mode: RecoveryMode,
    info: &mut RecoveryInfo,
) -> Result<()> {
    let skip_corrupt = mode == RecoveryMode::SkipCorrupt;
    let mut last = engine.seq_last();
    for (i, &number) in segments.iter().enumerate() {
        let path = join(dir, &wal_file_name(number));
        let options = ReadOptions {
            skip_corrupt,
            sealed: i + 1 < segments.len(),
            ..ReadOptions::default()
        };
        let mut reader = LogReader::new(
            fs.open(&path, OpenMode::Existing)?,
            LogKind::Wal,
            number,
            options,
        )
        .map_err(|e| e.in_file(&path))?;
        info.segments += 1;
        while let Some(record) = reader.next_record().map_err(|e| e.in_file(&path))? {
            let batch = match BatchDecoder::decode(record.data, record.offset) {
                Ok(batch) => batch,
                Err(e @ Error::Corruption { .. }) if !skip_corrupt => return Err(e.in_file(&path)),
                Err(Error::Corruption { .. }) => {
                    info.skipped_regions += 1;
                    info.skipped_bytes += record.data.len() as u64;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let header = batch.header();
            if header.count == 0 {
                continue;
            }
            if header.first_seq <= last {
                info.records_stale += 1;
                continue;
            }
            engine.replay_batch(&batch);
            last = header.seqs().end - 1;
            info.records += 1;
            info.record_bytes += record.data.len() as u64;
            info.seq_range = Some(match info.seq_range {
                None => (header.first_seq, last),
                Some((first, _)) => (first, last),
            });
        }
        let stats = reader.stats();
        info.skipped_regions += stats.skipped_regions;
        info.skipped_bytes += stats.skipped_bytes;
        if let Some(LogEnd::Torn {
            offset, file_len, ..
        }) = reader.end()
        {
            let file = reader.into_file();
            info.torn_tail = Some((number, offset, file_len.saturating_sub(offset)));
            if offset < SEGMENT_HEADER_BYTES as u64 {
                // Not even the header survived: the segment holds nothing.
                drop(file);
                fs.remove(&path)?;
                fs.sync_dir(dir)?;
            } else {
                file.set_len(offset)?;
                file.sync_data()?;
            }
        }
    }
    Ok(())
}

/// Removes what the new manifest no longer needs: older manifests, segments below its
/// `log_number`, tables it does not list (written by a flush that a crash interrupted before
/// its manifest edit), temporary files. Best effort: a leftover is removed at the next open.
fn remove_obsolete<FS: FileSystem>(fs: &FS, dir: &str, manifest_number: u64, version: &Version) {
    let log_number = version.log_number;
    let Ok(names) = fs.list(dir) else {
        return;
    };
    for name in names {
        let obsolete = match parse_file_name(&name) {
            Some(FileKind::Manifest(n)) => n != manifest_number,
            Some(FileKind::Wal(n)) => n < log_number,
            Some(FileKind::Table(n)) => !version.contains_table(n),
            Some(FileKind::Temp(_)) | Some(FileKind::CurrentTemp) => true,
            _ => false,
        };
        if obsolete {
            let _ = fs.remove(&join(dir, &name));
        }
    }
}
