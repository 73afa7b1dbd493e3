//! `ppdb server`: the network runtime that serves the memcached protocol over TCP.
//!
//! ```text
//!                 SIGTERM/SIGINT ──┐      ┌── waker (a client's `shutdown`)
//!                                  v      v
//!   listener ──accept──> acceptor thread (mio Poll, 1 s timer: Store::tick, verbosity)
//!                          │ round-robin: channel + mio::Waker
//!          ┌───────────────┼────────────────┐
//!          v               v                v
//!      worker 1        worker 2   ...   worker t        (mio Poll each, edge-triggered)
//!      Connection*     Connection*      Connection*     (input/output buffers, Parser)
//!          │ Executor::execute(request) -> reply bytes, Action
//!          v
//!        Store (shared, sharded)          Shared: Settings, counters, verbosity, stopping
//! ```
//!
//! - [`config`]: flags, `PPDB_*` environment variables and the TOML file, merged.
//! - `acceptor`: accepts, enforces `-c`, runs the timer, starts the stop.
//! - `worker`: a thread's event loop over its connections.
//! - `connection`: one connection's state machine and bounded buffers.
//! - `signals`, [`logging`]: stop signals; the log subscriber and its live level.
//!
//! Stopping (SIGTERM, SIGINT, or `shutdown` when `-A` allows it): the acceptor closes the
//! listener, then every worker stops reading, executes the requests it had already read,
//! writes their replies and closes its connections; the process exits 0 once all workers are
//! done. `docs/server.md` tells the whole story.

mod acceptor;
pub mod config;
mod connection;
pub mod logging;
mod signals;
mod worker;

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use mio::net::TcpListener;
use mio::{Interest, Poll, Waker};
use tracing::{info, warn};

pub use acceptor::TOO_MANY_CONNECTIONS;
pub use config::{ConfigError, DiskSettings, Durability, Recovery, ServerArgs, ServerConfig};
pub use connection::{INPUT_BYTES_INITIAL, OUTPUT_BYTES_KEPT};
pub use worker::DRAIN_TIMEOUT;

use crate::shared::{Settings, Shared};
use crate::store::Store;
use acceptor::Acceptor;
use logging::LogControl;
use signals::Signals;

/// Exit code for invalid options.
pub const EXIT_USAGE: u8 = 2;
/// Exit code when the server cannot start or fails while running.
pub const EXIT_FAILURE: u8 = 1;

pub use crate::store::unix_now;

/// `ppdb server`: resolves the configuration, starts logging, binds, and serves until stopped.
pub fn main(args: &ServerArgs) -> ExitCode {
    let config = match ServerConfig::from_process(args) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("ppdb server: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let log = logging::init(config.verbosity);
    for flag in &config.ignored_flags {
        warn!(
            flag = flag.as_str(),
            "ignoring a memcached option PPDB has no use for"
        );
    }
    // Held until the process ends: no other process opens the directory meanwhile.
    let mut _dir_lock = None;
    let store = match &config.disk {
        None => match Store::new(config.store_config()) {
            Ok(store) => Arc::new(store),
            Err(e) => {
                eprintln!("ppdb server: cannot create the store: {e}");
                return ExitCode::from(EXIT_USAGE);
            }
        },
        Some(disk) => {
            match crate::cli::lock::DirLock::acquire(&disk.dir) {
                Ok(lock) => _dir_lock = Some(lock),
                Err(e) => {
                    eprintln!("ppdb server: cannot lock {}: {e}", disk.dir.display());
                    return ExitCode::from(EXIT_FAILURE);
                }
            }
            match open_disk_store(&config, disk) {
                Ok(store) => Arc::new(store),
                Err(e) => {
                    eprintln!("ppdb server: cannot open {}: {e}", disk.dir.display());
                    return ExitCode::from(EXIT_FAILURE);
                }
            }
        }
    };
    let mut server = match Server::bind(config.settings.clone(), store) {
        Ok(server) => server,
        Err(e) => {
            let s = &config.settings;
            eprintln!("ppdb server: cannot listen on {}:{}: {e}", s.listen, s.port);
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    server
        .shared
        .verbosity
        .store(config.verbosity, Ordering::Relaxed);
    if let Some(log) = log {
        server.set_log_control(log);
    }
    if let Err(e) = server.handle_signals() {
        eprintln!("ppdb server: cannot watch signals: {e}");
        return ExitCode::from(EXIT_FAILURE);
    }
    let settings = &server.shared.settings;
    // Free blocks the allocator may keep for reuse: a sixteenth of the memory limit, within the
    // slack the limit leaves for everything that is not items (docs/performance.md).
    let memory = usize::try_from(settings.memory_bytes_max).unwrap_or(usize::MAX);
    crate::alloc::set_budget((memory / 16).clamp(1 << 20, 256 << 20));
    info!(
        threads = settings.threads,
        memory_mib = settings.memory_bytes_max >> 20,
        conn_limit = settings.connections_max,
        item_size_max = settings.item_size_max,
        "listening on {}",
        server.local_addr()
    );
    match server.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ppdb server: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// Opens the data directory (disk mode) and logs what recovery did.
fn open_disk_store(config: &ServerConfig, disk: &DiskSettings) -> Result<Store, ppdb_core::Error> {
    let options = ppdb_core::DiskOptions {
        durability: match disk.durability {
            // The workers sync once per round of requests, for all their connections.
            Durability::Sync => ppdb_core::Durability::SyncByCaller,
            Durability::Periodic(ms) => ppdb_core::Durability::Periodic { ms },
            Durability::None => ppdb_core::Durability::None,
        },
        recovery: match disk.recovery {
            Recovery::Strict => ppdb_core::RecoveryMode::Strict,
            Recovery::SkipCorrupt => ppdb_core::RecoveryMode::SkipCorrupt,
        },
    };
    let (store, info) = Store::open_dir(config.store_config(), &disk.dir, options)?;
    let secs = info.elapsed.as_secs_f64();
    let mb_per_sec = if secs > 0.0 {
        info.record_bytes as f64 / 1e6 / secs
    } else {
        0.0
    };
    let (first, last) = info.seq_range.unwrap_or((0, 0));
    info!(
        dir = %disk.dir.display(),
        created = info.created,
        segments = info.segments,
        records = info.records,
        bytes = info.record_bytes,
        seq_first = first,
        seq_last = last,
        seconds = secs,
        mb_per_sec,
        durability = ?disk.durability,
        "recovered the data directory"
    );
    if let Some((segment, offset, bytes)) = info.torn_tail {
        warn!(
            segment,
            offset, bytes, "cut a torn tail off the write-ahead log (writes never acknowledged)"
        );
    }
    if info.skipped_regions > 0 {
        warn!(
            regions = info.skipped_regions,
            bytes = info.skipped_bytes,
            "skipped corrupt regions of the write-ahead log (--recovery skip-corrupt)"
        );
    }
    Ok(store)
}

/// A bound server, ready to [`run`](Server::run).
pub struct Server {
    shared: Arc<Shared>,
    poll: Poll,
    listener: TcpListener,
    local_addr: SocketAddr,
    waker: Arc<Waker>,
    signals: Option<Signals>,
    log: Option<LogControl>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .field("settings", &self.shared.settings)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Binds `settings.listen`:`settings.port` (port 0: any free port) with `SO_REUSEADDR`
    /// (on Unix) and prepares the acceptor's poll.
    pub fn bind(settings: Settings, store: Arc<Store>) -> io::Result<Server> {
        let target = (settings.listen.as_str(), settings.port);
        let addr = target.to_socket_addrs()?.next().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "the address resolves to nothing",
            )
        })?;
        // mio sets SO_REUSEADDR on Unix (and not on Windows, where it would allow stealing
        // the port), so a restarted server binds despite connections in TIME_WAIT.
        let mut listener = TcpListener::bind(addr)?;
        let local_addr = listener.local_addr()?;
        let poll = Poll::new()?;
        poll.registry()
            .register(&mut listener, acceptor::LISTENER, Interest::READABLE)?;
        let waker = Arc::new(Waker::new(poll.registry(), acceptor::WAKER)?);
        let shared = Arc::new(Shared::new(settings, store, unix_now()));
        Ok(Server {
            shared,
            poll,
            listener,
            local_addr,
            waker,
            signals: None,
            log: None,
        })
    }

    /// The address the server listens on (with the port picked when asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The state the server's threads share.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// A handle that stops the server from another thread.
    pub fn stopper(&self) -> Stopper {
        Stopper {
            shared: self.shared.clone(),
            waker: self.waker.clone(),
        }
    }

    /// Lets the `verbosity` command change the log level.
    pub fn set_log_control(&mut self, log: LogControl) {
        self.log = Some(log);
    }

    /// Stops the server on SIGTERM or SIGINT (process-wide: for the binary, not for tests).
    pub fn handle_signals(&mut self) -> io::Result<()> {
        self.signals = Some(Signals::new(self.poll.registry(), acceptor::SIGNALS)?);
        Ok(())
    }

    /// Starts the workers and serves on the calling thread until the server is stopped.
    pub fn run(self) -> io::Result<()> {
        let mut workers = Vec::with_capacity(self.shared.settings.threads);
        for index in 0..self.shared.settings.threads {
            match worker::spawn(index, self.shared.clone(), self.waker.clone()) {
                Ok(worker) => workers.push(worker),
                Err(e) => {
                    self.shared.stopping.store(true, Ordering::SeqCst);
                    for worker in workers {
                        worker.wake();
                        worker.join();
                    }
                    return Err(e);
                }
            }
        }
        let verbosity_applied = self.shared.verbosity.load(Ordering::Relaxed);
        Acceptor {
            poll: self.poll,
            listener: Some(self.listener),
            signals: self.signals,
            workers,
            shared: self.shared,
            log: self.log,
            next_worker: 0,
            accept_paused_until: None,
            verbosity_applied,
        }
        .run()
    }
}

/// Stops a running [`Server`] as SIGTERM would.
#[derive(Debug, Clone)]
pub struct Stopper {
    shared: Arc<Shared>,
    waker: Arc<Waker>,
}

impl Stopper {
    /// Asks the server to stop; [`Server::run`] returns once every connection is done.
    pub fn stop(&self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        let _ = self.waker.wake();
    }
}

#[cfg(test)]
mod tests;
