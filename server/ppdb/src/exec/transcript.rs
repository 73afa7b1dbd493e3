//! Reading transcript files: requests and the exact replies expected.
//!
//! The format is the protocol crate's (`docs/protocol.md`, "Transcript tests"), plus one tag:
//! `@sleep N` waits N seconds before the exchange (the in-process runner advances its clock).
//!
//! ```text
//! > set a 0 0 1          send "set a 0 0 1\r\n"          >> text   send as written
//! > x                    send "x\r\n"                    <~ text   a line starting with text
//! < STORED               expect "STORED\r\n"             << text   expect as written
//! ! close                the server closes               @tag      @differs, @sleep N, ...
//! ```

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
    /// Where the exchange starts in its file (1-based).
    pub(crate) line: usize,
    /// `@tag` lines (without `@`; `@sleep` excluded).
    pub(crate) tags: Vec<String>,
    /// Seconds to wait before the exchange.
    pub(crate) sleep_secs: u64,
    /// The request bytes.
    pub(crate) input: Vec<u8>,
    /// The reply pieces.
    pub(crate) reply: Vec<Expect>,
    /// `! close`: the server closes the connection.
    pub(crate) close: bool,
}

/// A transcript file.
#[derive(Debug, Clone)]
pub(crate) struct Transcript {
    /// The file's path.
    pub(crate) path: PathBuf,
    /// Its exchanges.
    pub(crate) exchanges: Vec<Exchange>,
}

/// Every transcript of the executor, sorted by name.
pub(crate) fn all() -> Vec<Transcript> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/exec/transcripts");
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("transcript directory")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    paths.sort();
    paths.iter().map(|p| read(p)).collect()
}

/// Reads one transcript file.
pub(crate) fn read(path: &Path) -> Transcript {
    let text = fs::read_to_string(path).expect("transcript file");
    let mut exchanges = Vec::new();
    let mut current: Option<Exchange> = None;
    for (index, line) in text.lines().enumerate() {
        let at = format!("{}:{}", path.display(), index + 1);
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
            "!" if rest == "close" => exchange.close = true,
            "@sleep" => exchange.sleep_secs = rest.parse().expect("@sleep seconds"),
            _ if marker.starts_with('@') => exchange.tags.push(marker[1..].to_string()),
            _ => panic!("{at}: cannot read {line:?}"),
        }
    }
    exchanges.extend(current.take());
    Transcript {
        path: path.to_path_buf(),
        exchanges,
    }
}

/// Expands `\r \n \t \0 \\ \xNN` and `\{N*text}` (text repeated N times).
pub(crate) fn unescape(text: &str, at: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let escape = *bytes.get(i + 1).expect("escape character");
        i += 2;
        match escape {
            b'r' => out.push(b'\r'),
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'0' => out.push(0),
            b'\\' => out.push(b'\\'),
            b'x' => {
                let hex = std::str::from_utf8(&bytes[i..i + 2]).expect("hex digits");
                out.push(u8::from_str_radix(hex, 16).expect("hex escape"));
                i += 2;
            }
            b'{' => {
                let end = i + bytes[i..].iter().position(|&b| b == b'}').expect("}");
                let inner = std::str::from_utf8(&bytes[i..end]).expect("utf-8");
                let (count, piece) = inner.split_once('*').expect("\\{N*text}");
                let count: usize = count.parse().expect("repeat count");
                out.extend(piece.repeat(count).into_bytes());
                i = end + 1;
            }
            other => panic!("{at}: unknown escape \\{}", char::from(other)),
        }
    }
    out
}

/// Checks `actual` against the expected pieces; describes the first difference.
pub(crate) fn check_reply(expected: &[Expect], actual: &[u8]) -> Result<(), String> {
    let show = |b: &[u8]| String::from_utf8_lossy(&b[..b.len().min(200)]).into_owned();
    let mut at = 0;
    for (n, piece) in expected.iter().enumerate() {
        let rest = &actual[at..];
        match piece {
            Expect::Exact(bytes) => {
                if !rest.starts_with(bytes) {
                    let got = &rest[..rest.len().min(bytes.len() + 40)];
                    return Err(format!(
                        "piece {n}: expected {:?}, got {:?}",
                        show(bytes),
                        show(got)
                    ));
                }
                at += bytes.len();
            }
            Expect::Prefix(prefix) => {
                let Some(end) = rest.windows(2).position(|w| w == b"\r\n") else {
                    return Err(format!("piece {n}: no line left for {:?}", show(prefix)));
                };
                if !rest[..end].starts_with(prefix) {
                    return Err(format!(
                        "piece {n}: expected a line starting {:?}, got {:?}",
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
