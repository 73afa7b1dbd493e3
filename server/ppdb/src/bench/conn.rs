//! One connection to the server: its socket, its buffers and its requests in flight.
//!
//! A connection never blocks. Requests are appended to the write buffer and flushed as far as the
//! socket takes them; replies are read until the socket has no more and parsed as they come,
//! each matched to the oldest request in flight (memcached answers in order). The buffers are
//! bounded by the pipeline depth: the write buffer holds at most `pipeline` requests, and the
//! read buffer grows only while a single reply is incomplete.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::time::Instant;

use mio::net::TcpStream;

use super::keys::KeyFormat;
use super::reply::{self, Desync, Expect, Reply};
use super::request::{Encoder, Op};
use super::rng::Rng;

/// Free space the read buffer offers to each `read`.
const READ_CHUNK: usize = 64 * 1024;

/// Whether a read that returns less than it was offered proves the socket drained.
///
/// With edge-triggered readiness (epoll, kqueue) a short read means the receive queue was empty
/// at that moment, and any byte that arrives later raises a new event, so the usual extra `read`
/// that only returns `WouldBlock` can be skipped: at pipeline depth 1 that is one system call of
/// three per request. Windows' readiness emulation in mio re-arms only on `WouldBlock`, so there
/// the loop reads until it sees it.
const DRAINED_BY_SHORT_READ: bool = cfg!(unix);

/// A request sent and not yet answered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pending {
    /// Its kind.
    pub(crate) op: Op,
    /// The index of its key.
    pub(crate) key: u64,
    /// When it was due: when it was queued for sending, or with `--rate` when the schedule
    /// called for it (it may be queued later, if the connection had `--pipeline` requests in
    /// flight then). Its latency counts from here.
    pub(crate) sent: Instant,
    /// When it was queued for sending (the reply timeout counts from here).
    pub(crate) queued: Instant,
}

/// Why a connection can go on no longer.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The socket failed.
    Io(io::Error),
    /// The server closed the connection.
    Closed,
    /// A reply could not be followed.
    Desync(Desync),
    /// Bytes arrived with no request in flight.
    Unsolicited,
}

impl Failure {
    /// A one-line description for the report.
    pub(crate) fn message(&self) -> String {
        match self {
            Self::Io(error) => format!("connection failed: {error}"),
            Self::Closed => "connection closed by the server".to_owned(),
            Self::Desync(desync) => format!("connection dropped after {}", desync.reason),
            Self::Unsolicited => "connection dropped: a reply with no request in flight".to_owned(),
        }
    }
}

/// A non-blocking connection with pipelined requests.
#[derive(Debug)]
pub(crate) struct Conn {
    /// The socket, registered with the worker's poll.
    pub(crate) stream: TcpStream,
    /// Requests in flight, oldest first.
    pub(crate) pending: VecDeque<Pending>,
    /// This connection's stream of operations and keys.
    pub(crate) rng: Rng,
    /// Whether the connection has failed and been dropped from the poll.
    pub(crate) failed: bool,
    /// Request bytes written since the counter was last taken.
    pub(crate) bytes_sent: u64,
    /// Reply bytes read since the counter was last taken.
    pub(crate) bytes_received: u64,
    write_buf: Vec<u8>,
    write_pos: usize,
    read_buf: Vec<u8>,
    read_start: usize,
    read_end: usize,
    key_scratch: Vec<u8>,
}

impl Conn {
    /// Wraps a connected, non-blocking socket.
    pub(crate) fn new(stream: TcpStream, rng: Rng) -> Self {
        Self {
            stream,
            pending: VecDeque::new(),
            rng,
            failed: false,
            bytes_sent: 0,
            bytes_received: 0,
            write_buf: Vec::new(),
            write_pos: 0,
            read_buf: vec![0; READ_CHUNK],
            read_start: 0,
            read_end: 0,
            key_scratch: Vec::new(),
        }
    }

    /// Queues a request; [`Self::flush`] sends it.
    pub(crate) fn queue(&mut self, request: Pending, encoder: &Encoder, keys: &KeyFormat) {
        self.key_scratch.clear();
        keys.append(request.key, &mut self.key_scratch);
        encoder.append(request.op, &self.key_scratch, &mut self.write_buf);
        self.pending.push_back(request);
    }

    /// Writes queued bytes until they are all sent or the socket is full.
    pub(crate) fn flush(&mut self) -> Result<(), Failure> {
        while self.write_pos < self.write_buf.len() {
            match self.stream.write(&self.write_buf[self.write_pos..]) {
                Ok(0) => return Err(Failure::Closed),
                Ok(n) => {
                    self.write_pos += n;
                    self.bytes_sent += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Failure::Io(e)),
            }
        }
        self.write_buf.clear();
        self.write_pos = 0;
        Ok(())
    }

    /// Reads until the socket has nothing more, handing each complete reply to `on_reply` with
    /// its request and the time its last byte was read.
    pub(crate) fn receive(
        &mut self,
        protocol: super::config::Protocol,
        value_size: usize,
        keys: &KeyFormat,
        on_reply: &mut dyn FnMut(Pending, Reply, Instant),
    ) -> Result<(), Failure> {
        loop {
            self.make_room();
            let space = self.read_buf.len() - self.read_end;
            match self.stream.read(&mut self.read_buf[self.read_end..]) {
                Ok(0) => return Err(Failure::Closed),
                Ok(n) => {
                    let now = Instant::now();
                    self.read_end += n;
                    self.bytes_received += n as u64;
                    self.parse_replies(protocol, value_size, keys, now, on_reply)?;
                    if DRAINED_BY_SHORT_READ && n < space {
                        return Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Failure::Io(e)),
            }
        }
    }

    /// Parses every complete reply in the read buffer.
    fn parse_replies(
        &mut self,
        protocol: super::config::Protocol,
        value_size: usize,
        keys: &KeyFormat,
        now: Instant,
        on_reply: &mut dyn FnMut(Pending, Reply, Instant),
    ) -> Result<(), Failure> {
        while self.read_start < self.read_end {
            let Some(&request) = self.pending.front() else {
                return Err(Failure::Unsolicited);
            };
            self.key_scratch.clear();
            keys.append(request.key, &mut self.key_scratch);
            let expect = Expect {
                protocol,
                op: request.op,
                key: &self.key_scratch,
                value_size,
            };
            let input = &self.read_buf[self.read_start..self.read_end];
            match reply::parse(input, &expect).map_err(Failure::Desync)? {
                None => break,
                Some((reply, used)) => {
                    self.read_start += used;
                    self.pending.pop_front();
                    on_reply(request, reply, now);
                }
            }
        }
        if self.read_start == self.read_end {
            self.read_start = 0;
            self.read_end = 0;
        }
        Ok(())
    }

    /// Ensures at least [`READ_CHUNK`] free bytes after the unparsed data.
    fn make_room(&mut self) {
        if self.read_buf.len() - self.read_end >= READ_CHUNK {
            return;
        }
        if self.read_start > 0 {
            self.read_buf.copy_within(self.read_start..self.read_end, 0);
            self.read_end -= self.read_start;
            self.read_start = 0;
        }
        let needed = self.read_end + READ_CHUNK;
        if self.read_buf.len() < needed {
            self.read_buf.resize(needed.next_power_of_two(), 0);
        }
    }
}
