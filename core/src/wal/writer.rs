//! [`LogWriter`]: frames records into blocks and appends them to a segment with positional
//! writes.

use alloc::vec::Vec;

use ppdb_platform::File;

use super::{
    encode_fragment_header, LogKind, RecordType, SegmentHeader, BLOCK_BYTES, HEADER_BYTES,
    RECORD_BYTES_MAX_DEFAULT, SEGMENT_HEADER_BYTES, SYNC_PAYLOAD_BYTES,
};
use crate::{Error, Result};

/// Buffered bytes past which an append writes them out without waiting for a sync.
pub const BUFFER_BYTES_MAX_DEFAULT: usize = 256 * 1024;

/// What broke the writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// A write failed: [`LogWriter::discard_unsynced`] may recover.
    Write,
    /// A sync failed: the durable state is unknown, for good.
    Sync,
}

/// Appends records to one segment.
///
/// Records are framed into an in-memory buffer; [`LogWriter::flush`] writes the buffer at its
/// offset (whole blocks and the partial tail of the last one) and [`LogWriter::sync`] also makes
/// it durable. A group commit appends every record of the group, then syncs once. Appends write
/// on their own only when more than the buffer bound is pending.
///
/// A failed write or sync poisons the writer (every later call returns [`Error::Poisoned`]).
/// After a failed write (a full disk), [`LogWriter::discard_unsynced`] drops everything not yet
/// durable and lets writing resume; after a failed sync nothing can: what reached the disk is
/// unknown. The caller must never reuse the sequence numbers of records it discarded: a crash
/// can bring their bytes back (they were written, merely not synced).
#[derive(Debug)]
pub struct LogWriter<F: File> {
    file: F,
    kind: LogKind,
    log_number: u64,
    /// Framed bytes not written yet; they belong at `buf_offset`.
    buf: Vec<u8>,
    buf_offset: u64,
    /// Everything below this offset is durable.
    synced_offset: u64,
    /// The durable offset last announced in a `Sync` record.
    announced_offset: u64,
    buffer_bytes_max: usize,
    record_bytes_max: usize,
    failure: Option<Failure>,
}

impl<F: File> LogWriter<F> {
    /// Starts a new segment in `file` (opened empty): frames the segment header, which the
    /// first flush or sync writes.
    pub fn create(file: F, kind: LogKind, log_number: u64) -> Self {
        let mut writer = LogWriter {
            file,
            kind,
            log_number,
            buf: Vec::new(),
            buf_offset: 0,
            synced_offset: 0,
            announced_offset: 0,
            buffer_bytes_max: BUFFER_BYTES_MAX_DEFAULT,
            record_bytes_max: RECORD_BYTES_MAX_DEFAULT,
            failure: None,
        };
        writer.frame_segment_header();
        writer
    }

    /// Continues a segment whose valid records end at `offset` (the end a [`super::LogReader`]
    /// reported), appending from there. The caller has cut the file to `offset` and synced it:
    /// the writer announces `offset` as durable in its first `Sync` record.
    pub fn resume(file: F, kind: LogKind, log_number: u64, offset: u64) -> Self {
        assert!(
            offset >= SEGMENT_HEADER_BYTES as u64,
            "a resumed segment holds its header"
        );
        LogWriter {
            file,
            kind,
            log_number,
            buf: Vec::new(),
            buf_offset: offset,
            synced_offset: offset,
            announced_offset: 0,
            buffer_bytes_max: BUFFER_BYTES_MAX_DEFAULT,
            record_bytes_max: RECORD_BYTES_MAX_DEFAULT,
            failure: None,
        }
    }

    /// Sets the number of buffered bytes past which an append writes them out.
    pub fn with_buffer_bytes_max(mut self, bytes: usize) -> Self {
        self.buffer_bytes_max = bytes.max(1);
        self
    }

    /// Sets the largest logical record [`LogWriter::append`] accepts (keep it at or below the
    /// readers' [`super::ReadOptions::record_bytes_max`]).
    pub fn with_record_bytes_max(mut self, bytes: usize) -> Self {
        self.record_bytes_max = bytes;
        self
    }

    fn frame_segment_header(&mut self) {
        let header = SegmentHeader {
            kind: self.kind,
            log_number: self.log_number,
        };
        self.buf.extend_from_slice(&header.encode());
    }

    /// The segment's log number.
    pub fn log_number(&self) -> u64 {
        self.log_number
    }

    /// The offset where the next record goes: the end of everything appended, written or not.
    pub fn offset(&self) -> u64 {
        self.buf_offset + self.buf.len() as u64
    }

    /// The offset below which the segment is durable (the end at the last successful sync).
    pub fn synced_offset(&self) -> u64 {
        self.synced_offset
    }

    /// Bytes appended but not written to the file yet.
    pub fn buffered_bytes(&self) -> usize {
        self.buf.len()
    }

    /// Whether a failed write or sync poisoned the writer.
    pub fn is_poisoned(&self) -> bool {
        self.failure.is_some()
    }

    /// The file.
    pub fn file(&self) -> &F {
        &self.file
    }

    /// Gives the file back (buffered bytes not flushed are dropped).
    pub fn into_file(self) -> F {
        self.file
    }

    fn check_usable(&self) -> Result<()> {
        match self.failure {
            Some(_) => Err(Error::Poisoned),
            None => Ok(()),
        }
    }

    /// Appends one logical record; returns the offset of its first fragment. The record is
    /// durable only after a later [`LogWriter::sync`] returned `Ok`.
    pub fn append(&mut self, record: &[u8]) -> Result<u64> {
        self.check_usable()?;
        if record.len() > self.record_bytes_max {
            return Err(Error::ValueTooLarge {
                len: record.len(),
                max: self.record_bytes_max,
            });
        }
        self.pad_short_trailer();
        if self.synced_offset > self.announced_offset
            && self.block_left() >= HEADER_BYTES + SYNC_PAYLOAD_BYTES
        {
            let synced = self.synced_offset;
            self.frame(RecordType::Sync, &synced.to_le_bytes());
            self.announced_offset = synced;
            self.pad_short_trailer();
        }
        let start = self.offset();
        let mut rest = record;
        let mut first = true;
        loop {
            self.pad_short_trailer();
            let take = rest.len().min(self.block_left() - HEADER_BYTES);
            let last = take == rest.len();
            let kind = match (first, last) {
                (true, true) => RecordType::Full,
                (true, false) => RecordType::First,
                (false, false) => RecordType::Middle,
                (false, true) => RecordType::Last,
            };
            self.frame(kind, &rest[..take]);
            rest = &rest[take..];
            first = false;
            if self.buf.len() >= self.buffer_bytes_max {
                self.flush()?;
            }
            if last {
                return Ok(start);
            }
        }
    }

    /// Bytes left in the current block.
    fn block_left(&self) -> usize {
        BLOCK_BYTES - (self.offset() % BLOCK_BYTES as u64) as usize
    }

    /// The trailer rule: fewer than a header's bytes left in the block are zero-filled.
    fn pad_short_trailer(&mut self) {
        let left = self.block_left();
        if left < HEADER_BYTES {
            self.buf.resize(self.buf.len() + left, 0);
        }
    }

    fn frame(&mut self, kind: RecordType, payload: &[u8]) {
        debug_assert!(HEADER_BYTES + payload.len() <= self.block_left());
        let header = encode_fragment_header(kind, self.log_number, payload);
        self.buf.extend_from_slice(&header);
        self.buf.extend_from_slice(payload);
    }

    /// Writes the buffered bytes at their offset.
    pub fn flush(&mut self) -> Result<()> {
        self.check_usable()?;
        if self.buf.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.file.write_at(&self.buf, self.buf_offset) {
            self.failure = Some(Failure::Write);
            return Err(e.into());
        }
        self.buf_offset += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Writes the buffered bytes and makes everything appended so far durable.
    pub fn sync(&mut self) -> Result<()> {
        self.flush()?;
        if let Err(e) = self.file.sync_data() {
            self.failure = Some(Failure::Sync);
            return Err(e.into());
        }
        self.synced_offset = self.buf_offset;
        Ok(())
    }

    /// The first half of a sync done outside the caller's lock: writes the buffered bytes and
    /// returns the offset that a successful `sync_data` of the file (through any handle to it)
    /// makes durable. Report the outcome with [`LogWriter::sync_done`]. Records appended
    /// meanwhile are not covered.
    pub fn sync_begin(&mut self) -> Result<u64> {
        self.flush()?;
        Ok(self.buf_offset)
    }

    /// The second half of a sync begun with [`LogWriter::sync_begin`]: `Ok` marks everything
    /// below `offset` durable; `Err` poisons the writer for good.
    pub fn sync_done(&mut self, offset: u64, outcome: core::result::Result<(), ()>) {
        match outcome {
            Ok(()) => self.synced_offset = self.synced_offset.max(offset),
            Err(()) => self.failure = Some(Failure::Sync),
        }
    }

    /// Drops everything appended since the last successful sync, cuts the file back to the
    /// synced offset and clears a write failure, so that appending can resume (after a full
    /// disk). Refused with [`Error::Poisoned`] after a failed sync.
    pub fn discard_unsynced(&mut self) -> Result<()> {
        if self.failure == Some(Failure::Sync) {
            return Err(Error::Poisoned);
        }
        self.buf.clear();
        if let Err(e) = self.file.set_len(self.synced_offset) {
            self.failure = Some(Failure::Write);
            return Err(e.into());
        }
        self.buf_offset = self.synced_offset;
        // The discarded bytes may have held the last announcement.
        self.announced_offset = 0;
        if self.synced_offset < SEGMENT_HEADER_BYTES as u64 {
            self.buf_offset = 0;
            self.frame_segment_header();
        }
        self.failure = None;
        Ok(())
    }
}
