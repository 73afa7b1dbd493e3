//! # ppdb-memcache: the memcached protocol, sans I/O
//!
//! The text and meta protocols of memcached, as pure functions over byte slices: the
//! [`Parser`] turns a connection's input into [`Request`]s, and the reply types append the
//! exact bytes memcached would send to an output `Vec<u8>`. No sockets, no clock, no storage:
//! the server runtime moves the bytes and executes the requests against the engine.
//!
//! `#![no_std]` + `alloc`, no dependencies.
//!
//! ## Layers
//!
//! ```text
//!   bytes ──> Parser ──> Request ──(server + engine)──> Response / meta writers ──> bytes
//!              |  lex: tokens and C-style numbers      |  reply: ERROR / CLIENT_ERROR / ...
//!              |  one module per command family:       |  expiry, arithmetic: the pure
//!              |  storage retrieval delete touch        |  semantics the engine needs
//!              |  arithmetic misc stats meta/*          |
//! ```
//!
//! The parser follows memcached 1.6 byte for byte, quirks included: spaces collapse, a bare
//! `\n` ends a line, commands are case-sensitive, a NUL cuts the line, numbers read like C's
//! `strtol`. Where it departs from memcached — to stay split-invariant, bounded, or to accept
//! meta flags newer than memcached 1.6.18 — `docs/protocol.md` says so.
//!
//! ## A server loop
//!
//! ```
//! use ppdb_memcache::{Limits, Parsed, Parser, Request, Response};
//!
//! let mut parser = Parser::new(Limits::default());
//! let mut input: Vec<u8> = b"set k 0 0 2\r\nhi\r\nget k\r\n".to_vec();
//! let mut output = Vec::new();
//! loop {
//!     match parser.parse(&input).expect("no fatal error") {
//!         Parsed::Complete { request, consumed } => {
//!             match &request {
//!                 Request::Storage(set) if !set.noreply => Response::Stored.write_to(&mut output),
//!                 Request::Retrieval(get) => {
//!                     for key in get.keys() {
//!                         let value = Response::Value { key, flags: 0, data: b"hi", cas: None };
//!                         value.write_to(&mut output);
//!                     }
//!                     Response::End.write_to(&mut output);
//!                 }
//!                 Request::Rejected(rejection) => rejection.write_to(&mut output),
//!                 _ => {}
//!             }
//!             input.drain(..consumed);
//!         }
//!         Parsed::Incomplete { consumed } => {
//!             input.drain(..consumed);
//!             break; // read more from the socket
//!         }
//!     }
//! }
//! assert_eq!(output, b"STORED\r\nVALUE k 0 2\r\nhi\r\nEND\r\n");
//! ```
#![no_std]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod arithmetic;
pub mod base64;
pub mod delete;
mod display;
pub mod error;
pub mod expiry;
pub mod key;
mod lex;
pub mod limits;
pub mod meta;
pub mod misc;
pub mod parser;
pub mod reply;
pub mod request;
pub mod response;
pub mod retrieval;
pub mod stats;
pub mod storage;
pub mod touch;
pub mod transcript;

pub use error::{Error, Result};
pub use expiry::{expiry_to_deadline, flush_all_deadline, Expiry};
pub use key::Key;
pub use limits::{item_size_bytes, Limits};
pub use parser::{Parsed, Parser};
pub use reply::{ClientError, ErrorReply, Rejection, ServerError};
pub use request::{Request, TooLarge, TooLargeCommand};
pub use response::Response;
