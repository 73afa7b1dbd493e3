//! Reading transcript files (the format is described in docs/protocol.md).

use std::fs;
use std::path::{Path, PathBuf};

/// One expected piece of the reply stream.
#[derive(Debug, Clone)]
pub(crate) enum Expect {
    /// These exact bytes.
    Exact(Vec<u8>),
    /// A line starting with these bytes, up to and including its `\r\n`.
    Prefix(Vec<u8>),
}

/// Requests sent together on one new connection, and what must come back.
#[derive(Debug, Clone, Default)]
pub(crate) struct Exchange {
    /// Where the exchange starts in its file (1-based), for messages.
    pub(crate) line: usize,
    /// `@tag` lines.
    pub(crate) tags: Vec<String>,
    /// The request bytes.
    pub(crate) input: Vec<u8>,
    /// `=` lines: the expected parse results, in order.
    pub(crate) parsed: Vec<String>,
    /// `<` lines.
    pub(crate) reply: Vec<Expect>,
    /// `! close`: the server closes the connection.
    pub(crate) close: bool,
}

impl Exchange {
    /// Whether the exchange carries the tag.
    pub(crate) fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t == tag)
    }
}

/// A transcript file.
#[derive(Debug, Clone)]
pub(crate) struct Transcript {
    /// The file's path.
    pub(crate) path: PathBuf,
    /// Its exchanges.
    pub(crate) exchanges: Vec<Exchange>,
}

/// Every transcript file, sorted by name.
pub(crate) fn all() -> Vec<Transcript> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts");
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("transcript directory")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no transcripts in {}", dir.display());
    paths.into_iter().map(|p| read(&p)).collect()
}

/// Reads one transcript file.
pub(crate) fn read(path: &Path) -> Transcript {
    let text = fs::read_to_string(path).expect("transcript file");
    let mut exchanges = Vec::new();
    let mut current: Option<Exchange> = None;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let where_ = || format!("{}:{number}", path.display());
        if line.trim().is_empty() {
            exchanges.extend(current.take());
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let exchange = current.get_or_insert_with(|| Exchange {
            line: number,
            ..Exchange::default()
        });
        let (marker, rest) = line.split_once(' ').unwrap_or((line, ""));
        match marker {
            ">" => {
                exchange.input.extend(unescape(rest, &where_()));
                exchange.input.extend_from_slice(b"\r\n");
            }
            ">>" => exchange.input.extend(unescape(rest, &where_())),
            "<" => {
                let mut bytes = unescape(rest, &where_());
                bytes.extend_from_slice(b"\r\n");
                exchange.reply.push(Expect::Exact(bytes));
            }
            "<<" => exchange
                .reply
                .push(Expect::Exact(unescape(rest, &where_()))),
            "<~" => exchange
                .reply
                .push(Expect::Prefix(unescape(rest, &where_()))),
            "=" => exchange.parsed.push(expand_repeats(rest, &where_())),
            "!" if rest == "close" => exchange.close = true,
            _ if marker.starts_with('@') => exchange.tags.push(marker[1..].to_string()),
            _ => panic!("{}: cannot read {line:?}", where_()),
        }
    }
    exchanges.extend(current.take());
    Transcript {
        path: path.to_path_buf(),
        exchanges,
    }
}

/// Expands the escapes `\r \n \t \0 \\ \xNN` and `\{N*text}` (text repeated N times).
pub(crate) fn unescape(text: &str, where_: &str) -> Vec<u8> {
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
            .unwrap_or_else(|| panic!("{where_}: trailing backslash"));
        i += 2;
        match escape {
            b'r' => out.push(b'\r'),
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'0' => out.push(0),
            b'\\' => out.push(b'\\'),
            b'x' => {
                let hex = std::str::from_utf8(&bytes[i..i + 2]).expect("hex digits");
                out.push(u8::from_str_radix(hex, 16).unwrap_or_else(|_| panic!("{where_}: \\x")));
                i += 2;
            }
            b'{' => {
                let end = i + bytes[i..]
                    .iter()
                    .position(|&b| b == b'}')
                    .expect("closing brace");
                let inner = std::str::from_utf8(&bytes[i..end]).expect("utf-8");
                let (count, piece) = inner.split_once('*').expect("\\{N*text}");
                let count: usize = count.parse().unwrap_or_else(|_| panic!("{where_}: count"));
                for _ in 0..count {
                    out.extend_from_slice(piece.as_bytes());
                }
                i = end + 1;
            }
            other => panic!("{where_}: unknown escape \\{}", char::from(other)),
        }
    }
    out
}

/// Expands only `\{N*text}` (parse results are compared as printed, escapes and all).
pub(crate) fn expand_repeats(text: &str, where_: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("\\{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .unwrap_or_else(|| panic!("{where_}: closing brace"));
        let (count, piece) = after[..end].split_once('*').expect("\\{N*text}");
        let count: usize = count.parse().unwrap_or_else(|_| panic!("{where_}: count"));
        out.push_str(&piece.repeat(count));
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Checks `actual` against the expected reply pieces; returns a description of the first
/// difference.
pub(crate) fn check_reply(expected: &[Expect], actual: &[u8]) -> Result<(), String> {
    let mut at = 0;
    for (n, piece) in expected.iter().enumerate() {
        let rest = &actual[at..];
        match piece {
            Expect::Exact(bytes) => {
                if !rest.starts_with(bytes) {
                    return Err(format!(
                        "reply piece {n}: expected {:?}, got {:?}",
                        String::from_utf8_lossy(bytes),
                        String::from_utf8_lossy(&rest[..rest.len().min(bytes.len() + 40)])
                    ));
                }
                at += bytes.len();
            }
            Expect::Prefix(prefix) => {
                let Some(end) = rest.windows(2).position(|w| w == b"\r\n") else {
                    return Err(format!("reply piece {n}: no line left for {prefix:?}"));
                };
                if !rest[..end].starts_with(prefix) {
                    return Err(format!(
                        "reply piece {n}: expected a line starting {:?}, got {:?}",
                        String::from_utf8_lossy(prefix),
                        String::from_utf8_lossy(&rest[..end])
                    ));
                }
                at += end + 2;
            }
        }
    }
    if at != actual.len() {
        return Err(format!(
            "unexpected extra reply {:?}",
            String::from_utf8_lossy(&actual[at..])
        ));
    }
    Ok(())
}
