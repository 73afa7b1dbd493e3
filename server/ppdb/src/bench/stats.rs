//! Counters and latency histograms of one worker, and their merge into the run's totals.
//!
//! Latencies are recorded in nanoseconds into HdrHistograms with three significant digits (a
//! recorded value is within 0.1% of the true one) from 1 ns to one hour; longer waits saturate
//! at the top, and the reply timeout ends them long before that anyway.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::request::Op;

/// Highest latency a histogram tracks, in nanoseconds (one hour).
const LATENCY_NS_MAX: u64 = 3_600_000_000_000;
/// Significant decimal digits of every recorded latency.
const LATENCY_DIGITS: u8 = 3;
/// Distinct error messages kept with their counts; later ones are counted as "other".
const ERROR_KINDS_MAX: usize = 16;

/// A latency histogram in nanoseconds.
#[derive(Debug, Clone)]
pub(crate) struct Latency {
    histogram: Histogram<u64>,
}

impl Latency {
    /// An empty histogram.
    pub(crate) fn new() -> Self {
        let histogram = Histogram::new_with_bounds(1, LATENCY_NS_MAX, LATENCY_DIGITS)
            .expect("constant histogram bounds are valid");
        Self { histogram }
    }

    /// Records one latency.
    pub(crate) fn record(&mut self, latency: Duration) {
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX).max(1);
        self.histogram.saturating_record(nanos);
    }

    /// Adds every value of `other`.
    pub(crate) fn merge(&mut self, other: &Latency) {
        self.histogram
            .add(&other.histogram)
            .expect("histograms with the same bounds add");
    }

    /// Forgets every value.
    pub(crate) fn clear(&mut self) {
        self.histogram.reset();
    }

    /// Number of recorded values.
    pub(crate) fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// The value at `quantile` (0 to 1) in microseconds, 0 if empty.
    pub(crate) fn quantile_us(&self, quantile: f64) -> f64 {
        self.histogram.value_at_quantile(quantile) as f64 / 1_000.0
    }

    /// The largest value in microseconds, 0 if empty.
    pub(crate) fn max_us(&self) -> f64 {
        self.histogram.max() as f64 / 1_000.0
    }

    /// The mean in microseconds, 0 if empty.
    pub(crate) fn mean_us(&self) -> f64 {
        self.histogram.mean() / 1_000.0
    }
}

/// Error messages and how often each was seen, bounded in size.
#[derive(Debug, Clone, Default)]
pub(crate) struct ErrorLog {
    counts: BTreeMap<String, u64>,
    other: u64,
}

impl ErrorLog {
    /// Counts `count` occurrences of `message`.
    pub(crate) fn add(&mut self, message: &str, count: u64) {
        if let Some(n) = self.counts.get_mut(message) {
            *n += count;
        } else if self.counts.len() < ERROR_KINDS_MAX {
            self.counts.insert(message.to_owned(), count);
        } else {
            self.other += count;
        }
    }

    /// Adds every message of `other`.
    pub(crate) fn merge(&mut self, other: &ErrorLog) {
        for (message, &count) in &other.counts {
            self.add(message, count);
        }
        self.other += other.other;
    }

    /// The messages, most frequent first, with the overflow as "other errors" at the end.
    pub(crate) fn entries(&self) -> Vec<(String, u64)> {
        let mut entries: Vec<(String, u64)> =
            self.counts.iter().map(|(m, &n)| (m.clone(), n)).collect();
        entries.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        if self.other > 0 {
            entries.push(("other errors".to_owned(), self.other));
        }
        entries
    }
}

/// What one worker measured in one phase.
#[derive(Debug, Clone)]
pub(crate) struct Stats {
    /// Latency of every completed get.
    pub(crate) get: Latency,
    /// Latency of every completed set.
    pub(crate) set: Latency,
    /// Gets that found their key.
    pub(crate) hits: u64,
    /// Gets that did not.
    pub(crate) misses: u64,
    /// Sets that were stored.
    pub(crate) stored: u64,
    /// Replies that were errors or not what the request expected (each one also completed).
    pub(crate) errors: u64,
    /// Requests that never got a reply because their connection failed.
    pub(crate) lost: u64,
    /// Connections that failed (refused, reset, closed, timed out, or unparseable replies).
    pub(crate) connection_failures: u64,
    /// Messages of the errors and failures.
    pub(crate) error_log: ErrorLog,
    /// Request bytes written.
    pub(crate) bytes_sent: u64,
    /// Reply bytes read.
    pub(crate) bytes_received: u64,
}

impl Stats {
    /// Empty statistics.
    pub(crate) fn new() -> Self {
        Self {
            get: Latency::new(),
            set: Latency::new(),
            hits: 0,
            misses: 0,
            stored: 0,
            errors: 0,
            lost: 0,
            connection_failures: 0,
            error_log: ErrorLog::default(),
            bytes_sent: 0,
            bytes_received: 0,
        }
    }

    /// The histogram of `op`.
    pub(crate) fn latency_mut(&mut self, op: Op) -> &mut Latency {
        match op {
            Op::Get => &mut self.get,
            Op::Set => &mut self.set,
        }
    }

    /// Counts an error reply or a failure with its message.
    pub(crate) fn error(&mut self, message: &str) {
        self.errors += 1;
        self.error_log.add(message, 1);
    }

    /// Counts a failed connection and the requests it lost.
    pub(crate) fn connection_failed(&mut self, message: &str, lost: u64) {
        self.connection_failures += 1;
        self.lost += lost;
        self.error_log.add(message, 1);
    }

    /// Completed requests: every request that got a reply.
    pub(crate) fn ops(&self) -> u64 {
        self.get.count() + self.set.count()
    }

    /// Adds everything `other` counted.
    pub(crate) fn merge(&mut self, other: &Stats) {
        self.get.merge(&other.get);
        self.set.merge(&other.set);
        self.hits += other.hits;
        self.misses += other.misses;
        self.stored += other.stored;
        self.errors += other.errors;
        self.lost += other.lost;
        self.connection_failures += other.connection_failures;
        self.error_log.merge(&other.error_log);
        self.bytes_sent += other.bytes_sent;
        self.bytes_received += other.bytes_received;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_quantiles_in_microseconds() {
        let mut latency = Latency::new();
        for us in 1..=100u64 {
            latency.record(Duration::from_micros(us));
        }
        latency.record(Duration::ZERO);
        assert_eq!(latency.count(), 101);
        assert!((latency.quantile_us(0.5) - 50.0).abs() < 0.1);
        assert!((latency.max_us() - 100.0).abs() < 0.1);
        let mut other = Latency::new();
        other.record(Duration::from_secs(7200));
        latency.merge(&other);
        assert!(latency.max_us() >= 3.5e9);
        latency.clear();
        assert_eq!(latency.count(), 0);
    }

    #[test]
    fn error_log_is_bounded() {
        let mut log = ErrorLog::default();
        for i in 0..20 {
            log.add(&format!("error {i}"), 1);
        }
        log.add("error 3", 5);
        let entries = log.entries();
        assert_eq!(entries[0], ("error 3".to_owned(), 6));
        assert_eq!(entries.len(), ERROR_KINDS_MAX + 1);
        assert_eq!(entries.last(), Some(&("other errors".to_owned(), 4)));
    }
}
