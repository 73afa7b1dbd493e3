//! # ppdb-lisp: the small, sandboxed LISP of the PPDB command line
//!
//! `#![no_std]` + `alloc`, so that the same scripts can later run inside the server.
//!
//! ## Layers
//!
//! ```text
//!   reader     text -> values, with line:column on every form and error; iterative
//!     |
//!   eval       Interpreter: a machine with an explicit stack (no native recursion),
//!     |        special forms, tail calls, try/catch, and the limits below
//!     |
//!   builtins   arithmetic, comparison, strings, lists, printing, and the database calls
//!     |
//!   Backend    the only door out: the database, printing and a clock. The command line
//!              implements it twice (memcached over TCP, the embedded engine).
//! ```
//!
//! ## Safety
//!
//! A script reaches nothing but its [`Backend`]. Every evaluation is bounded by
//! [`Limits`]: a step budget, a recursion-depth cap (the machine's stack, so deep recursion
//! ends in an error, never a native stack overflow), a nesting cap for lists in text and data,
//! a memory budget counted on live values ([`Meter`]), a wall-clock timeout read from the
//! backend's clock, and an interrupt flag checked at every step. A limit or an interrupt ends
//! the evaluation with an [`Error`] that `try` cannot catch.
//!
//! ```
//! use ppdb_lisp::{Interpreter, Limits};
//! # use ppdb_lisp::{Backend, Entry, Store, StoreOutcome, Result};
//! # struct NoDb;
//! # impl Backend for NoDb {
//! #     fn now_ms(&self) -> u64 { 0 }
//! #     fn print(&mut self, _: &[u8]) -> Result<()> { Ok(()) }
//! #     fn get(&mut self, _: &[u8]) -> Result<Option<Entry>> { Ok(None) }
//! #     fn store(&mut self, _: Store<'_>) -> Result<StoreOutcome> { Ok(StoreOutcome::Stored) }
//! #     fn delete(&mut self, _: &[u8]) -> Result<bool> { Ok(false) }
//! #     fn incr(&mut self, _: &[u8], _: u64, _: bool) -> Result<Option<u64>> { Ok(None) }
//! #     fn touch(&mut self, _: &[u8], _: i64) -> Result<bool> { Ok(false) }
//! #     fn flush(&mut self, _: u32) -> Result<()> { Ok(()) }
//! #     fn stats(&mut self, _: Option<&str>) -> Result<Vec<(String, String)>> { Ok(vec![]) }
//! #     fn keys(&mut self, _: &[u8], _: usize) -> Result<Vec<Vec<u8>>> { Ok(vec![]) }
//! # }
//! let mut lisp = Interpreter::new(Limits::default());
//! let value = lisp
//!     .eval_str("(define (sq x) (* x x)) (map sq '(1 2 3))", &mut NoDb)
//!     .unwrap();
//! assert_eq!(value.repr(), "(1 4 9)");
//! ```
#![no_std]

extern crate alloc;

mod backend;
pub mod builtins;
mod env;
mod error;
mod eval;
mod forms;
mod meter;
mod reader;
mod value;

#[cfg(test)]
mod tests;

pub use backend::{Backend, Entry, Store, StoreMode, StoreOutcome, TxnBody};
pub use error::{Error, ErrorKind, Limit, Pos, Result};
pub use eval::{Interpreter, Limits, CLOCK_EVERY_STEPS};
pub use forms::{help_for, help_overview, special_form, SpecialForm, SPECIAL_FORMS};
pub use meter::{Charge, Meter};
pub use reader::{is_incomplete, read_all, Form};
pub use value::{compare, equal, write_quoted, Lambda, List, Str, Symbol, Value};
