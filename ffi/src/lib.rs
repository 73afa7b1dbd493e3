//! # libppdb: the C API of PPDB
//!
//! This crate builds `libppdb` as a static library (`libppdb.a`) and a shared library
//! (`libppdb.so`, `libppdb.dylib`, `ppdb.dll`) over [`ppdb_core::Db`]. (No rlib: the server's
//! library is also named `ppdb`, see Cargo.toml; Rust programs use `ppdb-core`.) The header
//! `include/ppdb.h` is generated from this source by cbindgen (`cbindgen.toml`) and committed;
//! a test fails when it is stale. `docs/embedding.md` is the user's guide.
//!
//! ## Shape
//!
//! ```text
//!   C caller ── ppdb.h ──> extern "C" fns ── guard (catch_unwind, pointer checks) ──> Db<P>
//!                               |
//!   handles (opaque, heap):     ppdb_db ─── Arc<Db> ───┬─── ppdb_snapshot ─── ppdb_iter
//!                                                      └─── ppdb_txn
//! ```
//!
//! - **Handles** are opaque pointers to boxes. A snapshot, transaction or iterator holds its own
//!   reference to the database (an `Arc`), so closing the database while they live is safe:
//!   the database is freed when the last of them is released.
//! - **Status codes**: every fallible call returns a [`Status`]: [`PPDB_OK`], the two outcomes
//!   that are not errors ([`PPDB_NOT_FOUND`], [`PPDB_END`]), or an error code. After an error,
//!   [`ppdb_last_error`] gives the message, per thread.
//! - **No panic crosses the boundary**: every entry point runs its body under `catch_unwind`;
//!   a panic (a bug) becomes [`PPDB_INTERNAL`] with the panic message as the last error.
//! - **Pointers are checked**: a NULL handle, key, value or out-pointer is
//!   [`PPDB_INVALID_ARGUMENT`], never a crash. (A dangling or foreign pointer cannot be
//!   detected; that part of the contract is the caller's.)
//! - **Ownership is explicit**: a value returned by a `get` is owned by the caller and freed with
//!   [`ppdb_value_free`]; an iterator's entry is borrowed until the next call on the iterator.
//!
//! ## Threads
//!
//! A `ppdb_db` and a `ppdb_snapshot` may be used from many threads at once. A `ppdb_txn` and a
//! `ppdb_iter` belong to one thread at a time (they may move between threads).
//!
//! ## Modes
//!
//! [`ppdb_options`](Options)'s `data_dir` chooses the mode: NULL for a database in memory, a
//! directory for disk mode (a write-ahead log synced on every write, recovered on open; see
//! `docs/durability.md`). [`PPDB_NOT_SUPPORTED`] is kept for requests a build cannot serve.
#![allow(
    unsafe_code,
    reason = "a C API takes raw pointers and exports unmangled symbols; every unsafe block \
              carries a SAFETY comment"
)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod db;
mod guard;
mod iter;
mod options;
mod snapshot;
mod status;
mod txn;
mod value;

pub use db::{ppdb_close, ppdb_delete, ppdb_get, ppdb_now, ppdb_open, ppdb_put, Database};
pub use iter::{ppdb_iter_free, ppdb_iter_next, ppdb_iter_open, ppdb_snapshot_iter, Iter};
pub use options::{ppdb_options_init, Options};
pub use snapshot::{
    ppdb_snapshot_get, ppdb_snapshot_release, ppdb_snapshot_take, ppdb_snapshot_version,
    SnapshotHandle,
};
pub use status::{
    ppdb_last_error, ppdb_status_name, ppdb_version, Status, PPDB_CONFLICT, PPDB_CORRUPTION,
    PPDB_END, PPDB_INTERNAL, PPDB_INVALID_ARGUMENT, PPDB_INVALID_CONFIG, PPDB_INVALID_KEY, PPDB_IO,
    PPDB_NOT_FOUND, PPDB_NOT_SUPPORTED, PPDB_OK, PPDB_OUT_OF_MEMORY, PPDB_POISONED,
    PPDB_TOO_MANY_OPERATIONS, PPDB_VALUE_TOO_LARGE,
};
pub use txn::{
    ppdb_txn_abort, ppdb_txn_begin, ppdb_txn_commit, ppdb_txn_delete, ppdb_txn_get, ppdb_txn_put,
    Txn, PPDB_ISOLATION_SERIALIZABLE, PPDB_ISOLATION_SNAPSHOT,
};
pub use value::{ppdb_value_free, Entry, Value};

#[cfg(test)]
mod tests;
