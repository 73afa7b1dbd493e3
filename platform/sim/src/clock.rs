//! [`SimClock`]: a clock that moves only when told to.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ppdb_platform::{Clock, Instant};

/// Nanoseconds per second.
const NANOS_PER_SEC: u64 = 1_000_000_000;

/// A simulated clock: monotonic and wall time that advance only on command. Clones share the
/// time (atomics inside), so the test moves the clock the engine reads.
///
/// Monotonic time starts at [`SimClock::START_MONOTONIC`] (not zero, so that a zero `Instant`
/// is always in the past), wall time at [`SimClock::START_UNIX_SECS`].
#[derive(Debug, Clone)]
pub struct SimClock {
    inner: Arc<Times>,
}

#[derive(Debug)]
struct Times {
    monotonic_nanos: AtomicU64,
    unix_nanos: AtomicU64,
}

impl SimClock {
    /// Monotonic time at the start.
    pub const START_MONOTONIC: Duration = Duration::from_secs(1);
    /// Wall time at the start: 2023-11-14T22:13:20Z.
    pub const START_UNIX_SECS: u64 = 1_700_000_000;

    /// A clock at the start times.
    pub fn new() -> Self {
        let times = Times {
            monotonic_nanos: AtomicU64::new(SimClock::START_MONOTONIC.as_secs() * NANOS_PER_SEC),
            unix_nanos: AtomicU64::new(SimClock::START_UNIX_SECS * NANOS_PER_SEC),
        };
        SimClock {
            inner: Arc::new(times),
        }
    }

    /// Moves both monotonic and wall time forward by `by` (saturating).
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        for time in [&self.inner.monotonic_nanos, &self.inner.unix_nanos] {
            // The closure never returns None, so the update cannot fail.
            let _ = time.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                Some(t.saturating_add(nanos))
            });
        }
    }

    /// Sets the wall time to `secs` since the unix epoch (a jump, forwards or backwards);
    /// monotonic time does not move.
    pub fn set_unix_time(&self, secs: u64) {
        let nanos = secs.saturating_mul(NANOS_PER_SEC);
        self.inner.unix_nanos.store(nanos, Ordering::SeqCst);
    }
}

impl Default for SimClock {
    fn default() -> Self {
        SimClock::new()
    }
}

impl Clock for SimClock {
    fn now(&self) -> Instant {
        Instant::from_nanos(self.inner.monotonic_nanos.load(Ordering::SeqCst))
    }

    fn unix_time_secs(&self) -> u64 {
        self.inner.unix_nanos.load(Ordering::SeqCst) / NANOS_PER_SEC
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_only_on_command() {
        let clock = SimClock::new();
        let shared = clock.clone();
        let t0 = clock.now();
        assert_eq!(t0.as_nanos(), 1_000_000_000);
        assert_eq!(clock.now(), t0);
        shared.advance(Duration::from_millis(1500));
        assert_eq!(
            clock.now().saturating_duration_since(t0),
            Duration::from_millis(1500)
        );
        assert_eq!(clock.unix_time_secs(), SimClock::START_UNIX_SECS + 1);
        shared.advance(Duration::from_millis(500));
        assert_eq!(clock.unix_time_secs(), SimClock::START_UNIX_SECS + 2);
    }

    #[test]
    fn wall_time_jumps_alone() {
        let clock = SimClock::default();
        let t0 = clock.now();
        clock.set_unix_time(42);
        assert_eq!((clock.unix_time_secs(), clock.now()), (42, t0));
        clock.advance(Duration::MAX);
        assert_eq!(clock.now().as_nanos(), u64::MAX);
        assert_eq!(clock.unix_time_secs(), u64::MAX / NANOS_PER_SEC);
    }
}
