//! The streaming parser: bytes in, [`Request`]s out.
//!
//! ```text
//!   read buffer: [ consumed | unconsumed ............................ | free ]
//!                           ^ input to Parser::parse
//!   Parsed::Complete { request, consumed }  -> execute it, drop `consumed` bytes, call again
//!   Parsed::Incomplete { consumed }         -> drop `consumed` bytes, read more, call again
//!   Err(Error)                              -> close the connection
//! ```
//!
//! Between calls the caller passes the same unconsumed bytes, possibly followed by new ones:
//! the parser remembers how far it already looked for the end of the line, and how much of a
//! too-large data block it still has to swallow.

use crate::arithmetic::{Arithmetic, ArithmeticMode};
use crate::delete::Delete;
use crate::error::{Error, Result};
use crate::lex::Tokens;
use crate::limits::Limits;
use crate::meta::{MetaArithmetic, MetaDebug, MetaDelete, MetaGet, MetaSet};
use crate::misc::{FlushAll, LruCrawler, Shutdown, Verbosity};
use crate::reply::{ClientError, Rejection};
use crate::request::Request;
use crate::retrieval::{Retrieval, RetrievalCommand};
use crate::stats::Stats;
use crate::storage::{Storage, StorageCommand};
use crate::touch::Touch;

/// The result of one [`Parser::parse`] call.
#[expect(
    clippy::large_enum_variant,
    reason = "returned by value once per request and matched at once; boxing would allocate"
)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// A whole request. `consumed` counts its bytes (command line and data block) and any
    /// swallowed bytes before it.
    Complete {
        /// The request.
        request: Request<'a>,
        /// How many bytes at the front of the input it used.
        consumed: usize,
    },
    /// More input is needed. `consumed` bytes at the front (data being swallowed after a
    /// [`Request::TooLarge`] or an `ms` error) may be dropped already; it is 0 otherwise.
    Incomplete {
        /// How many bytes at the front of the input may be dropped.
        consumed: usize,
    },
}

impl Parsed<'_> {
    /// How many bytes at the front of the input may be dropped.
    pub fn consumed(&self) -> usize {
        match self {
            Parsed::Complete { consumed, .. } | Parsed::Incomplete { consumed } => *consumed,
        }
    }
}

/// One connection's parser.
#[derive(Debug, Clone)]
pub struct Parser {
    limits: Limits,
    /// Bytes of a refused data block still to drop.
    swallow_len: usize,
    /// How many bytes at the front of the unconsumed input are known to hold no `\n`.
    scanned_len: usize,
}

/// What a command line asks of the parser.
pub(crate) enum LineOutcome<'a> {
    /// The request is complete.
    Done(Request<'a>),
    /// A storage request: read this many bytes of data, then `\r\n`.
    Data(DataRequest<'a>, usize),
    /// Return the request, then drop this many bytes of input.
    Swallow(Request<'a>, usize),
}

/// A storage request waiting for its data block.
pub(crate) enum DataRequest<'a> {
    Storage(Storage<'a>),
    MetaSet(MetaSet<'a>),
}

impl<'a> DataRequest<'a> {
    fn complete(self, data: &'a [u8]) -> Request<'a> {
        match self {
            DataRequest::Storage(s) => Request::Storage(Storage { data, ..s }),
            DataRequest::MetaSet(s) => Request::MetaSet(MetaSet { data, ..s }),
        }
    }

    /// `CLIENT_ERROR bad data chunk`, silent for a classic `noreply`.
    fn bad_chunk(&self) -> Request<'static> {
        let noreply = match self {
            DataRequest::Storage(s) => s.noreply,
            DataRequest::MetaSet(_) => false,
        };
        Request::Rejected(Rejection::client(ClientError::BadDataChunk, noreply))
    }
}

impl Parser {
    /// A parser for a new connection.
    pub fn new(limits: Limits) -> Self {
        Parser {
            limits,
            swallow_len: 0,
            scanned_len: 0,
        }
    }

    /// The limits this parser enforces.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// How many bytes of a refused data block the parser will still drop.
    pub fn swallowing(&self) -> usize {
        self.swallow_len
    }

    /// Parses the next request from `input`, the connection's unconsumed bytes.
    ///
    /// Returns [`Parsed::Incomplete`] while the request is cut short, and [`Error`] when the
    /// connection must be closed. A request split at any byte boundary parses exactly as it
    /// does whole.
    pub fn parse<'a>(&mut self, input: &'a [u8]) -> Result<Parsed<'a>> {
        let skipped = self.swallow_len.min(input.len());
        self.swallow_len -= skipped;
        if self.swallow_len > 0 {
            return Ok(Parsed::Incomplete { consumed: skipped });
        }
        let rest = &input[skipped..];
        let from = self.scanned_len.min(rest.len());
        let Some(newline) = rest[from..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|p| from + p)
        else {
            let max = self.line_len_max(rest, false);
            if rest.len() > max {
                return Err(Error::LineTooLong {
                    len: rest.len(),
                    max,
                });
            }
            self.scanned_len = rest.len();
            return Ok(Parsed::Incomplete { consumed: skipped });
        };
        let max = self.line_len_max(&rest[..newline], true);
        if newline > max {
            return Err(Error::LineTooLong { len: newline, max });
        }
        let line_end = newline + 1;
        let (request, used) = match dispatch(command_line(&rest[..newline]), &self.limits) {
            LineOutcome::Done(request) => (request, line_end),
            LineOutcome::Swallow(request, len) => {
                self.swallow_len = len;
                (request, line_end)
            }
            LineOutcome::Data(pending, len) => {
                let end = line_end + len;
                let Some(terminator) = rest.get(end..end + 2) else {
                    self.scanned_len = newline;
                    return Ok(Parsed::Incomplete { consumed: skipped });
                };
                let request = if terminator == b"\r\n" {
                    pending.complete(&rest[line_end..end])
                } else {
                    pending.bad_chunk()
                };
                (request, end + 2)
            }
        };
        self.scanned_len = 0;
        Ok(Parsed::Complete {
            request,
            consumed: skipped + used,
        })
    }

    /// The longest line allowed for a line starting with `prefix`. While the line is not
    /// complete, a prefix that may still turn into a `get`-family command gets the larger
    /// limit, so the decision never depends on how the bytes were split.
    fn line_len_max(&self, prefix: &[u8], complete: bool) -> usize {
        let multiget = self
            .limits
            .multiget_line_len_max
            .max(self.limits.line_len_max);
        // memcached only lets a long line through if at most 100 spaces precede its command.
        let spaces = prefix.iter().take_while(|&&b| b == b' ').count();
        if spaces > 100 {
            return self.limits.line_len_max;
        }
        let command = &prefix[spaces..];
        let is_multiget = [&b"get "[..], b"gets ", b"gat ", b"gats "].iter().any(|p| {
            command.starts_with(p)
                || (!complete && command.len() < p.len() && p.starts_with(command))
        });
        if is_multiget {
            multiget
        } else {
            self.limits.line_len_max
        }
    }
}

/// The command line memcached sees: one `\r` before the `\n` removed, and cut at the first
/// NUL (memcached handles the line as a C string).
fn command_line(raw: &[u8]) -> &[u8] {
    let line = raw.strip_suffix(b"\r").unwrap_or(raw);
    match line.iter().position(|&b| b == 0) {
        Some(nul) => &line[..nul],
        None => line,
    }
}

/// memcached's `process_command_ascii`: picks the command by its first token.
fn dispatch<'a>(line: &'a [u8], limits: &Limits) -> LineOutcome<'a> {
    use LineOutcome::Done;
    let tokens = Tokens::split(line, limits.tokens_max);
    let command = tokens.get(0);
    if command.len() < 2 {
        return Done(Request::Rejected(Rejection::error()));
    }
    if let [b'm', code] = command {
        return match code {
            b'g' => Done(MetaGet::parse(line, &tokens, limits)),
            b's' => MetaSet::parse(line, &tokens, limits),
            b'd' => Done(MetaDelete::parse(line, &tokens, limits)),
            b'a' => Done(MetaArithmetic::parse(line, &tokens, limits)),
            b'n' => Done(Request::MetaNoop),
            b'e' => Done(MetaDebug::parse(&tokens, limits)),
            _ => Done(Request::Rejected(Rejection::error())),
        };
    }
    if let Some(command) = StorageCommand::from_name(command) {
        return Storage::parse(command, &tokens, limits);
    }
    if let Some(command) = RetrievalCommand::from_name(command) {
        if tokens.len() < 2 {
            return Done(Request::Rejected(Rejection::error()));
        }
        return Done(Retrieval::parse(command, line, &tokens, limits));
    }
    Done(match command {
        b"delete" => Delete::parse(&tokens, limits),
        b"incr" => Arithmetic::parse(ArithmeticMode::Increment, &tokens, limits),
        b"decr" => Arithmetic::parse(ArithmeticMode::Decrement, &tokens, limits),
        b"touch" => Touch::parse(&tokens, limits),
        b"flush_all" => FlushAll::parse(&tokens),
        b"version" => Request::Version,
        b"verbosity" => Verbosity::parse(&tokens),
        b"quit" => Request::Quit,
        b"shutdown" => Shutdown::parse(&tokens),
        b"stats" => Stats::parse(&tokens),
        b"lru_crawler" => LruCrawler::parse(&tokens),
        _ => Request::Rejected(Rejection::error()),
    })
}
