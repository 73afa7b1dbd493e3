//! Blocks of sorted entries with prefix-compressed keys and restart points.
//!
//! ```text
//!   block   = | entry ... | restart offset u32 LE * n | n u32 LE |
//!   entry   = | shared varint | unshared varint | value length varint | key[shared..] | value |
//! ```
//!
//! `shared` is the length of the prefix the key shares with the previous key; it is 0 at
//! every restart point, so a seek binary-searches the restart points and scans at most one
//! restart interval.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cmp::Ordering;
use core::ops::Range;

use crate::format::{varint, Cursor};
use crate::{Error, Result};

/// Builds one block.
#[derive(Debug)]
pub struct BlockBuilder {
    buf: Vec<u8>,
    restarts: Vec<u32>,
    restart_interval: usize,
    since_restart: usize,
    last_key: Vec<u8>,
    entries: usize,
}

impl BlockBuilder {
    /// An empty block with a restart point every `restart_interval` entries.
    pub fn new(restart_interval: usize) -> Self {
        BlockBuilder {
            buf: Vec::new(),
            restarts: Vec::new(),
            restart_interval: restart_interval.max(1),
            since_restart: 0,
            last_key: Vec::new(),
            entries: 0,
        }
    }

    /// Appends an entry; keys must come in the block's order (the caller checks).
    pub fn add(&mut self, key: &[u8], value: &[u8]) {
        let shared = if self.entries > 0 && self.since_restart < self.restart_interval {
            self.last_key
                .iter()
                .zip(key)
                .take_while(|(a, b)| a == b)
                .count()
        } else {
            self.restarts.push(self.offset_u32());
            self.since_restart = 0;
            0
        };
        varint::put_len(&mut self.buf, shared);
        varint::put_len(&mut self.buf, key.len() - shared);
        varint::put_len(&mut self.buf, value.len());
        self.buf.extend_from_slice(&key[shared..]);
        self.buf.extend_from_slice(value);
        self.last_key.clear();
        self.last_key.extend_from_slice(key);
        self.since_restart += 1;
        self.entries += 1;
    }

    fn offset_u32(&self) -> u32 {
        u32::try_from(self.buf.len()).unwrap_or(u32::MAX)
    }

    /// The number of entries added.
    pub fn entries(&self) -> usize {
        self.entries
    }

    /// Whether no entry was added.
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// The size the finished block will have.
    pub fn size_estimate(&self) -> usize {
        self.buf.len() + 4 * self.restarts.len().max(1) + 4
    }

    /// The last key added.
    pub fn last_key(&self) -> &[u8] {
        &self.last_key
    }

    /// Appends the restart array and returns the block's bytes; the builder is reset.
    pub fn finish(&mut self) -> Vec<u8> {
        assert!(
            self.buf.len() <= u32::MAX as usize,
            "a block must stay below 4 GiB"
        );
        if self.restarts.is_empty() {
            self.restarts.push(0);
        }
        let mut out = core::mem::take(&mut self.buf);
        for r in &self.restarts {
            out.extend_from_slice(&r.to_le_bytes());
        }
        out.extend_from_slice(&(self.restarts.len() as u32).to_le_bytes());
        self.restarts.clear();
        self.since_restart = 0;
        self.last_key.clear();
        self.entries = 0;
        out
    }
}

/// A checked block: its restart array has been validated.
#[derive(Debug, Clone)]
pub struct Block {
    data: Arc<[u8]>,
    /// Where the restart array starts (the end of the entries).
    restarts_at: usize,
    restarts: usize,
    /// The block's offset in its file, for errors.
    file_offset: u64,
}

impl Block {
    /// Checks the restart array of `data`, the contents of the block at `file_offset`.
    pub fn new(data: Arc<[u8]>, file_offset: u64) -> Result<Block> {
        let corrupt = |what| Error::corruption(what, file_offset);
        let len = data.len();
        let n_at = len
            .checked_sub(4)
            .ok_or(corrupt("block shorter than its trailer"))?;
        let mut n = [0u8; 4];
        n.copy_from_slice(&data[n_at..]);
        let restarts = u32::from_le_bytes(n) as usize;
        let restarts_at = restarts
            .checked_mul(4)
            .and_then(|b| n_at.checked_sub(b))
            .ok_or(corrupt("block restart array larger than the block"))?;
        if restarts == 0 {
            return Err(corrupt("block without restart points"));
        }
        let block = Block {
            data,
            restarts_at,
            restarts,
            file_offset,
        };
        let mut prev = None;
        for i in 0..restarts {
            let r = block.restart(i);
            let in_range = r < restarts_at || (restarts_at == 0 && r == 0);
            if !in_range {
                return Err(corrupt("block restart point out of range"));
            }
            if prev.is_some_and(|p| p >= r) {
                return Err(corrupt("block restart points out of order"));
            }
            prev = Some(r);
        }
        Ok(block)
    }

    fn restart(&self, i: usize) -> usize {
        let at = self.restarts_at + 4 * i;
        let mut b = [0u8; 4];
        b.copy_from_slice(&self.data[at..at + 4]);
        u32::from_le_bytes(b) as usize
    }

    /// The block's bytes (entries and restart array).
    pub fn data(&self) -> &Arc<[u8]> {
        &self.data
    }

    /// An iterator over the block, not positioned yet.
    pub fn iter(&self) -> BlockIter {
        BlockIter {
            block: self.clone(),
            next: self.restarts_at,
            key: Vec::new(),
            value: 0..0,
            valid: false,
        }
    }
}

/// A cursor over the entries of a [`Block`].
#[derive(Debug, Clone)]
pub struct BlockIter {
    block: Block,
    /// The offset of the entry after the current one.
    next: usize,
    key: Vec<u8>,
    value: Range<usize>,
    valid: bool,
}

impl BlockIter {
    fn corrupt(&self, what: &'static str) -> Error {
        Error::corruption(what, self.block.file_offset)
    }

    /// Whether the iterator is on an entry.
    pub fn valid(&self) -> bool {
        self.valid
    }

    /// The current key (valid iterators only).
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// The current value (valid iterators only).
    pub fn value(&self) -> &[u8] {
        &self.block.data[self.value.clone()]
    }

    /// The byte range of the current value in [`BlockIter::block_data`].
    pub fn value_range(&self) -> Range<usize> {
        self.value.clone()
    }

    /// The block's bytes.
    pub fn block_data(&self) -> &Arc<[u8]> {
        &self.block.data
    }

    /// Decodes the entry at `at`, whose predecessor's key is in `self.key`.
    fn decode_at(&mut self, at: usize) -> Result<()> {
        let end = self.block.restarts_at;
        let mut c = Cursor::new(&self.block.data[at..end]);
        let (shared, unshared, value_len) =
            (|| Some((c.varint_len()?, c.varint_len()?, c.varint_len()?)))()
                .ok_or(self.corrupt("block entry header malformed"))?;
        if shared > self.key.len() {
            return Err(self.corrupt("block entry shares more than the previous key"));
        }
        let delta = c
            .bytes(unshared)
            .ok_or(self.corrupt("block entry key truncated"))?;
        let value_start = at + c.position();
        c.bytes(value_len)
            .ok_or(self.corrupt("block entry value truncated"))?;
        self.key.truncate(shared);
        self.key.extend_from_slice(delta);
        self.value = value_start..value_start + value_len;
        self.next = at + c.position();
        self.valid = true;
        Ok(())
    }

    /// Positions on the first entry of restart interval `i`.
    fn seek_to_restart(&mut self, i: usize) -> Result<()> {
        let at = self.block.restart(i);
        self.key.clear();
        self.valid = false;
        if at >= self.block.restarts_at {
            self.next = self.block.restarts_at;
            return Ok(());
        }
        let mut c = Cursor::new(&self.block.data[at..self.block.restarts_at]);
        if c.varint_len() != Some(0) {
            return Err(self.corrupt("block restart entry shares a prefix"));
        }
        self.decode_at(at)
    }

    /// Positions on the first entry.
    pub fn seek_to_first(&mut self) -> Result<()> {
        self.seek_to_restart(0)
    }

    /// Moves to the next entry (or past the end).
    pub fn advance(&mut self) -> Result<()> {
        if self.next >= self.block.restarts_at {
            self.valid = false;
            return Ok(());
        }
        self.decode_at(self.next)
    }

    /// Positions on the first entry whose key is at or after `target` under `cmp`.
    pub fn seek(&mut self, target: &[u8], cmp: impl Fn(&[u8], &[u8]) -> Ordering) -> Result<()> {
        // The last restart point whose key is before the target.
        let (mut lo, mut hi) = (0, self.block.restarts);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            self.seek_to_restart(mid)?;
            if self.valid && cmp(&self.key, target) == Ordering::Less {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        self.seek_to_restart(lo)?;
        while self.valid && cmp(&self.key, target) == Ordering::Less {
            self.advance()?;
        }
        Ok(())
    }
}
