//! The host's clocks: monotonic time from `std::time::Instant`, wall time from `SystemTime`.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use ppdb_platform::{Clock, Instant};

/// The origin of every [`StdClock`]'s monotonic time: the first use of any of them in the
/// process. Sharing it makes the instants of different clocks comparable.
static ORIGIN: OnceLock<std::time::Instant> = OnceLock::new();

fn origin() -> std::time::Instant {
    *ORIGIN.get_or_init(std::time::Instant::now)
}

/// The host's clocks. `now` counts nanoseconds since a process-wide origin (fixed when the
/// first `StdClock` is made) and never goes backwards; `unix_time_secs` reads the wall clock,
/// which may jump.
#[derive(Debug, Clone, Copy)]
pub struct StdClock {
    origin: std::time::Instant,
}

impl StdClock {
    /// A clock on the process-wide origin.
    pub fn new() -> Self {
        StdClock { origin: origin() }
    }
}

impl Default for StdClock {
    fn default() -> Self {
        StdClock::new()
    }
}

impl Clock for StdClock {
    fn now(&self) -> Instant {
        let nanos = self.origin.elapsed().as_nanos();
        Instant::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    fn unix_time_secs(&self) -> u64 {
        // A wall clock set before 1970 reads as the epoch rather than failing.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_and_shared_origin() {
        let (a, b) = (StdClock::new(), StdClock::new());
        let t1 = a.now();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let t2 = b.now();
        assert!(t2 > t1, "{t2:?} must be after {t1:?}");
        assert!(t2.saturating_duration_since(t1).as_nanos() >= 2_000_000);
    }

    #[test]
    fn unix_time_is_recent() {
        // 2020-01-01 as a lower bound: catches a clock that counts from the wrong epoch.
        assert!(StdClock::default().unix_time_secs() > 1_577_836_800);
    }
}
