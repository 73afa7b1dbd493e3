//! `ppdb cli`, `ppdb run`, `ppdb shell`, `ppdb dump` and `ppdb load`: the command line.
//!
//! The language is `ppdb-lisp`; this module gives it a home:
//!
//! ```text
//!   cli / run ──► Session<Remote>    ──► memcached protocol over TCP (remote.rs)
//!   shell     ──► Session<Embedded>  ──► ppdb-core Db in-process (embedded.rs)
//!                    │
//!                    ├─ repl.rs     rustyline: history, multi-line input, completion
//!                    ├─ batch.rs    piped stdin, -e EXPR, script files
//!                    └─ render.rs   -o raw | table | json
//!   dump / load ──► Remote, pipelined (dump.rs)
//! ```
//!
//! Ctrl-C sets an interrupt flag that the evaluator checks at every step (`signals.rs`); a
//! broken output pipe ends the program quietly; every way out maps to one of the exit codes
//! below.

mod batch;
mod connect;
mod dump;
mod embedded;
pub mod lock;
mod output;
mod remote;
mod render;
mod repl;
mod session;
mod signals;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::ValueEnum;
use ppdb_lisp::{Error, ErrorKind, Limits};

pub use connect::{Target, DEFAULT_PORT};

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: an error (evaluation, database, file).
pub const EXIT_ERROR: u8 = 1;
/// Exit code: invalid options (as clap's).
pub const EXIT_USAGE: u8 = 2;
/// Exit code: the server could not be reached.
pub const EXIT_CONNECT: u8 = 3;
/// Exit code: a limit (steps, depth, nesting, memory, timeout) was hit.
pub const EXIT_LIMIT: u8 = 4;
/// Exit code: interrupted (Ctrl-C), as shells report SIGINT.
pub const EXIT_INTERRUPTED: u8 = 130;

/// Where the server is.
#[derive(Debug, Clone, clap::Args)]
pub struct ConnectArgs {
    /// Server host name or address [default: 127.0.0.1, or the URL's].
    #[arg(short = 'H', long)]
    pub host: Option<String>,
    /// Server TCP port [default: 11211, or the URL's].
    #[arg(short = 'p', long)]
    pub port: Option<u16>,
    /// Server as a URL, ppdb://host:port (-H and -p override its parts).
    #[arg(short = 'u', long, env = "PPDB_URL", value_name = "URL")]
    pub url: Option<String>,
    /// Seconds to wait for a connection or a reply.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub net_timeout: u64,
}

/// The limits of an evaluation (0: no limit where that makes sense).
#[derive(Debug, Clone, clap::Args)]
pub struct LimitArgs {
    /// Evaluation steps one input (a REPL line, a form, a script) may take; 0: no limit.
    #[arg(long, value_name = "N", default_value_t = 100_000_000)]
    pub max_steps: u64,
    /// Pending evaluations at once (the recursion depth).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub max_depth: usize,
    /// Memory for the script's values, in MiB; 0: no limit.
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    pub max_memory: usize,
    /// Wall-clock time one input may take, e.g. 30s, 500ms, 2m; 0: no limit.
    #[arg(long, value_name = "DURATION", default_value = "0", value_parser = parse_duration)]
    pub timeout: Duration,
}

impl LimitArgs {
    /// The interpreter limits.
    pub fn limits(&self) -> Limits {
        Limits {
            steps_max: self.max_steps,
            depth_max: self.max_depth.max(1),
            memory_bytes_max: self.max_memory.saturating_mul(1 << 20),
            timeout_ms: u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX),
            ..Limits::default()
        }
    }
}

/// How results are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Tables on a terminal, raw when piped.
    Auto,
    /// Strings as their bytes, one list item per line, pairs tab-separated.
    Raw,
    /// Values as the language writes them; lists numbered; lists of rows as aligned columns.
    Table,
    /// One JSON value per result.
    Json,
}

/// Options shared by the evaluating commands.
#[derive(Debug, Clone, clap::Args)]
pub struct EvalArgs {
    /// Output format of results.
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Auto)]
    pub output: OutputFormat,
    /// The evaluation limits.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// `ppdb cli`.
#[derive(Debug, Clone, clap::Args)]
#[command(about = "Talk to a server in the PPDB language: a REPL on a terminal, batch when piped")]
pub struct CliArgs {
    /// Where the server is.
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Output format and limits.
    #[command(flatten)]
    pub eval: EvalArgs,
    /// Evaluate EXPR, print its results and exit (may be given more than once).
    #[arg(short = 'e', long = "eval", value_name = "EXPR")]
    pub exprs: Vec<String>,
    /// The REPL's history file [default: $PPDB_HISTORY, else ~/.ppdb_history].
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// Keep no history.
    #[arg(long)]
    pub no_history: bool,
}

/// `ppdb run`.
#[derive(Debug, Clone, clap::Args)]
#[command(about = "Run a script file against a server (or in memory with --memory)")]
pub struct RunArgs {
    /// The script ("-": standard input).
    pub file: PathBuf,
    /// Where the server is.
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Output format and limits.
    #[command(flatten)]
    pub eval: EvalArgs,
    /// Run on an in-process, in-memory database instead of a server.
    #[arg(long)]
    pub memory: bool,
}

/// `ppdb shell`.
#[derive(Debug, Clone, clap::Args)]
#[command(about = "The PPDB language on the embedded engine, in-process (with transactions)")]
#[command(group(clap::ArgGroup::new("store").required(true).args(["memory", "data_dir"])))]
pub struct ShellArgs {
    /// An in-memory database that lives as long as the shell.
    #[arg(long)]
    pub memory: bool,
    /// A database directory (locked while the shell runs).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Output format and limits.
    #[command(flatten)]
    pub eval: EvalArgs,
    /// Evaluate EXPR, print its results and exit (may be given more than once).
    #[arg(short = 'e', long = "eval", value_name = "EXPR")]
    pub exprs: Vec<String>,
    /// The REPL's history file [default: $PPDB_HISTORY, else ~/.ppdb_history].
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// Keep no history.
    #[arg(long)]
    pub no_history: bool,
}

/// `ppdb dump`.
#[derive(Debug, Clone, clap::Args)]
#[command(about = "Write every item of a server as JSON lines (key, flags, exptime, value)")]
pub struct DumpArgs {
    /// Where to write ("-" or nothing: standard output).
    pub file: Option<PathBuf>,
    /// Where the server is.
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// No progress bar and no summary.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// `ppdb load`.
#[derive(Debug, Clone, clap::Args)]
#[command(about = "Store the items of a `ppdb dump` file on a server")]
pub struct LoadArgs {
    /// The dump ("-": standard input).
    pub file: PathBuf,
    /// Where the server is.
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// No progress bar and no summary.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// Parses `30s`, `500ms`, `2m`, `1h` or plain seconds (`1.5`).
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = text.strip_suffix('h') {
        (n, 3600.0)
    } else {
        (text, 1.0)
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (e.g. 30s, 500ms, 2m)"))?;
    if !(0.0..=1e9).contains(&value) {
        return Err(format!("`{text}` is out of range"));
    }
    Ok(Duration::from_secs_f64(value * scale))
}

/// The exit code for an evaluation error.
pub fn exit_code_for(e: &Error) -> u8 {
    match e.kind {
        ErrorKind::Limit(_) => EXIT_LIMIT,
        ErrorKind::Interrupted => EXIT_INTERRUPTED,
        ErrorKind::Output => EXIT_OK,
        _ => EXIT_ERROR,
    }
}

/// `ppdb cli`.
pub fn cli_main(args: &CliArgs) -> ExitCode {
    ExitCode::from(session::cli(args))
}

/// `ppdb run FILE`.
pub fn run_main(args: &RunArgs) -> ExitCode {
    ExitCode::from(session::run(args))
}

/// `ppdb shell`.
pub fn shell_main(args: &ShellArgs) -> ExitCode {
    ExitCode::from(session::shell(args))
}

/// `ppdb dump`.
pub fn dump_main(args: &DumpArgs) -> ExitCode {
    ExitCode::from(dump::dump(args))
}

/// `ppdb load FILE`.
pub fn load_main(args: &LoadArgs) -> ExitCode {
    ExitCode::from(dump::load(args))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-1s").is_err());
    }
}
