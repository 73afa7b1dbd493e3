//! The remote backend: the language's database calls as memcached requests over TCP.
//!
//! Item commands use the meta protocol (`mg`, `ms`, `md`, `ma`), which carries flags, CAS
//! uniques and binary keys (base64 with `b`) in one request; `flush_all` and `stats` are the
//! classic commands. Keys are listed with `lru_crawler metadump all`, or, if the server refuses
//! it, with `stats items` and `stats cachedump` per slab class, as memcached allows.
//!
//! Replies are read with a short socket timeout so that the interrupt flag is seen while
//! waiting; an interrupted or failed exchange drops the connection (a late reply must not be
//! read as the answer to the next request) and the next call reconnects.

use std::io::{self, ErrorKind as IoKind, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ppdb_lisp::{Backend, Entry, Error, Store, StoreMode, StoreOutcome};
use ppdb_memcache::base64;

use super::connect::Target;
use super::output::Output;

/// How often a wait for a reply looks at the interrupt flag.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// The longest key the text protocol carries as is.
const KEY_TEXT_BYTES_MAX: usize = 250;
/// The longest reply line accepted (a metadump line is far shorter).
const LINE_BYTES_MAX: usize = 64 << 10;
/// PPDB stops a metadump at this many bytes of lines: a listing this long may be cut short.
pub(crate) const METADUMP_BYTES_MAX: usize = 64 << 20;

/// One open connection with its read buffer.
pub(crate) struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    start: usize,
}

/// How an exchange failed.
enum Fail {
    Io(io::Error),
    Closed,
    Timeout,
    Interrupted,
    Protocol(String),
}

impl Fail {
    fn into_error(self, target: &Target) -> Error {
        match self {
            Fail::Io(e) => Error::db(format!("connection to {target} failed: {e}")),
            Fail::Closed => Error::db(format!("{target} closed the connection")),
            Fail::Timeout => Error::db(format!("no reply from {target} in time")),
            Fail::Interrupted => Error::interrupted(),
            Fail::Protocol(what) => Error::db(format!("unexpected reply from {target}: {what}")),
        }
    }
}

struct Waiter<'a> {
    interrupt: &'a AtomicBool,
    deadline: Instant,
}

impl Conn {
    fn new(stream: TcpStream) -> io::Result<Conn> {
        stream.set_read_timeout(Some(POLL_INTERVAL))?;
        Ok(Conn {
            stream,
            buf: Vec::with_capacity(64 << 10),
            start: 0,
        })
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), Fail> {
        self.stream.write_all(bytes).map_err(Fail::Io)
    }

    /// Reads more bytes into the buffer.
    fn fill(&mut self, wait: &Waiter<'_>) -> Result<(), Fail> {
        if self.start > 0 && self.start * 2 >= self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let mut chunk = [0u8; 64 << 10];
        loop {
            if wait.interrupt.load(Ordering::Relaxed) {
                return Err(Fail::Interrupted);
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(Fail::Closed),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(());
                }
                Err(e) if matches!(e.kind(), IoKind::WouldBlock | IoKind::TimedOut) => {
                    if Instant::now() >= wait.deadline {
                        return Err(Fail::Timeout);
                    }
                }
                Err(e) if e.kind() == IoKind::Interrupted => {}
                Err(e) => return Err(Fail::Io(e)),
            }
        }
    }

    /// The next line, without its `\r\n` (or a lone `\n`, as metadump ends its lines).
    fn line(&mut self, wait: &Waiter<'_>) -> Result<Vec<u8>, Fail> {
        let mut scanned = self.start;
        loop {
            if let Some(i) = self.buf[scanned..].iter().position(|&b| b == b'\n') {
                let end = scanned + i;
                let mut line = &self.buf[self.start..end];
                if line.last() == Some(&b'\r') {
                    line = &line[..line.len() - 1];
                }
                let line = line.to_vec();
                self.start = end + 1;
                return Ok(line);
            }
            if self.buf.len() - self.start > LINE_BYTES_MAX {
                return Err(Fail::Protocol("a reply line is too long".to_string()));
            }
            scanned = self.buf.len();
            let before = self.start;
            self.fill(wait)?;
            // `fill` may have moved the unread bytes to the front.
            scanned = scanned - before + self.start;
        }
    }

    /// `n` bytes of data followed by `\r\n`.
    fn data(&mut self, n: usize, wait: &Waiter<'_>) -> Result<Vec<u8>, Fail> {
        while self.buf.len() - self.start < n + 2 {
            self.fill(wait)?;
        }
        let data = self.buf[self.start..self.start + n].to_vec();
        if &self.buf[self.start + n..self.start + n + 2] != b"\r\n" {
            return Err(Fail::Protocol(
                "a value is not followed by \\r\\n".to_string(),
            ));
        }
        self.start += n + 2;
        Ok(data)
    }
}

/// The language's database on a server.
pub(crate) struct Remote {
    target: Target,
    timeout: Duration,
    conn: Option<Conn>,
    interrupt: Arc<AtomicBool>,
    pub(crate) out: Output,
    clock: Instant,
}

/// Appends a key to a meta request: as is if the text protocol can carry it, else in base64;
/// returns the flag to add for base64 (` b`; `ms` takes it after the data length).
fn push_key(key: &[u8], req: &mut Vec<u8>) -> &'static [u8] {
    let text = !key.is_empty()
        && key.len() <= KEY_TEXT_BYTES_MAX
        && key.iter().all(|&b| b > b' ' && b != 0x7f);
    if text {
        req.extend_from_slice(key);
        b""
    } else {
        base64::encode_into(key, req);
        b" b"
    }
}

/// Appends a key and, if it went as base64, the `b` flag (for requests other than `ms`).
fn push_key_flag(key: &[u8], req: &mut Vec<u8>) {
    let flag = push_key(key, req);
    req.extend_from_slice(flag);
}

/// A server's error line as an error, or `None` if it is not one.
fn server_error(line: &[u8]) -> Option<Error> {
    let text = String::from_utf8_lossy(line);
    if text == "ERROR" {
        return Some(Error::db("the server does not know this command (ERROR)"));
    }
    for prefix in ["SERVER_ERROR", "CLIENT_ERROR", "ERROR "] {
        if let Some(rest) = text.strip_prefix(prefix) {
            let rest = rest.trim();
            return Some(Error::db(if prefix.starts_with("SERVER") {
                format!("server error: {rest}")
            } else {
                rest.to_string()
            }));
        }
    }
    None
}

fn unexpected(line: &[u8]) -> Fail {
    Fail::Protocol(String::from_utf8_lossy(line).into_owned())
}

fn parse_num<T: std::str::FromStr>(bytes: &[u8]) -> Option<T> {
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

/// Decodes a metadump key (`%XX` escapes).
fn url_decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(text[i]);
            i += 1;
        }
    }
    Some(out)
}

/// A metadump line: the key and its expiry (a unix time, 0 for never).
fn metadump_line(line: &[u8]) -> Option<(Vec<u8>, u64)> {
    let mut key = None;
    let mut exp = 0;
    for token in line.split(|&b| b == b' ') {
        if let Some(k) = token.strip_prefix(b"key=") {
            key = Some(url_decode(k)?);
        } else if let Some(e) = token.strip_prefix(b"exp=") {
            let e: i64 = parse_num(e)?;
            exp = u64::try_from(e).unwrap_or(0);
        }
    }
    Some((key?, exp))
}

/// A cachedump line `ITEM <key> [<bytes> b; <exp> s]`.
fn cachedump_line(line: &[u8]) -> Option<(Vec<u8>, u64)> {
    let rest = line.strip_prefix(b"ITEM ")?;
    let space = rest.iter().position(|&b| b == b' ')?;
    let key = rest[..space].to_vec();
    let meta = &rest[space..];
    let semi = meta.iter().position(|&b| b == b';')?;
    let exp_text = meta[semi + 1..].strip_suffix(b" s]")?;
    let exp = parse_num(exp_text.trim_ascii()).unwrap_or(0);
    Some((key, exp))
}

/// A key listing: each key with its expiry (unix time, 0 for never), and whether the server's
/// size limit may have cut the listing short.
pub(crate) type Listing = (Vec<(Vec<u8>, u64)>, bool);

/// An item read for a dump.
pub(crate) struct DumpItem {
    pub(crate) flags: u32,
    pub(crate) value: Vec<u8>,
}

/// An item to store in a load.
pub(crate) struct LoadItem {
    pub(crate) key: Vec<u8>,
    pub(crate) flags: u32,
    pub(crate) exptime: u64,
    pub(crate) value: Vec<u8>,
}

impl Remote {
    /// Connects to `target`; the error says why it could not.
    pub(crate) fn connect(
        target: Target,
        timeout: Duration,
        interrupt: Arc<AtomicBool>,
        out: Output,
    ) -> io::Result<Remote> {
        let stream = target.connect(timeout)?;
        Ok(Remote {
            conn: Some(Conn::new(stream)?),
            target,
            timeout,
            interrupt,
            out,
            clock: Instant::now(),
        })
    }

    /// The server's `host:port`.
    pub(crate) fn target(&self) -> &Target {
        &self.target
    }

    /// Sends `request` and runs `read` on the reply; drops the connection if anything fails.
    fn exchange<T>(
        &mut self,
        request: &[u8],
        read: impl FnOnce(&mut Conn, &Waiter<'_>) -> Result<T, Fail>,
    ) -> ppdb_lisp::Result<T> {
        let wait = Waiter {
            interrupt: &self.interrupt,
            deadline: Instant::now() + self.timeout,
        };
        if self.conn.is_none() {
            let stream = self
                .target
                .connect(self.timeout)
                .and_then(Conn::new)
                .map_err(|e| Fail::Io(e).into_error(&self.target))?;
            self.conn = Some(stream);
        }
        let Some(conn) = self.conn.as_mut() else {
            return Err(Fail::Closed.into_error(&self.target));
        };
        let result = conn.send(request).and_then(|()| read(conn, &wait));
        result.map_err(|fail| {
            self.conn = None;
            fail.into_error(&self.target)
        })
    }

    /// One request whose reply is one line (errors come back as [`Error`]s).
    fn simple(&mut self, request: &[u8]) -> ppdb_lisp::Result<Vec<u8>> {
        let line = self.exchange(request, |c, w| c.line(w))?;
        match server_error(&line) {
            Some(e) => Err(e),
            None => Ok(line),
        }
    }

    /// Every item's key and expiry (unix time, 0 for never), in the server's order, and
    /// whether the listing may have been cut short by the server's limit.
    pub(crate) fn list_items(&mut self) -> ppdb_lisp::Result<Listing> {
        let refused = self.exchange(b"lru_crawler metadump all\r\n", |c, w| {
            let mut items = Vec::new();
            let mut bytes = 0;
            loop {
                let line = c.line(w)?;
                if line == b"END" {
                    return Ok(Ok((items, bytes >= METADUMP_BYTES_MAX)));
                }
                bytes += line.len() + 1;
                if line.is_empty() {
                    continue;
                }
                match metadump_line(&line) {
                    Some(item) => items.push(item),
                    // ERROR, CLIENT_ERROR (crawler disabled), BUSY...: no END follows.
                    None if items.is_empty() => return Ok(Err(line)),
                    None => return Err(unexpected(&line)),
                }
            }
        })?;
        match refused {
            Ok(listing) => Ok(listing),
            Err(_) => Ok((self.list_by_cachedump()?, false)),
        }
    }

    fn list_by_cachedump(&mut self) -> ppdb_lisp::Result<Vec<(Vec<u8>, u64)>> {
        let mut classes: Vec<u32> = Vec::new();
        for (name, _) in self.stats(Some("items"))? {
            let class = name
                .strip_prefix("items:")
                .and_then(|rest| rest.split(':').next())
                .and_then(|id| id.parse().ok());
            if let Some(class) = class {
                if !classes.contains(&class) {
                    classes.push(class);
                }
            }
        }
        let mut items = Vec::new();
        for class in classes {
            let request = format!("stats cachedump {class} 0\r\n");
            let more = self.exchange(request.as_bytes(), |c, w| {
                let mut items = Vec::new();
                loop {
                    let line = c.line(w)?;
                    if line == b"END" {
                        return Ok(items);
                    }
                    items.push(cachedump_line(&line).ok_or_else(|| unexpected(&line))?);
                }
            })?;
            items.extend(more);
        }
        Ok(items)
    }

    /// Reads `keys` with pipelined `mg` requests; `None` for keys gone since they were listed.
    pub(crate) fn get_many(
        &mut self,
        keys: &[Vec<u8>],
    ) -> ppdb_lisp::Result<Vec<Option<DumpItem>>> {
        let mut request = Vec::new();
        for key in keys {
            request.extend_from_slice(b"mg ");
            push_key_flag(key, &mut request);
            request.extend_from_slice(b" v f\r\n");
        }
        let n = keys.len();
        let replies = self.exchange(&request, |c, w| {
            let mut out = Vec::with_capacity(n);
            for _ in 0..n {
                let line = c.line(w)?;
                out.push(
                    read_value(c, w, &line)?.map(|(value, flags, _)| DumpItem { flags, value }),
                );
            }
            Ok(out)
        })?;
        Ok(replies)
    }

    /// Stores `items` with pipelined quiet `ms` requests; returns the failures' error lines.
    pub(crate) fn store_many(&mut self, items: &[LoadItem]) -> ppdb_lisp::Result<Vec<String>> {
        let mut request = Vec::new();
        for item in items {
            request.extend_from_slice(b"ms ");
            let b = push_key(&item.key, &mut request);
            request.extend_from_slice(format!(" {}", item.value.len()).as_bytes());
            request.extend_from_slice(b);
            let flags = format!(" F{} T{} q\r\n", item.flags, item.exptime);
            request.extend_from_slice(flags.as_bytes());
            request.extend_from_slice(&item.value);
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"mn\r\n");
        self.exchange(&request, |c, w| {
            let mut failures = Vec::new();
            loop {
                let line = c.line(w)?;
                if line == b"MN" {
                    return Ok(failures);
                }
                failures.push(String::from_utf8_lossy(&line).into_owned());
            }
        })
    }
}

/// Reads an `mg` reply: `VA <len> <flags>*` + data, `HD`, or `EN`. Returns the value, the
/// `f` flags and the `c` CAS (0 when absent).
fn read_value(
    c: &mut Conn,
    w: &Waiter<'_>,
    line: &[u8],
) -> Result<Option<(Vec<u8>, u32, u64)>, Fail> {
    if line == b"EN" {
        return Ok(None);
    }
    let mut tokens = line.split(|&b| b == b' ');
    if tokens.next() != Some(b"VA") {
        return Err(unexpected(line));
    }
    let len: usize = tokens
        .next()
        .and_then(parse_num)
        .ok_or_else(|| unexpected(line))?;
    let (mut flags, mut cas) = (0, 0);
    for token in tokens {
        match token.split_first() {
            Some((b'f', n)) => flags = parse_num(n).ok_or_else(|| unexpected(line))?,
            Some((b'c', n)) => cas = parse_num(n).ok_or_else(|| unexpected(line))?,
            _ => {}
        }
    }
    let value = c.data(len, w)?;
    Ok(Some((value, flags, cas)))
}

impl Backend for Remote {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.clock.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn print(&mut self, bytes: &[u8]) -> ppdb_lisp::Result<()> {
        self.out.write(bytes)
    }

    fn get(&mut self, key: &[u8]) -> ppdb_lisp::Result<Option<Entry>> {
        let mut request = b"mg ".to_vec();
        push_key_flag(key, &mut request);
        request.extend_from_slice(b" v f c\r\n");
        let reply = self.exchange(&request, |c, w| {
            let line = c.line(w)?;
            if let Some(e) = server_error(&line) {
                return Ok(Err(e));
            }
            Ok(Ok(read_value(c, w, &line)?))
        })??;
        Ok(reply.map(|(value, flags, cas)| Entry { value, flags, cas }))
    }

    fn store(&mut self, store: Store<'_>) -> ppdb_lisp::Result<StoreOutcome> {
        let mut request = b"ms ".to_vec();
        let b = push_key(store.key, &mut request);
        request.extend_from_slice(format!(" {}", store.value.len()).as_bytes());
        request.extend_from_slice(b);
        let mode = match store.mode {
            StoreMode::Set | StoreMode::Cas(_) => "S",
            StoreMode::Add => "E",
            StoreMode::Replace => "R",
            StoreMode::Append => "A",
            StoreMode::Prepend => "P",
        };
        let mut flags = format!(
            " F{} T{} M{mode}",
            store.flags,
            store
                .exptime
                .clamp(i64::from(i32::MIN), i64::from(i32::MAX))
        );
        if let StoreMode::Cas(unique) = store.mode {
            flags.push_str(&format!(" C{unique}"));
        }
        request.extend_from_slice(flags.as_bytes());
        request.extend_from_slice(b"\r\n");
        request.extend_from_slice(store.value);
        request.extend_from_slice(b"\r\n");
        let line = self.simple(&request)?;
        match line.as_slice() {
            b"HD" => Ok(StoreOutcome::Stored),
            b"NS" => Ok(StoreOutcome::NotStored),
            b"EX" => Ok(StoreOutcome::Exists),
            b"NF" => Ok(StoreOutcome::NotFound),
            other => Err(unexpected(other).into_error(&self.target)),
        }
    }

    fn delete(&mut self, key: &[u8]) -> ppdb_lisp::Result<bool> {
        let mut request = b"md ".to_vec();
        push_key_flag(key, &mut request);
        request.extend_from_slice(b"\r\n");
        match self.simple(&request)?.as_slice() {
            b"HD" => Ok(true),
            b"NF" => Ok(false),
            other => Err(unexpected(other).into_error(&self.target)),
        }
    }

    fn incr(&mut self, key: &[u8], delta: u64, decrement: bool) -> ppdb_lisp::Result<Option<u64>> {
        let mut request = b"ma ".to_vec();
        push_key_flag(key, &mut request);
        let mode = if decrement { " MD" } else { "" };
        request.extend_from_slice(format!(" D{delta} v{mode}\r\n").as_bytes());
        let reply = self.exchange(&request, |c, w| {
            let line = c.line(w)?;
            if let Some(e) = server_error(&line) {
                return Ok(Err(e));
            }
            if line == b"NF" {
                return Ok(Ok(None));
            }
            let Some((value, _, _)) = read_value(c, w, &line)? else {
                return Err(unexpected(&line));
            };
            let n = parse_num(value.trim_ascii()).ok_or_else(|| unexpected(&value))?;
            Ok(Ok(Some(n)))
        })??;
        Ok(reply)
    }

    fn touch(&mut self, key: &[u8], exptime: i64) -> ppdb_lisp::Result<bool> {
        let mut request = b"mg ".to_vec();
        push_key_flag(key, &mut request);
        let exptime = exptime.clamp(i64::from(i32::MIN), i64::from(i32::MAX));
        request.extend_from_slice(format!(" T{exptime}\r\n").as_bytes());
        match self.simple(&request)?.as_slice() {
            b"HD" => Ok(true),
            b"EN" => Ok(false),
            other => Err(unexpected(other).into_error(&self.target)),
        }
    }

    fn flush(&mut self, delay: u32) -> ppdb_lisp::Result<()> {
        let request = if delay == 0 {
            "flush_all\r\n".to_string()
        } else {
            format!("flush_all {delay}\r\n")
        };
        match self.simple(request.as_bytes())?.as_slice() {
            b"OK" => Ok(()),
            other => Err(unexpected(other).into_error(&self.target)),
        }
    }

    fn stats(&mut self, group: Option<&str>) -> ppdb_lisp::Result<Vec<(String, String)>> {
        if group.is_some_and(|g| g.contains(['\r', '\n'])) {
            return Err(Error::db("a stats group is one line"));
        }
        let request = match group {
            Some(g) => format!("stats {g}\r\n"),
            None => "stats\r\n".to_string(),
        };
        let reply = self.exchange(request.as_bytes(), |c, w| {
            let mut pairs = Vec::new();
            loop {
                let line = c.line(w)?;
                if line == b"END" {
                    return Ok(Ok(pairs));
                }
                if let Some(e) = server_error(&line) {
                    if pairs.is_empty() {
                        return Ok(Err(e));
                    }
                }
                let text = String::from_utf8_lossy(&line).into_owned();
                let body = text.strip_prefix("STAT ").unwrap_or(&text);
                let (name, value) = body.split_once(' ').unwrap_or((body, ""));
                pairs.push((name.to_string(), value.to_string()));
            }
        })?;
        reply
    }

    fn keys(&mut self, prefix: &[u8], limit: usize) -> ppdb_lisp::Result<Vec<Vec<u8>>> {
        let mut keys: Vec<Vec<u8>> = self
            .list_items()?
            .0
            .into_iter()
            .map(|(k, _)| k)
            .filter(|k| k.starts_with(prefix))
            .collect();
        keys.sort_unstable();
        keys.truncate(limit);
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_go_as_text_or_base64() {
        let mut out = Vec::new();
        assert_eq!(push_key(b"user:1", &mut out), b"");
        assert_eq!(out, b"user:1");
        let mut out = Vec::new();
        push_key_flag(b"a b", &mut out);
        assert_eq!(out, b"YSBi b");
        let mut out = Vec::new();
        assert_eq!(push_key(&[b'x'; 251], &mut out), b" b");
    }

    #[test]
    fn dump_lines_parse() {
        assert_eq!(
            metadump_line(b"key=a%20b exp=-1 la=5 cas=7 fetch=no cls=1 size=60"),
            Some((b"a b".to_vec(), 0))
        );
        assert_eq!(
            metadump_line(b"key=k exp=1700000000 la=5 cas=7 fetch=no cls=1 size=60"),
            Some((b"k".to_vec(), 1_700_000_000))
        );
        assert_eq!(metadump_line(b"CLIENT_ERROR lru crawler disabled"), None);
        assert_eq!(
            cachedump_line(b"ITEM k1 [5 b; 0 s]"),
            Some((b"k1".to_vec(), 0))
        );
        assert_eq!(
            cachedump_line(b"ITEM k2 [5 b; 1700000000 s]"),
            Some((b"k2".to_vec(), 1_700_000_000))
        );
        assert_eq!(url_decode(b"%4x"), None);
    }

    #[test]
    fn server_errors_are_recognised() {
        assert!(server_error(b"ERROR").is_some());
        let e = server_error(b"SERVER_ERROR out of memory").unwrap();
        assert_eq!(e.message, "server error: out of memory");
        let e = server_error(b"CLIENT_ERROR bad command line format").unwrap();
        assert_eq!(e.message, "bad command line format");
        assert!(server_error(b"HD").is_none());
    }
}
