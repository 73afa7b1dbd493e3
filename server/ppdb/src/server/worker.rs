//! A worker thread: one `mio::Poll` over the connections the acceptor hands it.
//!
//! The acceptor sends each new socket through the worker's channel and wakes its poll with a
//! `mio::Waker`. The worker registers the socket edge-triggered for reading and writing and
//! drives the connection on every event (see [`Connection::drive`]). Connections that yielded
//! are driven again right after the current batch of events, before the worker sleeps.
//!
//! Workers take turns with the other threads on their cores: a worker that has run for a
//! [`TURN`] (1 ms) without resting (its polls kept finding work, so it never slept) yields its
//! core after the current round, and then after every [`TURN_SATURATED`] (200 µs) until it
//! rests again. Without that, when there are more busy threads than cores (two
//! workers on one core, or workers beside the clients of a benchmark on the same machine), a
//! worker whose connections always have work runs for its whole time slice, several
//! milliseconds, while the connections of a worker waiting for that core wait as long: PPDB's
//! p99 was 2-4x its p90 until workers yielded (docs/performance.md, "Workers take turns").
//! A first turn of 200 µs kept the tail of a saturated server shorter still, but below
//! saturation it cost more than it saved: a worker that yielded in a burst of work waited behind
//! the thread it let in (`docs/performance.md`, "Turns below saturation"). Bursts below
//! saturation end within the first, longer turn; a saturated worker never rests, and takes the
//! short turns.
//!
//! Once a second ([`SWEEP_INTERVAL`]) the worker closes connections idle longer than
//! `--idle-timeout` and gives back the memory of buffers that grew for a large request.
//!
//! When the server stops, the worker closes the input of every connection, lets each one
//! execute what it had read and write its replies, and ends once they are all closed, or
//! after [`DRAIN_TIMEOUT`] for clients that do not read.

use std::io;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token, Waker};
use ppdb_memcache::Limits;
use tracing::{debug, error, warn};

use super::connection::{CloseReason, Connection, Env, Peer, Progress};
use super::unix_now;
use crate::exec::Executor;
use crate::shared::{ConnContext, Shared, WorkerCounters};

/// How often a worker looks for idle connections and oversized idle buffers.
pub(crate) const SWEEP_INTERVAL: Duration = Duration::from_secs(1);
/// How long a stopping worker waits for its clients to read their last replies.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// How many events one poll returns at most.
const EVENTS_MAX: usize = 1024;
/// The token of the worker's waker; connections use their slot index.
const WAKER: Token = Token(usize::MAX);

/// How long a worker runs without resting before it first offers its core to other threads.
pub(crate) const TURN: Duration = Duration::from_millis(1);
/// How long it runs between offers after that, while it still finds no rest.
pub(crate) const TURN_SATURATED: Duration = Duration::from_micros(200);
/// A poll that lasted at least this long rested: the worker slept, or another thread ran.
const REST_MIN: Duration = Duration::from_micros(20);

/// How long the worker has been running without a rest, so that it yields its core after a
/// [`TURN`] of continuous work, and then after every [`TURN_SATURATED`] until it rests (see
/// the module documentation).
#[derive(Debug, Clone, Copy)]
struct Turn {
    busy_since: Instant,
    /// Whether the worker has yielded since it last rested.
    saturated: bool,
}

impl Turn {
    fn new(now: Instant) -> Turn {
        Turn {
            busy_since: now,
            saturated: false,
        }
    }

    /// Records a poll that started at `started` and returned at `now`: a long one was a rest.
    fn polled(&mut self, started: Instant, now: Instant) {
        if now.saturating_duration_since(started) >= REST_MIN {
            *self = Turn::new(now);
        }
    }

    /// Records that the worker yielded its core at `now`.
    fn yielded(&mut self, now: Instant) {
        self.busy_since = now;
        self.saturated = true;
    }

    /// Whether the worker has run a whole turn without resting.
    fn is_over(&self, now: Instant) -> bool {
        let turn = if self.saturated { TURN_SATURATED } else { TURN };
        now.saturating_duration_since(self.busy_since) >= turn
    }
}

/// A socket the acceptor accepted, on its way to a worker.
#[derive(Debug)]
pub(crate) struct NewConnection {
    /// The socket.
    pub(crate) stream: TcpStream,
    /// The connection's id.
    pub(crate) id: u64,
    /// The peer's address.
    pub(crate) peer: std::net::SocketAddr,
}

/// The acceptor's side of a worker.
#[derive(Debug)]
pub(crate) struct WorkerHandle {
    sender: Sender<NewConnection>,
    waker: Arc<Waker>,
    thread: JoinHandle<()>,
}

impl WorkerHandle {
    /// Hands a new connection to the worker; gives it back if the worker is gone.
    pub(crate) fn hand_over(&self, connection: NewConnection) -> Result<(), NewConnection> {
        self.sender.send(connection).map_err(|e| e.0)?;
        // A failed wake means the worker's poll is gone: the worker ended.
        let _ = self.waker.wake();
        Ok(())
    }

    /// Wakes the worker so that it notices the server is stopping.
    pub(crate) fn wake(&self) {
        let _ = self.waker.wake();
    }

    /// Waits for the worker to end; `false` if it panicked.
    pub(crate) fn join(self) -> bool {
        drop(self.sender);
        self.thread.join().is_ok()
    }
}

/// Starts worker `index`.
pub(crate) fn spawn(
    index: usize,
    shared: Arc<Shared>,
    acceptor_waker: Arc<Waker>,
) -> io::Result<WorkerHandle> {
    let poll = Poll::new()?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
    let (sender, receiver) = mpsc::channel();
    let counters = shared.register_worker();
    let thread = thread::Builder::new()
        .name(format!("ppdb-worker-{index}"))
        .spawn(move || {
            let worker = Worker::new(poll, receiver, shared, counters, acceptor_waker);
            worker.run();
        })?;
    Ok(WorkerHandle {
        sender,
        waker,
        thread,
    })
}

/// Connections by slot; a slot's index is its token.
#[derive(Debug)]
struct Slots<T> {
    entries: Vec<Option<T>>,
    free: Vec<usize>,
    len: usize,
}

impl<T> Default for Slots<T> {
    fn default() -> Self {
        Slots {
            entries: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Slots<T> {
    fn insert(&mut self, connection: T) -> usize {
        self.len += 1;
        match self.free.pop() {
            Some(index) => {
                self.entries[index] = Some(connection);
                index
            }
            None => {
                self.entries.push(Some(connection));
                self.entries.len() - 1
            }
        }
    }

    fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        self.entries.get_mut(index).and_then(Option::as_mut)
    }

    fn remove(&mut self, index: usize) -> Option<T> {
        let connection = self.entries.get_mut(index)?.take()?;
        self.free.push(index);
        self.len -= 1;
        Some(connection)
    }

    fn indices(&self) -> Vec<usize> {
        (0..self.entries.len())
            .filter(|&i| self.entries[i].is_some())
            .collect()
    }
}

/// Everything a worker's connections share, apart from the connections themselves.
struct Context {
    shared: Arc<Shared>,
    counters: Arc<WorkerCounters>,
    executor: Executor,
    limits: Limits,
    acceptor_waker: Arc<Waker>,
    /// Disk mode with `--durability sync`: replies wait for [`Worker::settle`].
    hold_replies: bool,
}

impl Context {
    fn request_shutdown(&self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        let _ = self.acceptor_waker.wake();
    }
}

struct Worker {
    poll: Poll,
    receiver: Receiver<NewConnection>,
    slots: Slots<Connection>,
    /// Connections that yielded, to drive again before sleeping.
    yielded: Vec<usize>,
    /// With held replies: the connections driven since the last sync.
    touched: Vec<usize>,
    context: Context,
    /// When the server started stopping, as this worker saw it.
    draining_since: Option<Instant>,
}

impl Worker {
    fn new(
        poll: Poll,
        receiver: Receiver<NewConnection>,
        shared: Arc<Shared>,
        counters: Arc<WorkerCounters>,
        acceptor_waker: Arc<Waker>,
    ) -> Worker {
        let settings = &shared.settings;
        let limits = Limits {
            multiget_line_len_max: settings.multiget_line_bytes_max,
            ..Limits::with_item_size_max(settings.item_size_max)
        };
        let executor = Executor::new(shared.clone());
        let hold_replies = shared.store.caller_syncs();
        Worker {
            poll,
            receiver,
            slots: Slots::default(),
            yielded: Vec::new(),
            touched: Vec::new(),
            context: Context {
                shared,
                counters,
                executor,
                limits,
                acceptor_waker,
                hold_replies,
            },
            draining_since: None,
        }
    }

    fn run(mut self) {
        let mut events = Events::with_capacity(EVENTS_MAX);
        let mut again = Vec::new();
        let mut next_sweep = Instant::now() + SWEEP_INTERVAL;
        let mut turn = Turn::new(Instant::now());
        loop {
            let poll_started = Instant::now();
            let timeout = if self.yielded.is_empty() {
                next_sweep.saturating_duration_since(poll_started)
            } else {
                Duration::ZERO
            };
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    error!(%e, "worker poll failed; closing its connections");
                    self.close_all(CloseReason::SocketError);
                    return;
                }
            }
            let now = Instant::now();
            turn.polled(poll_started, now);
            let now_unix = unix_now();
            std::mem::swap(&mut again, &mut self.yielded);
            for event in events.iter() {
                match event.token() {
                    WAKER => self.on_wake(now, now_unix),
                    Token(index) => {
                        if let Some(connection) = self.slots.get_mut(index) {
                            connection.on_event(event);
                            self.drive(index, now, now_unix);
                        }
                    }
                }
            }
            for index in again.drain(..) {
                self.drive(index, now, now_unix);
            }
            if !self.touched.is_empty() {
                self.settle(now, now_unix);
            }
            if now >= next_sweep {
                self.sweep(now);
                next_sweep = now + SWEEP_INTERVAL;
            }
            if !events.is_empty() && turn.is_over(Instant::now()) {
                thread::yield_now();
                turn.yielded(Instant::now());
            }
            if let Some(since) = self.draining_since {
                if self.slots.len == 0 {
                    return;
                }
                if now.saturating_duration_since(since) >= DRAIN_TIMEOUT {
                    self.close_all(CloseReason::DrainTimeout);
                    return;
                }
            }
        }
    }

    /// Registers new connections, and starts draining if the server is stopping.
    fn on_wake(&mut self, now: Instant, now_unix: u64) {
        loop {
            match self.receiver.try_recv() {
                Ok(new) => self.admit(new, now),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    // The acceptor is gone: it only drops the sender after it stopped.
                    self.context.shared.stopping.store(true, Ordering::SeqCst);
                    break;
                }
            }
        }
        if self.draining_since.is_none() && self.context.shared.stopping.load(Ordering::SeqCst) {
            self.draining_since = Some(now);
            for index in self.slots.indices() {
                if let Some(connection) = self.slots.get_mut(index) {
                    connection.close_input();
                }
                self.drive(index, now, now_unix);
            }
        }
    }

    fn admit(&mut self, new: NewConnection, now: Instant) {
        let global = &self.context.shared.global;
        if self.draining_since.is_some() {
            global.curr_connections.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        let ctx = ConnContext {
            id: new.id,
            peer: Some(new.peer),
            counters: self.context.counters.clone(),
        };
        let connection = Connection::new(new.stream, ctx, self.context.limits, now);
        let index = self.slots.insert(connection);
        let Some(connection) = self.slots.get_mut(index) else {
            return;
        };
        let interest = Interest::READABLE | Interest::WRITABLE;
        if let Err(e) =
            self.poll
                .registry()
                .register(connection.stream_mut(), Token(index), interest)
        {
            error!(conn = new.id, %e, "cannot register a connection");
            self.close(index, CloseReason::SocketError);
            return;
        }
        debug!(conn = new.id, peer = %new.peer, "connection opened");
    }

    fn drive(&mut self, index: usize, now: Instant, now_unix: u64) {
        let Some(connection) = self.slots.get_mut(index) else {
            return;
        };
        let context = &self.context;
        let request_shutdown = || context.request_shutdown();
        let env = Env {
            executor: &context.executor,
            shared: &context.shared,
            request_shutdown: &request_shutdown,
            now_unix,
            now,
            hold_replies: context.hold_replies,
        };
        let progress = connection.drive(&env);
        if context.hold_replies && connection.holds_replies() {
            self.touched.push(index);
        }
        match progress {
            Progress::Waiting => {}
            Progress::Yielded => self.yielded.push(index),
            Progress::Close(reason) => self.close(index, reason),
        }
    }

    /// With held replies: makes every write executed so far durable (one group commit for all
    /// the connections driven in this round, shared with the other workers' syncs), then lets
    /// their replies go. If the sync fails, nothing after the last good sync may be
    /// acknowledged: those connections are closed with their replies unsent.
    fn settle(&mut self, now: Instant, now_unix: u64) {
        let mut touched = std::mem::take(&mut self.touched);
        touched.sort_unstable();
        touched.dedup();
        match self.context.shared.store.sync_wal() {
            Ok(()) => {
                for &index in &touched {
                    if let Some(connection) = self.slots.get_mut(index) {
                        connection.release();
                    }
                    self.drive(index, now, now_unix);
                }
                // Driving them again may have executed more writes: those wait for the next
                // round, which comes at once.
                let again = std::mem::take(&mut self.touched);
                self.yielded.extend(again);
            }
            Err(e) => {
                warn!(%e, "the write-ahead log could not be synced; closing the connections whose replies wait for it");
                for index in touched {
                    self.close(index, CloseReason::SocketError);
                }
            }
        }
    }

    /// Closes idle connections and shrinks idle buffers.
    fn sweep(&mut self, now: Instant) {
        let idle_timeout = self.context.shared.settings.idle_timeout_secs;
        for index in self.slots.indices() {
            let Some(connection) = self.slots.get_mut(index) else {
                continue;
            };
            if idle_timeout > 0 && connection.is_idle(now, Duration::from_secs(idle_timeout)) {
                self.close(index, CloseReason::IdleTimeout);
            } else {
                connection.shrink_buffers();
            }
        }
    }

    fn close(&mut self, index: usize, reason: CloseReason) {
        let Some(mut connection) = self.slots.remove(index) else {
            return;
        };
        // Closing the socket removes it from the poll too; deregistering first keeps every
        // platform's poll consistent.
        let _ = self.poll.registry().deregister(connection.stream_mut());
        let global = &self.context.shared.global;
        global.curr_connections.fetch_sub(1, Ordering::Relaxed);
        debug!(
            conn = connection.id(),
            peer = %Peer(connection.peer()),
            ?reason,
            unsent_bytes = connection.pending_output(),
            "connection closed"
        );
    }

    fn close_all(&mut self, reason: CloseReason) {
        for index in self.slots.indices() {
            self.close(index, reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_turn_ends_after_continuous_work_and_restarts_after_a_rest() {
        let t0 = Instant::now();
        let mut turn = Turn::new(t0);
        assert!(!turn.is_over(t0));
        // Polls that return at once are no rest: the work adds up to a turn.
        turn.polled(t0 + TURN / 2, t0 + TURN / 2 + REST_MIN / 2);
        assert!(!turn.is_over(t0 + TURN / 2 + REST_MIN / 2));
        assert!(turn.is_over(t0 + TURN));
        // A poll that slept starts a new turn.
        let woke = t0 + TURN + REST_MIN * 2;
        turn.polled(t0 + TURN, woke);
        assert!(!turn.is_over(woke + TURN / 2));
        assert!(turn.is_over(woke + TURN));
    }

    #[test]
    fn after_a_yield_without_rest_the_turns_are_short() {
        let t0 = Instant::now();
        let mut turn = Turn::new(t0);
        let yielded = t0 + TURN;
        turn.yielded(yielded);
        assert!(!turn.is_over(yielded + TURN_SATURATED / 2));
        assert!(turn.is_over(yielded + TURN_SATURATED));
        // Still no rest: short turns go on.
        let again = yielded + TURN_SATURATED;
        turn.polled(again, again + REST_MIN / 2);
        turn.yielded(again + REST_MIN / 2);
        assert!(turn.is_over(again + REST_MIN / 2 + TURN_SATURATED));
        // A rest brings back the long first turn.
        let rested = again + TURN;
        turn.polled(again + TURN / 2, rested);
        assert!(!turn.is_over(rested + TURN_SATURATED));
        assert!(!turn.is_over(rested + TURN / 2));
        assert!(turn.is_over(rested + TURN));
    }

    #[test]
    fn slots_reuse_freed_indices() {
        let mut slots = Slots::default();
        assert!(slots.get_mut(0).is_none());
        assert!(slots.remove(3).is_none());
        let a = slots.insert("a");
        let b = slots.insert("b");
        let c = slots.insert("c");
        assert_eq!((a, b, c, slots.len), (0, 1, 2, 3));
        assert_eq!(slots.remove(b), Some("b"));
        assert_eq!(slots.remove(b), None, "a slot is freed once");
        assert_eq!(slots.indices(), [0, 2]);
        assert_eq!(slots.insert("d"), b, "the freed slot is reused");
        assert_eq!(slots.get_mut(b).copied(), Some("d"));
        assert_eq!(slots.len, 3);
    }
}
