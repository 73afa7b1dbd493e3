//! A worker thread: one `mio::Poll` driving its share of the connections.
//!
//! ```text
//!  main ──spawn──> worker 0 .. worker T-1          progress thread (optional)
//!    │               │ connect its connections        │ reads Live once a second
//!    ├── barrier ────┤ (all connected, or abort)      │
//!    │               │ fill: set its slice of keys    │
//!    ├── barrier ────┤ (every key set)                │
//!    │               │ measure: drive the workload ───┤ publishes to Live every tick
//!    └── join ───────┘ return counters + histograms
//! ```
//!
//! Each connection keeps up to `pipeline` requests in flight: whenever replies arrive, as many
//! new requests are queued and flushed as were answered, so the depth stays constant. The only
//! shared state touched while measuring is the published progress, once per tick.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use super::config::{Config, Distribution, Stop};
use super::conn::{Conn, Pending};
use super::keys::KeyFormat;
use super::progress::Live;
use super::reply::Reply;
use super::request::{Encoder, Op};
use super::rng::Rng;
use super::stats::{Latency, Stats};
use super::zipf::Zipf;

/// How often a worker publishes progress and checks reply timeouts.
const TICK: Duration = Duration::from_millis(100);
/// Readiness events taken from the poll at once.
const EVENTS_MAX: usize = 1_024;

/// What the main thread and the workers share.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The run's configuration.
    pub(crate) config: Config,
    /// The server's address.
    pub(crate) addr: SocketAddr,
    /// Where the main thread and every worker meet between phases.
    pub(crate) barrier: Barrier,
    /// Set before the first barrier when a worker could not connect: everyone stops there.
    pub(crate) abort: AtomicBool,
    /// Published progress.
    pub(crate) live: Live,
}

/// What a worker hands back.
#[derive(Debug)]
pub(crate) struct Output {
    /// Why connecting failed, if it did.
    pub(crate) connect_error: Option<io::Error>,
    /// Counters of the fill, if there was one.
    pub(crate) fill: Option<Stats>,
    /// Counters of the measured phase.
    pub(crate) measure: Stats,
    /// When this worker started measuring.
    pub(crate) started: Option<Instant>,
    /// When its last request completed.
    pub(crate) finished: Option<Instant>,
}

/// Runs worker `index` through every phase.
pub(crate) fn run(index: usize, shared: &Shared) -> Output {
    let mut output = Output {
        connect_error: None,
        fill: None,
        measure: Stats::new(),
        started: None,
        finished: None,
    };
    let worker = Worker::connect(index, shared);
    if let Err(error) = &worker {
        output.connect_error = Some(io::Error::new(error.kind(), error.to_string()));
        shared.abort.store(true, Ordering::Release);
    }
    shared.barrier.wait();
    let Ok(mut worker) = worker else {
        return output;
    };
    if shared.abort.load(Ordering::Acquire) {
        return output;
    }
    let config = &shared.config;
    if config.fill {
        let (start, end) = share(config.keys, index, config.threads);
        let source = &mut Source::Fill { next: start, end };
        output.fill = Some(worker.drive(source, config.fill_pipeline()));
    }
    shared.barrier.wait();
    let started = Instant::now();
    let quota = match config.stop {
        Stop::Requests(total) => Some(share(total, index, config.threads)),
        Stop::After(_) => None,
    };
    let mut source = Source::Measure {
        workload: Workload::new(config),
        remaining: quota.map(|(start, end)| end - start),
        deadline: match config.stop {
            Stop::After(duration) => Some(started + duration),
            Stop::Requests(_) => None,
        },
    };
    output.measure = worker.drive(&mut source, config.pipeline);
    output.started = Some(started);
    output.finished = Some(worker.last_reply.unwrap_or(started));
    output
}

/// The `index`-th of `parts` near-equal slices of `0..total`, as `(start, end)`.
fn share(total: u64, index: usize, parts: usize) -> (u64, u64) {
    let bound = |i: usize| (u128::from(total) * i as u128 / parts as u128) as u64;
    (bound(index), bound(index + 1))
}

/// The operation and key mix of the measured phase.
#[derive(Debug, Clone)]
struct Workload {
    get_weight: u64,
    total_weight: u64,
    keys: u64,
    zipf: Option<Zipf>,
}

impl Workload {
    fn new(config: &Config) -> Self {
        let zipf = match config.distribution {
            Distribution::Uniform => None,
            Distribution::Zipf { exponent } => Zipf::new(config.keys, exponent),
        };
        Self {
            get_weight: u64::from(config.ratio.get),
            total_weight: u64::from(config.ratio.get) + u64::from(config.ratio.set),
            keys: config.keys,
            zipf,
        }
    }

    fn next(&self, rng: &mut Rng) -> (Op, u64) {
        let op = if rng.below(self.total_weight) < self.get_weight {
            Op::Get
        } else {
            Op::Set
        };
        let key = match &self.zipf {
            Some(zipf) => zipf.sample(rng) - 1,
            None => rng.below(self.keys),
        };
        (op, key)
    }
}

/// Where a phase's requests come from.
#[derive(Debug)]
enum Source {
    /// Set keys `next..end` once each.
    Fill { next: u64, end: u64 },
    /// Draw from the workload until the quota or the deadline runs out.
    Measure {
        workload: Workload,
        remaining: Option<u64>,
        deadline: Option<Instant>,
    },
}

impl Source {
    fn next(&mut self, rng: &mut Rng) -> Option<(Op, u64)> {
        match self {
            Self::Fill { next, end } => (*next < *end).then(|| {
                *next += 1;
                (Op::Set, *next - 1)
            }),
            Self::Measure {
                workload,
                remaining,
                deadline: _,
            } => {
                match remaining {
                    Some(0) => return None,
                    Some(n) => *n -= 1,
                    None => {}
                }
                Some(workload.next(rng))
            }
        }
    }

    /// Stops issuing once the deadline has passed.
    fn check_deadline(&mut self, now: Instant) {
        if let Self::Measure {
            remaining,
            deadline: Some(deadline),
            ..
        } = self
        {
            if now >= *deadline {
                *remaining = Some(0);
            }
        }
    }

    fn exhausted(&self) -> bool {
        match self {
            Self::Fill { next, end } => next >= end,
            Self::Measure { remaining, .. } => *remaining == Some(0),
        }
    }

    fn deadline(&self) -> Option<Instant> {
        match self {
            Self::Measure { deadline, .. } => *deadline,
            Self::Fill { .. } => None,
        }
    }
}

/// One thread's event loop and connections.
struct Worker<'a> {
    shared: &'a Shared,
    poll: Poll,
    conns: Vec<Conn>,
    encoder: Encoder,
    keys: KeyFormat,
    /// Requests in flight over all connections.
    in_flight: usize,
    /// Connections that have not failed.
    alive: usize,
    /// Latencies not yet published to the progress thread.
    interval: Latency,
    /// When the latest reply of the current phase arrived.
    last_reply: Option<Instant>,
    /// Completed requests of the current phase already published.
    published_done: u64,
    /// Errors of the current phase already published.
    published_errors: u64,
}

impl<'a> Worker<'a> {
    /// Opens this worker's connections and registers them with a new poll.
    fn connect(index: usize, shared: &'a Shared) -> io::Result<Self> {
        let config = &shared.config;
        let (first, end) = share(config.connections as u64, index, config.threads);
        let poll = Poll::new()?;
        let mut conns = Vec::with_capacity((end - first) as usize);
        for global in first..end {
            let stream = std::net::TcpStream::connect_timeout(&shared.addr, config.timeout)?;
            stream.set_nodelay(true)?;
            stream.set_nonblocking(true)?;
            let mut stream = TcpStream::from_std(stream);
            let token = Token(conns.len());
            poll.registry().register(
                &mut stream,
                token,
                Interest::READABLE | Interest::WRITABLE,
            )?;
            let seed = config.seed ^ global.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            conns.push(Conn::new(stream, Rng::new(seed)));
        }
        let keys = KeyFormat::new(config.key_size, config.keys)
            .ok_or_else(|| io::Error::other("key size too small for the key space"))?;
        Ok(Self {
            shared,
            poll,
            alive: conns.len(),
            conns,
            encoder: Encoder::new(config.protocol, config.value_size),
            keys,
            in_flight: 0,
            interval: Latency::new(),
            last_reply: None,
            published_done: 0,
            published_errors: 0,
        })
    }

    /// Runs one phase to its end: every request issued has been answered or lost.
    fn drive(&mut self, source: &mut Source, pipeline: usize) -> Stats {
        let mut stats = Stats::new();
        let mut events = Events::with_capacity(EVENTS_MAX);
        for conn in &mut self.conns {
            conn.bytes_sent = 0;
            conn.bytes_received = 0;
        }
        (self.last_reply, self.published_done, self.published_errors) = (None, 0, 0);
        for index in 0..self.conns.len() {
            self.top_up(index, source, pipeline, &mut stats);
        }
        let mut next_tick = Instant::now() + TICK;
        while self.in_flight > 0 || (self.alive > 0 && !source.exhausted()) {
            let wake = source.deadline().map_or(next_tick, |d| d.min(next_tick));
            let timeout = wake.saturating_duration_since(Instant::now());
            if let Err(error) = self.poll.poll(&mut events, Some(timeout)) {
                if error.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                self.fail_all(&format!("poll failed: {error}"), &mut stats);
                break;
            }
            for event in &events {
                let index = event.token().0;
                self.service(index, &mut stats);
                self.top_up(index, source, pipeline, &mut stats);
            }
            let now = Instant::now();
            source.check_deadline(now);
            if now >= next_tick {
                next_tick = now + TICK;
                self.check_timeouts(now, &mut stats);
                self.publish(source, &stats);
            }
        }
        self.publish(source, &stats);
        for conn in &self.conns {
            stats.bytes_sent += conn.bytes_sent;
            stats.bytes_received += conn.bytes_received;
        }
        stats
    }

    /// Reads and records the replies of connection `index`, then flushes what it still owes.
    fn service(&mut self, index: usize, stats: &mut Stats) {
        let shared: &'a Shared = self.shared;
        let config = &shared.config;
        let progress = config.progress;
        let Some(conn) = self.conns.get_mut(index).filter(|c| !c.failed) else {
            return;
        };
        let before = conn.pending.len();
        let interval = &mut self.interval;
        let last_reply = &mut self.last_reply;
        let mut record = |request: Pending, reply: Reply, at: Instant| {
            let latency = at.saturating_duration_since(request.sent);
            stats.latency_mut(request.op).record(latency);
            if progress {
                interval.record(latency);
            }
            *last_reply = Some(at);
            match reply {
                Reply::Hit => stats.hits += 1,
                Reply::Miss => stats.misses += 1,
                Reply::Stored => stats.stored += 1,
                Reply::Rejected { reason } => stats.error(&reason),
            }
        };
        let received = conn.receive(config.protocol, config.value_size, &self.keys, &mut record);
        self.in_flight -= before - conn.pending.len();
        if let Err(failure) = received.and_then(|()| conn.flush()) {
            self.fail(index, &failure.message(), stats);
        }
    }

    /// Queues requests on connection `index` until `pipeline` are in flight, and sends them.
    fn top_up(&mut self, index: usize, source: &mut Source, pipeline: usize, stats: &mut Stats) {
        let Some(conn) = self.conns.get_mut(index).filter(|c| !c.failed) else {
            return;
        };
        if conn.pending.len() >= pipeline || source.exhausted() {
            return;
        }
        let sent = Instant::now();
        while conn.pending.len() < pipeline {
            let Some((op, key)) = source.next(&mut conn.rng) else {
                break;
            };
            conn.queue(Pending { op, key, sent }, &self.encoder, &self.keys);
            self.in_flight += 1;
        }
        if let Err(failure) = conn.flush() {
            self.fail(index, &failure.message(), stats);
        }
    }

    /// Fails every connection whose oldest request has waited longer than the timeout.
    fn check_timeouts(&mut self, now: Instant, stats: &mut Stats) {
        let timeout = self.shared.config.timeout;
        for index in 0..self.conns.len() {
            let conn = &self.conns[index];
            let waited = conn
                .pending
                .front()
                .map(|p| now.saturating_duration_since(p.sent));
            if !conn.failed && waited > Some(timeout) {
                let message = format!("no reply within {:.1} s", timeout.as_secs_f64());
                self.fail(index, &message, stats);
            }
        }
    }

    /// Drops connection `index`; its requests in flight are lost.
    fn fail(&mut self, index: usize, message: &str, stats: &mut Stats) {
        let conn = &mut self.conns[index];
        if conn.failed {
            return;
        }
        // The socket is closed when the connection is dropped; deregistering first keeps the
        // poll from reporting it again, and failing to do so changes nothing for the run.
        let _ = self.poll.registry().deregister(&mut conn.stream);
        conn.failed = true;
        let lost = conn.pending.len();
        conn.pending.clear();
        self.in_flight -= lost;
        self.alive -= 1;
        stats.connection_failed(message, lost as u64);
    }

    fn fail_all(&mut self, message: &str, stats: &mut Stats) {
        for index in 0..self.conns.len() {
            self.fail(index, message, stats);
        }
    }

    /// Publishes what changed since the last call to the shared progress counters.
    fn publish(&mut self, source: &Source, stats: &Stats) {
        let live = &self.shared.live;
        let (done, errors) = match source {
            Source::Fill { .. } => (stats.ops() + stats.lost, 0),
            Source::Measure { .. } => (stats.ops(), stats.errors + stats.lost),
        };
        let done_new = done - self.published_done;
        let errors_new = errors - self.published_errors;
        (self.published_done, self.published_errors) = (done, errors);
        match source {
            Source::Fill { .. } => live.filled.fetch_add(done_new, Ordering::Relaxed),
            Source::Measure { .. } => live.ops.fetch_add(done_new, Ordering::Relaxed),
        };
        live.errors.fetch_add(errors_new, Ordering::Relaxed);
        if self.shared.config.progress {
            if let Ok(mut interval) = live.interval.lock() {
                interval.merge(&self.interval);
            }
            self.interval.clear();
        }
    }
}
