//! The acceptor: the thread that accepts connections, hands them to the workers, keeps the
//! once-a-second timer, and starts the stop.
//!
//! Its poll watches the listening socket, the stop signals and a waker (a worker wakes it when
//! a client sends `shutdown`). Accepted sockets go round-robin to the workers; past `-c` open
//! connections a new one gets `ERROR Too many open connections` and is closed, as memcached
//! does. If the process runs out of file descriptors, accepting pauses for
//! [`ACCEPT_RETRY`] instead of spinning.
//!
//! The timer runs the store's delayed `flush_all` ([`Store::tick`](crate::store::Store::tick))
//! and applies the `verbosity` a client asked for to the log filter.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Poll, Token};
use tracing::{debug, error, info, warn};

use super::logging::LogControl;
use super::signals::Signals;
use super::unix_now;
use super::worker::{NewConnection, WorkerHandle};
use crate::shared::Shared;

/// The line memcached sends to a connection over its limit before closing it.
pub const TOO_MANY_CONNECTIONS: &[u8] = b"ERROR Too many open connections\r\n";
/// How often the timer runs.
pub(crate) const TICK_INTERVAL: Duration = Duration::from_secs(1);
/// How long accepting pauses after running out of file descriptors.
pub(crate) const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// The listening socket's token.
pub(crate) const LISTENER: Token = Token(0);
/// The acceptor's waker's token.
pub(crate) const WAKER: Token = Token(1);
/// The signals' token.
pub(crate) const SIGNALS: Token = Token(2);

/// The acceptor's state.
pub(crate) struct Acceptor {
    pub(crate) poll: Poll,
    /// `None` once the server stops accepting.
    pub(crate) listener: Option<TcpListener>,
    pub(crate) signals: Option<Signals>,
    pub(crate) workers: Vec<WorkerHandle>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) log: Option<LogControl>,
    /// The next worker to get a connection.
    pub(crate) next_worker: usize,
    /// Accepting paused (out of file descriptors) until then.
    pub(crate) accept_paused_until: Option<Instant>,
    /// The verbosity applied to the log filter.
    pub(crate) verbosity_applied: u8,
}

impl Acceptor {
    /// Accepts and ticks until the server is asked to stop; then stops the workers and waits
    /// for them.
    pub(crate) fn run(mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(64);
        let mut next_tick = Instant::now() + TICK_INTERVAL;
        while !self.shared.stopping.load(Ordering::SeqCst) {
            let mut timeout = next_tick.saturating_duration_since(Instant::now());
            if let Some(interval) = self.signals.as_ref().and_then(Signals::poll_interval) {
                timeout = timeout.min(interval);
            }
            if let Some(until) = self.accept_paused_until {
                timeout = timeout.min(until.saturating_duration_since(Instant::now()));
            }
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    self.stop_workers();
                    return Err(e);
                }
            }
            let mut signalled = self
                .signals
                .as_ref()
                .is_some_and(|s| s.poll_interval().is_some());
            for event in events.iter() {
                match event.token() {
                    LISTENER => self.accept_all(),
                    SIGNALS => signalled = true,
                    _ => {}
                }
            }
            if signalled {
                self.check_signals();
            }
            let now = Instant::now();
            if self.accept_paused_until.is_some_and(|until| now >= until) {
                self.accept_paused_until = None;
                self.accept_all();
            }
            if now >= next_tick {
                self.tick();
                next_tick = now + TICK_INTERVAL;
            }
        }
        if let Some(mut listener) = self.listener.take() {
            let _ = self.poll.registry().deregister(&mut listener);
        }
        if let Some(signals) = &self.signals {
            signals.arm_forced_exit();
        }
        info!("stopping: no new connections; finishing the requests already read");
        self.stop_workers();
        info!("stopped");
        Ok(())
    }

    fn check_signals(&mut self) {
        if let Some(signal) = self.signals.as_mut().and_then(Signals::take) {
            info!(signal, "received a stop signal");
            self.shared.stopping.store(true, Ordering::SeqCst);
        }
    }

    /// Runs the store's timer work and applies a changed verbosity.
    fn tick(&mut self) {
        self.shared.store.tick(unix_now());
        let verbosity = self.shared.verbosity.load(Ordering::Relaxed);
        if verbosity != self.verbosity_applied {
            if let Some(log) = &self.log {
                log.set_verbosity(verbosity);
            }
            self.verbosity_applied = verbosity;
            info!(verbosity, "log level changed");
        }
    }

    fn stop_workers(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        for worker in &self.workers {
            worker.wake();
        }
        for (index, worker) in self.workers.drain(..).enumerate() {
            if !worker.join() {
                error!(worker = index, "worker thread panicked");
            }
        }
    }

    /// Accepts until the listener has nothing more (edge-triggered).
    fn accept_all(&mut self) {
        if self.accept_paused_until.is_some() {
            return;
        }
        loop {
            let Some(listener) = &self.listener else {
                return;
            };
            match listener.accept() {
                Ok((stream, peer)) => self.admit(stream, peer),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if is_transient(&e) => continue,
                Err(e) => {
                    warn!(%e, "cannot accept connections; pausing");
                    self.accept_paused_until = Some(Instant::now() + ACCEPT_RETRY);
                    return;
                }
            }
        }
    }

    fn admit(&mut self, mut stream: TcpStream, peer: SocketAddr) {
        let global = &self.shared.global;
        let open = global.curr_connections.load(Ordering::Relaxed);
        if open >= self.shared.settings.connections_max as u64 {
            global.rejected_connections.fetch_add(1, Ordering::Relaxed);
            // A fresh socket's send buffer is empty: the line fits. If not, close anyway.
            let _ = stream.write(TOO_MANY_CONNECTIONS);
            debug!(%peer, open, "too many open connections; rejected");
            return;
        }
        global.curr_connections.fetch_add(1, Ordering::Relaxed);
        let id = global.total_connections.fetch_add(1, Ordering::Relaxed) + 1;
        if let Err(e) = stream.set_nodelay(true) {
            debug!(conn = id, %e, "cannot set TCP_NODELAY");
        }
        let mut connection = NewConnection { stream, id, peer };
        let count = self.workers.len();
        for _ in 0..count {
            let worker = &self.workers[self.next_worker];
            self.next_worker = (self.next_worker + 1) % count;
            match worker.hand_over(connection) {
                Ok(()) => return,
                // That worker ended (it panicked): try the next one.
                Err(back) => connection = back,
            }
        }
        global.curr_connections.fetch_sub(1, Ordering::Relaxed);
        error!(conn = id, "no worker thread is running; connection dropped");
    }
}

/// Accept errors that concern one connection only (it was reset before we took it).
fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::Interrupted
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
