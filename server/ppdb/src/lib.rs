//! # ppdb: the server, command line and load generator
//!
//! Subcommands live in their own modules; `main.rs` only parses arguments and dispatches.
