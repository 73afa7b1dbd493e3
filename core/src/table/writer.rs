//! [`TableWriter`]: writes versions, in internal-key order, into a new table file.

use alloc::vec::Vec;
use core::cmp::Ordering;

use ppdb_platform::File;

use super::block::BlockBuilder;
use super::{
    block_trailer, bloom, compare_internal, put_entry_value, put_internal_key, BlockHandle, Footer,
    TableOptions, TableProperties, SEQ_MAX,
};
use crate::memtable::{PutOptions, ValueKind};
use crate::Result;

/// Writes one table. Versions must be added in internal-key order (user key ascending,
/// sequence descending); each data block is written as soon as it is full, so memory stays
/// bounded by a block plus one 8-byte hash per distinct user key for the filter.
///
/// The writer neither syncs nor names the file: the caller writes to a temporary name, syncs,
/// renames and syncs the directory.
#[derive(Debug)]
pub struct TableWriter<F: File> {
    file: F,
    options: TableOptions,
    offset: u64,
    data: BlockBuilder,
    index: BlockBuilder,
    /// The last internal key added.
    last_key: Vec<u8>,
    hashes: Vec<u64>,
    properties: TableProperties,
    scratch: Vec<u8>,
}

impl<F: File> TableWriter<F> {
    /// A writer into `file` (opened empty).
    pub fn new(file: F, options: TableOptions) -> Self {
        TableWriter {
            file,
            options,
            offset: 0,
            data: BlockBuilder::new(options.restart_interval),
            index: BlockBuilder::new(1),
            last_key: Vec::new(),
            hashes: Vec::new(),
            properties: TableProperties::default(),
            scratch: Vec::new(),
        }
    }

    /// Adds one version. Panics if it does not come after the previous one in internal-key
    /// order, or if `seq` exceeds [`SEQ_MAX`].
    pub fn add(
        &mut self,
        user_key: &[u8],
        seq: u64,
        kind: ValueKind,
        options: &PutOptions,
        value: &[u8],
    ) -> Result<()> {
        assert!(seq <= SEQ_MAX, "sequence number {seq} beyond SEQ_MAX");
        let mut key = core::mem::take(&mut self.scratch);
        key.clear();
        put_internal_key(&mut key, user_key, seq, kind);
        let p = &mut self.properties;
        if p.entries == 0 {
            p.smallest_key = user_key.to_vec();
            p.seq_min = seq;
            p.seq_max = seq;
            self.hashes.push(bloom::hash64(user_key));
        } else {
            assert!(
                compare_internal(&self.last_key, &key) == Ordering::Less,
                "table entries out of internal-key order"
            );
            if p.largest_key != user_key {
                self.hashes.push(bloom::hash64(user_key));
            }
            p.seq_min = p.seq_min.min(seq);
            p.seq_max = p.seq_max.max(seq);
        }
        if p.largest_key != user_key {
            p.largest_key.clear();
            p.largest_key.extend_from_slice(user_key);
        }
        p.entries += 1;
        p.tombstones += u64::from(kind == ValueKind::Tombstone);
        p.key_bytes += user_key.len() as u64;
        p.value_bytes += value.len() as u64;

        let mut entry = Vec::with_capacity(24 + value.len());
        put_entry_value(&mut entry, options, value);
        self.data.add(&key, &entry);
        self.scratch = core::mem::replace(&mut self.last_key, key);
        if self.data.size_estimate() >= self.options.block_bytes {
            self.finish_data_block()?;
        }
        Ok(())
    }

    /// The bytes written so far (data blocks only, until [`TableWriter::finish`]).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The number of versions added.
    pub fn entries(&self) -> u64 {
        self.properties.entries
    }

    /// Writes `contents` and their trailer at the end of the file; returns their handle.
    fn write_block(&mut self, contents: &[u8]) -> Result<BlockHandle> {
        let handle = BlockHandle {
            offset: self.offset,
            size: contents.len() as u64,
        };
        let trailer = block_trailer(contents, self.options.compression);
        let mut bytes = Vec::with_capacity(contents.len() + trailer.len());
        bytes.extend_from_slice(contents);
        bytes.extend_from_slice(&trailer);
        self.file.write_at(&bytes, self.offset)?;
        self.offset += bytes.len() as u64;
        Ok(handle)
    }

    fn finish_data_block(&mut self) -> Result<()> {
        if self.data.is_empty() {
            return Ok(());
        }
        let contents = self.data.finish();
        let handle = self.write_block(&contents)?;
        let mut value = Vec::new();
        handle.encode_varint(&mut value);
        self.index.add(&self.last_key, &value);
        self.properties.data_blocks += 1;
        Ok(())
    }

    /// Writes the last data block, the filter, properties and index blocks and the footer.
    /// Returns the table's properties (with its size) and the file, not synced.
    pub fn finish(mut self) -> Result<(TableProperties, F)> {
        self.finish_data_block()?;
        let filter = if self.options.bloom_bits_per_key == 0 {
            BlockHandle::default()
        } else {
            let block = bloom::build(&self.hashes, self.options.bloom_bits_per_key);
            self.write_block(&block)?
        };
        let properties = self.write_block(&self.properties.encode())?;
        let index_contents = self.index.finish();
        let index = self.write_block(&index_contents)?;
        let footer = Footer {
            index,
            filter,
            properties,
        };
        self.file.write_at(&footer.encode(), self.offset)?;
        self.offset += super::FOOTER_BYTES as u64;
        self.properties.file_bytes = self.offset;
        Ok((self.properties, self.file))
    }
}
