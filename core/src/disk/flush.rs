//! [`Disk`]: the engine's disk storage, the WAL plus the manifest in force.
//!
//! Frozen memtables are still merged in memory in this version (as in memory mode); their
//! WAL segments are kept, so recovery replays every segment since the database was created.
//! Flushing frozen memtables to tables, recording them in the manifest and deleting the WAL
//! segments they cover is the next step (`docs/durability.md`, "Not yet").

use alloc::string::String;

use ppdb_platform::{FileSystem, Platform};

use super::log::{LogBatch, Wal};
use super::{DiskStats, Storage};
use crate::manifest::{ManifestWriter, Version};
use crate::sync::{AtomicU64, Mutex};
use crate::Result;

type FileOf<P> = <<P as Platform>::Fs as FileSystem>::File;

/// The disk storage of one engine.
pub(crate) struct Disk<P: Platform> {
    platform: P,
    dir: String,
    wal: Wal<P>,
    manifest: Mutex<(ManifestWriter<FileOf<P>>, Version)>,
    next_file_number: AtomicU64,
}

impl<P: Platform> Disk<P> {
    pub(crate) fn new(
        platform: P,
        dir: String,
        wal: Wal<P>,
        manifest: ManifestWriter<FileOf<P>>,
        version: Version,
        next_file_number: u64,
    ) -> Self {
        Disk {
            platform,
            dir,
            wal,
            manifest: Mutex::new((manifest, version)),
            next_file_number: AtomicU64::new(next_file_number),
        }
    }

    fn new_file_number(&self) -> u64 {
        self.next_file_number
            .fetch_add(1, core::sync::atomic::Ordering::Relaxed)
    }
}

impl<P: Platform> Storage for Disk<P> {
    fn append(&self, first_seq: u64, batch: LogBatch<'_>) -> Result<()> {
        self.wal.append(first_seq, batch)
    }

    fn rotate(&self, _seq_last: u64) -> Result<()> {
        let number = self.new_file_number();
        self.wal.rotate(number)
    }

    fn wait_durable(&self, seq: u64) -> Result<()> {
        self.wal.wait_durable(seq)
    }

    fn sync(&self) -> Result<()> {
        self.wal.sync()
    }

    fn stats(&self) -> DiskStats {
        let (wal_syncs, wal_records, wal_bytes, wal_write_errors, seq_durable) =
            self.wal.counters();
        let tables = {
            let guard = self.manifest.lock();
            guard.1.table_count()
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
            ..DiskStats::default()
        }
    }
}

impl<P: Platform> Disk<P> {
    /// The directory and platform (for the flush to come).
    #[allow(dead_code, reason = "used by the table flush")]
    pub(crate) fn location(&self) -> (&P, &str) {
        (&self.platform, &self.dir)
    }
}
