//! Time: a monotonic [`Instant`] and the [`Clock`] trait.
//!
//! The engine never reads a clock; it takes `now` as a value. The runtime (server, embedded
//! `Db` wrapper, simulator) reads a `Clock` and passes the value in.

use core::time::Duration;

/// A point on a monotonic clock, in nanoseconds since an arbitrary origin of that clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant {
    nanos: u64,
}

impl Instant {
    /// The instant `nanos` nanoseconds after the clock's origin.
    pub const fn from_nanos(nanos: u64) -> Self {
        Instant { nanos }
    }

    /// Nanoseconds since the clock's origin.
    pub const fn as_nanos(self) -> u64 {
        self.nanos
    }

    /// The time elapsed from `earlier` to `self`, zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.nanos.saturating_sub(earlier.nanos))
    }

    /// `self + d`, saturating at the end of time.
    pub fn saturating_add(self, d: Duration) -> Instant {
        let add = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Instant {
            nanos: self.nanos.saturating_add(add),
        }
    }
}

/// A source of time.
pub trait Clock: Send + Sync {
    /// Monotonic time: never goes backwards.
    fn now(&self) -> Instant;

    /// Wall-clock time as seconds since the unix epoch (may jump).
    fn unix_time_secs(&self) -> u64;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instant_arithmetic() {
        let a = Instant::from_nanos(5);
        let b = a.saturating_add(Duration::from_nanos(10));
        assert_eq!(b.as_nanos(), 15);
        assert_eq!(b.saturating_duration_since(a), Duration::from_nanos(10));
        assert_eq!(a.saturating_duration_since(b), Duration::ZERO);
        assert_eq!(b.saturating_add(Duration::MAX).as_nanos(), u64::MAX);
    }
}
