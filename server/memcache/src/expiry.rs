//! Expiration times: what an `exptime` (or `T`/`N` flag, or `flush_all` delay) means.
//!
//! 0 means never. Up to 30 days (2592000 seconds) it counts from now; above that it is an
//! absolute unix time, and one not in the future is already past. A negative value expires
//! the item at once.

/// The largest `exptime` read as relative to now: 30 days in seconds.
pub const RELATIVE_EXPTIME_MAX: i64 = 60 * 60 * 24 * 30;

/// When an item expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// Never (it may still be evicted).
    Never,
    /// At this unix time: the item is gone once `now >= deadline`.
    At(u64),
    /// Already: a negative `exptime` or an absolute time not in the future. memcached still
    /// stores (or touches) the item, which no read will ever see.
    Expired,
}

impl Expiry {
    /// Whether an item with this expiry is gone at `now_unix`.
    pub fn is_expired(self, now_unix: u64) -> bool {
        match self {
            Expiry::Never => false,
            Expiry::At(deadline) => now_unix >= deadline,
            Expiry::Expired => true,
        }
    }

    /// The seconds left, as meta commands' `t` flag and `me`'s `exp` report them: `-1` for
    /// never, 0 once expired.
    pub fn ttl_secs(self, now_unix: u64) -> i64 {
        match self {
            Expiry::Never => -1,
            Expiry::At(deadline) => {
                i64::try_from(deadline.saturating_sub(now_unix)).unwrap_or(i64::MAX)
            }
            Expiry::Expired => 0,
        }
    }
}

/// What an `exptime` sent at `now_unix` means.
pub fn expiry_to_deadline(exptime: i64, now_unix: u64) -> Expiry {
    match exptime {
        0 => Expiry::Never,
        e if e < 0 => Expiry::Expired,
        e if e <= RELATIVE_EXPTIME_MAX => Expiry::At(now_unix.saturating_add(e.unsigned_abs())),
        e if e.unsigned_abs() <= now_unix => Expiry::Expired,
        e => Expiry::At(e.unsigned_abs()),
    }
}

/// When a `flush_all` with this delay, sent at `now_unix`, takes effect: items stored before
/// that time are invalid from then on. A delay of 0, a negative one, or an absolute time not in
/// the future means now.
pub fn flush_all_deadline(delay: i64, now_unix: u64) -> u64 {
    if delay <= 0 {
        return now_unix;
    }
    match expiry_to_deadline(delay, now_unix) {
        Expiry::At(deadline) => deadline,
        Expiry::Never | Expiry::Expired => now_unix,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000;

    #[test]
    fn exptime_rules() {
        assert_eq!(expiry_to_deadline(0, NOW), Expiry::Never);
        assert_eq!(expiry_to_deadline(-1, NOW), Expiry::Expired);
        assert_eq!(
            expiry_to_deadline(i64::from(i32::MIN), NOW),
            Expiry::Expired
        );
        assert_eq!(expiry_to_deadline(1, NOW), Expiry::At(NOW + 1));
        assert_eq!(
            expiry_to_deadline(2_592_000, NOW),
            Expiry::At(NOW + 2_592_000)
        );
        assert_eq!(expiry_to_deadline(2_592_001, NOW), Expiry::Expired);
        assert_eq!(expiry_to_deadline(NOW as i64, NOW), Expiry::Expired);
        assert_eq!(expiry_to_deadline(NOW as i64 + 5, NOW), Expiry::At(NOW + 5));
    }

    #[test]
    fn expiry_queries() {
        assert!(!Expiry::Never.is_expired(NOW));
        assert!(Expiry::Expired.is_expired(0));
        assert!(!Expiry::At(NOW + 1).is_expired(NOW));
        assert!(Expiry::At(NOW + 1).is_expired(NOW + 1));
        assert_eq!(Expiry::Never.ttl_secs(NOW), -1);
        assert_eq!(Expiry::At(NOW + 30).ttl_secs(NOW), 30);
        assert_eq!(Expiry::At(NOW).ttl_secs(NOW + 5), 0);
    }

    #[test]
    fn flush_delays() {
        assert_eq!(flush_all_deadline(0, NOW), NOW);
        assert_eq!(flush_all_deadline(-1, NOW), NOW);
        assert_eq!(flush_all_deadline(10, NOW), NOW + 10);
        assert_eq!(flush_all_deadline(5, NOW), NOW + 5);
        assert_eq!(flush_all_deadline(2_592_001, NOW), NOW);
        assert_eq!(flush_all_deadline(NOW as i64 + 60, NOW), NOW + 60);
    }
}
