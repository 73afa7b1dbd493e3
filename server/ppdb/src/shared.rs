//! The state the server's threads share, and the contract between the network runtime
//! (`server`) and the command executor (`exec`).
//!
//! ```text
//!   acceptor ──> worker 1..=t (mio Poll each) ──> Connection ──Request──> Executor ──> Store
//!                     |                               |  reply bytes <───────┘
//!                     └── WorkerCounters (one writer) └── ConnContext (per connection)
//!   Shared: Settings (read-only), GlobalCounters, all WorkerCounters (summed by `stats`)
//! ```
//!
//! Counters that every command bumps live in the worker's own [`WorkerCounters`] (one writer,
//! relaxed atomics, no cache-line ping-pong); `stats` sums them over all workers.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use crate::store::Store;

/// The settings `stats settings` reports, fixed at start-up (except verbosity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// TCP port (`-p`).
    pub port: u16,
    /// Listen address (`-l`).
    pub listen: String,
    /// Memory limit in bytes (`-m`, given in MiB).
    pub memory_bytes_max: u64,
    /// Refuse writes instead of evicting at the limit (`-M`).
    pub evictions_disabled: bool,
    /// Maximum simultaneous connections (`-c`).
    pub connections_max: usize,
    /// Worker threads (`-t`).
    pub threads: usize,
    /// Maximum item size in bytes (`-I`): key + value + item header.
    pub item_size_max: usize,
    /// Whether `shutdown` is allowed (`-A`).
    pub shutdown_enabled: bool,
    /// Close connections idle for this many seconds (0: never).
    pub idle_timeout_secs: u64,
    /// Requests a connection executes before its worker turns to the others (`-R`, default
    /// 20 as memcached's). Without such a budget, a client that keeps its pipeline full of large
    /// sets kept its worker for up to 16 reads while the worker's other connections waited;
    /// with it the 4 KiB set-heavy row's p99 fell by 10-15% (`docs/performance.md`, "Requests
    /// per turn").
    pub requests_per_event: usize,
    /// The byte cap of a connection's pending output before it stops reading requests.
    pub output_bytes_max: usize,
    /// The longest multiget (`get`/`gets`/`gat`/`gats`) line accepted.
    pub multiget_line_bytes_max: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            port: 11211,
            listen: "127.0.0.1".to_string(),
            memory_bytes_max: 64 << 20,
            evictions_disabled: false,
            connections_max: 1024,
            threads: 4,
            item_size_max: 1 << 20,
            shutdown_enabled: false,
            idle_timeout_secs: 0,
            requests_per_event: 20,
            output_bytes_max: 4 << 20,
            multiget_line_bytes_max: 1 << 20,
        }
    }
}

/// Per-worker command counters: written by one worker thread, read by `stats`.
#[derive(Debug, Default)]
pub struct WorkerCounters {
    /// `get`/`gets`/`gat`/`gats` keys and `mg` requests.
    pub cmd_get: AtomicU64,
    /// Storage commands and `ms`.
    pub cmd_set: AtomicU64,
    /// `flush_all`.
    pub cmd_flush: AtomicU64,
    /// `touch`, `gat`, `gats` and `mg` with `T`.
    pub cmd_touch: AtomicU64,
    /// Retrievals that found a live item.
    pub get_hits: AtomicU64,
    /// Retrievals that found nothing.
    pub get_misses: AtomicU64,
    /// Retrievals that found an expired item.
    pub get_expired: AtomicU64,
    /// Retrievals that found an item hidden by `flush_all`.
    pub get_flushed: AtomicU64,
    /// Deletes of present keys.
    pub delete_hits: AtomicU64,
    /// Deletes of absent keys.
    pub delete_misses: AtomicU64,
    /// `incr` on present keys.
    pub incr_hits: AtomicU64,
    /// `incr` on absent keys.
    pub incr_misses: AtomicU64,
    /// `decr` on present keys.
    pub decr_hits: AtomicU64,
    /// `decr` on absent keys.
    pub decr_misses: AtomicU64,
    /// `cas` that stored.
    pub cas_hits: AtomicU64,
    /// `cas` on absent keys.
    pub cas_misses: AtomicU64,
    /// `cas` with a stale unique.
    pub cas_badval: AtomicU64,
    /// Touches of present keys.
    pub touch_hits: AtomicU64,
    /// Touches of absent keys.
    pub touch_misses: AtomicU64,
    /// `me` requests (memcached's `cmd_meta` counts only its meta debug command).
    pub cmd_meta: AtomicU64,
    /// Storage requests refused as over the item size limit.
    pub store_too_large: AtomicU64,
    /// Storage requests refused for lack of memory (`-M`).
    pub store_no_memory: AtomicU64,
    /// Bytes read from clients.
    pub bytes_read: AtomicU64,
    /// Bytes written to clients.
    pub bytes_written: AtomicU64,
    /// Times a connection gave way to the others after `-R` requests.
    pub conn_yields: AtomicU64,
}

impl WorkerCounters {
    /// Adds `n` to a counter (one writer: a relaxed load and store would do, `fetch_add` is
    /// as cheap on x86 and correct if a counter is ever shared).
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// Connection counters shared by all threads.
#[derive(Debug, Default)]
pub struct GlobalCounters {
    /// Open client connections.
    pub curr_connections: AtomicU64,
    /// Connections accepted since start.
    pub total_connections: AtomicU64,
    /// Connections refused over `-c`.
    pub rejected_connections: AtomicU64,
    /// Times a connection stopped reading because its output queue was full.
    pub output_stalls: AtomicU64,
    /// Connections closed for sending a line over the limit.
    pub lines_too_long: AtomicU64,
}

/// What the runtime does after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Keep serving the connection.
    Continue,
    /// Flush the output, then close the connection (`quit`).
    Close,
    /// Stop the server (`shutdown`, when enabled), after flushing the output.
    Shutdown,
}

/// What the executor knows about the connection a request came on.
#[derive(Debug, Clone)]
pub struct ConnContext {
    /// A unique id.
    pub id: u64,
    /// The peer's address.
    pub peer: Option<SocketAddr>,
    /// The worker's counters.
    pub counters: Arc<WorkerCounters>,
}

/// Everything the threads share.
#[derive(Debug)]
pub struct Shared {
    /// The settings.
    pub settings: Settings,
    /// The items.
    pub store: Arc<Store>,
    /// Connection counters.
    pub global: GlobalCounters,
    /// Every worker's counters (registered at start-up).
    pub workers: Mutex<Vec<Arc<WorkerCounters>>>,
    /// The unix time the server started.
    pub started_at_unix: u64,
    /// The current verbosity (0 quiet, 1 `-v`, 2 `-vv`); `verbosity` changes it.
    pub verbosity: AtomicU8,
    /// Set when the server should stop.
    pub stopping: AtomicBool,
    /// The command executor's server-wide state (LRU crawler switches, `stats detail`, ...).
    pub exec: crate::exec::ExecState,
}

impl Shared {
    /// Shared state for a server with `settings` over `store`.
    pub fn new(settings: Settings, store: Arc<Store>, started_at_unix: u64) -> Self {
        Shared {
            settings,
            store,
            global: GlobalCounters::default(),
            workers: Mutex::new(Vec::new()),
            started_at_unix,
            verbosity: AtomicU8::new(0),
            stopping: AtomicBool::new(false),
            exec: crate::exec::ExecState::default(),
        }
    }

    /// Registers a worker's counters and returns them.
    pub fn register_worker(&self) -> Arc<WorkerCounters> {
        let counters = Arc::new(WorkerCounters::default());
        self.workers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(counters.clone());
        counters
    }

    /// Sums one counter over all workers.
    pub fn sum(&self, field: impl Fn(&WorkerCounters) -> &AtomicU64) -> u64 {
        let workers = self
            .workers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        workers
            .iter()
            .map(|w| field(w).load(Ordering::Relaxed))
            .sum()
    }
}
