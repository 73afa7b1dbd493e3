//! Live counters the workers publish, and the once-a-second progress line on stderr.
//!
//! Workers count locally and publish here every tick (about ten times a second), so the hot path
//! touches no shared cache line. The progress thread reads the counters once a second and takes
//! the latency histogram of the last second for its p99.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::stats::Latency;

/// How often a progress line is printed.
const PERIOD: Duration = Duration::from_secs(1);

/// The phase a run is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Phase {
    /// Opening connections.
    Connecting = 0,
    /// Setting every key once.
    Filling = 1,
    /// The measured load.
    Measuring = 2,
}

/// Counters shared by the workers and the progress thread.
#[derive(Debug)]
pub(crate) struct Live {
    phase: AtomicU8,
    /// Keys set by the fill so far.
    pub(crate) filled: AtomicU64,
    /// Requests completed in the measured phase so far.
    pub(crate) ops: AtomicU64,
    /// Errors and lost requests in the measured phase so far.
    pub(crate) errors: AtomicU64,
    /// Latencies since the progress thread last looked.
    pub(crate) interval: Mutex<Latency>,
    /// When the measured phase started.
    pub(crate) measure_started: OnceLock<Instant>,
}

impl Live {
    /// Counters at zero, connecting.
    pub(crate) fn new() -> Self {
        Self {
            phase: AtomicU8::new(Phase::Connecting as u8),
            filled: AtomicU64::new(0),
            ops: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            interval: Mutex::new(Latency::new()),
            measure_started: OnceLock::new(),
        }
    }

    /// Enters `phase`.
    pub(crate) fn set_phase(&self, phase: Phase) {
        self.phase.store(phase as u8, Ordering::Release);
    }

    fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Acquire) {
            1 => Phase::Filling,
            2 => Phase::Measuring,
            _ => Phase::Connecting,
        }
    }
}

/// Prints a progress line every second until `stop` is dropped or sent to.
pub(crate) fn run(live: &Live, keys: u64, stop: &Receiver<()>) {
    let terminal = std::io::stderr().is_terminal();
    let mut last_ops = 0;
    let mut last_at = Instant::now();
    let mut next = last_at + PERIOD;
    // Anything but a timeout (a message, or the sender dropped) means the run is over.
    while let Err(RecvTimeoutError::Timeout) =
        stop.recv_timeout(next.saturating_duration_since(Instant::now()))
    {
        let now = Instant::now();
        next += PERIOD;
        let line = match live.phase() {
            Phase::Connecting => continue,
            Phase::Filling => {
                let filled = live.filled.load(Ordering::Relaxed);
                format!("filling: {filled}/{keys} keys")
            }
            Phase::Measuring => {
                if let Some(&started) = live.measure_started.get() {
                    // The first second of measuring may have begun during the fill.
                    last_at = last_at.max(started);
                }
                let ops = live.ops.load(Ordering::Relaxed);
                let rate = (ops - last_ops.min(ops)) as f64 / (now - last_at).as_secs_f64();
                (last_ops, last_at) = (ops, now);
                measuring_line(live, ops, rate, now)
            }
        };
        let mut stderr = std::io::stderr().lock();
        // Progress is best effort: a closed stderr must not stop the run.
        let _ = if terminal {
            write!(stderr, "\r\x1b[2K{line}")
        } else {
            writeln!(stderr, "{line}")
        };
        let _ = stderr.flush();
    }
    if terminal {
        let _ = write!(std::io::stderr(), "\r\x1b[2K");
    }
}

/// `[   3s]  412345 ops/s, p99 123.4 us, 0 errors` for the last second.
fn measuring_line(live: &Live, ops: u64, rate: f64, now: Instant) -> String {
    let elapsed = live
        .measure_started
        .get()
        .map_or(0.0, |t| (now - *t).as_secs_f64());
    let p99 = match live.interval.lock() {
        Ok(mut interval) => {
            let p99 = interval.quantile_us(0.99);
            interval.clear();
            p99
        }
        Err(_) => 0.0,
    };
    let errors = live.errors.load(Ordering::Relaxed);
    format!(
        "[{elapsed:>5.0}s] {rate:>10.0} ops/s, p99 {p99:>8.1} us (last second), \
         {ops} ops, {errors} errors"
    )
}
