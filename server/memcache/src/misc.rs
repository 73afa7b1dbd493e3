//! The other classic commands: `flush_all`, `version`, `verbosity`, `quit`, `shutdown` and
//! `lru_crawler`.
//!
//! ```text
//! flush_all [delay] [noreply]  → OK           version            → VERSION <version>
//! verbosity <level> [noreply]  → OK           quit               → (connection closed)
//! shutdown [graceful]          → (closed), or ERROR: shutdown not enabled
//! lru_crawler metadump <all|hash|classid,...>  → one line per item, then END
//! ```
//!
//! `version` and `quit` ignore any arguments.

use core::fmt;

use crate::display::{flag, Quoted};
use crate::lex::{parse_i32, parse_u32, Tokens};
use crate::reply::{ClientError, Rejection};
use crate::request::Request;

/// memcached's reply to `shutdown` when it was not started with `-A`.
pub const SHUTDOWN_DISABLED: &str = "ERROR: shutdown not enabled";

/// A parsed `flush_all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlushAll {
    /// When to invalidate every item: 0 (or negative) for now, otherwise an expiration time
    /// (see [`flush_all_deadline`](crate::flush_all_deadline)).
    pub delay: i64,
    /// Send no reply.
    pub noreply: bool,
}

impl FlushAll {
    pub(crate) fn parse(tokens: &Tokens<'_>) -> Request<'static> {
        let count = tokens.len();
        if !(1..=3).contains(&count) {
            return Request::Rejected(Rejection::error());
        }
        let noreply = tokens.noreply();
        let mut delay = 0;
        if count != if noreply { 2 } else { 1 } {
            match parse_i32(tokens.get(1)) {
                Some(d) => delay = i64::from(d),
                None => {
                    return Request::Rejected(Rejection::client(
                        ClientError::InvalidExptime,
                        noreply,
                    ))
                }
            }
        }
        Request::FlushAll(FlushAll { delay, noreply })
    }
}

impl fmt::Display for FlushAll {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "flush_all delay={}", self.delay)?;
        flag(f, "noreply", self.noreply)
    }
}

/// A parsed `verbosity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verbosity {
    /// The logging level asked for (memcached clamps it to its maximum).
    pub level: u32,
    /// Send no reply.
    pub noreply: bool,
}

impl Verbosity {
    pub(crate) fn parse(tokens: &Tokens<'_>) -> Request<'static> {
        if !matches!(tokens.len(), 2 | 3) {
            return Request::Rejected(Rejection::error());
        }
        let noreply = tokens.noreply();
        match parse_u32(tokens.get(1)) {
            Some(level) => Request::Verbosity(Verbosity { level, noreply }),
            None => Request::Rejected(Rejection::client(
                ClientError::BadCommandLineFormat,
                noreply,
            )),
        }
    }
}

impl fmt::Display for Verbosity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "verbosity level={}", self.level)?;
        flag(f, "noreply", self.noreply)
    }
}

/// What a `shutdown` asked for. Whether shutdown is allowed at all is the server's to decide
/// first: memcached answers [`SHUTDOWN_DISABLED`] to every form when it is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// `shutdown`: stop now (memcached raises SIGINT and closes the connection, no reply).
    Immediate,
    /// `shutdown graceful`: stop gracefully (memcached raises SIGUSR1).
    Graceful,
    /// Anything else: `CLIENT_ERROR invalid shutdown mode` when shutdown is enabled.
    Invalid,
}

impl Shutdown {
    pub(crate) fn parse(tokens: &Tokens<'_>) -> Request<'static> {
        Request::Shutdown(match (tokens.len(), tokens.get(1)) {
            (1, _) => Shutdown::Immediate,
            (2, b"graceful") => Shutdown::Graceful,
            _ => Shutdown::Invalid,
        })
    }
}

impl fmt::Display for Shutdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Shutdown::Immediate => "shutdown",
            Shutdown::Graceful => "shutdown graceful",
            Shutdown::Invalid => "shutdown invalid",
        })
    }
}

/// A parsed `lru_crawler` command. memcached's crawler walks its slab classes; what a class
/// list means to PPDB is the server's business, so the argument is passed on as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LruCrawler<'a> {
    /// `lru_crawler metadump <all|hash|classid,...>`: one `key=... exp=... la=... cas=...
    /// fetch=... cls=... size=...` line per item, then `END`.
    Metadump(&'a [u8]),
    /// `lru_crawler mgdump <all|hash|classid,...>`: one `mg <key>` line per item, then `EN`.
    /// (Newer than memcached 1.6.18, which answers `ERROR`.)
    Mgdump(&'a [u8]),
    /// `lru_crawler crawl <all|classid,...>`: reclaim expired items; `OK`.
    Crawl(&'a [u8]),
    /// `lru_crawler sleep <microseconds>` (at most one second); `OK`.
    Sleep(u32),
    /// `lru_crawler tocrawl <items>`; `OK`.
    Tocrawl(u32),
    /// `lru_crawler enable`; `OK`.
    Enable,
    /// `lru_crawler disable`; `OK`.
    Disable,
}

impl<'a> LruCrawler<'a> {
    pub(crate) fn parse(tokens: &Tokens<'a>) -> Request<'a> {
        let bad = Request::Rejected(Rejection::client(ClientError::BadCommandLineFormat, false));
        let crawler = match (tokens.len(), tokens.get(1)) {
            (3, b"metadump") => LruCrawler::Metadump(tokens.get(2)),
            (3, b"mgdump") => LruCrawler::Mgdump(tokens.get(2)),
            (3, b"crawl") => LruCrawler::Crawl(tokens.get(2)),
            (3, b"tocrawl") => match parse_u32(tokens.get(2)) {
                Some(n) => LruCrawler::Tocrawl(n),
                None => return bad,
            },
            (3, b"sleep") => match parse_u32(tokens.get(2)) {
                Some(us) if us > 1_000_000 => {
                    return Request::Rejected(Rejection::client(ClientError::SleepTooLong, false))
                }
                Some(us) => LruCrawler::Sleep(us),
                None => return bad,
            },
            (2, b"enable") => LruCrawler::Enable,
            (2, b"disable") => LruCrawler::Disable,
            _ => return Request::Rejected(Rejection::error()),
        };
        Request::LruCrawler(crawler)
    }
}

impl fmt::Display for LruCrawler<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LruCrawler::Metadump(arg) => write!(f, "lru_crawler metadump {}", Quoted(arg)),
            LruCrawler::Mgdump(arg) => write!(f, "lru_crawler mgdump {}", Quoted(arg)),
            LruCrawler::Crawl(arg) => write!(f, "lru_crawler crawl {}", Quoted(arg)),
            LruCrawler::Sleep(us) => write!(f, "lru_crawler sleep {us}"),
            LruCrawler::Tocrawl(n) => write!(f, "lru_crawler tocrawl {n}"),
            LruCrawler::Enable => f.write_str("lru_crawler enable"),
            LruCrawler::Disable => f.write_str("lru_crawler disable"),
        }
    }
}
