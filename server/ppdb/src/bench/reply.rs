//! Incremental, strict parsing of the server's replies.
//!
//! [`parse`] looks at the unconsumed bytes of a connection and either finds one complete reply
//! to the oldest request in flight, says it needs more bytes, or gives up on the stream. It keeps
//! no state between calls: a reply split over many reads is simply parsed again from its start
//! when more bytes arrive. Only the header line is scanned again; a value's bytes are skipped by
//! length, so a large value that arrives in pieces costs no repeated scanning.
//!
//! Strictness: a reply is one of three things.
//! - The success the request hoped for: [`Reply::Hit`] or [`Reply::Miss`] for a get,
//!   [`Reply::Stored`] for a set.
//! - [`Reply::Rejected`]: a well-formed reply that is not that success (`SERVER_ERROR ...`,
//!   `NOT_STORED`, a value of the wrong key or length). The stream is still in step, so the
//!   request counts as an error and the connection goes on.
//! - [`Desync`]: anything else (an unknown line, a missing `END`, `ERROR` for a command the
//!   server does not know, after which its data line would be read as a command). The connection
//!   cannot tell where the next reply starts, so it is closed and the error reported.

use super::config::{Protocol, VALUE_SIZE_MAX};
use super::request::Op;

/// Longest reply line accepted (a `VALUE` line with a 250-byte key needs under 300).
pub(crate) const LINE_MAX: usize = 2_048;

/// What the oldest request in flight expects.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expect<'a> {
    /// Command family of the request.
    pub(crate) protocol: Protocol,
    /// Kind of the request.
    pub(crate) op: Op,
    /// The key it names.
    pub(crate) key: &'a [u8],
    /// Length of every value the load writes.
    pub(crate) value_size: usize,
}

/// One complete reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reply {
    /// A get found the key with a value of the expected length.
    Hit,
    /// A get did not find the key.
    Miss,
    /// A set was stored.
    Stored,
    /// A well-formed reply that is not the hoped-for success; the stream is still in step.
    Rejected {
        /// What was wrong, quoting the reply.
        reason: String,
    },
}

/// The reply stream cannot be followed any further.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Desync {
    /// What was wrong, quoting the reply.
    pub(crate) reason: String,
}

/// Parses one reply from the front of `input`.
///
/// Returns the reply and the number of bytes it used, `Ok(None)` when `input` holds only part of
/// a reply, or [`Desync`] when `input` does not start with a reply to `expect`.
pub(crate) fn parse(input: &[u8], expect: &Expect<'_>) -> Result<Option<(Reply, usize)>, Desync> {
    let Some(line_len) = line_length(input)? else {
        return Ok(None);
    };
    let line = &input[..line_len];
    let after_line = line_len + 2;
    let reply = match (expect.op, expect.protocol) {
        (Op::Get, Protocol::Text) if line == b"END" => Some((Reply::Miss, after_line)),
        (Op::Get, Protocol::Text) if line.starts_with(b"VALUE ") => {
            return text_value(input, line, expect);
        }
        (Op::Get, Protocol::Meta) if line == b"EN" => Some((Reply::Miss, after_line)),
        (Op::Get, Protocol::Meta) if line.starts_with(b"VA ") => {
            return meta_value(input, line, expect);
        }
        (Op::Set, Protocol::Text) if line == b"STORED" => Some((Reply::Stored, after_line)),
        (Op::Set, Protocol::Meta) if first_word(line) == b"HD" => Some((Reply::Stored, after_line)),
        _ => None,
    };
    match reply {
        Some(reply) => Ok(Some(reply)),
        None => other_line(line, expect).map(|reply| Some((reply, after_line))),
    }
}

/// The length of the first line of `input` without its `\r\n`, `None` if it is not complete.
fn line_length(input: &[u8]) -> Result<Option<usize>, Desync> {
    let window = &input[..input.len().min(LINE_MAX + 2)];
    match window.iter().position(|&b| b == b'\n') {
        Some(0) => Err(desync("a reply line ended by a bare \\n", b"")),
        Some(end) if input[end - 1] == b'\r' => Ok(Some(end - 1)),
        Some(end) => Err(desync("a reply line ended by a bare \\n", &input[..end])),
        None if window.len() > LINE_MAX => Err(desync("a reply line too long", &input[..80])),
        None => Ok(None),
    }
}

/// `VALUE <key> <flags> <bytes> [<cas>]\r\n<data>\r\nEND\r\n`.
fn text_value(
    input: &[u8],
    line: &[u8],
    expect: &Expect<'_>,
) -> Result<Option<(Reply, usize)>, Desync> {
    let malformed = || desync("a malformed VALUE line", line);
    let mut fields = line.split(|&b| b == b' ').skip(1);
    let key = fields.next().ok_or_else(malformed)?;
    number::<u32>(fields.next()).ok_or_else(malformed)?;
    let bytes = number::<usize>(fields.next()).ok_or_else(malformed)?;
    if let Some(cas) = fields.next() {
        number::<u64>(Some(cas)).ok_or_else(malformed)?;
    }
    if fields.next().is_some() || bytes > VALUE_SIZE_MAX {
        return Err(malformed());
    }
    let Some(data_end) = data_block(input, line.len() + 2, bytes)? else {
        return Ok(None);
    };
    let end = data_end + 5;
    if input.len() < end {
        return Ok(None);
    }
    if &input[data_end..end] != b"END\r\n" {
        return Err(desync(
            "a single-key get answered without END after its value",
            line,
        ));
    }
    let reply = if key != expect.key {
        Reply::Rejected {
            reason: quote("a value for another key", line),
        }
    } else {
        value_length_check(bytes, expect.value_size, line)
    };
    Ok(Some((reply, end)))
}

/// `VA <bytes> <flags>*\r\n<data>\r\n`.
fn meta_value(
    input: &[u8],
    line: &[u8],
    expect: &Expect<'_>,
) -> Result<Option<(Reply, usize)>, Desync> {
    let bytes = number::<usize>(line.split(|&b| b == b' ').nth(1))
        .filter(|&n| n <= VALUE_SIZE_MAX)
        .ok_or_else(|| desync("a malformed VA line", line))?;
    let Some(end) = data_block(input, line.len() + 2, bytes)? else {
        return Ok(None);
    };
    Ok(Some((
        value_length_check(bytes, expect.value_size, line),
        end,
    )))
}

/// Checks the `\r\n` after `bytes` of data starting at `start`; returns the offset after it.
fn data_block(input: &[u8], start: usize, bytes: usize) -> Result<Option<usize>, Desync> {
    let end = start + bytes + 2;
    if input.len() < end {
        return Ok(None);
    }
    if &input[end - 2..end] != b"\r\n" {
        return Err(desync(
            "a value not followed by \\r\\n",
            &input[..start - 2],
        ));
    }
    Ok(Some(end))
}

/// A hit if the value has the length every set of the load writes.
fn value_length_check(bytes: usize, value_size: usize, line: &[u8]) -> Reply {
    if bytes == value_size {
        Reply::Hit
    } else {
        let what = format!("a value of {bytes} bytes where the load writes {value_size}");
        Reply::Rejected {
            reason: quote(&what, line),
        }
    }
}

/// A line that is not the success `expect` hoped for.
fn other_line(line: &[u8], expect: &Expect<'_>) -> Result<Reply, Desync> {
    const STATUSES: &[&[u8]] = &[
        b"STORED",
        b"NOT_STORED",
        b"EXISTS",
        b"NOT_FOUND",
        b"END",
        b"DELETED",
        b"TOUCHED",
        b"OK",
        b"HD",
        b"NS",
        b"EX",
        b"NF",
        b"EN",
        b"MN",
    ];
    let word = first_word(line);
    if word == b"ERROR" {
        return Err(desync("ERROR: the server does not know the command", line));
    }
    if word == b"CLIENT_ERROR" || word == b"SERVER_ERROR" {
        return Ok(Reply::Rejected {
            reason: quote("an error", line),
        });
    }
    if STATUSES.contains(&word) {
        let what = match expect.op {
            Op::Get => "an unexpected reply to a get",
            Op::Set => "an unexpected reply to a set",
        };
        return Ok(Reply::Rejected {
            reason: quote(what, line),
        });
    }
    Err(desync("an unknown reply", line))
}

/// The bytes of `line` before its first space.
fn first_word(line: &[u8]) -> &[u8] {
    line.split(|&b| b == b' ').next().unwrap_or(line)
}

/// A decimal number field.
fn number<T: std::str::FromStr>(field: Option<&[u8]>) -> Option<T> {
    let field = field?;
    if field.is_empty() || !field.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(field).ok()?.parse().ok()
}

fn desync(what: &str, line: &[u8]) -> Desync {
    Desync {
        reason: quote(what, line),
    }
}

/// `what: "line"`, the line shortened and escaped so that it prints on one terminal line.
pub(crate) fn quote(what: &str, line: &[u8]) -> String {
    const SHOWN_MAX: usize = 80;
    if line.is_empty() {
        return what.to_owned();
    }
    let shown = String::from_utf8_lossy(&line[..line.len().min(SHOWN_MAX)]);
    let ellipsis = if line.len() > SHOWN_MAX { "..." } else { "" };
    format!("{what}: \"{}{ellipsis}\"", shown.escape_debug())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0042";

    fn expect(protocol: Protocol, op: Op) -> Expect<'static> {
        Expect {
            protocol,
            op,
            key: KEY,
            value_size: 5,
        }
    }

    /// Parses `input` whole, and checks that every strict prefix of it is incomplete.
    fn complete(input: &[u8], expect: &Expect<'_>) -> Result<Reply, Desync> {
        for cut in 0..input.len() {
            match parse(&input[..cut], expect) {
                Ok(None) => {}
                other => panic!("prefix of {cut} bytes gave {other:?}"),
            }
        }
        let (reply, used) = parse(input, expect)?.expect("a complete reply");
        assert_eq!(used, input.len());
        Ok(reply)
    }

    fn rejected(result: Result<Reply, Desync>) -> String {
        match result {
            Ok(Reply::Rejected { reason }) => reason,
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    #[test]
    fn text_get() {
        let e = expect(Protocol::Text, Op::Get);
        assert_eq!(complete(b"END\r\n", &e), Ok(Reply::Miss));
        assert_eq!(
            complete(b"VALUE 0042 0 5\r\nabcde\r\nEND\r\n", &e),
            Ok(Reply::Hit)
        );
        assert_eq!(
            complete(b"VALUE 0042 7 5 99\r\nab\r\nd\r\nEND\r\n", &e),
            Ok(Reply::Hit)
        );
        let reason = rejected(complete(b"VALUE 0043 0 5\r\nabcde\r\nEND\r\n", &e));
        assert!(reason.contains("another key"), "{reason}");
        let reason = rejected(complete(b"VALUE 0042 0 3\r\nabc\r\nEND\r\n", &e));
        assert!(reason.contains("3 bytes"), "{reason}");
    }

    #[test]
    fn text_set() {
        let e = expect(Protocol::Text, Op::Set);
        assert_eq!(complete(b"STORED\r\n", &e), Ok(Reply::Stored));
        assert!(rejected(complete(b"NOT_STORED\r\n", &e)).contains("NOT_STORED"));
        assert!(rejected(complete(b"END\r\n", &e)).contains("unexpected reply to a set"));
    }

    #[test]
    fn meta_get_and_set() {
        let get = expect(Protocol::Meta, Op::Get);
        assert_eq!(complete(b"EN\r\n", &get), Ok(Reply::Miss));
        assert_eq!(complete(b"VA 5\r\nabcde\r\n", &get), Ok(Reply::Hit));
        assert_eq!(complete(b"VA 5 f0 t-1\r\nabcde\r\n", &get), Ok(Reply::Hit));
        assert!(rejected(complete(b"VA 2\r\nab\r\n", &get)).contains("2 bytes"));
        assert!(rejected(complete(b"HD\r\n", &get)).contains("unexpected reply to a get"));
        let set = expect(Protocol::Meta, Op::Set);
        assert_eq!(complete(b"HD\r\n", &set), Ok(Reply::Stored));
        assert_eq!(complete(b"HD k0042\r\n", &set), Ok(Reply::Stored));
        assert!(rejected(complete(b"NS\r\n", &set)).contains("NS"));
    }

    #[test]
    fn error_lines() {
        for protocol in [Protocol::Text, Protocol::Meta] {
            for op in [Op::Get, Op::Set] {
                let e = expect(protocol, op);
                let reason = rejected(complete(b"SERVER_ERROR out of memory\r\n", &e));
                assert_eq!(reason, "an error: \"SERVER_ERROR out of memory\"");
                assert!(rejected(complete(b"CLIENT_ERROR bad\r\n", &e)).contains("CLIENT"));
                assert!(complete(b"ERROR\r\n", &e).is_err());
            }
        }
    }

    #[test]
    fn split_and_pipelined_replies() {
        let e = expect(Protocol::Text, Op::Get);
        let two = b"VALUE 0042 0 5\r\nabcde\r\nEND\r\nEND\r\n";
        let (reply, used) = parse(two, &e).expect("valid").expect("complete");
        assert_eq!((reply, used), (Reply::Hit, 28));
        let (reply, used) = parse(&two[used..], &e).expect("valid").expect("complete");
        assert_eq!((reply, used), (Reply::Miss, 5));
        // A value whose bytes look like reply lines is skipped by its length.
        let tricky = b"VA 5\r\nEN\r\nA\r\nEN\r\n";
        let (reply, used) = parse(tricky, &expect(Protocol::Meta, Op::Get))
            .expect("ok")
            .expect("");
        assert_eq!((reply, used), (Reply::Hit, 13));
    }

    #[test]
    fn desynchronised_streams() {
        let get = expect(Protocol::Text, Op::Get);
        for input in [
            &b"VALUE 0042 0 5\r\nabcdeX\r\nEND\r\n"[..],
            b"VALUE 0042 0 5\r\nabcde\r\nVALUE 0042 0 5\r\nabcde\r\nEND\r\n",
            b"VALUE 0042 x 5\r\n",
            b"VALUE 0042 0\r\n",
            b"VALUE 0042 0 5 1 2\r\n",
            b"VA 5\r\nabcde\r\n",
            b"HELLO\r\n",
            b"END\n",
            b"\n",
        ] {
            assert!(parse(input, &get).is_err(), "{input:?} was accepted");
        }
        let set = expect(Protocol::Meta, Op::Set);
        assert!(parse(b"VALUE 0042 0 5\r\nabcde\r\nEND\r\n", &set).is_err());
        assert!(parse(b"VA x\r\n", &expect(Protocol::Meta, Op::Get)).is_err());
        assert!(parse(&[b'x'; LINE_MAX + 2], &get).is_err());
        assert_eq!(parse(&[b'x'; LINE_MAX], &get), Ok(None));
    }
}
