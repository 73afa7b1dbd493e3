//! [`LogReader`]: yields the logical records of a segment and says how the segment ends.
//!
//! # How the end of a segment is classified
//!
//! The reader checks every fragment (checksum, log number, type, length inside its block,
//! fragment order). The first one that fails at offset `h` is *damage*. Whether the damage
//! may be cut off or must be reported depends on whether its bytes were ever durable:
//!
//! - the segment is *sealed* ([`ReadOptions::sealed`]: it was synced whole before the log
//!   moved on, so every byte was durable), or a valid `Sync` record after the damage announces
//!   a durable offset past `h`: the damage hit durable bytes. It is **corruption**: reading
//!   fails with [`Error::Corruption`] at `h`, or, with [`ReadOptions::skip_corrupt`], the reader
//!   skips to the next block, counts the skipped region and goes on;
//! - otherwise the damage lies in bytes no sync covered, which a crash may leave torn, missing
//!   or zero-filled in any pattern (sectors survive independently). The log ends there: the
//!   reader stops with [`LogEnd::Torn`], whose offset (the start of the logical record the
//!   damage hit) is where the caller cuts the file. Valid records after unsynced damage are
//!   dropped, so what the reader yields is always a prefix of what was written.
//!
//! A reader can thus not tell bit rot in the last synced group of a segment from a torn tail:
//! no later `Sync` record vouches for it. Such records are cut, and the cut is reported.

use alloc::vec::Vec;

use ppdb_platform::File;

use super::{
    field, log_number_low, LogKind, RecordType, SegmentHeader, SegmentHeaderError, BLOCK_BYTES,
    HEADER_BYTES, RECORD_BYTES_MAX_DEFAULT, SEGMENT_HEADER_BYTES, SYNC_PAYLOAD_BYTES,
};
use crate::format::crc32c;
use crate::{Error, Result};

/// How a [`LogReader`] treats damage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// Skip corruption (damage proven durable) instead of failing: the reader resumes at the
    /// next block and counts the skipped region in [`ReadStats`]. Unsynced damage still ends
    /// the log.
    pub skip_corrupt: bool,
    /// The segment was synced whole (it is not the newest segment of its log), so every damage
    /// is corruption, an incomplete last record included.
    pub sealed: bool,
    /// Logical records longer than this are corruption.
    pub record_bytes_max: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            skip_corrupt: false,
            sealed: false,
            record_bytes_max: RECORD_BYTES_MAX_DEFAULT,
        }
    }
}

/// How a segment ended, once [`LogReader::next_record`] returned `Ok(None)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogEnd {
    /// The records end at `offset`, followed by nothing but (part of) a zero trailer.
    Clean {
        /// The end of the last valid record: where a writer resumes.
        offset: u64,
    },
    /// An incomplete or damaged tail that no sync covered: cut the file at `offset`.
    Torn {
        /// The end of the valid records; everything from here on is dropped.
        offset: u64,
        /// Where the damage was found (at or after `offset`).
        damage_offset: u64,
        /// The file's length: `file_len - offset` bytes are dropped.
        file_len: u64,
        /// Which check failed.
        reason: &'static str,
    },
}

impl LogEnd {
    /// The end of the valid records.
    pub fn offset(&self) -> u64 {
        match *self {
            LogEnd::Clean { offset } | LogEnd::Torn { offset, .. } => offset,
        }
    }
}

/// Counters of one read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Logical records yielded.
    pub records: u64,
    /// Their payload bytes.
    pub record_bytes: u64,
    /// `Sync` records seen.
    pub sync_records: u64,
    /// Corrupt regions skipped (with [`ReadOptions::skip_corrupt`]).
    pub skipped_regions: u64,
    /// Bytes in the skipped regions.
    pub skipped_bytes: u64,
}

/// One logical record, borrowed from the reader until the next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// The offset of its first fragment.
    pub offset: u64,
    /// Its payload.
    pub data: &'a [u8],
}

/// What the bytes at one offset hold.
enum Fragment<'a> {
    /// Fewer than a header's bytes left in the block: skip to the next block.
    Trailer,
    /// The end of the file.
    Eof,
    /// A valid fragment of `total` bytes.
    Good {
        kind: RecordType,
        payload: &'a [u8],
        total: usize,
    },
    /// A fragment that fails a check.
    Bad(&'static str),
}

/// Parses the fragment at the start of `bytes` (the bytes from the offset to the end of the
/// block or of the file, whichever comes first), `block_left` bytes before the block ends.
fn parse_fragment(bytes: &[u8], block_left: usize, log_low: u32) -> Fragment<'_> {
    if block_left < HEADER_BYTES {
        return Fragment::Trailer;
    }
    if bytes.is_empty() {
        return Fragment::Eof;
    }
    let Some(header) = bytes.get(..HEADER_BYTES) else {
        return Fragment::Bad("truncated fragment header");
    };
    let len = u16::from_le_bytes([header[field::LENGTH.start], header[field::LENGTH.start + 1]]);
    let total = HEADER_BYTES + len as usize;
    if total > block_left {
        return Fragment::Bad("fragment crosses its block");
    }
    let Some(payload) = bytes.get(HEADER_BYTES..total) else {
        return Fragment::Bad("truncated fragment");
    };
    let mut crc = [0u8; 4];
    crc.copy_from_slice(&header[field::CRC]);
    let actual = crc32c::extend(crc32c::checksum(&header[4..]), payload);
    if crc32c::unmask(u32::from_le_bytes(crc)) != actual {
        return Fragment::Bad("fragment checksum mismatch");
    }
    let mut low = [0u8; 4];
    low.copy_from_slice(&header[field::LOG_NUMBER]);
    if u32::from_le_bytes(low) != log_low {
        return Fragment::Bad("fragment of another log");
    }
    let Some(kind) = RecordType::from_byte(header[field::TYPE]) else {
        return Fragment::Bad("unknown fragment type");
    };
    if kind == RecordType::Sync && payload.len() != SYNC_PAYLOAD_BYTES {
        return Fragment::Bad("sync record of the wrong size");
    }
    Fragment::Good {
        kind,
        payload,
        total,
    }
}

/// The offset a `Sync` payload announces.
fn sync_value(payload: &[u8]) -> u64 {
    let mut v = [0u8; 8];
    v.copy_from_slice(&payload[..8]);
    u64::from_le_bytes(v)
}

/// The start of the block after the one holding `offset`.
fn next_block(offset: u64) -> u64 {
    (offset / BLOCK_BYTES as u64 + 1) * BLOCK_BYTES as u64
}

/// Reads the logical records of one segment, in order.
#[derive(Debug)]
pub struct LogReader<F: File> {
    file: F,
    kind: LogKind,
    log_number: u64,
    options: ReadOptions,
    file_len: u64,
    /// The block holding `pos` (shorter at the end of the file), starting at `block_start`.
    block: Vec<u8>,
    block_start: Option<u64>,
    /// The offset of the next fragment.
    pos: u64,
    /// The end of the last valid logical or `Sync` record.
    valid_end: u64,
    /// The logical record being assembled, and the offset of its first fragment.
    record: Vec<u8>,
    record_start: Option<u64>,
    /// After a skip: fragments of the damaged record are skipped until a record starts.
    resyncing: bool,
    started: bool,
    end: Option<LogEnd>,
    error: Option<Error>,
    /// `Sync` records after the first damage, `(offset, announced)`, with the maximum
    /// announcement from each one on (`suffix_max`), scanned once when first needed.
    syncs: Option<(Vec<u64>, Vec<u64>)>,
    stats: ReadStats,
}

impl<F: File> LogReader<F> {
    /// A reader of the segment `log_number` of kind `kind` in `file`.
    pub fn new(file: F, kind: LogKind, log_number: u64, options: ReadOptions) -> Result<Self> {
        let file_len = file.len()?;
        Ok(LogReader {
            file,
            kind,
            log_number,
            options,
            file_len,
            block: Vec::new(),
            block_start: None,
            pos: 0,
            valid_end: 0,
            record: Vec::new(),
            record_start: None,
            resyncing: false,
            started: false,
            end: None,
            error: None,
            syncs: None,
            stats: ReadStats::default(),
        })
    }

    /// How the segment ended; `None` until [`LogReader::next_record`] returned `Ok(None)`.
    pub fn end(&self) -> Option<LogEnd> {
        self.end
    }

    /// The counters so far.
    pub fn stats(&self) -> ReadStats {
        self.stats
    }

    /// The length of the file when the reader was made.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// Gives the file back.
    pub fn into_file(self) -> F {
        self.file
    }

    /// The next logical record; `Ok(None)` at the end (see [`LogReader::end`]). An error
    /// (corruption, or a failed read) is sticky: every later call returns it again.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>> {
        match self.advance()? {
            Some(offset) => Ok(Some(Record {
                offset,
                data: &self.record,
            })),
            None => Ok(None),
        }
    }

    /// Moves to the next complete record (left in `self.record`); returns its offset.
    fn advance(&mut self) -> Result<Option<u64>> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.end.is_some() {
            return Ok(None);
        }
        let result = self.advance_unchecked();
        if let Err(e) = &result {
            self.error = Some(e.clone());
        }
        result
    }

    fn advance_unchecked(&mut self) -> Result<Option<u64>> {
        if !self.started {
            self.started = true;
            if !self.read_segment_header()? {
                return Ok(None);
            }
        }
        self.read_records()
    }

    /// Checks the segment header; `false` if the segment ends (torn) before its first record.
    fn read_segment_header(&mut self) -> Result<bool> {
        let mut bytes = [0u8; SEGMENT_HEADER_BYTES];
        let n = (SEGMENT_HEADER_BYTES as u64).min(self.file_len) as usize;
        self.file.read_exact_at(&mut bytes[..n], 0)?;
        let why = match SegmentHeader::decode(&bytes[..n], self.kind) {
            Ok(h) if h.log_number == self.log_number => {
                self.pos = SEGMENT_HEADER_BYTES as u64;
                self.valid_end = self.pos;
                return Ok(true);
            }
            Ok(_) => {
                return Err(Error::corruption(
                    "segment belongs to another log number",
                    0,
                ))
            }
            Err(SegmentHeaderError::UnsupportedVersion(v)) => {
                return Err(Error::UnsupportedFormat {
                    what: "log segment",
                    version: v,
                })
            }
            Err(SegmentHeaderError::Invalid(why)) => why,
        };
        // A damaged header is a torn creation, unless a `Sync` record vouches for it.
        let (_, announced) = self.scan_syncs(SEGMENT_HEADER_BYTES as u64)?;
        if self.options.sealed || announced.first().is_some_and(|&a| a > 0) {
            return Err(Error::corruption(why, 0));
        }
        self.end = Some(LogEnd::Torn {
            offset: 0,
            damage_offset: 0,
            file_len: self.file_len,
            reason: why,
        });
        Ok(false)
    }

    /// Loads the block holding `pos` unless it is loaded.
    fn load_block(&mut self) -> Result<()> {
        let start = self.pos - self.pos % BLOCK_BYTES as u64;
        if self.block_start == Some(start) {
            return Ok(());
        }
        let len = (BLOCK_BYTES as u64).min(self.file_len.saturating_sub(start)) as usize;
        self.block.resize(len, 0);
        self.file.read_exact_at(&mut self.block, start)?;
        self.block_start = Some(start);
        Ok(())
    }

    fn read_records(&mut self) -> Result<Option<u64>> {
        let log_low = log_number_low(self.log_number);
        loop {
            if self.pos >= self.file_len {
                return self.at_eof();
            }
            self.load_block()?;
            let in_block = (self.pos % BLOCK_BYTES as u64) as usize;
            let at = self.pos;
            let bytes = self.block.get(in_block..).unwrap_or(&[]);
            let (kind, total) = match parse_fragment(bytes, BLOCK_BYTES - in_block, log_low) {
                Fragment::Trailer => {
                    self.pos = next_block(at);
                    continue;
                }
                Fragment::Eof => return self.at_eof(),
                Fragment::Bad(why) => {
                    self.damage(at, why)?;
                    if self.end.is_some() {
                        return Ok(None);
                    }
                    continue;
                }
                Fragment::Good { kind, total, .. } => (kind, total),
            };
            let payload = in_block + HEADER_BYTES..in_block + total;
            self.pos = at + total as u64;
            if let Some(offset) = self.take_fragment(at, kind, payload)? {
                return Ok(Some(offset));
            }
            if self.end.is_some() {
                return Ok(None);
            }
        }
    }

    /// Applies one valid fragment at `at`; returns the offset of a completed logical record.
    fn take_fragment(
        &mut self,
        at: u64,
        kind: RecordType,
        payload: core::ops::Range<usize>,
    ) -> Result<Option<u64>> {
        let in_record = self.record_start.is_some();
        match kind {
            RecordType::Sync => {
                if in_record {
                    self.damage(at, "sync record inside a logical record")?;
                } else if sync_value(&self.block[payload]) > at {
                    self.damage(at, "sync record announces more than precedes it")?;
                } else {
                    self.stats.sync_records += 1;
                    self.resyncing = false;
                    self.valid_end = self.pos;
                }
                Ok(None)
            }
            RecordType::Full | RecordType::First if in_record => {
                self.damage(at, "record starts inside a logical record")?;
                Ok(None)
            }
            RecordType::Middle | RecordType::Last if !in_record => {
                if self.resyncing {
                    self.stats.skipped_bytes += self.pos - at;
                } else {
                    self.damage(at, "fragment without a first fragment")?;
                }
                Ok(None)
            }
            RecordType::Full | RecordType::First => {
                self.resyncing = false;
                self.record.clear();
                self.record_start = Some(at);
                self.push_payload(at, payload)?;
                Ok(if kind == RecordType::Full {
                    self.complete()
                } else {
                    None
                })
            }
            RecordType::Middle | RecordType::Last => {
                self.push_payload(at, payload)?;
                Ok(if kind == RecordType::Last {
                    self.complete()
                } else {
                    None
                })
            }
        }
    }

    fn push_payload(&mut self, at: u64, payload: core::ops::Range<usize>) -> Result<()> {
        if self.record.len() + payload.len() > self.options.record_bytes_max {
            return Err(Error::corruption(
                "logical record longer than record_bytes_max",
                self.record_start.unwrap_or(at),
            ));
        }
        self.record.extend_from_slice(&self.block[payload]);
        Ok(())
    }

    fn complete(&mut self) -> Option<u64> {
        let start = self.record_start.take()?;
        self.valid_end = self.pos;
        self.stats.records += 1;
        self.stats.record_bytes += self.record.len() as u64;
        Some(start)
    }

    fn at_eof(&mut self) -> Result<Option<u64>> {
        if self.record_start.is_some() {
            self.damage(self.pos.min(self.file_len), "incomplete record at the end")?;
            if self.end.is_some() {
                return Ok(None);
            }
        }
        self.end = Some(LogEnd::Clean {
            offset: self.valid_end,
        });
        Ok(None)
    }

    /// Handles damage found at `at`: ends the log (torn), fails (corruption), or skips.
    fn damage(&mut self, at: u64, why: &'static str) -> Result<()> {
        let cut = self.record_start.unwrap_or(at);
        if !self.options.sealed && !self.durable_past(at)? {
            self.end = Some(LogEnd::Torn {
                offset: cut,
                damage_offset: at,
                file_len: self.file_len,
                reason: why,
            });
            return Ok(());
        }
        if !self.options.skip_corrupt {
            return Err(Error::corruption(why, at));
        }
        let resume = match self.fragment_after(at)? {
            Some(next) => next,
            None => next_block(at).min(self.file_len.max(at)),
        };
        self.stats.skipped_regions += 1;
        self.stats.skipped_bytes += resume.saturating_sub(cut);
        self.record.clear();
        self.record_start = None;
        self.resyncing = true;
        self.pos = resume;
        Ok(())
    }

    /// Where a valid fragment follows the damaged one at `at` in the same block, judging by
    /// the damaged fragment's length field (a checksum failure usually leaves it intact).
    fn fragment_after(&mut self, at: u64) -> Result<Option<u64>> {
        if at >= self.file_len {
            return Ok(None);
        }
        self.pos = at;
        self.load_block()?;
        let in_block = (at % BLOCK_BYTES as u64) as usize;
        let Some(header) = self.block.get(in_block..in_block + HEADER_BYTES) else {
            return Ok(None);
        };
        let len =
            u16::from_le_bytes([header[field::LENGTH.start], header[field::LENGTH.start + 1]]);
        let next = in_block + HEADER_BYTES + len as usize;
        if next + HEADER_BYTES > BLOCK_BYTES {
            return Ok(None);
        }
        let bytes = self.block.get(next..).unwrap_or(&[]);
        let log_low = log_number_low(self.log_number);
        Ok(match parse_fragment(bytes, BLOCK_BYTES - next, log_low) {
            Fragment::Good { .. } => Some(at - in_block as u64 + next as u64),
            _ => None,
        })
    }

    /// Whether a valid `Sync` record after `at` announces a durable offset past `at`.
    fn durable_past(&mut self, at: u64) -> Result<bool> {
        if self.syncs.is_none() {
            self.syncs = Some(self.scan_syncs(next_block(at))?);
        }
        let Some((offsets, suffix_max)) = &self.syncs else {
            return Ok(false);
        };
        let i = offsets.partition_point(|&o| o <= at);
        Ok(suffix_max.get(i).is_some_and(|&announced| announced > at))
    }

    /// Finds the valid `Sync` records from fragment boundary `from` on, with the maximum
    /// announcement from each one on.
    fn scan_syncs(&self, from: u64) -> Result<(Vec<u64>, Vec<u64>)> {
        let log_low = log_number_low(self.log_number);
        let mut offsets = Vec::new();
        let mut announced = Vec::new();
        let mut block = Vec::new();
        let mut start = from - from % BLOCK_BYTES as u64;
        let mut i = (from % BLOCK_BYTES as u64) as usize;
        while start < self.file_len {
            let len = (BLOCK_BYTES as u64).min(self.file_len - start) as usize;
            block.resize(len, 0);
            self.file.read_exact_at(&mut block, start)?;
            while let Fragment::Good {
                kind,
                payload,
                total,
            } = parse_fragment(block.get(i..).unwrap_or(&[]), BLOCK_BYTES - i, log_low)
            {
                let at = start + i as u64;
                if kind == RecordType::Sync && sync_value(payload) <= at {
                    offsets.push(at);
                    announced.push(sync_value(payload));
                }
                i += total;
            }
            start += BLOCK_BYTES as u64;
            i = 0;
        }
        let mut suffix_max = announced;
        for i in (0..suffix_max.len().saturating_sub(1)).rev() {
            suffix_max[i] = suffix_max[i].max(suffix_max[i + 1]);
        }
        Ok((offsets, suffix_max))
    }
}
