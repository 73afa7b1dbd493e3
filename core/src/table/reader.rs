//! [`TableReader`]: point lookups and ordered iteration over a table file.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ops::Range;

use ppdb_platform::File;

use super::block::{Block, BlockIter};
use super::bloom::BloomFilter;
use super::{
    compare_internal, decode_entry_value, kind_from_byte, seek_key, split_internal_key,
    BlockHandle, Compression, Footer, TableProperties, BLOCK_TRAILER_BYTES, FOOTER_BYTES,
};
use crate::format::crc32c;
use crate::memtable::{PutOptions, ValueKind, VersionRef};
use crate::{Error, Result};

/// One version read from a table. The value stays in its block (shared, not copied).
#[derive(Debug, Clone)]
pub struct TableEntry {
    /// The user key.
    pub key: Vec<u8>,
    /// The sequence number.
    pub seq: u64,
    /// Value or tombstone.
    pub kind: ValueKind,
    /// Flags, expiry, CAS origin and tags.
    pub options: PutOptions,
    block: Arc<[u8]>,
    value: Range<usize>,
}

impl TableEntry {
    /// The value bytes (empty for a tombstone).
    pub fn value(&self) -> &[u8] {
        &self.block[self.value.clone()]
    }

    /// The entry as the engine's version type.
    pub fn as_version(&self) -> VersionRef<'_> {
        VersionRef {
            key: &self.key,
            seq: self.seq,
            kind: self.kind,
            flags: self.options.flags,
            expire_at: self.options.expire_at,
            cas_origin: self.options.cas_origin,
            tags: self.options.tags,
            value: self.value(),
            blob: None,
        }
    }
}

/// The parts of the current entry of a data block iterator.
#[derive(Debug, Clone, Copy)]
struct Parsed {
    seq: u64,
    kind: ValueKind,
    options: PutOptions,
    /// Offset of the value bytes within the entry value.
    value_at: usize,
}

fn parse_current(it: &BlockIter, block_offset: u64) -> Result<Parsed> {
    let corrupt = |what| Error::corruption(what, block_offset);
    let (_, seq, kind) =
        split_internal_key(it.key()).ok_or(corrupt("table key shorter than its trailer"))?;
    let kind = kind_from_byte(kind).ok_or(corrupt("table entry of unknown kind"))?;
    let (options, value_at) =
        decode_entry_value(it.value()).ok_or(corrupt("table entry value malformed"))?;
    Ok(Parsed {
        seq,
        kind,
        options,
        value_at,
    })
}

/// Reads the block at `handle` from a table file of `file_len` bytes and checks its trailer.
fn read_block<F: File>(file: &F, file_len: u64, handle: BlockHandle) -> Result<Arc<[u8]>> {
    let corrupt = |what| Error::corruption(what, handle.offset);
    let body_end = file_len.saturating_sub(FOOTER_BYTES as u64);
    let end = handle
        .offset
        .checked_add(handle.size)
        .and_then(|e| e.checked_add(BLOCK_TRAILER_BYTES as u64))
        .filter(|&e| e <= body_end)
        .ok_or(corrupt("block handle out of range"))?;
    let mut bytes = alloc::vec![0u8; (end - handle.offset) as usize];
    file.read_exact_at(&mut bytes, handle.offset)?;
    let size = handle.size as usize;
    let mut crc = [0u8; 4];
    crc.copy_from_slice(&bytes[size + 1..]);
    if crc32c::unmask(u32::from_le_bytes(crc)) != crc32c::checksum(&bytes[..size + 1]) {
        return Err(corrupt("block checksum mismatch"));
    }
    match Compression::from_byte(bytes[size]) {
        Some(Compression::None) => {}
        None => {
            return Err(Error::UnsupportedFormat {
                what: "block compression",
                version: u32::from(bytes[size]),
            })
        }
    }
    bytes.truncate(size);
    Ok(Arc::from(bytes))
}

/// An open table: footer, index, filter and properties are read and checked at open and kept
/// in memory; data blocks are read on demand through [`TableReader::read_block`].
#[derive(Debug)]
pub struct TableReader<F: File> {
    file: F,
    file_len: u64,
    index: Block,
    filter: Option<BloomFilter>,
    properties: TableProperties,
}

impl<F: File> TableReader<F> {
    /// Opens the table in `file`, checking its footer and its metadata blocks.
    pub fn open(file: F) -> Result<Self> {
        let file_len = file.len()?;
        let footer_at = file_len
            .checked_sub(FOOTER_BYTES as u64)
            .ok_or(Error::corruption("table shorter than its footer", 0))?;
        let mut footer = [0u8; FOOTER_BYTES];
        file.read_exact_at(&mut footer, footer_at)?;
        let footer = Footer::decode(&footer, footer_at)?;
        let index = Block::new(
            read_block(&file, file_len, footer.index)?,
            footer.index.offset,
        )?;
        let filter = if footer.filter.size > 0 {
            let block = read_block(&file, file_len, footer.filter)?;
            Some(BloomFilter::new(block.to_vec()).ok_or(Error::corruption(
                "malformed filter block",
                footer.filter.offset,
            ))?)
        } else {
            None
        };
        let properties = read_block(&file, file_len, footer.properties)?;
        let properties = TableProperties::decode(&properties, file_len).ok_or(
            Error::corruption("malformed properties block", footer.properties.offset),
        )?;
        Ok(TableReader {
            file,
            file_len,
            index,
            filter,
            properties,
        })
    }

    /// What the table holds.
    pub fn properties(&self) -> &TableProperties {
        &self.properties
    }

    /// The file.
    pub fn file(&self) -> &F {
        &self.file
    }

    /// Reads a block and checks its trailer: the one place blocks come from the file (a block
    /// cache goes here, and decompression).
    pub fn read_block(&self, handle: BlockHandle) -> Result<Arc<[u8]>> {
        read_block(&self.file, self.file_len, handle)
    }

    /// Reads the data block an index entry points to.
    fn data_block(&self, index: &BlockIter) -> Result<(Block, u64)> {
        let handle = BlockHandle::decode_varint(index.value())
            .ok_or(Error::corruption("malformed index entry", 0))?;
        Ok((
            Block::new(self.read_block(handle)?, handle.offset)?,
            handle.offset,
        ))
    }

    /// Whether the filter allows that `user_key` is in the table (`true` without a filter).
    pub fn may_contain(&self, user_key: &[u8]) -> bool {
        self.filter.as_ref().is_none_or(|f| f.may_contain(user_key))
    }

    /// The newest version of `user_key` with a sequence number at or below `snapshot_seq`.
    pub fn get(&self, user_key: &[u8], snapshot_seq: u64) -> Result<Option<TableEntry>> {
        if !self.may_contain(user_key) {
            return Ok(None);
        }
        let mut it = self.iter();
        it.seek(user_key, snapshot_seq)?;
        Ok(it.entry().filter(|e| e.key == user_key))
    }

    #[cfg(test)]
    pub(crate) fn index_for_tests(&self) -> BlockIter {
        self.index.iter()
    }

    /// An iterator over the table, in internal-key order; position it with
    /// [`TableIter::seek_to_first`] or [`TableIter::seek`], then step with [`TableIter::advance`].
    pub fn iter(&self) -> TableIter<'_, F> {
        TableIter {
            table: self,
            index: self.index.iter(),
            data: None,
        }
    }
}

/// A cursor over the versions of a table.
#[derive(Debug)]
pub struct TableIter<'t, F: File> {
    table: &'t TableReader<F>,
    index: BlockIter,
    /// The current data block's iterator, its file offset, and the parsed current entry.
    data: Option<(BlockIter, u64, Option<Parsed>)>,
}

impl<F: File> TableIter<'_, F> {
    /// Positions on the first version.
    pub fn seek_to_first(&mut self) -> Result<()> {
        self.index.seek_to_first()?;
        self.load_block(|it| it.seek_to_first())?;
        self.skip_exhausted_blocks()
    }

    /// Positions on the first version at or after `(user_key, seq)` in internal-key order:
    /// the newest version of `user_key` at or below `seq` if there is one, else the first
    /// version of the next user key.
    pub fn seek(&mut self, user_key: &[u8], seq: u64) -> Result<()> {
        let target = seek_key(user_key, seq);
        self.index.seek(&target, compare_internal)?;
        self.load_block(|it| it.seek(&target, compare_internal))?;
        self.skip_exhausted_blocks()
    }

    /// Moves to the next version.
    pub fn advance(&mut self) -> Result<()> {
        if let Some((it, offset, parsed)) = &mut self.data {
            it.advance()?;
            *parsed = if it.valid() {
                Some(parse_current(it, *offset)?)
            } else {
                None
            };
        }
        self.skip_exhausted_blocks()
    }

    /// Whether the iterator is on a version.
    pub fn valid(&self) -> bool {
        matches!(&self.data, Some((_, _, Some(_))))
    }

    /// The current version, borrowed from the iterator.
    pub fn current(&self) -> Option<VersionRef<'_>> {
        let (it, _, Some(p)) = self.data.as_ref()? else {
            return None;
        };
        let (key, _, _) = split_internal_key(it.key())?;
        Some(VersionRef {
            key,
            seq: p.seq,
            kind: p.kind,
            flags: p.options.flags,
            expire_at: p.options.expire_at,
            cas_origin: p.options.cas_origin,
            tags: p.options.tags,
            value: &it.value()[p.value_at..],
            blob: None,
        })
    }

    /// The current version, sharing its block.
    pub fn entry(&self) -> Option<TableEntry> {
        let (it, _, Some(p)) = self.data.as_ref()? else {
            return None;
        };
        let (key, _, _) = split_internal_key(it.key())?;
        let value = it.value_range();
        Some(TableEntry {
            key: key.to_vec(),
            seq: p.seq,
            kind: p.kind,
            options: p.options,
            block: it.block_data().clone(),
            value: value.start + p.value_at..value.end,
        })
    }

    /// Loads the data block of the current index entry and positions in it with `position`.
    fn load_block(&mut self, position: impl FnOnce(&mut BlockIter) -> Result<()>) -> Result<()> {
        self.data = None;
        if !self.index.valid() {
            return Ok(());
        }
        let (block, offset) = self.table.data_block(&self.index)?;
        let mut it = block.iter();
        position(&mut it)?;
        let parsed = if it.valid() {
            Some(parse_current(&it, offset)?)
        } else {
            None
        };
        self.data = Some((it, offset, parsed));
        Ok(())
    }

    /// Moves past data blocks whose entries are used up.
    fn skip_exhausted_blocks(&mut self) -> Result<()> {
        while matches!(&self.data, Some((_, _, None))) {
            self.index.advance()?;
            self.load_block(|it| it.seek_to_first())?;
        }
        Ok(())
    }
}
