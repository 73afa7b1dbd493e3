//! # ppdb-core: the PPDB engine
//!
//! `#![no_std]` + `alloc`: the engine touches no operating system. Files and clocks come in
//! through the traits of `ppdb-platform`; time reaches the engine as a value (`now`, unix
//! seconds), never by reading a clock.
//!
//! ## Layers
//!
//! ```text
//!   db        Db<P: Platform>: the embedded API; reads the platform clock, passes `now` down
//!    |
//!   disk      disk mode: WAL with group commit, recovery on open (Engine::open_dir)
//!    |
//!   mvcc      Engine: sequence numbers, visible watermark, snapshots, write batches,
//!    |        optimistic transactions (snapshot isolation / serializable), read-modify-write,
//!    |        rotation and garbage-collecting merges
//!    |
//!   memtable  Memtable (versioned entries) over an arena SkipList (lock-free insert,
//!             wait-free read); Run: the immutable merged array
//! ```
//!
//! Internal keys order by user key ascending, then sequence number descending; the sequence
//! number is both the MVCC version and memcached's CAS unique.
//!
//! ## Features
//!
//! - `std`: the lock shim ([`sync`]) uses the operating system's locks instead of spin locks.
//!   That is all it changes.
#![no_std]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod db;
pub mod disk;
pub mod error;
pub mod format;
pub mod manifest;
pub mod memtable;
pub mod mvcc;
pub mod sync;
pub mod table;
pub mod wal;

pub use db::Db;
pub use disk::{DiskOptions, DiskStats, Durability, RecoveryInfo, RecoveryMode};
pub use error::{Error, Result};
pub use memtable::{ValueKind, VersionRef};
pub use mvcc::batch::{BatchOp, PutOptions, WriteBatch};
pub use mvcc::snapshot::Snapshot;
pub use mvcc::txn::{Isolation, Transaction};
pub use mvcc::{Config, Engine, EngineStats, Item, KeyRange, Lookup, MergeStats, Scan};
