//! The SSTable format: an immutable, sorted file of versions.
//!
//! ```text
//!   table = | data block + trailer | ... | filter block + trailer | properties block + trailer |
//!           | index block + trailer | footer (64 B) |
//!   block trailer = | compression u8 | masked crc32c u32 of the contents and the compression byte |
//! ```
//!
//! - **Data blocks** (about [`TableOptions::block_bytes`], 4 KiB) hold entries sorted by
//!   internal key, prefix-compressed with a restart point every 16 keys ([`block`]).
//! - **Internal key** = user key ++ `(seq << 8 | kind)` as `u64` LE: ordered by user key
//!   ascending, then sequence descending ([`compare_internal`]).
//! - **Entry value** = `flags varint | expire_at varint | cas_origin varint | tags u8 | value`.
//! - **Filter block**: a bloom filter over the user keys ([`bloom`]).
//! - **Properties block**: counts, key and sequence ranges ([`TableProperties`]).
//! - **Index block**: one entry per data block, key = the block's last internal key,
//!   value = `offset varint | size varint`; a block format with a restart at every entry.
//! - **Footer**: block handles of index, filter and properties, the format version, the magic
//!   bytes `PPDB-SST` and a checksum ([`Footer`]).
//!
//! Every block goes through [`TableReader::read_block`], which checks the checksum and the
//! compression byte (only [`Compression::None`] exists yet): a block cache and compression plug
//! in there without changing the format.

pub mod block;
pub mod bloom;
pub mod reader;
pub mod writer;

#[cfg(test)]
mod tests;

pub use reader::{TableEntry, TableIter, TableReader};
pub use writer::TableWriter;

use alloc::vec::Vec;
use core::cmp::Ordering;

use crate::format::{self, crc32c, varint, Cursor};
use crate::memtable::{PutOptions, ValueKind, TAGS_MAX};
use crate::{Error, Result};

/// The size of a block trailer (compression byte and checksum).
pub const BLOCK_TRAILER_BYTES: usize = 5;

/// The size of the footer.
pub const FOOTER_BYTES: usize = 64;
const _: () = assert!(FOOTER_BYTES == 3 * 16 + 4 + 8 + 4);

/// The size of the internal key trailer (`seq << 8 | kind`).
pub const KEY_TRAILER_BYTES: usize = 8;

/// The largest sequence number a table can hold (56 bits: the low byte of the trailer holds
/// the kind).
pub const SEQ_MAX: u64 = (1 << 56) - 1;

/// How a block's contents are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Compression {
    /// Stored as is.
    None = 0,
}

impl Compression {
    /// The compression of a trailer byte; `None` for types this code cannot read.
    pub fn from_byte(b: u8) -> Option<Compression> {
        match b {
            0 => Some(Compression::None),
            _ => None,
        }
    }
}

/// Knobs of the table writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableOptions {
    /// Target size of a data block's contents; a block is cut once it reaches this size.
    pub block_bytes: usize,
    /// A restart point every this many entries in data blocks.
    pub restart_interval: usize,
    /// Bloom filter bits per distinct user key (0: no filter block).
    pub bloom_bits_per_key: usize,
    /// How blocks are stored.
    pub compression: Compression,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            block_bytes: 4096,
            restart_interval: 16,
            bloom_bits_per_key: 10,
            compression: Compression::None,
        }
    }
}

/// Where a block lies in the file: its contents' offset and size (the trailer follows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BlockHandle {
    /// Offset of the contents.
    pub offset: u64,
    /// Size of the contents, without the trailer.
    pub size: u64,
}

impl BlockHandle {
    /// Appends the handle as two varints (the index block's values).
    pub fn encode_varint(&self, out: &mut Vec<u8>) {
        varint::put_u64(out, self.offset);
        varint::put_u64(out, self.size);
    }

    /// Decodes a handle written by [`BlockHandle::encode_varint`] (and nothing after it).
    pub fn decode_varint(bytes: &[u8]) -> Option<BlockHandle> {
        let mut c = Cursor::new(bytes);
        let h = BlockHandle {
            offset: c.varint_u64()?,
            size: c.varint_u64()?,
        };
        c.is_empty().then_some(h)
    }
}

/// The fixed-size end of a table.
///
/// ```text
///   0  index offset u64      8  index size u64
///  16  filter offset u64    24  filter size u64      (size 0: no filter)
///  32  properties offset u64 40 properties size u64
///  48  format version u32
///  52  magic "PPDB-SST"
///  60  masked crc32c u32 of bytes 0..60
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Footer {
    /// The index block.
    pub index: BlockHandle,
    /// The filter block (size 0 when the table has none).
    pub filter: BlockHandle,
    /// The properties block.
    pub properties: BlockHandle,
}

impl Footer {
    /// The footer's bytes.
    pub fn encode(&self) -> [u8; FOOTER_BYTES] {
        let mut out = [0u8; FOOTER_BYTES];
        let handles = [self.index, self.filter, self.properties];
        for (i, h) in handles.iter().enumerate() {
            out[16 * i..16 * i + 8].copy_from_slice(&h.offset.to_le_bytes());
            out[16 * i + 8..16 * i + 16].copy_from_slice(&h.size.to_le_bytes());
        }
        out[48..52].copy_from_slice(&format::TABLE_FORMAT_VERSION.to_le_bytes());
        out[52..60].copy_from_slice(&format::TABLE_MAGIC);
        let crc = crc32c::mask(crc32c::checksum(&out[..60]));
        out[60..64].copy_from_slice(&crc.to_le_bytes());
        out
    }

    /// Decodes and checks the footer found at `offset`.
    pub fn decode(bytes: &[u8; FOOTER_BYTES], offset: u64) -> Result<Footer> {
        let corrupt = |what| Error::corruption(what, offset);
        if bytes[52..60] != format::TABLE_MAGIC {
            return Err(corrupt("bad table magic"));
        }
        let mut crc = [0u8; 4];
        crc.copy_from_slice(&bytes[60..64]);
        if crc32c::unmask(u32::from_le_bytes(crc)) != crc32c::checksum(&bytes[..60]) {
            return Err(corrupt("table footer checksum mismatch"));
        }
        let mut c = Cursor::new(&bytes[..]);
        let mut handle = || -> Option<BlockHandle> {
            Some(BlockHandle {
                offset: c.u64_le()?,
                size: c.u64_le()?,
            })
        };
        let (index, filter, properties) = match (handle(), handle(), handle()) {
            (Some(i), Some(f), Some(p)) => (i, f, p),
            _ => return Err(corrupt("table footer truncated")),
        };
        let mut v = [0u8; 4];
        v.copy_from_slice(&bytes[48..52]);
        let version = u32::from_le_bytes(v);
        if version != format::TABLE_FORMAT_VERSION {
            return Err(Error::UnsupportedFormat {
                what: "table",
                version,
            });
        }
        Ok(Footer {
            index,
            filter,
            properties,
        })
    }
}

/// Appends the internal key of `(user_key, seq, kind)` to `out`.
pub fn put_internal_key(out: &mut Vec<u8>, user_key: &[u8], seq: u64, kind: ValueKind) {
    out.extend_from_slice(user_key);
    out.extend_from_slice(&((seq << 8) | kind as u64).to_le_bytes());
}

/// Splits an internal key into user key, sequence and kind byte; `None` if it is too short.
pub fn split_internal_key(key: &[u8]) -> Option<(&[u8], u64, u8)> {
    let at = key.len().checked_sub(KEY_TRAILER_BYTES)?;
    let mut t = [0u8; 8];
    t.copy_from_slice(&key[at..]);
    let trailer = u64::from_le_bytes(t);
    Some((&key[..at], trailer >> 8, trailer as u8))
}

/// Orders internal keys: user key ascending, then trailer (sequence, then kind) descending.
/// Keys too short to hold a trailer order first.
pub fn compare_internal(a: &[u8], b: &[u8]) -> Ordering {
    match (split_internal_key(a), split_internal_key(b)) {
        (Some((ua, sa, ka)), Some((ub, sb, kb))) => {
            ua.cmp(ub).then_with(|| (sb, kb).cmp(&(sa, ka)))
        }
        (x, y) => x.is_some().cmp(&y.is_some()),
    }
}

/// The seek target that lands on the newest version of `user_key` at or below `seq`.
pub fn seek_key(user_key: &[u8], seq: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(user_key.len() + KEY_TRAILER_BYTES);
    k.extend_from_slice(user_key);
    k.extend_from_slice(&((seq.min(SEQ_MAX) << 8) | 0xff).to_le_bytes());
    k
}

/// Appends an entry value: the version's options, then its value bytes.
pub fn put_entry_value(out: &mut Vec<u8>, options: &PutOptions, value: &[u8]) {
    varint::put_u64(out, u64::from(options.flags));
    varint::put_u64(out, options.expire_at);
    varint::put_u64(out, options.cas_origin);
    out.push(options.tags & TAGS_MAX);
    out.extend_from_slice(value);
}

/// Decodes an entry value into the options and the offset of the value bytes in it.
pub fn decode_entry_value(bytes: &[u8]) -> Option<(PutOptions, usize)> {
    let mut c = Cursor::new(bytes);
    let flags = c.varint_u32()?;
    let expire_at = c.varint_u64()?;
    let cas_origin = c.varint_u64()?;
    let tags = c.u8()?;
    if tags > TAGS_MAX {
        return None;
    }
    let options = PutOptions {
        flags,
        expire_at,
        cas_origin,
        tags,
    };
    Some((options, c.position()))
}

/// The kind of a trailer's kind byte; `None` for unknown kinds.
pub fn kind_from_byte(b: u8) -> Option<ValueKind> {
    match b {
        0 => Some(ValueKind::Tombstone),
        1 => Some(ValueKind::Value),
        _ => None,
    }
}

/// What a table holds, recorded in its properties block (and returned by the writer, for the
/// manifest).
///
/// ```text
///   properties = | entries varint | data blocks varint | tombstones varint | seq min varint |
///                | seq max varint | key bytes varint | value bytes varint |
///                | smallest user key (varint length, bytes) | largest user key (likewise) |
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableProperties {
    /// Versions in the table.
    pub entries: u64,
    /// Data blocks.
    pub data_blocks: u64,
    /// Versions that are tombstones.
    pub tombstones: u64,
    /// The smallest sequence number (0 if empty).
    pub seq_min: u64,
    /// The largest sequence number (0 if empty).
    pub seq_max: u64,
    /// Total user key bytes of the entries.
    pub key_bytes: u64,
    /// Total value bytes of the entries.
    pub value_bytes: u64,
    /// The smallest user key (empty if the table is empty).
    pub smallest_key: Vec<u8>,
    /// The largest user key.
    pub largest_key: Vec<u8>,
    /// The file's size in bytes.
    pub file_bytes: u64,
}

impl TableProperties {
    /// The properties block's contents (without `file_bytes`, which is the file's length).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for v in [
            self.entries,
            self.data_blocks,
            self.tombstones,
            self.seq_min,
            self.seq_max,
            self.key_bytes,
            self.value_bytes,
        ] {
            varint::put_u64(&mut out, v);
        }
        varint::put_len_prefixed(&mut out, &self.smallest_key);
        varint::put_len_prefixed(&mut out, &self.largest_key);
        out
    }

    /// Decodes a properties block.
    pub fn decode(bytes: &[u8], file_bytes: u64) -> Option<TableProperties> {
        let mut c = Cursor::new(bytes);
        let p = TableProperties {
            entries: c.varint_u64()?,
            data_blocks: c.varint_u64()?,
            tombstones: c.varint_u64()?,
            seq_min: c.varint_u64()?,
            seq_max: c.varint_u64()?,
            key_bytes: c.varint_u64()?,
            value_bytes: c.varint_u64()?,
            smallest_key: c.len_prefixed()?.to_vec(),
            largest_key: c.len_prefixed()?.to_vec(),
            file_bytes,
        };
        c.is_empty().then_some(p)
    }
}

/// The trailer of a block's `contents` stored with `compression`.
pub fn block_trailer(contents: &[u8], compression: Compression) -> [u8; BLOCK_TRAILER_BYTES] {
    let mut t = [0u8; BLOCK_TRAILER_BYTES];
    t[0] = compression as u8;
    let crc = crc32c::extend(crc32c::checksum(contents), &t[..1]);
    t[1..5].copy_from_slice(&crc32c::mask(crc).to_le_bytes());
    t
}
