//! The crate's error type: conditions after which the connection cannot go on.
//!
//! Everything a client can get wrong *and still keep its connection* (an unknown command, a bad
//! number, a key too long, a data block too large) is not an [`Error`]: the parser returns it as
//! a [`Request::Rejected`] or [`Request::TooLarge`] carrying the exact reply memcached sends.
//! An [`Error`] means the server must close the connection.

use core::fmt;

#[cfg(doc)]
use crate::{Limits, Request};

/// A fatal protocol error: the server closes the connection.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// A command line grew past its limit without ending. memcached closes the connection
    /// without sending anything (not even replies already queued in the same read).
    LineTooLong {
        /// How many bytes of the line had been seen when the parser gave up.
        len: usize,
        /// The limit that applied ([`Limits::line_len_max`] or, for `get`/`gets`/`gat`/`gats`,
        /// [`Limits::multiget_line_len_max`]).
        max: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::LineTooLong { len, max } => {
                write!(
                    f,
                    "command line too long: {len} bytes without an end (maximum {max})"
                )
            }
        }
    }
}

impl core::error::Error for Error {}

/// The result type of the parser.
pub type Result<T> = core::result::Result<T, Error>;
