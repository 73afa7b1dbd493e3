//! `ppdb bench`: a memcached load generator.
//!
//! Point it at any server that speaks the memcached text or meta protocol (PPDB or memcached
//! itself) and it opens `--connections` TCP connections spread over `--threads` worker threads,
//! keeps `--pipeline` requests in flight on each, and reports throughput, hit ratio, errors and
//! latency percentiles per operation. It talks only TCP: nothing here knows about the engine.
//!
//! A run has three phases, separated by barriers so that no thread measures while another still
//! fills: connect every connection, set every key once (the warm-up fill, unless `--no-fill`),
//! then the measured load until `--duration` passes or `--requests` complete. The `worker`
//! module draws the thread model; `docs/bench.md` describes the method and holds a baseline.
//!
//! Modules: [`config`] (options and limits), `keys` (key rendering), [`rng`] and [`zipf`]
//! (request streams), `request` and `reply` (wire encoding and strict reply parsing), `conn`
//! (one non-blocking connection), `worker` (a thread's event loop), `stats`, `progress` and
//! [`report`].

pub mod config;
mod conn;
mod keys;
mod progress;
mod reply;
pub mod report;
mod request;
pub mod rng;
mod stats;
mod worker;
pub mod zipf;

use std::fmt;
use std::io::{self, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Barrier};
use std::thread;
use std::time::Instant;

pub use config::{BenchArgs, Config, Distribution, Protocol, Ratio, Stop};
pub use report::{FillReport, LatencySummary, Report};

use progress::{Live, Phase};
use stats::Stats;
use worker::Shared;

/// Exit code of a run that completed but saw errors, lost requests or failed connections, and of
/// a run that could not start (no server, unresolvable host).
pub const EXIT_FAILURE: u8 = 1;
/// Exit code of invalid options (the same as clap's).
pub const EXIT_USAGE: u8 = 2;

/// Why a run could not happen.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// An option is out of range or contradicts another.
    Usage(String),
    /// The host name did not resolve to an address.
    Resolve {
        /// `host:port` as given.
        target: String,
        /// The resolver's error.
        source: io::Error,
    },
    /// A connection to the server could not be opened.
    Connect {
        /// The address tried.
        target: String,
        /// The socket's error.
        source: io::Error,
    },
    /// A worker thread ended without a result.
    WorkerPanicked,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(message) => f.write_str(message),
            Self::Resolve { target, source } => write!(f, "cannot resolve {target}: {source}"),
            Self::Connect { target, source } => write!(
                f,
                "cannot connect to {target}: {source} (is a memcached-protocol server listening \
                 there? see --host and --port)"
            ),
            Self::WorkerPanicked => f.write_str("a worker thread panicked"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Resolve { source, .. } | Self::Connect { source, .. } => Some(source),
            Self::Usage(_) | Self::WorkerPanicked => None,
        }
    }
}

/// Runs `ppdb bench` with parsed options: prints the report on stdout and returns the exit code
/// (0 for a clean run, [`EXIT_FAILURE`] for errors or no server, [`EXIT_USAGE`] for bad options).
pub fn main(args: &BenchArgs) -> ExitCode {
    let config = match Config::from_args(args) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("ppdb bench: {error}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let report = match run(&config) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("ppdb bench: {error}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let text = if config.json {
        format!("{}\n", report.to_json())
    } else {
        report.to_text()
    };
    let printed = io::stdout().lock().write_all(text.as_bytes());
    if let Err(error) = printed {
        eprintln!("ppdb bench: cannot write the report: {error}");
        return ExitCode::from(EXIT_FAILURE);
    }
    if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "ppdb bench: {} errors, {} requests lost, {} connection failures",
            report.errors + report.fill.as_ref().map_or(0, |f| f.errors),
            report.lost,
            report.connection_failures
        );
        ExitCode::from(EXIT_FAILURE)
    }
}

/// Runs the load described by `config` and returns what it measured.
pub fn run(config: &Config) -> Result<Report, Error> {
    let addr = resolve(config)?;
    // One connection up front, so that a missing server is one clear error.
    std::net::TcpStream::connect_timeout(&addr, config.timeout).map_err(|source| {
        Error::Connect {
            target: addr.to_string(),
            source,
        }
    })?;
    let shared = Shared {
        config: config.clone(),
        addr,
        barrier: Barrier::new(config.threads + 1),
        abort: AtomicBool::new(false),
        live: Live::new(),
    };
    let (outputs, fill_seconds) = thread::scope(|scope| {
        let (stop_progress, stop) = mpsc::channel::<()>();
        let (live, keys) = (&shared.live, config.keys);
        let progress = config
            .progress
            .then(|| scope.spawn(move || progress::run(live, keys, &stop)));
        let workers: Vec<_> = (0..config.threads)
            .map(|index| {
                let shared = &shared;
                scope.spawn(move || worker::run(index, shared))
            })
            .collect();
        let fill_seconds = coordinate(&shared);
        let outputs: Result<Vec<worker::Output>, Error> = workers
            .into_iter()
            .map(|handle| handle.join().map_err(|_| Error::WorkerPanicked))
            .collect();
        drop(stop_progress);
        if let Some(progress) = progress {
            // The progress line is cosmetic: its thread's fate does not change the result.
            let _ = progress.join();
        }
        (outputs, fill_seconds)
    });
    let outputs = outputs?;
    if let Some(source) = outputs.iter().find_map(|o| o.connect_error.as_ref()) {
        let source = io::Error::new(source.kind(), source.to_string());
        return Err(Error::Connect {
            target: addr.to_string(),
            source,
        });
    }
    Ok(summarise(config, &outputs, fill_seconds))
}

/// The main thread's part in the phases: returns how long the fill took.
fn coordinate(shared: &Shared) -> f64 {
    shared.barrier.wait();
    if shared.abort.load(Ordering::Acquire) {
        return 0.0;
    }
    let fill_started = Instant::now();
    if shared.config.fill {
        shared.live.set_phase(Phase::Filling);
    }
    shared.barrier.wait();
    let measure_started = Instant::now();
    let _ = shared.live.measure_started.set(measure_started);
    shared.live.set_phase(Phase::Measuring);
    (measure_started - fill_started).as_secs_f64()
}

/// Merges the workers' outputs into the report.
fn summarise(config: &Config, outputs: &[worker::Output], fill_seconds: f64) -> Report {
    let mut measure = Stats::new();
    let mut fill = Stats::new();
    for output in outputs {
        measure.merge(&output.measure);
        if let Some(stats) = &output.fill {
            fill.merge(stats);
        }
    }
    let started = outputs.iter().filter_map(|o| o.started).min();
    let finished = outputs.iter().filter_map(|o| o.finished).max();
    let seconds = match (started, finished) {
        (Some(start), Some(end)) => end.saturating_duration_since(start).as_secs_f64(),
        _ => 0.0,
    };
    let fill = config.fill.then_some((&fill, fill_seconds));
    Report::new(config.clone(), fill, &measure, seconds)
}

/// The first address `--host` and `--port` resolve to.
fn resolve(config: &Config) -> Result<SocketAddr, Error> {
    let target = config.target();
    let mut addrs = (config.host.as_str(), config.port)
        .to_socket_addrs()
        .map_err(|source| Error::Resolve {
            target: target.clone(),
            source,
        })?;
    addrs.next().ok_or_else(|| Error::Resolve {
        target,
        source: io::Error::new(io::ErrorKind::NotFound, "no address"),
    })
}
