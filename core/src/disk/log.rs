//! The engine's write-ahead log: appends under the commit lock, group commit, durability
//! modes, poisoning after a failed sync, stalling on a full disk.
//!
//! ## Group commit
//!
//! Committers append their record while they hold the engine's commit lock (so the log order is
//! the sequence order), release it, and call [`Wal::wait_durable`] with their last sequence.
//! The first waiter that finds no sync running becomes the *leader*: under the log's lock it
//! writes the buffered records, notes the offset and the last sequence appended, then releases
//! the lock and syncs the file. Committers arriving meanwhile append (the lock is free) and
//! wait; when the sync returns the leader marks everything up to its target durable and wakes
//! the waiters, one of which leads the next group. One sync thus serves every record appended
//! before it began.
//!
//! ## Failures
//!
//! - A failed sync poisons the log for good: what reached the disk is unknown (a later sync
//!   could report success for pages the kernel dropped). Waiters and all later writes get
//!   [`Error::Poisoned`].
//! - A failed write (a full disk) *stalls* the log: the records appended since the last sync
//!   are kept in memory (`pending`); the next append or sync truncates the file back to the
//!   synced offset and appends them again. Until that succeeds, writes fail with
//!   [`Error::DiskFull`] (or the platform error). Records whose write failed were already
//!   inserted into the memtable: their committers got an error (the outcome is unknown to
//!   them), and the records become durable with the next successful sync.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use ppdb_platform::{Clock, File, FileSystem, Instant, OpenMode, Platform};

use super::{write_error, Durability, SharedFile};
use crate::manifest::{join, wal_file_name};
use crate::memtable::ValueKind;
use crate::mvcc::batch::BatchOp;
use crate::sync::{AtomicU64, Condvar, Mutex, MutexGuard};
use crate::wal::{BatchEncoder, LogKind, LogWriter, WalOp};
use crate::{Error, Result};

/// What one commit logs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LogBatch<'a> {
    /// Puts and deletes.
    Ops(&'a [BatchOp]),
    /// A `flush_all` marker issued at unix time `now`.
    FlushAll { now: u64 },
}

type FileOf<P> = <<P as Platform>::Fs as FileSystem>::File;

struct LogState<F: File> {
    writer: LogWriter<SharedFile<F>>,
    /// Records appended since the last successful sync: `(last sequence, bytes)`.
    pending: VecDeque<(u64, Vec<u8>)>,
    seq_appended: u64,
    seq_written: u64,
    seq_durable: u64,
    syncing: bool,
    stalled: bool,
    last_sync: Instant,
    scratch: Vec<u8>,
}

/// The WAL of one engine.
pub(crate) struct Wal<P: Platform> {
    platform: P,
    dir: String,
    durability: Durability,
    state: Mutex<LogState<FileOf<P>>>,
    cond: Condvar,
    poisoned: AtomicBool,
    stalled: AtomicBool,
    log_number: AtomicU64,
    syncs: AtomicU64,
    records: AtomicU64,
    bytes: AtomicU64,
    write_errors: AtomicU64,
    seq_durable: AtomicU64,
}

impl<P: Platform> Wal<P> {
    /// A log writing to `writer` (a segment just created and synced, with its directory
    /// entry), everything up to `seq_last` durable.
    pub(crate) fn new(
        platform: P,
        dir: String,
        durability: Durability,
        writer: LogWriter<SharedFile<FileOf<P>>>,
        seq_last: u64,
    ) -> Self {
        let now = platform.clock().now();
        let log_number = writer.log_number();
        Wal {
            platform,
            dir,
            durability,
            state: Mutex::new(LogState {
                writer,
                pending: VecDeque::new(),
                seq_appended: seq_last,
                seq_written: seq_last,
                seq_durable: seq_last,
                syncing: false,
                stalled: false,
                last_sync: now,
                scratch: Vec::new(),
            }),
            cond: Condvar::new(),
            poisoned: AtomicBool::new(false),
            stalled: AtomicBool::new(false),
            log_number: AtomicU64::new(log_number),
            syncs: AtomicU64::new(0),
            records: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            write_errors: AtomicU64::new(0),
            seq_durable: AtomicU64::new(seq_last),
        }
    }

    pub(crate) fn is_poisoned(&self) -> bool {
        self.poisoned.load(Ordering::Acquire)
    }

    /// Refuses every later write for good (a failed sync elsewhere, such as the manifest's).
    pub(crate) fn poison(&self) {
        self.poisoned.store(true, Ordering::Release);
        let _guard = self.lock();
        self.cond.notify_all();
    }

    pub(crate) fn is_stalled(&self) -> bool {
        self.stalled.load(Ordering::Relaxed)
    }

    pub(crate) fn log_number(&self) -> u64 {
        self.log_number.load(Ordering::Relaxed)
    }

    pub(crate) fn counters(&self) -> (u64, u64, u64, u64, u64) {
        (
            self.syncs.load(Ordering::Relaxed),
            self.records.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
            self.write_errors.load(Ordering::Relaxed),
            self.seq_durable.load(Ordering::Relaxed),
        )
    }

    fn check_poisoned(&self) -> Result<()> {
        if self.is_poisoned() {
            Err(Error::Poisoned)
        } else {
            Ok(())
        }
    }

    fn lock(&self) -> MutexGuard<'_, LogState<FileOf<P>>> {
        self.state.lock()
    }

    /// Appends one batch whose first operation has sequence `first_seq`. Called under the
    /// engine's commit lock, in sequence order.
    pub(crate) fn append(&self, first_seq: u64, batch: LogBatch<'_>) -> Result<()> {
        self.check_poisoned()?;
        let mut st = self.lock();
        if st.stalled {
            self.unstall(&mut st)?;
        }
        let mut record = core::mem::take(&mut st.scratch);
        record.clear();
        let last_seq = encode(&mut record, first_seq, batch);
        let result = st.writer.append(&record);
        match result {
            Ok(_) => {
                self.records.fetch_add(1, Ordering::Relaxed);
                self.bytes.fetch_add(record.len() as u64, Ordering::Relaxed);
                st.seq_appended = last_seq;
                st.pending.push_back((last_seq, record));
                Ok(())
            }
            Err(e) => {
                st.scratch = record;
                Err(self.on_write_error(&mut st, e))
            }
        }
    }

    /// Marks the log stalled after a failed write; returns the error to report.
    fn on_write_error(&self, st: &mut LogState<FileOf<P>>, e: Error) -> Error {
        self.write_errors.fetch_add(1, Ordering::Relaxed);
        st.stalled = true;
        self.stalled.store(true, Ordering::Relaxed);
        write_error(e)
    }

    /// Cuts the file back to its synced offset and writes the pending records again. Fails
    /// (staying stalled) if a sync is running or the write fails again.
    fn unstall(&self, st: &mut LogState<FileOf<P>>) -> Result<()> {
        if st.syncing {
            return Err(Error::DiskFull);
        }
        st.writer.discard_unsynced().map_err(write_error)?;
        let mut failed = None;
        for (_, record) in &st.pending {
            if let Err(e) = st.writer.append(record) {
                failed = Some(e);
                break;
            }
        }
        let failed = match failed {
            Some(e) => Some(e),
            None => st.writer.flush().err(),
        };
        if let Some(e) = failed {
            // Leave the writer discardable for the next attempt.
            let _ = st.writer.discard_unsynced();
            self.write_errors.fetch_add(1, Ordering::Relaxed);
            return Err(write_error(e));
        }
        st.seq_written = st.seq_appended;
        st.stalled = false;
        self.stalled.store(false, Ordering::Relaxed);
        Ok(())
    }

    /// Waits (outside the commit lock) until the record ending at `seq` is durable as the
    /// durability mode promises.
    pub(crate) fn wait_durable(&self, seq: u64) -> Result<()> {
        match self.durability {
            Durability::Sync => self.sync_to(seq),
            // Written now, so that a full disk fails this write; the caller syncs before
            // acknowledging (`Engine::sync_wal`).
            Durability::SyncByCaller => self.write_out(seq),
            Durability::Periodic { ms } => {
                self.write_out(seq)?;
                let due = {
                    let st = self.lock();
                    let now = self.platform.clock().now();
                    !st.syncing
                        && now.saturating_duration_since(st.last_sync).as_millis() >= u128::from(ms)
                };
                if due {
                    let target = self.lock().seq_appended;
                    self.sync_to(target)?;
                }
                Ok(())
            }
            Durability::None => self.write_out(seq),
        }
    }

    /// Writes buffered records (no sync) so that a killed process loses nothing up to `seq`.
    fn write_out(&self, seq: u64) -> Result<()> {
        self.check_poisoned()?;
        let mut st = self.lock();
        if st.seq_written >= seq {
            return Ok(());
        }
        if st.stalled {
            self.unstall(&mut st)?;
            return Ok(());
        }
        match st.writer.flush() {
            Ok(()) => {
                st.seq_written = st.seq_appended;
                Ok(())
            }
            Err(e) => Err(self.on_write_error(&mut st, e)),
        }
    }

    /// Syncs everything appended so far (the periodic timer's call).
    pub(crate) fn sync(&self) -> Result<()> {
        let target = {
            let st = self.lock();
            if self.durability == Durability::SyncByCaller {
                // Every commit that succeeded was written (`wait_durable`); one that failed on
                // a full disk was refused to its writer and must not hold the others back.
                st.seq_written
            } else {
                st.seq_appended
            }
        };
        self.sync_to(target)
    }

    /// Group commit: returns once everything up to `seq` is durable, leading a sync if none
    /// is running.
    fn sync_to(&self, seq: u64) -> Result<()> {
        let mut st = self.lock();
        loop {
            self.check_poisoned()?;
            if st.seq_durable >= seq {
                return Ok(());
            }
            if st.syncing {
                st = self.cond.wait(st, &self.state);
                continue;
            }
            if st.stalled && seq <= st.seq_written {
                // A full disk failed a later write: make what was written durable without
                // writing the refused records again. A crash leaves them as a torn tail.
                let outcome;
                (st, outcome) = self.sync_unlocked(st);
                match outcome {
                    Ok(()) => self.mark_durable(&mut st, seq),
                    Err(_) => self.poisoned.store(true, Ordering::Release),
                }
                self.cond.notify_all();
                continue;
            }
            if st.stalled {
                self.unstall(&mut st)?;
            }
            // Lead: write the group, sync outside the lock.
            let target = st.seq_appended;
            let offset = match st.writer.sync_begin() {
                Ok(offset) => offset,
                Err(e) => {
                    let e = self.on_write_error(&mut st, e);
                    self.cond.notify_all();
                    return Err(e);
                }
            };
            st.seq_written = target;
            let outcome;
            (st, outcome) = self.sync_unlocked(st);
            match outcome {
                Ok(()) => {
                    st.writer.sync_done(offset, Ok(()));
                    self.mark_durable(&mut st, target);
                }
                Err(_) => {
                    st.writer.sync_done(offset, Err(()));
                    self.poisoned.store(true, Ordering::Release);
                }
            }
            self.cond.notify_all();
        }
    }

    /// Syncs the log file with the lock released (other writers keep appending meanwhile),
    /// with `syncing` set for the duration so that no second sync starts; returns the lock
    /// taken again and the sync's outcome.
    fn sync_unlocked<'a>(
        &'a self,
        mut st: MutexGuard<'a, LogState<FileOf<P>>>,
    ) -> (
        MutexGuard<'a, LogState<FileOf<P>>>,
        ppdb_platform::Result<()>,
    ) {
        let file = st.writer.file().clone();
        st.syncing = true;
        drop(st);
        let outcome = file.sync_data();
        let mut st = self.lock();
        st.syncing = false;
        (st, outcome)
    }

    fn mark_durable(&self, st: &mut LogState<FileOf<P>>, target: u64) {
        st.seq_durable = st.seq_durable.max(target);
        while st.pending.front().is_some_and(|(s, _)| *s <= target) {
            st.pending.pop_front();
        }
        st.last_sync = self.platform.clock().now();
        self.syncs.fetch_add(1, Ordering::Relaxed);
        self.seq_durable.store(st.seq_durable, Ordering::Relaxed);
    }

    /// Seals the current segment (writes and syncs it whole) and starts segment `number`.
    /// Called under the commit lock before the active memtable is frozen, so that each
    /// memtable's records live in segments of their own. A failed sync poisons the log; a
    /// failed write or create leaves the current segment in place (the caller does not freeze).
    pub(crate) fn rotate(&self, number: u64) -> Result<()> {
        self.check_poisoned()?;
        let mut st = self.lock();
        while st.syncing {
            st = self.cond.wait(st, &self.state);
        }
        if st.stalled {
            self.unstall(&mut st)?;
        }
        let target = st.seq_appended;
        let offset = match st.writer.sync_begin() {
            Ok(offset) => offset,
            Err(e) => return Err(self.on_write_error(&mut st, e)),
        };
        if st.writer.file().sync_data().is_err() {
            st.writer.sync_done(offset, Err(()));
            self.poisoned.store(true, Ordering::Release);
            self.cond.notify_all();
            return Err(Error::Poisoned);
        }
        st.writer.sync_done(offset, Ok(()));
        st.seq_written = target;
        self.mark_durable(&mut st, target);
        let writer = match create_segment(self.platform.fs(), &self.dir, number) {
            Ok(writer) => writer,
            Err(e) => {
                self.cond.notify_all();
                if e == Error::Poisoned {
                    self.poisoned.store(true, Ordering::Release);
                }
                return Err(e);
            }
        };
        st.writer = writer;
        self.log_number.store(number, Ordering::Relaxed);
        self.cond.notify_all();
        Ok(())
    }
}

/// Creates WAL segment `number` in `dir`: the header written and synced, the directory synced.
/// A failed sync is [`Error::Poisoned`]; on a failed write the file is removed again.
pub(crate) fn create_segment<FS: FileSystem>(
    fs: &FS,
    dir: &str,
    number: u64,
) -> Result<LogWriter<SharedFile<FS::File>>> {
    let path = join(dir, &wal_file_name(number));
    let file = fs
        .open(&path, OpenMode::Truncate)
        .map_err(|e| write_error(e.into()))?;
    let mut writer = LogWriter::create(
        SharedFile(alloc::sync::Arc::new(file)),
        LogKind::Wal,
        number,
    );
    let offset = match writer.sync_begin() {
        Ok(offset) => offset,
        Err(e) => {
            drop(writer);
            let _ = fs.remove(&path);
            return Err(write_error(e));
        }
    };
    if writer.file().sync_data().is_err() {
        return Err(Error::Poisoned);
    }
    writer.sync_done(offset, Ok(()));
    if fs.sync_dir(dir).is_err() {
        return Err(Error::Poisoned);
    }
    Ok(writer)
}

/// Encodes `batch` as one WAL record starting at `first_seq`; returns its last sequence.
fn encode(out: &mut Vec<u8>, first_seq: u64, batch: LogBatch<'_>) -> u64 {
    let mut encoder = BatchEncoder::new(out, first_seq);
    match batch {
        LogBatch::Ops(ops) => {
            for op in ops {
                let wal_op = match op.kind {
                    ValueKind::Value => WalOp::Put {
                        key: &op.key,
                        value: &op.value,
                        options: op.options,
                    },
                    ValueKind::Tombstone => WalOp::Delete {
                        key: &op.key,
                        options: op.options,
                    },
                };
                encoder.push(&wal_op);
            }
        }
        LogBatch::FlushAll { now } => encoder.push(&WalOp::FlushAll { now }),
    }
    let header = encoder.finish();
    header.first_seq + u64::from(header.count) - 1
}
