//! One client connection: a state machine over two bounded buffers.
//!
//! ```text
//!   socket ──read──> input [consumed | unconsumed | spare] ──Parser──> Request
//!                                                                        │ Executor::execute
//!   socket <─write── output [sent | pending] <────────── reply bytes ─────┘
//! ```
//!
//! [`Connection::drive`] repeats three steps until none of them makes progress: execute every
//! complete request in the input (in order, appending the replies to the output), write the
//! pending output in one `write`, and read once more. Sockets are registered edge-triggered,
//! so the connection remembers whether the socket may still be readable or writable and keeps
//! going until the kernel says `WouldBlock` (see [`SHORT_READ_DRAINS`]). A connection yields,
//! so that its worker serves the others, once it has had `-R` requests executed
//! ([`Settings::requests_per_event`](crate::shared::Settings), 20 by default as in memcached;
//! each such yield counts in `conn_yields`) or been driven [`ROUNDS_MAX`] times in a row; its
//! worker comes back to it in the next round without waiting for an event.
//!
//! Limits:
//! - the input holds at most [`Limits::buffer_len_max`] bytes (a command line plus the largest
//!   data block, or the longest multiget line); the parser fails a longer line, and the
//!   connection is closed after its pending replies are written, as memcached does;
//! - when more than `output_bytes_max` bytes of replies are pending, the connection stops
//!   executing and reading (an *output stall*) until the client has read enough, so a client
//!   that pipelines without reading holds at most that much memory plus one reply.
//!
//! Phases: `Open` → `InputClosed` (the peer half-closed, or the server is stopping: execute
//! what was read, write, close) or `Closing` (`quit`, `shutdown`, a fatal parse error: write
//! what is pending, close).

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::event::Event;
use mio::net::TcpStream;
use ppdb_memcache::{Limits, Parsed, Parser};
use tracing::debug;

use crate::exec::Executor;
use crate::shared::{Action, ConnContext, Shared, WorkerCounters};

/// The initial size of a connection's input buffer, and what an idle one shrinks back to.
pub const INPUT_BYTES_INITIAL: usize = 16 << 10;
/// An idle connection's output buffer keeps at most this much capacity.
pub const OUTPUT_BYTES_KEPT: usize = 64 << 10;
/// How many read/execute/write rounds a connection gets before it yields to the others.
pub(crate) const ROUNDS_MAX: usize = 16;
/// Whether a read that returns less than asked for proves the socket drained. On Linux's
/// edge-triggered epoll, any data arriving after such a read raises a new event, so the extra
/// `read` that would only say `WouldBlock` is skipped (one syscall of about four per request).
/// mio promises new events only after `WouldBlock` in general, so elsewhere the connection reads
/// until then.
const SHORT_READ_DRAINS: bool = cfg!(any(target_os = "linux", target_os = "android"));

/// What a connection is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Reading, executing and writing.
    Open,
    /// No more reading (the peer half-closed, or the server is stopping): execute the
    /// complete requests already read, write the replies, then close.
    InputClosed,
    /// Write what is pending, then close (`quit`, `shutdown`, a fatal parse error).
    Closing,
}

/// Why a connection ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CloseReason {
    /// The peer closed its side and every reply was written.
    PeerClosed,
    /// `quit`.
    Quit,
    /// `shutdown`.
    Shutdown,
    /// A command line over the limit.
    LineTooLong,
    /// The server stopped and the connection's replies were written.
    ServerStopping,
    /// A socket error (reset, broken pipe...).
    SocketError,
    /// Idle longer than `--idle-timeout`.
    IdleTimeout,
    /// The server stopped and the client did not read its replies in time.
    DrainTimeout,
}

/// What [`Connection::drive`] leaves the connection as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Progress {
    /// Waiting for the socket.
    Waiting,
    /// Could go on: drive it again after the other connections had their turn.
    Yielded,
    /// Done: close it.
    Close(CloseReason),
}

/// What a connection needs from its worker while it runs requests.
pub(crate) struct Env<'a> {
    /// Runs requests.
    pub(crate) executor: &'a Executor,
    /// The server's shared state.
    pub(crate) shared: &'a Shared,
    /// Called when a client asks the server to stop.
    pub(crate) request_shutdown: &'a dyn Fn(),
    /// The unix time for this round of events.
    pub(crate) now_unix: u64,
    /// The monotonic time for this round of events.
    pub(crate) now: Instant,
    /// Disk mode with `--durability sync`: replies are held until the worker has made the
    /// writes before them durable (see [`Connection::release`]).
    pub(crate) hold_replies: bool,
}

/// Shows a peer address in logs, or `-` when it is unknown.
pub(crate) struct Peer(pub(crate) Option<SocketAddr>);

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(addr) => addr.fmt(f),
            None => f.write_str("-"),
        }
    }
}

/// The input buffer: `buf[start..end]` is read and not yet parsed.
#[derive(Debug)]
struct Input {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    len_max: usize,
}

impl Input {
    fn new(len_max: usize) -> Input {
        Input {
            buf: vec![0; INPUT_BYTES_INITIAL.min(len_max)],
            start: 0,
            end: 0,
            len_max,
        }
    }

    fn unconsumed(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.end - self.start);
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Room to read into: compacts, then grows up to `len_max`. Empty only when `len_max`
    /// unparsed bytes are buffered.
    fn spare(&mut self) -> &mut [u8] {
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.end == self.buf.len() && self.buf.len() < self.len_max {
                let grown = self.buf.len().saturating_mul(2).min(self.len_max);
                self.buf.resize(grown, 0);
            }
        }
        &mut self.buf[self.end..]
    }

    fn commit(&mut self, n: usize) {
        self.end += n;
        debug_assert!(self.end <= self.buf.len());
    }

    /// Gives back a grown buffer's memory once it is empty.
    fn shrink_if_empty(&mut self) {
        if self.start == self.end && self.buf.len() > INPUT_BYTES_INITIAL {
            self.buf = vec![0; INPUT_BYTES_INITIAL.min(self.len_max)];
            self.start = 0;
            self.end = 0;
        }
    }
}

/// One client connection.
#[derive(Debug)]
pub(crate) struct Connection {
    stream: TcpStream,
    ctx: ConnContext,
    parser: Parser,
    input: Input,
    output: Vec<u8>,
    /// How much of `output` is written already.
    sent: usize,
    /// With held replies: how much of `output` may be written (the rest waits for a sync).
    released: usize,
    /// The socket may have more to read (no `WouldBlock` since the last readable event).
    readable: bool,
    /// An event said the peer closed its side: read until end of file, not just until a short
    /// read.
    read_closed: bool,
    /// The socket may take more (no `WouldBlock` since the last writable event).
    writable: bool,
    phase: Phase,
    /// Why the connection goes once its output is written (for `Closing`).
    close_reason: CloseReason,
    /// Execution stopped because the pending output is over the limit.
    stalled: bool,
    /// The parser needs more input before it can return another request.
    needs_input: bool,
    last_active: Instant,
}

impl Connection {
    /// A connection over `stream`, parsing with `limits`.
    pub(crate) fn new(stream: TcpStream, ctx: ConnContext, limits: Limits, now: Instant) -> Self {
        Connection {
            stream,
            ctx,
            parser: Parser::new(limits),
            input: Input::new(limits.buffer_len_max()),
            output: Vec::with_capacity(OUTPUT_BYTES_KEPT),
            sent: 0,
            released: 0,
            readable: false,
            read_closed: false,
            writable: false,
            phase: Phase::Open,
            close_reason: CloseReason::PeerClosed,
            stalled: false,
            needs_input: true,
            last_active: now,
        }
    }

    /// The socket, to register and deregister.
    pub(crate) fn stream_mut(&mut self) -> &mut TcpStream {
        &mut self.stream
    }

    /// The connection's id.
    pub(crate) fn id(&self) -> u64 {
        self.ctx.id
    }

    /// The peer's address.
    pub(crate) fn peer(&self) -> Option<SocketAddr> {
        self.ctx.peer
    }

    /// Bytes of replies not yet written.
    pub(crate) fn pending_output(&self) -> usize {
        self.output.len() - self.sent
    }

    /// With held replies: whether some replies wait for the next sync.
    pub(crate) fn holds_replies(&self) -> bool {
        self.released < self.output.len()
    }

    /// With held replies: everything executed so far is durable, so every reply may go.
    pub(crate) fn release(&mut self) {
        self.released = self.output.len();
    }

    /// Notes what an event says about the socket.
    pub(crate) fn on_event(&mut self, event: &Event) {
        if event.is_readable() || event.is_read_closed() || event.is_error() {
            self.readable = true;
        }
        if event.is_read_closed() || event.is_error() {
            self.read_closed = true;
        }
        if event.is_writable() || event.is_write_closed() || event.is_error() {
            self.writable = true;
        }
    }

    /// Stops reading: the server is stopping. Requests already read still run.
    pub(crate) fn close_input(&mut self) {
        if self.phase == Phase::Open {
            self.phase = Phase::InputClosed;
            self.close_reason = CloseReason::ServerStopping;
        }
    }

    /// Whether nothing was read or written for `timeout`.
    pub(crate) fn is_idle(&self, now: Instant, timeout: Duration) -> bool {
        now.saturating_duration_since(self.last_active) >= timeout
    }

    /// Gives back grown buffers' memory if they are empty.
    pub(crate) fn shrink_buffers(&mut self) {
        self.input.shrink_if_empty();
        if self.pending_output() == 0 && self.output.capacity() > OUTPUT_BYTES_KEPT {
            self.output = Vec::with_capacity(OUTPUT_BYTES_KEPT);
            self.sent = 0;
        }
    }

    /// Executes, writes and reads until the socket has nothing more for now.
    pub(crate) fn drive(&mut self, env: &Env<'_>) -> Progress {
        let mut budget = env.shared.settings.requests_per_event;
        for _ in 0..ROUNDS_MAX {
            let executed = self.execute_buffered(env, &mut budget);
            let written = match self.flush(env) {
                Ok(written) => written,
                Err(_) => return Progress::Close(CloseReason::SocketError),
            };
            if let Some(reason) = self.finished() {
                return Progress::Close(reason);
            }
            if budget == 0 {
                WorkerCounters::add(&self.ctx.counters.conn_yields, 1);
                return Progress::Yielded;
            }
            let read = match self.fill(env) {
                Ok(read) => read,
                Err(_) => return Progress::Close(CloseReason::SocketError),
            };
            if !(executed || written || read) {
                return Progress::Waiting;
            }
        }
        Progress::Yielded
    }

    /// Whether the connection is done, and why.
    fn finished(&self) -> Option<CloseReason> {
        if self.pending_output() > 0 {
            return None;
        }
        match self.phase {
            Phase::Open => None,
            Phase::Closing => Some(self.close_reason),
            Phase::InputClosed => self.needs_input.then_some(self.close_reason),
        }
    }

    /// Parses and executes the buffered requests, in order, until the input runs out, the
    /// output is over its limit, `budget` requests were executed, or a request ends the
    /// connection. Returns whether anything changed.
    fn execute_buffered(&mut self, env: &Env<'_>, budget: &mut usize) -> bool {
        if self.phase == Phase::Closing {
            return false;
        }
        let output_max = env.shared.settings.output_bytes_max;
        let mut progressed = false;
        loop {
            if *budget == 0 {
                // Requests may be buffered still: the next drive executes them.
                self.needs_input = false;
                return progressed;
            }
            if self.output.len() - self.sent > output_max {
                if !self.stalled {
                    self.stalled = true;
                    let stalls = &env.shared.global.output_stalls;
                    stalls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                self.needs_input = false;
                return progressed;
            }
            let input = self.input.unconsumed();
            if input.is_empty() {
                self.needs_input = true;
                return progressed;
            }
            match self.parser.parse(input) {
                Ok(Parsed::Complete { request, consumed }) => {
                    // Once a sync failed under `--durability sync`, requests are answered
                    // without touching the store's items (`Executor::execute`): their replies
                    // need no sync and go at once, unless earlier replies are still held. The
                    // flag never clears, so a request that finds it set cannot have written.
                    let needs_no_sync = env.hold_replies
                        && self.released == self.output.len()
                        && env.shared.store.is_poisoned();
                    let action = env.executor.execute(
                        &mut self.ctx,
                        request,
                        env.now_unix,
                        &mut self.output,
                    );
                    self.input.consume(consumed);
                    *budget -= 1;
                    if needs_no_sync {
                        self.release();
                    }
                    progressed = true;
                    match action {
                        Action::Continue => {}
                        Action::Close => return self.start_closing(CloseReason::Quit),
                        Action::Shutdown => {
                            (env.request_shutdown)();
                            return self.start_closing(CloseReason::Shutdown);
                        }
                    }
                }
                Ok(Parsed::Incomplete { consumed }) => {
                    self.input.consume(consumed);
                    self.needs_input = true;
                    return progressed || consumed > 0;
                }
                Err(error) => {
                    let counter = &env.shared.global.lines_too_long;
                    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    debug!(conn = self.ctx.id, peer = %Peer(self.ctx.peer), %error, "closing");
                    return self.start_closing(CloseReason::LineTooLong);
                }
            }
        }
    }

    fn start_closing(&mut self, reason: CloseReason) -> bool {
        self.phase = Phase::Closing;
        self.close_reason = reason;
        true
    }

    /// Writes pending output until it is all written or the socket is full. Returns whether
    /// anything was written.
    fn flush(&mut self, env: &Env<'_>) -> io::Result<bool> {
        let mut written = 0;
        let end = if env.hold_replies {
            self.released
        } else {
            self.output.len()
        };
        while self.writable && self.sent < end {
            match self.stream.write(&self.output[self.sent..end]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.sent += n;
                    written += n;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.writable = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.sent == self.output.len() {
            self.output.clear();
            self.sent = 0;
            self.released = 0;
        } else if self.sent > self.output.len() / 2 {
            // Keep the pending bytes at the front so the buffer does not grow while a slow
            // client reads: the move is at most as long as what was written.
            self.output.drain(..self.sent);
            self.released = self.released.saturating_sub(self.sent);
            self.sent = 0;
        }
        if written > 0 {
            WorkerCounters::add(&self.ctx.counters.bytes_written, written as u64);
            self.last_active = env.now;
            if self.pending_output() <= env.shared.settings.output_bytes_max {
                self.stalled = false;
            }
        }
        Ok(written > 0)
    }

    /// Reads once if the connection is open, the socket may be readable, the output is under
    /// its limit and the input has room. Returns whether anything changed.
    fn fill(&mut self, env: &Env<'_>) -> io::Result<bool> {
        if self.phase != Phase::Open
            || !self.readable
            || self.pending_output() > env.shared.settings.output_bytes_max
        {
            return Ok(false);
        }
        loop {
            let spare = self.input.spare();
            if spare.is_empty() {
                if !self.needs_input {
                    // Full of requests not executed yet (execution stopped at the output
                    // limit): execute them first.
                    return Ok(false);
                }
                // The parser returns a request or fails before the input reaches its bound:
                // give up on the connection rather than wait for ever.
                debug_assert!(false, "input buffer full with no complete request");
                return Err(io::Error::other("input buffer full"));
            }
            match self.stream.read(spare) {
                Ok(0) => {
                    self.readable = false;
                    self.phase = Phase::InputClosed;
                    self.close_reason = CloseReason::PeerClosed;
                    return Ok(true);
                }
                Ok(n) => {
                    if SHORT_READ_DRAINS && n < spare.len() && !self.read_closed {
                        self.readable = false;
                    }
                    self.input.commit(n);
                    WorkerCounters::add(&self.ctx.counters.bytes_read, n as u64);
                    self.last_active = env.now;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.readable = false;
                    return Ok(false);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_compacts_grows_and_shrinks() {
        let mut input = Input::new(64 << 10);
        assert_eq!(input.spare().len(), INPUT_BYTES_INITIAL);
        input.commit(INPUT_BYTES_INITIAL);
        input.consume(10);
        // Full with consumed bytes at the front: compacts instead of growing.
        assert_eq!(input.spare().len(), 10);
        assert_eq!(input.buf.len(), INPUT_BYTES_INITIAL);
        input.commit(10);
        // Full of unconsumed bytes: doubles.
        assert_eq!(input.spare().len(), INPUT_BYTES_INITIAL);
        input.commit(INPUT_BYTES_INITIAL);
        assert_eq!(input.spare().len(), 2 * INPUT_BYTES_INITIAL);
        input.commit(2 * INPUT_BYTES_INITIAL);
        assert!(input.spare().is_empty(), "never past len_max");
        input.shrink_if_empty();
        assert_eq!(input.buf.len(), 64 << 10, "not while it holds bytes");
        input.consume(64 << 10);
        input.shrink_if_empty();
        assert_eq!(input.buf.len(), INPUT_BYTES_INITIAL);
        assert!(input.unconsumed().is_empty());
    }

    #[test]
    fn input_keeps_unconsumed_bytes_in_order() {
        let mut input = Input::new(32);
        let data: Vec<u8> = (0..100u8).collect();
        let mut expected = Vec::new();
        let mut fed = 0;
        while fed < data.len() {
            let spare = input.spare();
            let n = spare.len().min(7).min(data.len() - fed);
            spare[..n].copy_from_slice(&data[fed..fed + n]);
            input.commit(n);
            expected.extend_from_slice(&data[fed..fed + n]);
            fed += n;
            let take = input.unconsumed().len() / 2;
            assert_eq!(input.unconsumed(), &expected[..]);
            input.consume(take);
            expected.drain(..take);
        }
    }
}
