//! The write-ahead log format: segment files of fixed-size blocks holding checksummed,
//! fragmented records, and the encoding of a write batch as one logical record.
//!
//! ```text
//!   segment = | segment header (32 B) | records ... | block 1 | block 2 | ...   (32 KiB blocks)
//!   record  = | masked crc32c u32 | length u16 | type u8 | log number u32 | payload |
//!             |<----------------- HEADER_BYTES = 11 ----------------->|
//! ```
//!
//! A logical record (one encoded [`batch`]) is cut into fragments that never cross a block
//! boundary (`Full`, or `First`, `Middle`..., `Last`). When fewer than [`HEADER_BYTES`] remain
//! in a block, the writer fills them with zeros and continues in the next block. Each fragment
//! carries the low 32 bits of the segment's log number under its checksum, so a block left
//! over from a recycled file or copied from another segment is never accepted.
//!
//! After each successful sync the writer emits a small `Sync` record holding the offset up to
//! which the segment was durable. The reader uses those records to tell a torn tail from
//! corruption: damage at offset `h` followed by a valid `Sync` record that vouches for an offset
//! past `h` was durable, so it is corruption; any other damage lies in bytes a crash was
//! allowed to lose, and the log is cut there. See [`reader`] and `docs/storage-format.md`.
//!
//! The layer is generic over [`ppdb_platform::File`]: [`LogWriter`] appends with positional
//! writes, [`LogReader`] reads with positional reads. The manifest uses the same framing with
//! its own magic bytes ([`LogKind`]).

pub mod batch;
pub mod reader;
pub mod writer;

#[cfg(test)]
mod tests;

pub use batch::{BatchDecoder, BatchEncoder, BatchHeader, WalOp};
pub use reader::{LogEnd, LogReader, ReadOptions, ReadStats, Record};
pub use writer::LogWriter;

use crate::format::{self, crc32c, Cursor};

/// The size of a block: fragments never cross a multiple of this offset.
pub const BLOCK_BYTES: usize = 32 * 1024;

/// The size of a fragment's header.
pub const HEADER_BYTES: usize = 11;
const _: () = assert!(HEADER_BYTES == 4 + 2 + 1 + 4);

/// The size of the segment header at the start of block 0.
pub const SEGMENT_HEADER_BYTES: usize = 32;
const _: () = assert!(SEGMENT_HEADER_BYTES == 8 + 4 + 4 + 8 + 4 + 4);
const _: () = assert!(SEGMENT_HEADER_BYTES + HEADER_BYTES <= BLOCK_BYTES);

/// The largest payload of one fragment.
pub const FRAGMENT_BYTES_MAX: usize = BLOCK_BYTES - HEADER_BYTES;
const _: () = assert!(FRAGMENT_BYTES_MAX <= u16::MAX as usize);

/// The size of a `Sync` record's payload (the durable offset, `u64`).
pub const SYNC_PAYLOAD_BYTES: usize = 8;

/// The default bound on one logical record, for writers and readers alike: a reader treats a
/// longer record as corruption rather than allocating without limit.
pub const RECORD_BYTES_MAX_DEFAULT: usize = 256 << 20;

/// Byte offsets of the fields of a fragment header.
pub mod field {
    use core::ops::Range;

    /// Masked CRC32C of bytes `4..HEADER_BYTES` and the payload.
    pub const CRC: Range<usize> = 0..4;
    /// Payload length, `u16`.
    pub const LENGTH: Range<usize> = 4..6;
    /// [`super::RecordType`], one byte.
    pub const TYPE: usize = 6;
    /// Low 32 bits of the segment's log number.
    pub const LOG_NUMBER: Range<usize> = 7..11;
}

/// The type byte of a fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum RecordType {
    /// A whole logical record.
    Full = 1,
    /// The first fragment of a logical record.
    First = 2,
    /// A fragment between the first and the last.
    Middle = 3,
    /// The last fragment of a logical record.
    Last = 4,
    /// Not part of a logical record: the offset up to which the segment was durable when it
    /// was written (`u64`).
    Sync = 5,
}

impl RecordType {
    /// The type of a byte; `None` for 0 (zero fill) and unknown values.
    pub fn from_byte(b: u8) -> Option<RecordType> {
        match b {
            1 => Some(RecordType::Full),
            2 => Some(RecordType::First),
            3 => Some(RecordType::Middle),
            4 => Some(RecordType::Last),
            5 => Some(RecordType::Sync),
            _ => None,
        }
    }
}

/// Which log a segment belongs to; each kind has its own magic bytes, so a manifest is never
/// read as a WAL segment or the other way round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogKind {
    /// A write-ahead log segment (`format::WAL_MAGIC`).
    Wal,
    /// A manifest (`format::MANIFEST_MAGIC`).
    Manifest,
}

impl LogKind {
    /// The magic bytes of this kind.
    pub fn magic(self) -> [u8; 8] {
        match self {
            LogKind::Wal => format::WAL_MAGIC,
            LogKind::Manifest => format::MANIFEST_MAGIC,
        }
    }
}

/// The header at offset 0 of a segment.
///
/// ```text
///   0  magic [8]          "PPDB-WAL" or "PPDB-MAN"
///   8  version u32        LOG_FORMAT_VERSION
///  12  block bytes u32    BLOCK_BYTES
///  16  log number u64
///  24  reserved u32       zero
///  28  masked crc32c u32  of bytes 0..28
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentHeader {
    /// The log this segment belongs to.
    pub kind: LogKind,
    /// The segment's number (also in its file name).
    pub log_number: u64,
}

/// Why a segment header was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentHeaderError {
    /// Not a header at all: wrong magic or checksum, too short (a torn creation looks so).
    Invalid(&'static str),
    /// A valid header of a version this code cannot read.
    UnsupportedVersion(u32),
}

impl SegmentHeader {
    /// The header's bytes.
    pub fn encode(&self) -> [u8; SEGMENT_HEADER_BYTES] {
        let mut out = [0u8; SEGMENT_HEADER_BYTES];
        out[0..8].copy_from_slice(&self.kind.magic());
        out[8..12].copy_from_slice(&format::LOG_FORMAT_VERSION.to_le_bytes());
        out[12..16].copy_from_slice(&(BLOCK_BYTES as u32).to_le_bytes());
        out[16..24].copy_from_slice(&self.log_number.to_le_bytes());
        let crc = crc32c::mask(crc32c::checksum(&out[..28]));
        out[28..32].copy_from_slice(&crc.to_le_bytes());
        out
    }

    /// Decodes and checks a header of the given kind.
    pub fn decode(bytes: &[u8], kind: LogKind) -> Result<SegmentHeader, SegmentHeaderError> {
        let invalid = SegmentHeaderError::Invalid;
        let header = bytes
            .get(..SEGMENT_HEADER_BYTES)
            .ok_or(invalid("segment header truncated"))?;
        let mut c = Cursor::new(header);
        let magic: [u8; 8] = c.array().ok_or(invalid("segment header truncated"))?;
        let version = c.u32_le().ok_or(invalid("segment header truncated"))?;
        let block = c.u32_le().ok_or(invalid("segment header truncated"))?;
        let log_number = c.u64_le().ok_or(invalid("segment header truncated"))?;
        let _reserved = c.u32_le().ok_or(invalid("segment header truncated"))?;
        let crc = c.u32_le().ok_or(invalid("segment header truncated"))?;
        if magic != kind.magic() {
            return Err(invalid("bad segment magic"));
        }
        if crc32c::unmask(crc) != crc32c::checksum(&header[..28]) {
            return Err(invalid("segment header checksum mismatch"));
        }
        if version != format::LOG_FORMAT_VERSION {
            return Err(SegmentHeaderError::UnsupportedVersion(version));
        }
        if block as usize != BLOCK_BYTES {
            return Err(invalid("segment block size differs"));
        }
        Ok(SegmentHeader { kind, log_number })
    }
}

/// Encodes one fragment header for `payload`; the checksum covers bytes 4..11 and the payload.
pub fn encode_fragment_header(
    kind: RecordType,
    log_number: u64,
    payload: &[u8],
) -> [u8; HEADER_BYTES] {
    assert!(
        payload.len() <= FRAGMENT_BYTES_MAX,
        "fragment larger than a block"
    );
    let mut h = [0u8; HEADER_BYTES];
    h[field::LENGTH].copy_from_slice(&(payload.len() as u16).to_le_bytes());
    h[field::TYPE] = kind as u8;
    h[field::LOG_NUMBER].copy_from_slice(&log_number_low(log_number).to_le_bytes());
    let crc = crc32c::extend(crc32c::checksum(&h[4..]), payload);
    h[field::CRC].copy_from_slice(&crc32c::mask(crc).to_le_bytes());
    h
}

/// The 32 bits of a log number that each fragment carries.
pub fn log_number_low(log_number: u64) -> u32 {
    log_number as u32
}
