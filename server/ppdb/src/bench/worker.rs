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
//! new requests are queued and flushed as were answered, so the depth stays constant (a closed
//! loop). With `--rate` the measured phase is an open loop instead: each connection has its
//! share of the rate on a fixed [`Schedule`], sends a request when it falls due (if fewer than
//! `pipeline` are in flight; otherwise as soon as a reply makes room), and the request's latency
//! counts from when it was due, so a server that falls behind is charged for the wait it causes
//! (no "coordinated omission"). On Linux a `timerfd` wakes the poll when the next request is
//! due, since the poll itself waits in whole milliseconds. The only shared state touched while
//! measuring is the published progress, once per tick.

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
/// The poll token of the schedule's timer; connections use their index.
const TIMER: Token = Token(usize::MAX);

/// The fixed request schedule of an open-loop run (`--rate`): each of the run's `C`
/// connections sends a request every `C / rate` seconds, connection `g` offset by `g / C` of
/// that interval, so that the run as a whole sends `rate` requests per second, evenly spread.
#[derive(Debug)]
struct Schedule {
    interval: Duration,
    /// When the next request of each of this worker's connections is due.
    next_due: Vec<Instant>,
}

impl Schedule {
    /// The schedule of connections `first..first + count` of `connections`, from `start`.
    fn new(rate: f64, connections: usize, first: usize, count: usize, start: Instant) -> Self {
        let interval = Duration::from_secs_f64(connections as f64 / rate);
        let next_due = (first..first + count)
            .map(|g| start + interval.mul_f64(g as f64 / connections as f64))
            .collect();
        Self { interval, next_due }
    }
}

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
    if let Some(rate) = config.rate {
        let count = worker.conns.len();
        let schedule = Schedule::new(rate, config.connections, worker.first, count, started);
        worker.schedule = Some(schedule);
    }
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
    /// The run-wide index of this worker's first connection.
    first: usize,
    /// The open-loop schedule of the measured phase, with `--rate`.
    schedule: Option<Schedule>,
    /// Wakes the poll when the next scheduled request is due (Linux).
    #[cfg(target_os = "linux")]
    timer: Option<timer::Timer>,
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
        #[cfg(target_os = "linux")]
        let timer = match config.rate {
            Some(_) => {
                let timer = timer::Timer::new()?;
                timer.register(poll.registry(), TIMER)?;
                Some(timer)
            }
            None => None,
        };
        Ok(Self {
            shared,
            poll,
            alive: conns.len(),
            conns,
            first: first as usize,
            schedule: None,
            #[cfg(target_os = "linux")]
            timer,
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
            let mut wake = source.deadline().map_or(next_tick, |d| d.min(next_tick));
            if let Some(due) = self.next_due(source, pipeline) {
                wake = wake.min(due);
                if let Err(error) = self.arm_timer(due) {
                    self.fail_all(&format!("timer failed: {error}"), &mut stats);
                    break;
                }
            }
            let timeout = wake.saturating_duration_since(Instant::now());
            if let Err(error) = self.poll.poll(&mut events, Some(timeout)) {
                if error.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                self.fail_all(&format!("poll failed: {error}"), &mut stats);
                break;
            }
            for event in &events {
                if event.token() == TIMER {
                    self.clear_timer();
                    continue;
                }
                let index = event.token().0;
                self.service(index, &mut stats);
                if self.schedule.is_none() {
                    self.top_up(index, source, pipeline, &mut stats);
                }
            }
            if self.schedule.is_some() {
                // Requests fall due whether or not their connection had an event: every
                // connection is topped up once, after all the replies of this poll are read.
                for index in 0..self.conns.len() {
                    self.top_up(index, source, pipeline, &mut stats);
                }
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
        let now = Instant::now();
        let deadline = source.deadline();
        let mut queued = 0;
        while conn.pending.len() < pipeline {
            // Closed loop: now. Open loop: when the schedule says, if that has come (and only
            // requests due before the deadline belong to the run, however late the loop woke).
            let sent = match &self.schedule {
                None => now,
                Some(schedule) => {
                    let due = schedule.next_due[index];
                    if due > now || deadline.is_some_and(|d| due >= d) {
                        break;
                    }
                    due
                }
            };
            let Some((op, key)) = source.next(&mut conn.rng) else {
                break;
            };
            let request = Pending {
                op,
                key,
                sent,
                queued: now,
            };
            conn.queue(request, &self.encoder, &self.keys);
            if let Some(schedule) = &mut self.schedule {
                schedule.next_due[index] += schedule.interval;
            }
            self.in_flight += 1;
            queued += 1;
        }
        if queued == 0 {
            return;
        }
        if let Err(failure) = conn.flush() {
            self.fail(index, &failure.message(), stats);
        }
    }

    /// With a schedule: when the next request of a connection that has room for one is due.
    fn next_due(&self, source: &Source, pipeline: usize) -> Option<Instant> {
        let schedule = self.schedule.as_ref()?;
        if source.exhausted() {
            return None;
        }
        self.conns
            .iter()
            .zip(&schedule.next_due)
            .filter(|(conn, _)| !conn.failed && conn.pending.len() < pipeline)
            .map(|(_, &due)| due)
            .min()
    }

    /// Makes the timer wake the poll at `due` (on Linux; elsewhere the poll's own timeout, in
    /// whole milliseconds, does).
    fn arm_timer(&self, due: Instant) -> io::Result<()> {
        #[cfg(target_os = "linux")]
        if let Some(timer) = &self.timer {
            return timer.arm(due.saturating_duration_since(Instant::now()));
        }
        let _ = due;
        Ok(())
    }

    /// Consumes the timer's expiry so that it can fire again.
    fn clear_timer(&self) {
        #[cfg(target_os = "linux")]
        if let Some(timer) = &self.timer {
            timer.clear();
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
                .map(|p| now.saturating_duration_since(p.queued));
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

/// A `timerfd` for the poll: mio's poll waits in whole milliseconds, too coarse for a schedule
/// whose requests fall due tens of microseconds apart.
#[cfg(target_os = "linux")]
mod timer {
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::time::Duration;

    use mio::unix::SourceFd;
    use mio::{Interest, Registry, Token};

    /// A one-shot monotonic timer, non-blocking.
    #[derive(Debug)]
    pub(super) struct Timer {
        fd: OwnedFd,
    }

    impl Timer {
        #[expect(
            unsafe_code,
            reason = "timerfd_create and taking ownership of its descriptor"
        )]
        pub(super) fn new() -> io::Result<Self> {
            // SAFETY: plain system call with constant arguments.
            let fd = unsafe {
                libc::timerfd_create(
                    libc::CLOCK_MONOTONIC,
                    libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
                )
            };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: `fd` is a descriptor that was just opened and that nothing else owns.
            Ok(Self {
                fd: unsafe { OwnedFd::from_raw_fd(fd) },
            })
        }

        pub(super) fn register(&self, registry: &Registry, token: Token) -> io::Result<()> {
            registry.register(
                &mut SourceFd(&self.fd.as_raw_fd()),
                token,
                Interest::READABLE,
            )
        }

        /// Fires once, `after` from now (at least a microsecond: zero would disarm it).
        #[expect(unsafe_code, reason = "timerfd_settime")]
        pub(super) fn arm(&self, after: Duration) -> io::Result<()> {
            let after = after.max(Duration::from_micros(1));
            let spec = libc::itimerspec {
                it_interval: libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                },
                it_value: libc::timespec {
                    tv_sec: libc::time_t::try_from(after.as_secs()).unwrap_or(libc::time_t::MAX),
                    tv_nsec: libc::c_long::from(after.subsec_nanos() as i32),
                },
            };
            // SAFETY: `fd` is a timerfd this value owns; `spec` is a valid itimerspec and the
            // old value is not asked for (null).
            let done = unsafe {
                libc::timerfd_settime(self.fd.as_raw_fd(), 0, &spec, std::ptr::null_mut())
            };
            if done < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        }

        /// Reads the expiry count, so that the descriptor stops being readable.
        #[expect(unsafe_code, reason = "read into a local buffer")]
        pub(super) fn clear(&self) {
            let mut expirations = 0u64;
            // SAFETY: reads at most 8 bytes into `expirations`, which has 8. A failure
            // (`EAGAIN` when it did not fire) changes nothing.
            let _ = unsafe {
                libc::read(
                    self.fd.as_raw_fd(),
                    (&raw mut expirations).cast::<libc::c_void>(),
                    8,
                )
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schedule_spreads_the_rate_over_the_connections() {
        let start = Instant::now();
        // 4 connections at 1000 requests/s in all: each every 4 ms, a millisecond apart.
        let schedule = Schedule::new(1000.0, 4, 2, 2, start);
        assert_eq!(schedule.interval, Duration::from_millis(4));
        assert_eq!(
            schedule.next_due,
            [
                start + Duration::from_millis(2),
                start + Duration::from_millis(3)
            ]
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_timer_wakes_the_poll_once_per_arming() {
        let mut poll = Poll::new().expect("poll");
        let mut events = Events::with_capacity(4);
        let timer = timer::Timer::new().expect("timerfd");
        timer.register(poll.registry(), TIMER).expect("register");
        let armed = Instant::now();
        timer.arm(Duration::from_millis(3)).expect("arm");
        poll.poll(&mut events, Some(Duration::from_secs(5)))
            .expect("poll");
        let waited = armed.elapsed();
        assert!(events.iter().any(|e| e.token() == TIMER), "the timer fired");
        assert!(
            waited >= Duration::from_millis(3),
            "not before it was due: {waited:?}"
        );
        timer.clear();
        poll.poll(&mut events, Some(Duration::from_millis(20)))
            .expect("poll");
        assert!(
            events.is_empty(),
            "a cleared timer stays quiet until armed again"
        );
        timer.arm(Duration::ZERO).expect("arm at once");
        poll.poll(&mut events, Some(Duration::from_secs(5)))
            .expect("poll");
        assert!(
            events.iter().any(|e| e.token() == TIMER),
            "a zero delay still fires"
        );
    }
}
