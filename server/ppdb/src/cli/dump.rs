//! `ppdb dump` and `ppdb load`: every item of a server as JSON lines, and back.
//!
//! One line per item:
//!
//! ```text
//! {"key":"user:1","flags":0,"exptime":0,"value":"alice"}
//! {"key":"blob","flags":3,"exptime":1767225600,"value":"AAEC/w==","value_encoding":"base64"}
//! ```
//!
//! `exptime` is a unix time (0: never). A key or value that is not UTF-8 is written in base64,
//! with `key_encoding` or `value_encoding` saying so. Dump lists the keys with `lru_crawler
//! metadump all` and reads the items with pipelined `mg` requests; load stores them with
//! pipelined quiet `ms` requests and skips items whose exptime has already passed. Both show a
//! progress bar on a terminal and end with the count and rate on standard error.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ppdb_memcache::base64;
use serde::{Deserialize, Serialize};

use super::connect::Target;
use super::output::Output;
use super::remote::{LoadItem, Remote};
use super::signals::Signals;
use super::{
    exit_code_for, ConnectArgs, DumpArgs, LoadArgs, EXIT_CONNECT, EXIT_ERROR, EXIT_INTERRUPTED,
    EXIT_OK, EXIT_USAGE,
};

/// Items per pipelined batch.
const BATCH_ITEMS: usize = 512;
/// Value bytes per pipelined batch (a batch ends early when it reaches this).
const BATCH_BYTES_MAX: usize = 4 << 20;
/// The longest line `load` accepts (a 64 MiB value in base64, and then some).
const LINE_BYTES_MAX: usize = 100 << 20;

/// One item of a dump file.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key_encoding: Option<String>,
    #[serde(default)]
    flags: u32,
    #[serde(default)]
    exptime: u64,
    value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value_encoding: Option<String>,
}

/// Text as is if it is UTF-8, else base64 and the encoding's name.
fn encode(bytes: Vec<u8>) -> (String, Option<String>) {
    match String::from_utf8(bytes) {
        Ok(text) => (text, None),
        Err(e) => {
            let mut out = Vec::new();
            base64::encode_into(e.as_bytes(), &mut out);
            (
                String::from_utf8_lossy(&out).into_owned(),
                Some("base64".to_string()),
            )
        }
    }
}

fn decode(text: String, encoding: Option<&str>, what: &str) -> Result<Vec<u8>, String> {
    match encoding {
        None | Some("utf8" | "utf-8") => Ok(text.into_bytes()),
        Some("base64") => {
            base64::decode(text.as_bytes()).ok_or_else(|| format!("the {what} is not valid base64"))
        }
        Some(other) => Err(format!("unknown {what} encoding `{other}`")),
    }
}

fn progress(total: u64, bytes: bool, quiet: bool) -> ProgressBar {
    if quiet || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let template = if bytes {
        "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
    } else {
        "{bar:40} {pos}/{len} items {per_sec} eta {eta}"
    };
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

fn rate(count: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    let per_sec = if secs > 0.0 {
        count as f64 / secs
    } else {
        count as f64
    };
    format!("{count} items in {secs:.2}s ({per_sec:.0} items/s)")
}

fn connect(args: &ConnectArgs, signals: &Signals) -> Result<Remote, u8> {
    let target = Target::from_args(args).map_err(|e| {
        eprintln!("ppdb: {e}");
        EXIT_USAGE
    })?;
    let timeout = Duration::from_secs(args.net_timeout.max(1));
    let sink = Output::new(Box::new(io::sink()));
    Remote::connect(target.clone(), timeout, signals.interrupt.clone(), sink).map_err(|e| {
        eprintln!("ppdb: cannot connect to {target}: {e}");
        EXIT_CONNECT
    })
}

fn fail(e: &ppdb_lisp::Error) -> u8 {
    match exit_code_for(e) {
        EXIT_INTERRUPTED => {
            eprintln!("ppdb: interrupted");
            EXIT_INTERRUPTED
        }
        code => {
            eprintln!("ppdb: {}", e.message);
            code.max(EXIT_ERROR)
        }
    }
}

/// Writes `bytes`; a closed pipe ends the dump quietly.
enum WriteEnd {
    BrokenPipe,
    Failed(io::Error),
}

fn write_record(
    out: &mut dyn Write,
    key: Vec<u8>,
    item: super::remote::DumpItem,
    exptime: u64,
) -> Result<(), WriteEnd> {
    let (key, key_encoding) = encode(key);
    let (value, value_encoding) = encode(item.value);
    let record = Record {
        key,
        key_encoding,
        flags: item.flags,
        exptime,
        value,
        value_encoding,
    };
    let mut line = serde_json::to_vec(&record).map_err(|e| WriteEnd::Failed(e.into()))?;
    line.push(b'\n');
    out.write_all(&line).map_err(|e| {
        if e.kind() == io::ErrorKind::BrokenPipe {
            WriteEnd::BrokenPipe
        } else {
            WriteEnd::Failed(e)
        }
    })
}

/// `ppdb dump`.
pub(crate) fn dump(args: &DumpArgs) -> u8 {
    let signals = Signals::installed();
    let mut remote = match connect(&args.connect, &signals) {
        Ok(remote) => remote,
        Err(code) => return code,
    };
    let mut out: Box<dyn Write> = match args.file.as_deref() {
        None => Box::new(BufWriter::with_capacity(1 << 16, io::stdout().lock())),
        Some(p) if p == Path::new("-") => {
            Box::new(BufWriter::with_capacity(1 << 16, io::stdout().lock()))
        }
        Some(path) => match File::create(path) {
            Ok(file) => Box::new(BufWriter::with_capacity(1 << 16, file)),
            Err(e) => {
                eprintln!("ppdb: cannot create {}: {e}", path.display());
                return EXIT_ERROR;
            }
        },
    };
    let started = Instant::now();
    let (mut listed, maybe_cut) = match remote.list_items() {
        Ok(listing) => listing,
        Err(e) => return fail(&e),
    };
    if maybe_cut {
        eprintln!(
            "ppdb: warning: the server's key listing reached its size limit; the dump may be \
             incomplete"
        );
    }
    listed.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let bar = progress(listed.len() as u64, false, args.quiet);
    let mut written = 0u64;
    for chunk in listed.chunks(BATCH_ITEMS) {
        let keys: Vec<Vec<u8>> = chunk.iter().map(|(k, _)| k.clone()).collect();
        let items = match remote.get_many(&keys) {
            Ok(items) => items,
            Err(e) => return fail(&e),
        };
        for ((key, exptime), item) in chunk.iter().zip(items) {
            // Deleted or expired since it was listed.
            let Some(item) = item else { continue };
            match write_record(&mut out, key.clone(), item, *exptime) {
                Ok(()) => written += 1,
                Err(WriteEnd::BrokenPipe) => return EXIT_OK,
                Err(WriteEnd::Failed(e)) => {
                    eprintln!("ppdb: cannot write the dump: {e}");
                    return EXIT_ERROR;
                }
            }
        }
        bar.inc(chunk.len() as u64);
    }
    match out.flush() {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return EXIT_OK,
        Err(e) => {
            eprintln!("ppdb: cannot write the dump: {e}");
            return EXIT_ERROR;
        }
    }
    bar.finish_and_clear();
    if !args.quiet {
        eprintln!("dumped {}", rate(written, started.elapsed()));
    }
    EXIT_OK
}

/// What a load did.
#[derive(Default)]
struct LoadCount {
    stored: u64,
    expired: u64,
    failed: u64,
    first_failure: Option<String>,
}

/// Parses one line of a dump into an item, or `None` if it expired.
fn parse_line(line: &[u8], now: u64) -> Result<Option<LoadItem>, String> {
    let record: Record = serde_json::from_slice(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let key = decode(record.key, record.key_encoding.as_deref(), "key")?;
    let value = decode(record.value, record.value_encoding.as_deref(), "value")?;
    if key.is_empty() {
        return Err("the key is empty".to_string());
    }
    if record.exptime != 0 && record.exptime <= now {
        return Ok(None);
    }
    Ok(Some(LoadItem {
        key,
        flags: record.flags,
        exptime: record.exptime,
        value,
    }))
}

fn send_batch(
    remote: &mut Remote,
    batch: &mut Vec<LoadItem>,
    count: &mut LoadCount,
) -> Result<(), u8> {
    if batch.is_empty() {
        return Ok(());
    }
    let failures = remote.store_many(batch).map_err(|e| fail(&e))?;
    count.failed += failures.len() as u64;
    count.stored += (batch.len() - failures.len().min(batch.len())) as u64;
    if count.first_failure.is_none() {
        count.first_failure = failures.into_iter().next();
    }
    batch.clear();
    Ok(())
}

/// `ppdb load FILE`.
pub(crate) fn load(args: &LoadArgs) -> u8 {
    let (reader, size): (Box<dyn BufRead>, Option<u64>) = if args.file == Path::new("-") {
        (Box::new(io::stdin().lock()), None)
    } else {
        match File::open(&args.file) {
            Ok(file) => {
                let size = file.metadata().ok().map(|m| m.len());
                (Box::new(BufReader::with_capacity(1 << 16, file)), size)
            }
            Err(e) => {
                eprintln!("ppdb: cannot open {}: {e}", args.file.display());
                return EXIT_ERROR;
            }
        }
    };
    let signals = Signals::installed();
    let mut remote = match connect(&args.connect, &signals) {
        Ok(remote) => remote,
        Err(code) => return code,
    };
    let started = Instant::now();
    let bar = match size {
        Some(size) => progress(size, true, args.quiet),
        None if args.quiet || !io::stderr().is_terminal() => ProgressBar::hidden(),
        None => ProgressBar::new_spinner(),
    };
    let code = load_lines(reader, &mut remote, &bar, &signals);
    bar.finish_and_clear();
    let (code, count) = match code {
        Ok(count) => (EXIT_OK, count),
        Err(code) => return code,
    };
    if !args.quiet {
        eprintln!(
            "loaded {}; {} skipped as expired, {} failed",
            rate(count.stored, started.elapsed()),
            count.expired,
            count.failed
        );
    }
    if let Some(first) = &count.first_failure {
        eprintln!(
            "ppdb: {} items were not stored; the first: {first}",
            count.failed
        );
        return EXIT_ERROR;
    }
    code
}

fn load_lines(
    mut reader: Box<dyn BufRead>,
    remote: &mut Remote,
    bar: &ProgressBar,
    signals: &Signals,
) -> Result<LoadCount, u8> {
    let now = crate::store::unix_now();
    let mut count = LoadCount::default();
    let mut batch = Vec::with_capacity(BATCH_ITEMS);
    let mut batch_bytes = 0;
    let mut line = Vec::new();
    let mut line_no = 0u64;
    loop {
        line.clear();
        let n = (&mut reader)
            .take(LINE_BYTES_MAX as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| {
                eprintln!("ppdb: cannot read the dump: {e}");
                EXIT_ERROR
            })?;
        if n == 0 {
            break;
        }
        line_no += 1;
        bar.inc(n as u64);
        if line.len() > LINE_BYTES_MAX {
            eprintln!("ppdb: line {line_no}: longer than {LINE_BYTES_MAX} bytes");
            return Err(EXIT_ERROR);
        }
        if line.trim_ascii().is_empty() {
            continue;
        }
        match parse_line(&line, now) {
            Ok(Some(item)) => {
                batch_bytes += item.value.len() + item.key.len();
                batch.push(item);
            }
            Ok(None) => count.expired += 1,
            Err(e) => {
                eprintln!("ppdb: line {line_no}: {e}");
                return Err(EXIT_ERROR);
            }
        }
        if batch.len() >= BATCH_ITEMS || batch_bytes >= BATCH_BYTES_MAX {
            send_batch(remote, &mut batch, &mut count)?;
            batch_bytes = 0;
            if signals.interrupted() {
                eprintln!("ppdb: interrupted after {} items", count.stored);
                return Err(EXIT_INTERRUPTED);
            }
        }
    }
    send_batch(remote, &mut batch, &mut count)?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_text_and_binary() {
        let (key, key_encoding) = encode(b"k\xff".to_vec());
        assert_eq!(key_encoding.as_deref(), Some("base64"));
        assert_eq!(
            decode(key, key_encoding.as_deref(), "key").unwrap(),
            b"k\xff"
        );
        let (text, none) = encode(b"caf\xc3\xa9".to_vec());
        assert_eq!((text.as_str(), none), ("café", None));
        assert!(decode("!!".into(), Some("base64"), "value").is_err());
        assert!(decode("x".into(), Some("rot13"), "value").is_err());
    }

    #[test]
    fn lines_parse_and_expired_items_are_skipped() {
        let item = parse_line(br#"{"key":"a","flags":3,"exptime":0,"value":"v"}"#, 100)
            .unwrap()
            .unwrap();
        assert_eq!(
            (item.key, item.flags, item.value),
            (b"a".to_vec(), 3, b"v".to_vec())
        );
        let gone = parse_line(br#"{"key":"a","flags":0,"exptime":50,"value":"v"}"#, 100);
        assert!(gone.unwrap().is_none());
        assert!(parse_line(b"{not json", 100).is_err());
        assert!(parse_line(br#"{"key":"","value":"v"}"#, 100).is_err());
    }
}
