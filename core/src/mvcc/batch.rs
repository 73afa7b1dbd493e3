//! Write batches: a list of puts and deletes committed atomically under one sequence range.

use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::memtable::ValueKind;

pub use crate::memtable::PutOptions;

/// One operation of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchOp {
    /// The user key.
    pub key: Vec<u8>,
    /// Put (value) or delete (tombstone).
    pub kind: ValueKind,
    /// Client flags and expiry of a put (zero for a delete).
    pub options: PutOptions,
    /// The value of a put (empty for a delete). Shared: a memtable keeps a large value
    /// (`BLOB_BYTES_MIN` bytes or more) by taking a reference to it rather than copying it, so
    /// a caller that builds the value before committing has copied it for the last time.
    pub value: Arc<[u8]>,
}

impl BatchOp {
    /// A put of `value` under `key`.
    pub fn put(key: &[u8], value: &[u8], options: PutOptions) -> Self {
        BatchOp::put_shared(key, Arc::from(value), options)
    }

    /// A put of a value the caller has already made shared: the operation (and the memtable,
    /// for a large value) takes references to it instead of copying its bytes. Lets a caller
    /// copy a value once, before it takes any lock.
    pub fn put_shared(key: &[u8], value: Arc<[u8]>, options: PutOptions) -> Self {
        BatchOp {
            key: key.to_vec(),
            kind: ValueKind::Value,
            options,
            value,
        }
    }

    /// A delete of `key`.
    pub fn delete(key: &[u8]) -> Self {
        BatchOp {
            key: key.to_vec(),
            kind: ValueKind::Tombstone,
            options: PutOptions::default(),
            value: Arc::default(),
        }
    }
}

/// Operations applied atomically: each gets its own sequence number, in order, and readers see
/// either none or all of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteBatch {
    ops: Vec<BatchOp>,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> Self {
        WriteBatch::default()
    }

    /// Adds a put with default options (no flags, no expiry).
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> &mut Self {
        self.put_with(key, value, PutOptions::default())
    }

    /// Adds a put with options.
    pub fn put_with(&mut self, key: &[u8], value: &[u8], options: PutOptions) -> &mut Self {
        self.ops.push(BatchOp::put(key, value, options));
        self
    }

    /// Adds a delete.
    pub fn delete(&mut self, key: &[u8]) -> &mut Self {
        self.ops.push(BatchOp::delete(key));
        self
    }

    /// Adds an operation.
    pub fn push(&mut self, op: BatchOp) -> &mut Self {
        self.ops.push(op);
        self
    }

    /// The operations, in order.
    pub fn ops(&self) -> &[BatchOp] {
        &self.ops
    }

    /// The number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether the batch has no operation.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Removes every operation.
    pub fn clear(&mut self) {
        self.ops.clear();
    }
}
