//! The transcript format: requests and the exact replies expected (`docs/protocol.md`,
//! "Transcript tests"), read by the protocol's tests, the server's executor tests and the tests
//! that replay transcripts over TCP against `ppdb server` and memcached.
//!
//! ```text
//! > set a 0 0 1          send "set a 0 0 1\r\n"          >> text   send as written
//! > x                    send "x\r\n"                    <~ text   a line starting with text
//! < STORED               expect "STORED\r\n"             << text   expect as written
//! = set key="a" ...      the parse result (this crate)   @tag      @differs, ...
//! ! close                the server closes               @sleep N  wait N seconds first
//! ```
//!
//! Blank lines separate exchanges; `#` starts a comment. Text after a marker takes the escapes
//! `\r \n \t \0 \\ \xNN` and `\{N*text}` (text repeated N times). This is test support: a
//! malformed transcript panics, naming the file and line. With the `std` feature,
//! [`read_dir`] reads every transcript file of a directory.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// One expected piece of the reply stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// These exact bytes.
    Exact(Vec<u8>),
    /// A line starting with these bytes, up to and including its `\r\n`.
    Prefix(Vec<u8>),
}

/// Requests sent together on one new connection, and what must come back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exchange {
    /// Where the exchange starts in its file (1-based), for messages.
    pub line: usize,
    /// `@tag` lines, without the `@` (`@sleep` excluded).
    pub tags: Vec<String>,
    /// `@sleep N`: seconds to wait before the exchange.
    pub sleep_secs: u64,
    /// The request bytes.
    pub input: Vec<u8>,
    /// `=` lines: the expected parse results, in order (escapes kept as written, repeats
    /// expanded).
    pub parsed: Vec<String>,
    /// The reply pieces.
    pub reply: Vec<Expect>,
    /// `! close`: the server closes the connection.
    pub close: bool,
}

impl Exchange {
    /// Whether the exchange carries the tag.
    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t == tag)
    }
}

/// A transcript file and its exchanges.
#[cfg(feature = "std")]
#[derive(Debug, Clone)]
pub struct Transcript {
    /// The file's path.
    pub path: std::path::PathBuf,
    /// Its exchanges.
    pub exchanges: Vec<Exchange>,
}

/// Every transcript file (`*.txt`) in `dir`, sorted by name; panics if there is none.
#[cfg(feature = "std")]
pub fn read_dir(dir: &std::path::Path) -> Vec<Transcript> {
    use std::fs;
    let mut paths: Vec<std::path::PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no transcripts in {}", dir.display());
    paths
        .into_iter()
        .map(|path| {
            let text =
                fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let exchanges = parse(&text, &path.display().to_string());
            Transcript { path, exchanges }
        })
        .collect()
}

/// Reads a transcript's text; `origin` (its path) prefixes the line numbers of panics.
pub fn parse(text: &str, origin: &str) -> Vec<Exchange> {
    let mut exchanges = Vec::new();
    let mut current: Option<Exchange> = None;
    for (index, line) in text.lines().enumerate() {
        let at = format!("{origin}:{}", index + 1);
        if line.trim().is_empty() {
            exchanges.extend(current.take());
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let exchange = current.get_or_insert_with(|| Exchange {
            line: index + 1,
            ..Exchange::default()
        });
        let (marker, rest) = line.split_once(' ').unwrap_or((line, ""));
        match marker {
            ">" => {
                exchange.input.extend(unescape(rest, &at));
                exchange.input.extend_from_slice(b"\r\n");
            }
            ">>" => exchange.input.extend(unescape(rest, &at)),
            "<" => {
                let mut bytes = unescape(rest, &at);
                bytes.extend_from_slice(b"\r\n");
                exchange.reply.push(Expect::Exact(bytes));
            }
            "<<" => exchange.reply.push(Expect::Exact(unescape(rest, &at))),
            "<~" => exchange.reply.push(Expect::Prefix(unescape(rest, &at))),
            "=" => exchange.parsed.push(expand_repeats(rest, &at)),
            "!" if rest == "close" => exchange.close = true,
            "@sleep" => {
                exchange.sleep_secs = rest
                    .parse()
                    .unwrap_or_else(|_| panic!("{at}: @sleep takes whole seconds"));
            }
            _ if marker.starts_with('@') => exchange.tags.push(marker[1..].to_string()),
            _ => panic!("{at}: cannot read {line:?}"),
        }
    }
    exchanges.extend(current.take());
    exchanges
}

/// Expands the escapes `\r \n \t \0 \\ \xNN` and `\{N*text}`; `at` names the place for panics.
pub fn unescape(text: &str, at: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let escape = *bytes
            .get(i + 1)
            .unwrap_or_else(|| panic!("{at}: trailing backslash"));
        i += 2;
        match escape {
            b'r' => out.push(b'\r'),
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'0' => out.push(0),
            b'\\' => out.push(b'\\'),
            b'x' => {
                let hex = bytes
                    .get(i..i + 2)
                    .and_then(|h| core::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .unwrap_or_else(|| panic!("{at}: \\x takes two hex digits"));
                out.push(hex);
                i += 2;
            }
            b'{' => {
                let (count, piece, end) = repeat_at(text, i, at);
                out.extend(piece.repeat(count).into_bytes());
                i = end + 1;
            }
            other => panic!("{at}: unknown escape \\{}", char::from(other)),
        }
    }
    out
}

/// Expands only `\{N*text}`: parse results are compared as printed, escapes and all.
pub fn expand_repeats(text: &str, at: &str) -> String {
    let mut out = String::new();
    let mut i = 0;
    while let Some(start) = text[i..].find("\\{").map(|s| i + s) {
        out.push_str(&text[i..start]);
        let (count, piece, end) = repeat_at(text, start + 2, at);
        out.push_str(&piece.repeat(count));
        i = end + 1;
    }
    out.push_str(&text[i..]);
    out
}

/// The `N*text}` of a repeat escape starting at byte `from` of `text`: the count, the text, and
/// where its closing brace is.
fn repeat_at<'t>(text: &'t str, from: usize, at: &str) -> (usize, &'t str, usize) {
    let end = from
        + text[from..]
            .find('}')
            .unwrap_or_else(|| panic!("{at}: \\{{ without its closing brace"));
    let (count, piece) = text[from..end]
        .split_once('*')
        .unwrap_or_else(|| panic!("{at}: a repeat is \\{{N*text}}"));
    let count = count
        .parse()
        .unwrap_or_else(|_| panic!("{at}: bad repeat count {count:?}"));
    (count, piece, end)
}

/// Checks `actual` against the expected reply pieces; describes the first difference.
pub fn check_reply(expected: &[Expect], actual: &[u8]) -> Result<(), String> {
    let show = |b: &[u8]| String::from_utf8_lossy(&b[..b.len().min(200)]).into_owned();
    let mut at = 0;
    for (n, piece) in expected.iter().enumerate() {
        let rest = &actual[at..];
        match piece {
            Expect::Exact(bytes) => {
                if !rest.starts_with(bytes) {
                    let got = &rest[..rest.len().min(bytes.len() + 40)];
                    return Err(format!(
                        "reply piece {n}: expected {:?}, got {:?}",
                        show(bytes),
                        show(got)
                    ));
                }
                at += bytes.len();
            }
            Expect::Prefix(prefix) => {
                let Some(end) = rest.windows(2).position(|w| w == b"\r\n") else {
                    return Err(format!(
                        "reply piece {n}: no line left for {:?}",
                        show(prefix)
                    ));
                };
                if !rest[..end].starts_with(prefix) {
                    return Err(format!(
                        "reply piece {n}: expected a line starting {:?}, got {:?}",
                        show(prefix),
                        show(&rest[..end])
                    ));
                }
                at += end + 2;
            }
        }
    }
    if at != actual.len() {
        return Err(format!("unexpected extra reply {:?}", show(&actual[at..])));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn reads_every_marker() {
        let text = "# comment\n\
                    @differs\n\
                    @sleep 2\n\
                    > set a 0 0 1\n\
                    >> x\\r\\n\n\
                    = set key=\"a\" data=\"\\{3*x}\"\n\
                    < STORED\n\
                    << END\\r\\n\n\
                    <~ STAT pid\n\
                    ! close\n\
                    \n\
                    > get \\{2*ab}\\x41\n";
        let exchanges = parse(text, "t.txt");
        assert_eq!(exchanges.len(), 2);
        let first = &exchanges[0];
        assert_eq!(first.line, 2);
        assert!(first.has_tag("differs") && !first.has_tag("sleep"));
        assert_eq!(first.sleep_secs, 2);
        assert_eq!(first.input, b"set a 0 0 1\r\nx\r\n");
        assert_eq!(first.parsed, ["set key=\"a\" data=\"xxx\""]);
        assert_eq!(
            first.reply,
            vec![
                Expect::Exact(b"STORED\r\n".to_vec()),
                Expect::Exact(b"END\r\n".to_vec()),
                Expect::Prefix(b"STAT pid".to_vec()),
            ]
        );
        assert!(first.close);
        assert_eq!(exchanges[1].input, b"get ababA\r\n");
        assert_eq!(exchanges[1].line, 12);
    }

    #[test]
    #[should_panic(expected = "t.txt:1: cannot read")]
    fn a_line_it_cannot_read_panics_with_its_place() {
        parse("? what\n", "t.txt");
    }

    #[test]
    fn check_reply_names_the_first_difference() {
        let expected = [
            Expect::Exact(b"VALUE a 0 1\r\nx\r\n".to_vec()),
            Expect::Prefix(b"END".to_vec()),
        ];
        assert_eq!(
            check_reply(&expected, b"VALUE a 0 1\r\nx\r\nEND\r\n"),
            Ok(())
        );
        let wrong = check_reply(&expected, b"VALUE a 0 1\r\ny\r\nEND\r\n").unwrap_err();
        assert!(wrong.starts_with("reply piece 0"), "{wrong}");
        let extra = check_reply(&expected, b"VALUE a 0 1\r\nx\r\nEND\r\nEND\r\n").unwrap_err();
        assert!(extra.starts_with("unexpected extra reply"), "{extra}");
        let short = check_reply(&expected, b"VALUE a 0 1\r\nx\r\nEN").unwrap_err();
        assert!(short.contains("no line left"), "{short}");
    }
}
