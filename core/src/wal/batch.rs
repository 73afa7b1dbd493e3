//! The encoding of a write batch as one logical WAL record.
//!
//! ```text
//!   batch = | tag u8 = 1 | first seq u64 LE | count u32 LE | op * count |
//!   op    = | 1 PUT       | key | options | value |
//!           | 2 DELETE    | key | options |
//!           | 3 FLUSH_ALL | now varint |
//!   key, value = | length varint | bytes |
//!   options    = | flags varint | expire_at varint | cas_origin varint | tags u8 |
//! ```
//!
//! The op at index `i` has sequence number `first seq + i`. A tag names both the kind of an
//! operation and the layout of its fields: a change of layout takes a new tag, and a reader
//! refuses tags it does not know ([`Error::UnsupportedFormat`]) rather than guess.
//!
//! [`WalOp`] borrows its bytes and reuses the engine's [`PutOptions`]; converting a
//! `WriteBatch` or a `flush_all` into ops is the caller's business.

use alloc::vec::Vec;
use core::ops::Range;

use crate::format::{varint, Cursor};
use crate::memtable::{PutOptions, TAGS_MAX};
use crate::{Error, Result};

/// The first byte of a batch record in this layout.
pub const BATCH_TAG_V1: u8 = 1;

/// The size of the fixed batch header (tag, first sequence, count).
pub const BATCH_HEADER_BYTES: usize = 1 + 8 + 4;

/// Operation tags.
pub mod op_tag {
    /// A put: key, options, value.
    pub const PUT: u8 = 1;
    /// A delete (a tombstone): key, options.
    pub const DELETE: u8 = 2;
    /// memcached's `flush_all`: the unix time it was issued at.
    pub const FLUSH_ALL: u8 = 3;
}

/// One operation of a batch, borrowing its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalOp<'a> {
    /// Store `value` under `key`.
    Put {
        /// The user key.
        key: &'a [u8],
        /// The value.
        value: &'a [u8],
        /// Flags, expiry, CAS origin and tags of the version.
        options: PutOptions,
    },
    /// Delete `key` (write a tombstone).
    Delete {
        /// The user key.
        key: &'a [u8],
        /// The tombstone's options, as the batch carried them (normally the defaults).
        options: PutOptions,
    },
    /// A `flush_all` marker: every version below its sequence number is hidden.
    FlushAll {
        /// The unix time (seconds) the flush was issued at.
        now: u64,
    },
}

/// The fixed part of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    /// The sequence number of the first operation.
    pub first_seq: u64,
    /// The number of operations (each takes one sequence number).
    pub count: u32,
}

impl BatchHeader {
    /// The sequence numbers of the batch's operations.
    pub fn seqs(&self) -> Range<u64> {
        self.first_seq..self.first_seq + u64::from(self.count)
    }
}

/// Appends a batch to a buffer, one operation at a time.
#[derive(Debug)]
pub struct BatchEncoder<'b> {
    out: &'b mut Vec<u8>,
    start: usize,
    first_seq: u64,
    count: u32,
}

impl<'b> BatchEncoder<'b> {
    /// Starts a batch whose first operation gets `first_seq`, appended to `out`.
    pub fn new(out: &'b mut Vec<u8>, first_seq: u64) -> Self {
        let start = out.len();
        out.push(BATCH_TAG_V1);
        out.extend_from_slice(&first_seq.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        BatchEncoder {
            out,
            start,
            first_seq,
            count: 0,
        }
    }

    /// Appends one operation.
    pub fn push(&mut self, op: &WalOp<'_>) {
        assert!(
            self.count < u32::MAX,
            "batch of more than u32::MAX operations"
        );
        match *op {
            WalOp::Put {
                key,
                value,
                options,
            } => {
                self.out.push(op_tag::PUT);
                varint::put_len_prefixed(self.out, key);
                put_options(self.out, &options);
                varint::put_len_prefixed(self.out, value);
            }
            WalOp::Delete { key, options } => {
                self.out.push(op_tag::DELETE);
                varint::put_len_prefixed(self.out, key);
                put_options(self.out, &options);
            }
            WalOp::FlushAll { now } => {
                self.out.push(op_tag::FLUSH_ALL);
                varint::put_u64(self.out, now);
            }
        }
        self.count += 1;
    }

    /// Writes the count into the header; returns the header.
    pub fn finish(self) -> BatchHeader {
        let at = self.start + 1 + 8;
        self.out[at..at + 4].copy_from_slice(&self.count.to_le_bytes());
        BatchHeader {
            first_seq: self.first_seq,
            count: self.count,
        }
    }
}

/// Encodes `ops` as one batch starting at `first_seq`, appended to `out`.
pub fn encode_batch(out: &mut Vec<u8>, first_seq: u64, ops: &[WalOp<'_>]) -> BatchHeader {
    let mut encoder = BatchEncoder::new(out, first_seq);
    for op in ops {
        encoder.push(op);
    }
    encoder.finish()
}

fn put_options(out: &mut Vec<u8>, options: &PutOptions) {
    varint::put_u64(out, u64::from(options.flags));
    varint::put_u64(out, options.expire_at);
    varint::put_u64(out, options.cas_origin);
    out.push(options.tags & TAGS_MAX);
}

fn options(c: &mut Cursor<'_>) -> Option<PutOptions> {
    let flags = c.varint_u32()?;
    let expire_at = c.varint_u64()?;
    let cas_origin = c.varint_u64()?;
    let tags = c.u8()?;
    if tags > TAGS_MAX {
        return None;
    }
    Some(PutOptions {
        flags,
        expire_at,
        cas_origin,
        tags,
    })
}

/// A checked view of an encoded batch: [`BatchDecoder::decode`] validates every operation, so
/// that a caller applies all of a batch or none of it.
#[derive(Debug, Clone, Copy)]
pub struct BatchDecoder<'a> {
    header: BatchHeader,
    ops: &'a [u8],
}

/// A malformed op: `None` from the cursor, or a tag this code does not know.
enum OpError {
    Malformed,
    UnknownTag(u8),
}

fn decode_op<'a>(c: &mut Cursor<'a>) -> core::result::Result<WalOp<'a>, OpError> {
    let tag = c.u8().ok_or(OpError::Malformed)?;
    let op = match tag {
        op_tag::PUT => (|| {
            let key = c.len_prefixed()?;
            let options = options(c)?;
            let value = c.len_prefixed()?;
            Some(WalOp::Put {
                key,
                value,
                options,
            })
        })(),
        op_tag::DELETE => (|| {
            let key = c.len_prefixed()?;
            let options = options(c)?;
            Some(WalOp::Delete { key, options })
        })(),
        op_tag::FLUSH_ALL => c.varint_u64().map(|now| WalOp::FlushAll { now }),
        other => return Err(OpError::UnknownTag(other)),
    };
    op.ok_or(OpError::Malformed)
}

impl<'a> BatchDecoder<'a> {
    /// Checks an encoded batch (the payload of the record at `record_offset`, used in errors).
    pub fn decode(bytes: &'a [u8], record_offset: u64) -> Result<Self> {
        let corrupt = |what| Error::corruption(what, record_offset);
        let mut c = Cursor::new(bytes);
        let tag = c.u8().ok_or(corrupt("empty batch record"))?;
        if tag != BATCH_TAG_V1 {
            return Err(Error::UnsupportedFormat {
                what: "write batch tag",
                version: u32::from(tag),
            });
        }
        let first_seq = c.u64_le().ok_or(corrupt("batch header truncated"))?;
        let count = c.u32_le().ok_or(corrupt("batch header truncated"))?;
        if first_seq.checked_add(u64::from(count)).is_none() {
            return Err(corrupt("batch sequence range overflows"));
        }
        let ops = c.remaining();
        for _ in 0..count {
            match decode_op(&mut c) {
                Ok(_) => {}
                Err(OpError::Malformed) => return Err(corrupt("malformed batch operation")),
                Err(OpError::UnknownTag(tag)) => {
                    return Err(Error::UnsupportedFormat {
                        what: "write batch operation tag",
                        version: u32::from(tag),
                    })
                }
            }
        }
        if !c.is_empty() {
            return Err(corrupt("bytes after the last batch operation"));
        }
        Ok(BatchDecoder {
            header: BatchHeader { first_seq, count },
            ops,
        })
    }

    /// The batch's first sequence number and operation count.
    pub fn header(&self) -> BatchHeader {
        self.header
    }

    /// The operations with their sequence numbers, in order.
    pub fn ops(&self) -> impl Iterator<Item = (u64, WalOp<'a>)> + 'a {
        let mut c = Cursor::new(self.ops);
        let first = self.header.first_seq;
        (0..u64::from(self.header.count))
            .map_while(move |i| Some((first + i, decode_op(&mut c).ok()?)))
    }
}
