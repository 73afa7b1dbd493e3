//! The final report: what was measured, as a plain text table or one JSON object.

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::config::{Config, Stop};
use super::stats::{Latency, Stats};

/// Latency percentiles of one kind of request, in microseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencySummary {
    /// Requests measured.
    pub count: u64,
    /// Mean latency.
    pub mean_us: f64,
    /// Median latency.
    pub p50_us: f64,
    /// 90th percentile.
    pub p90_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// 99.9th percentile.
    pub p999_us: f64,
    /// Largest latency.
    pub max_us: f64,
}

impl LatencySummary {
    pub(crate) fn of(latency: &Latency) -> Self {
        Self {
            count: latency.count(),
            mean_us: latency.mean_us(),
            p50_us: latency.quantile_us(0.5),
            p90_us: latency.quantile_us(0.9),
            p99_us: latency.quantile_us(0.99),
            p999_us: latency.quantile_us(0.999),
            max_us: latency.max_us(),
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "count": self.count,
            "mean": round3(self.mean_us),
            "p50": self.p50_us,
            "p90": self.p90_us,
            "p99": self.p99_us,
            "p99_9": self.p999_us,
            "max": self.max_us,
        })
    }
}

/// What the warm-up fill did.
#[derive(Debug, Clone, PartialEq)]
pub struct FillReport {
    /// Keys set successfully.
    pub keys: u64,
    /// Time the fill took.
    pub seconds: f64,
    /// Sets that failed or were lost.
    pub errors: u64,
}

/// Everything a run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// The configuration that ran.
    pub config: Config,
    /// The warm-up fill, if there was one.
    pub fill: Option<FillReport>,
    /// Length of the measured phase: from its start to the last reply.
    pub seconds: f64,
    /// Requests that got a reply.
    pub ops: u64,
    /// `ops / seconds`.
    pub ops_per_sec: f64,
    /// Gets that got a reply.
    pub gets: u64,
    /// Sets that got a reply.
    pub sets: u64,
    /// Gets that found their key.
    pub hits: u64,
    /// Gets that did not.
    pub misses: u64,
    /// Error replies and replies that were not what the request expected.
    pub errors: u64,
    /// Requests that never got a reply because their connection failed.
    pub lost: u64,
    /// Connections that failed during the fill or the measured phase.
    pub connection_failures: u64,
    /// Request bytes written while measuring.
    pub bytes_sent: u64,
    /// Reply bytes read while measuring.
    pub bytes_received: u64,
    /// Latency of gets.
    pub get: LatencySummary,
    /// Latency of sets.
    pub set: LatencySummary,
    /// Latency of every request.
    pub all: LatencySummary,
    /// Error and failure messages with their counts, most frequent first.
    pub error_messages: Vec<(String, u64)>,
}

impl Report {
    /// A report of the measured `stats` over `seconds`, after `fill`.
    pub(crate) fn new(
        config: Config,
        fill: Option<(&Stats, f64)>,
        stats: &Stats,
        seconds: f64,
    ) -> Self {
        let mut all = stats.get.clone();
        all.merge(&stats.set);
        let mut error_messages: Vec<(String, u64)> = Vec::new();
        let mut connection_failures = stats.connection_failures;
        let fill = fill.map(|(fill, fill_seconds)| {
            connection_failures += fill.connection_failures;
            let fill_messages = fill.error_log.entries().into_iter();
            error_messages.extend(fill_messages.map(|(m, n)| (format!("fill: {m}"), n)));
            FillReport {
                keys: fill.stored,
                seconds: fill_seconds,
                errors: fill.errors + fill.lost,
            }
        });
        error_messages.extend(stats.error_log.entries());
        let ops = stats.ops();
        Self {
            fill,
            seconds,
            ops,
            ops_per_sec: if seconds > 0.0 {
                ops as f64 / seconds
            } else {
                0.0
            },
            gets: stats.get.count(),
            sets: stats.set.count(),
            hits: stats.hits,
            misses: stats.misses,
            errors: stats.errors,
            lost: stats.lost,
            connection_failures,
            bytes_sent: stats.bytes_sent,
            bytes_received: stats.bytes_received,
            get: LatencySummary::of(&stats.get),
            set: LatencySummary::of(&stats.set),
            all: LatencySummary::of(&all),
            error_messages,
            config,
        }
    }

    /// Hits over gets that hit or missed; `None` without such gets.
    pub fn hit_ratio(&self) -> Option<f64> {
        let answered = self.hits + self.misses;
        (answered > 0).then(|| self.hits as f64 / answered as f64)
    }

    /// Whether every request, fill included, succeeded and every connection lasted.
    pub fn is_clean(&self) -> bool {
        let fill_errors = self.fill.as_ref().map_or(0, |f| f.errors);
        self.errors == 0 && self.lost == 0 && self.connection_failures == 0 && fill_errors == 0
    }

    /// The report as one JSON object.
    pub fn to_json(&self) -> Value {
        let c = &self.config;
        let stop = match c.stop {
            Stop::After(duration) => json!({ "seconds": duration.as_secs_f64() }),
            Stop::Requests(n) => json!({ "requests": n }),
        };
        let errors: Vec<Value> = self
            .error_messages
            .iter()
            .map(|(message, count)| json!({ "message": message, "count": count }))
            .collect();
        json!({
            "target": c.target(),
            "protocol": c.protocol.name(),
            "threads": c.threads,
            "connections": c.connections,
            "pipeline": c.pipeline,
            "rate": c.rate,
            "ratio": c.ratio.to_string(),
            "keys": c.keys,
            "key_size": c.key_size,
            "value_size": c.value_size,
            "distribution": c.distribution.to_string(),
            "seed": c.seed,
            "stop": stop,
            "fill": self.fill.as_ref().map(|f| json!({
                "keys": f.keys, "seconds": round3(f.seconds), "errors": f.errors,
            })),
            "seconds": round3(self.seconds),
            "ops": self.ops,
            "ops_per_sec": round3(self.ops_per_sec),
            "gets": self.gets,
            "sets": self.sets,
            "hits": self.hits,
            "misses": self.misses,
            "hit_ratio": self.hit_ratio(),
            "errors": self.errors,
            "lost": self.lost,
            "connection_failures": self.connection_failures,
            "bytes_sent": self.bytes_sent,
            "bytes_received": self.bytes_received,
            "latency_us": {
                "get": self.get.to_json(),
                "set": self.set.to_json(),
                "all": self.all.to_json(),
            },
            "error_messages": errors,
        })
    }

    /// The report as a plain text table.
    pub fn to_text(&self) -> String {
        let c = &self.config;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "target   {} ({} protocol)",
            c.target(),
            c.protocol.name()
        );
        let _ = write!(
            out,
            "load     {} connections on {} threads, pipeline {}, get:set {}",
            c.connections, c.threads, c.pipeline, c.ratio
        );
        match c.rate {
            Some(rate) => {
                let _ = writeln!(out, ", open loop at {rate} requests/s");
            }
            None => out.push('\n'),
        }
        let _ = writeln!(
            out,
            "keys     {} keys of {} bytes, {}, values of {} bytes, seed {}",
            c.keys, c.key_size, c.distribution, c.value_size, c.seed
        );
        if let Some(fill) = &self.fill {
            let _ = writeln!(
                out,
                "fill     {} keys set in {:.2} s, {} errors",
                fill.keys, fill.seconds, fill.errors
            );
        }
        let _ = writeln!(
            out,
            "run      {} ops in {:.2} s: {:.0} ops/s\n",
            self.ops, self.seconds, self.ops_per_sec
        );
        let _ = writeln!(
            out,
            "{:<4} {:>11} {:>11} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "op", "ops", "ops/s", "mean us", "p50 us", "p90 us", "p99 us", "p99.9 us", "max us"
        );
        for (name, latency) in [("get", &self.get), ("set", &self.set), ("all", &self.all)] {
            let rate = if self.seconds > 0.0 {
                latency.count as f64 / self.seconds
            } else {
                0.0
            };
            let _ = writeln!(
                out,
                "{name:<4} {:>11} {rate:>11.0} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
                latency.count,
                latency.mean_us,
                latency.p50_us,
                latency.p90_us,
                latency.p99_us,
                latency.p999_us,
                latency.max_us
            );
        }
        let ratio = self
            .hit_ratio()
            .map_or("-".to_owned(), |r| format!("{:.2}%", r * 100.0));
        let _ = writeln!(
            out,
            "\nhits     {} hits, {} misses, hit ratio {ratio}",
            self.hits, self.misses
        );
        let _ = writeln!(
            out,
            "errors   {} errors, {} requests lost, {} connection failures",
            self.errors, self.lost, self.connection_failures
        );
        for (message, count) in &self.error_messages {
            let _ = writeln!(out, "         {count:>8} x {message}");
        }
        let _ = writeln!(
            out,
            "traffic  {:.1} MB sent, {:.1} MB received",
            self.bytes_sent as f64 / 1e6,
            self.bytes_received as f64 / 1e6
        );
        out
    }
}

/// `value` rounded to three decimals, for JSON that reads well.
fn round3(value: f64) -> f64 {
    (value * 1_000.0).round() / 1_000.0
}
