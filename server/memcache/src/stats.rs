//! `stats [<group> [args]]\r\n` → `STAT <name> <value>\r\n`* then `END\r\n`.
//!
//! Arguments after the ones a group uses are ignored. `stats reset` answers `RESET`,
//! `stats detail on|off` answer `OK`. A group the server does not know is answered `ERROR`.

use core::fmt;

use crate::display::Quoted;
use crate::lex::{parse_u32, Tokens};
use crate::reply::{ClientError, Rejection};
use crate::request::Request;

/// A parsed `stats` command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stats<'a> {
    /// `stats`: the general statistics.
    General,
    /// `stats settings`.
    Settings,
    /// `stats items`: per slab class item statistics.
    Items,
    /// `stats slabs`: per slab class memory statistics.
    Slabs,
    /// `stats sizes`: the item size histogram (`STAT sizes_status disabled` when off).
    Sizes,
    /// `stats conns`: one group of lines per connection.
    Conns,
    /// `stats reset`: zero the counters; the reply is `RESET`.
    Reset,
    /// `stats detail on|off|dump`.
    Detail(StatsDetail),
    /// `stats cachedump <class> <limit>`. The server first checks that dumping is allowed
    /// ([`ClientError::CachedumpNotAllowed`] otherwise), then the arguments: `Err` holds the
    /// error memcached answers for malformed ones.
    Cachedump(Result<Cachedump, ClientError>),
    /// Any other group, as sent (`stats extstore`, `stats proxy`, ...): answered by the server,
    /// `ERROR` if it does not know it.
    Other(&'a [u8]),
}

/// The action of `stats detail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsDetail {
    /// `stats detail on`: start collecting per-prefix statistics; `OK`.
    On,
    /// `stats detail off`; `OK`.
    Off,
    /// `stats detail dump`: the per-prefix lines, then `END`.
    Dump,
}

/// The arguments of `stats cachedump`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cachedump {
    /// The slab class to dump (memcached answers `CLIENT_ERROR Illegal slab id` when it has no
    /// such class).
    pub class: u32,
    /// How many items to list at most (0: as many as fit in memcached's 2 MB buffer).
    pub limit: u32,
}

impl<'a> Stats<'a> {
    pub(crate) fn parse(tokens: &Tokens<'a>) -> Request<'a> {
        if tokens.len() == 1 {
            return Request::Stats(Stats::General);
        }
        let stats = match tokens.get(1) {
            b"settings" => Stats::Settings,
            b"items" => Stats::Items,
            b"slabs" => Stats::Slabs,
            b"sizes" => Stats::Sizes,
            b"conns" => Stats::Conns,
            b"reset" => Stats::Reset,
            b"detail" => match tokens.get(2) {
                b"on" => Stats::Detail(StatsDetail::On),
                b"off" => Stats::Detail(StatsDetail::Off),
                b"dump" => Stats::Detail(StatsDetail::Dump),
                _ => {
                    return Request::Rejected(Rejection::client(
                        ClientError::StatsDetailUsage,
                        false,
                    ))
                }
            },
            b"cachedump" => Stats::Cachedump(if tokens.len() < 4 {
                Err(ClientError::BadCommandLine)
            } else {
                match (parse_u32(tokens.get(2)), parse_u32(tokens.get(3))) {
                    (Some(class), Some(limit)) => Ok(Cachedump { class, limit }),
                    _ => Err(ClientError::BadCommandLineFormat),
                }
            }),
            other => Stats::Other(other),
        };
        Request::Stats(stats)
    }
}

impl fmt::Display for Stats<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stats::General => f.write_str("stats"),
            Stats::Settings => f.write_str("stats settings"),
            Stats::Items => f.write_str("stats items"),
            Stats::Slabs => f.write_str("stats slabs"),
            Stats::Sizes => f.write_str("stats sizes"),
            Stats::Conns => f.write_str("stats conns"),
            Stats::Reset => f.write_str("stats reset"),
            Stats::Detail(StatsDetail::On) => f.write_str("stats detail on"),
            Stats::Detail(StatsDetail::Off) => f.write_str("stats detail off"),
            Stats::Detail(StatsDetail::Dump) => f.write_str("stats detail dump"),
            Stats::Cachedump(Ok(c)) => {
                write!(f, "stats cachedump class={} limit={}", c.class, c.limit)
            }
            Stats::Cachedump(Err(e)) => write!(f, "stats cachedump error={:?}", e.as_str()),
            Stats::Other(name) => write!(f, "stats other={}", Quoted(name)),
        }
    }
}
