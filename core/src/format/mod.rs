//! Building blocks shared by the on-disk formats: checksums, integer coding, and the magic
//! numbers and versions of every file kind.
//!
//! Every integer on disk is little-endian, written with `to_le_bytes` and read with
//! `from_le_bytes`; variable-length integers are LEB128 ([`varint`]). `docs/storage-format.md`
//! has the byte tables of the files built from these pieces.

pub mod crc32c;
pub mod varint;

/// The magic bytes that open a WAL segment.
pub const WAL_MAGIC: [u8; 8] = *b"PPDB-WAL";
/// The magic bytes that open a manifest (a log with the same framing as the WAL).
pub const MANIFEST_MAGIC: [u8; 8] = *b"PPDB-MAN";
/// The magic bytes that close an SSTable (the last 8 bytes of its footer).
pub const TABLE_MAGIC: [u8; 8] = *b"PPDB-SST";

/// The format version of WAL segments and manifests written by this code.
pub const LOG_FORMAT_VERSION: u32 = 1;
/// The format version of SSTables written by this code.
pub const TABLE_FORMAT_VERSION: u32 = 1;

/// A bounds-checked little-endian cursor over a byte slice. Every read returns `None` when the
/// slice is too short (or a varint is malformed) instead of panicking, so decoders can map it
/// to a corruption error at their own offset.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }

    /// The position of the next byte to read.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The bytes not read yet.
    pub fn remaining(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// Whether every byte was read.
    pub fn is_empty(&self) -> bool {
        self.pos == self.buf.len()
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let out = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N)?);
        Some(out)
    }

    /// One byte.
    pub fn u8(&mut self) -> Option<u8> {
        Some(self.array::<1>()?[0])
    }

    /// A little-endian `u16`.
    pub fn u16_le(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.array()?))
    }

    /// A little-endian `u32`.
    pub fn u32_le(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.array()?))
    }

    /// A little-endian `u64`.
    pub fn u64_le(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.array()?))
    }

    /// A LEB128 `u64` (at most 10 bytes, no bits past 64).
    pub fn varint_u64(&mut self) -> Option<u64> {
        let (v, n) = varint::decode_u64(self.remaining())?;
        self.pos += n;
        Some(v)
    }

    /// A LEB128 `u32` (at most 5 bytes, no bits past 32).
    pub fn varint_u32(&mut self) -> Option<u32> {
        u32::try_from(self.varint_u64()?).ok()
    }

    /// A LEB128 length that must fit in `usize`.
    pub fn varint_len(&mut self) -> Option<usize> {
        usize::try_from(self.varint_u64()?).ok()
    }

    /// A byte string prefixed with its LEB128 length.
    pub fn len_prefixed(&mut self) -> Option<&'a [u8]> {
        let n = self.varint_len()?;
        self.bytes(n)
    }
}
