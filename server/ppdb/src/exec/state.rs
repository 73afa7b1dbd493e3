//! [`ExecState`]: what the executor keeps across requests and connections (the LRU crawler
//! switches, per-prefix statistics, the counters `stats reset` rebases).

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;

use super::detail::PrefixStats;

/// memcached's default `lru_crawler sleep`, in microseconds.
const CRAWLER_SLEEP_US_DEFAULT: u32 = 100;

/// Server-wide executor state, one per server (a field of [`Shared`](crate::shared::Shared)).
#[derive(Debug)]
pub struct ExecState {
    /// `lru_crawler enable|disable`.
    crawler_enabled: AtomicBool,
    /// `lru_crawler sleep <us>`, reported by `stats settings`.
    crawler_sleep_us: AtomicU32,
    /// `lru_crawler tocrawl <n>`, reported by `stats settings`.
    crawler_tocrawl: AtomicU32,
    /// `stats detail`.
    pub(crate) detail: PrefixStats,
    /// Items the meta commands linked (stored, vivified): they count in `total_items` like the
    /// ones the store's own commands count.
    items_linked: AtomicU64,
    /// The store's cumulative counters at the last `stats reset`.
    reset_base: Mutex<ResetBase>,
}

/// Cumulative store counters as of the last `stats reset`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ResetBase {
    /// `total_items`.
    pub(crate) total_items: u64,
    /// `evictions`.
    pub(crate) evictions: u64,
    /// `expired_unfetched`.
    pub(crate) expired_unfetched: u64,
}

impl Default for ExecState {
    fn default() -> Self {
        ExecState {
            crawler_enabled: AtomicBool::new(true),
            crawler_sleep_us: AtomicU32::new(CRAWLER_SLEEP_US_DEFAULT),
            crawler_tocrawl: AtomicU32::new(0),
            detail: PrefixStats::default(),
            items_linked: AtomicU64::new(0),
            reset_base: Mutex::new(ResetBase::default()),
        }
    }
}

impl ExecState {
    /// Whether the LRU crawler is enabled (`lru_crawler enable`, the default).
    pub fn crawler_enabled(&self) -> bool {
        self.crawler_enabled.load(Ordering::Relaxed)
    }

    /// Switches the crawler; returns whether it was enabled before.
    pub(crate) fn set_crawler_enabled(&self, enabled: bool) -> bool {
        self.crawler_enabled.swap(enabled, Ordering::Relaxed)
    }

    /// `lru_crawler sleep` and `lru_crawler tocrawl`, as last set.
    pub(crate) fn crawler_pacing(&self) -> (u32, u32) {
        (
            self.crawler_sleep_us.load(Ordering::Relaxed),
            self.crawler_tocrawl.load(Ordering::Relaxed),
        )
    }

    /// Records `lru_crawler sleep <us>`.
    pub(crate) fn set_crawler_sleep(&self, us: u32) {
        self.crawler_sleep_us.store(us, Ordering::Relaxed);
    }

    /// Records `lru_crawler tocrawl <n>`.
    pub(crate) fn set_crawler_tocrawl(&self, items: u32) {
        self.crawler_tocrawl.store(items, Ordering::Relaxed);
    }

    /// Counts an item a meta command linked.
    pub(crate) fn count_linked(&self) {
        self.items_linked.fetch_add(1, Ordering::Relaxed);
    }

    /// Items the meta commands linked since start.
    pub(crate) fn items_linked(&self) -> u64 {
        self.items_linked.load(Ordering::Relaxed)
    }

    /// The counters as of the last `stats reset`.
    pub(crate) fn reset_base(&self) -> ResetBase {
        *self
            .reset_base
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records the counters at a `stats reset`.
    pub(crate) fn set_reset_base(&self, base: ResetBase) {
        *self
            .reset_base
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = base;
    }
}
