//! Classic replies: typed values that append their exact bytes to an output buffer.
//!
//! Meta replies are written by the meta requests themselves ([`MetaGet::write_hit`] and
//! friends), since their return flags depend on the request's flags; error replies by
//! [`ErrorReply`] and [`Rejection`].
//!
//! [`MetaGet::write_hit`]: crate::meta::MetaGet::write_hit
//! [`ErrorReply`]: crate::ErrorReply
//! [`Rejection`]: crate::Rejection

use alloc::vec::Vec;

use crate::arithmetic::write_decimal;

/// One classic reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Response<'a> {
    /// `STORED`.
    Stored,
    /// `NOT_STORED`.
    NotStored,
    /// `EXISTS`.
    Exists,
    /// `NOT_FOUND`.
    NotFound,
    /// `DELETED`.
    Deleted,
    /// `TOUCHED`.
    Touched,
    /// `OK` (`flush_all`, `verbosity`, `stats detail on|off`, `lru_crawler ...`).
    Ok,
    /// `END`: ends a retrieval or a stats listing.
    End,
    /// `RESET` (`stats reset`).
    Reset,
    /// The new value after `incr`/`decr`, in decimal.
    Number(u64),
    /// `VERSION <version>`.
    Version(&'a [u8]),
    /// One hit of a retrieval: `VALUE <key> <flags> <bytes>[ <cas>]\r\n<data>\r\n` (then the
    /// server sends [`Response::End`] after the last key).
    Value {
        /// The key.
        key: &'a [u8],
        /// The client flags.
        flags: u32,
        /// The data.
        data: &'a [u8],
        /// The CAS unique, for `gets` and `gats`.
        cas: Option<u64>,
    },
    /// `STAT <name> <value>`.
    Stat {
        /// The statistic's name.
        name: &'a [u8],
        /// Its value, already formatted.
        value: &'a [u8],
    },
    /// `ERROR`.
    Error,
    /// `CLIENT_ERROR <reason>`.
    ClientError(&'a [u8]),
    /// `SERVER_ERROR <reason>`.
    ServerError(&'a [u8]),
    /// A line as is (`ERROR: shutdown not enabled`, `BUSY ...`, metadump lines, ...).
    Line(&'a [u8]),
}

impl Response<'_> {
    /// Appends the reply, `\r\n` included, to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let text: &[u8] = match self {
            Response::Stored => b"STORED",
            Response::NotStored => b"NOT_STORED",
            Response::Exists => b"EXISTS",
            Response::NotFound => b"NOT_FOUND",
            Response::Deleted => b"DELETED",
            Response::Touched => b"TOUCHED",
            Response::Ok => b"OK",
            Response::End => b"END",
            Response::Reset => b"RESET",
            Response::Error => b"ERROR",
            Response::Number(n) => {
                write_decimal(*n, out);
                b""
            }
            Response::Version(v) => {
                out.extend_from_slice(b"VERSION ");
                v
            }
            Response::Value {
                key,
                flags,
                data,
                cas,
            } => {
                write_value_header(out, key, *flags, data.len(), *cas);
                data
            }
            Response::Stat { name, value } => {
                out.extend_from_slice(b"STAT ");
                out.extend_from_slice(name);
                out.push(b' ');
                value
            }
            Response::ClientError(reason) => {
                out.extend_from_slice(b"CLIENT_ERROR ");
                reason
            }
            Response::ServerError(reason) => {
                out.extend_from_slice(b"SERVER_ERROR ");
                reason
            }
            Response::Line(line) => line,
        };
        out.extend_from_slice(text);
        out.extend_from_slice(b"\r\n");
    }
}

/// Appends `VALUE <key> <flags> <bytes>[ <cas>]\r\n`, for a server that sends the data block
/// (and its `\r\n`) from its own buffers.
pub fn write_value_header(
    out: &mut Vec<u8>,
    key: &[u8],
    flags: u32,
    data_len: usize,
    cas: Option<u64>,
) {
    out.extend_from_slice(b"VALUE ");
    out.extend_from_slice(key);
    out.push(b' ');
    write_decimal(u64::from(flags), out);
    out.push(b' ');
    write_decimal(data_len as u64, out);
    if let Some(cas) = cas {
        out.push(b' ');
        write_decimal(cas, out);
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends `STAT <name> <value>\r\n` with a numeric value.
pub fn write_stat_u64(out: &mut Vec<u8>, name: &[u8], value: u64) {
    out.extend_from_slice(b"STAT ");
    out.extend_from_slice(name);
    out.push(b' ');
    write_decimal(value, out);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(response: Response<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        response.write_to(&mut out);
        out
    }

    #[test]
    fn replies_are_exact() {
        assert_eq!(bytes(Response::Stored), b"STORED\r\n");
        assert_eq!(bytes(Response::NotStored), b"NOT_STORED\r\n");
        assert_eq!(bytes(Response::Exists), b"EXISTS\r\n");
        assert_eq!(bytes(Response::NotFound), b"NOT_FOUND\r\n");
        assert_eq!(bytes(Response::Deleted), b"DELETED\r\n");
        assert_eq!(bytes(Response::Touched), b"TOUCHED\r\n");
        assert_eq!(bytes(Response::Ok), b"OK\r\n");
        assert_eq!(bytes(Response::End), b"END\r\n");
        assert_eq!(bytes(Response::Reset), b"RESET\r\n");
        assert_eq!(bytes(Response::Error), b"ERROR\r\n");
        assert_eq!(
            bytes(Response::Number(u64::MAX)),
            b"18446744073709551615\r\n"
        );
        assert_eq!(bytes(Response::Version(b"1.6.18")), b"VERSION 1.6.18\r\n");
        let value = Response::Value {
            key: b"k",
            flags: 5,
            data: b"a\r\nb",
            cas: None,
        };
        assert_eq!(bytes(value), b"VALUE k 5 4\r\na\r\nb\r\n");
        let value = Response::Value {
            key: b"k",
            flags: 0,
            data: b"",
            cas: Some(9),
        };
        assert_eq!(bytes(value), b"VALUE k 0 0 9\r\n\r\n");
        assert_eq!(
            bytes(Response::Stat {
                name: b"pid",
                value: b"1"
            }),
            b"STAT pid 1\r\n"
        );
        assert_eq!(bytes(Response::ClientError(b"x")), b"CLIENT_ERROR x\r\n");
        assert_eq!(bytes(Response::ServerError(b"y")), b"SERVER_ERROR y\r\n");
        assert_eq!(bytes(Response::Line(b"BUSY z")), b"BUSY z\r\n");
        let mut out = Vec::new();
        write_stat_u64(&mut out, b"curr_items", 3);
        assert_eq!(out, b"STAT curr_items 3\r\n");
    }
}
