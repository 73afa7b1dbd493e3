//! Command-line options and their validation into a [`Config`].
//!
//! [`BenchArgs`] is what clap parses; [`Config::from_args`] checks every value against its limit
//! (a load generator that is asked for a billion connections should say no, not try) and settles
//! the defaults that depend on each other (run length, seed, progress output).

use std::fmt;
use std::io::IsTerminal;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::ValueEnum;

use super::keys::KeyFormat;
use super::Error;

/// Most connections one run may open.
pub const CONNECTIONS_MAX: usize = 10_000;
/// Most worker threads.
pub const THREADS_MAX: usize = 256;
/// Most requests in flight on one connection.
pub const PIPELINE_MAX: usize = 4_096;
/// Longest key memcached accepts.
pub const KEY_SIZE_MAX: usize = 250;
/// Largest value, far above memcached's default item limit of 1 MiB.
pub const VALUE_SIZE_MAX: usize = 64 << 20;
/// Most request bytes in flight over all connections together.
pub const IN_FLIGHT_BYTES_MAX: u64 = 1 << 30;
/// Longest run or reply timeout, in seconds.
pub const SECONDS_MAX: f64 = 7.0 * 24.0 * 3600.0;
/// The lowest and highest `--rate`, in requests per second.
pub const RATE_MIN: f64 = 1.0;
/// See [`RATE_MIN`].
pub const RATE_MAX: f64 = 1e9;
/// Requests in flight per connection during the fill, unless `--pipeline` is deeper or the
/// in-flight byte limit is lower.
pub const FILL_PIPELINE: usize = 16;
/// Run length when neither `--duration` nor `--requests` is given.
pub const DURATION_DEFAULT: Duration = Duration::from_secs(10);

/// Options of `ppdb bench`.
#[derive(Debug, Clone, clap::Args)]
#[command(about = "Generate memcached load against a server and report throughput and latency")]
pub struct BenchArgs {
    /// Server host name or address.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Server TCP port.
    #[arg(long, default_value_t = 11211)]
    pub port: u16,
    /// Connections in total, spread evenly over the threads.
    #[arg(short = 'c', long, default_value_t = 50)]
    pub connections: usize,
    /// Worker threads, each driving its connections with one event loop.
    #[arg(short = 't', long, default_value_t = 2)]
    pub threads: usize,
    /// Requests kept in flight on each connection (with --rate: at most this many).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub pipeline: usize,
    /// Send this many requests per second in total, on a fixed schedule, instead of as fast as
    /// replies come back; latencies count from when each request was due (open loop).
    #[arg(long, value_name = "OPS")]
    pub rate: Option<f64>,
    /// Mix of operations as GET:SET weights (e.g. 90:10, 1:0 for gets only).
    #[arg(long, value_name = "GET:SET", default_value = "90:10")]
    pub ratio: Ratio,
    /// Number of distinct keys.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub keys: u64,
    /// Key length in bytes: the key index in decimal, zero-padded to this width.
    #[arg(long, value_name = "BYTES", default_value_t = 32)]
    pub key_size: usize,
    /// Value length in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 100)]
    pub value_size: usize,
    /// Key popularity: `uniform`, or `zipf[:S]` with exponent S (default 0.99).
    #[arg(long, value_name = "DIST", default_value = "uniform")]
    pub distribution: Distribution,
    /// Measure for this many seconds [default: 10 unless --requests is given].
    #[arg(long, value_name = "SECS", conflicts_with = "requests")]
    pub duration: Option<f64>,
    /// Measure this many requests in total, then stop.
    #[arg(long, value_name = "N")]
    pub requests: Option<u64>,
    /// Set every key once before measuring (the default).
    #[arg(long, overrides_with = "no_fill")]
    pub warmup_fill: bool,
    /// Skip the warm-up fill: measure against whatever the server holds.
    #[arg(long, overrides_with = "warmup_fill")]
    pub no_fill: bool,
    /// Seed of the operation and key streams [default: random, printed in the report].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Commands to send: `text` (get/set) or `meta` (mg/ms).
    #[arg(long, value_enum, default_value_t = Protocol::Text)]
    pub protocol: Protocol,
    /// Seconds to wait for a reply before giving up on the connection.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub timeout: f64,
    /// Print a progress line on stderr every second even when stderr is not a terminal.
    #[arg(long)]
    pub progress: bool,
    /// Print the final report as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// The memcached command family the load uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Protocol {
    /// Classic text commands: `get <key>` and `set <key> 0 0 <len>`.
    Text,
    /// Meta commands: `mg <key> v` and `ms <key> <len>`.
    Meta,
}

impl Protocol {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Meta => "meta",
        }
    }
}

/// Relative weights of gets and sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratio {
    /// Weight of gets.
    pub get: u32,
    /// Weight of sets.
    pub set: u32,
}

impl Ratio {
    /// The probability that a request is a get.
    pub fn get_fraction(&self) -> f64 {
        f64::from(self.get) / (f64::from(self.get) + f64::from(self.set))
    }
}

impl FromStr for Ratio {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || format!("expected GET:SET weights such as 90:10, got `{text}`");
        let (get, set) = text.split_once(':').ok_or_else(bad)?;
        let get = get.trim().parse().map_err(|_| bad())?;
        let set = set.trim().parse().map_err(|_| bad())?;
        if get == 0 && set == 0 {
            return Err("at least one of the GET:SET weights must be above zero".into());
        }
        Ok(Self { get, set })
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.get, self.set)
    }
}

/// How keys are picked for each request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Distribution {
    /// Every key equally likely.
    Uniform,
    /// Key `i` (0-based) drawn with probability proportional to `(i + 1)^-exponent`.
    Zipf {
        /// The skew exponent `s`, at least 0.
        exponent: f64,
    },
}

/// Zipf exponent used when `--distribution zipf` names none.
pub const ZIPF_EXPONENT_DEFAULT: f64 = 0.99;

impl FromStr for Distribution {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || format!("expected `uniform`, `zipf` or `zipf:S` (S >= 0), got `{text}`");
        match text.split_once(':') {
            None if text == "uniform" => Ok(Self::Uniform),
            None if text == "zipf" => Ok(Self::Zipf {
                exponent: ZIPF_EXPONENT_DEFAULT,
            }),
            Some(("zipf", exponent)) => match exponent.parse::<f64>() {
                Ok(e) if e.is_finite() && e >= 0.0 => Ok(Self::Zipf { exponent: e }),
                _ => Err(bad()),
            },
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Distribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Uniform => f.write_str("uniform"),
            Self::Zipf { exponent } => write!(f, "zipf:{exponent}"),
        }
    }
}

/// When the measured phase ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stop {
    /// After this much time; requests in flight at the deadline still complete and count.
    After(Duration),
    /// After this many requests in total, split evenly over the threads.
    Requests(u64),
}

/// A validated run configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Server host name or address as given.
    pub host: String,
    /// Server TCP port.
    pub port: u16,
    /// Connections in total.
    pub connections: usize,
    /// Worker threads (never more than connections).
    pub threads: usize,
    /// Requests in flight per connection (at most, with a rate).
    pub pipeline: usize,
    /// Requests per second in total on a fixed schedule (open loop), or `None` to send as fast
    /// as replies come back (closed loop).
    pub rate: Option<f64>,
    /// Get and set weights.
    pub ratio: Ratio,
    /// Number of distinct keys.
    pub keys: u64,
    /// Key length in bytes.
    pub key_size: usize,
    /// Value length in bytes.
    pub value_size: usize,
    /// Key popularity.
    pub distribution: Distribution,
    /// End of the measured phase.
    pub stop: Stop,
    /// Whether every key is set once before measuring.
    pub fill: bool,
    /// Seed of the operation and key streams.
    pub seed: u64,
    /// Command family.
    pub protocol: Protocol,
    /// How long to wait for a reply before giving up on a connection.
    pub timeout: Duration,
    /// Whether to print progress lines on stderr.
    pub progress: bool,
    /// Whether the final report is JSON.
    pub json: bool,
}

impl Config {
    /// Checks `args` against the limits and settles the defaults.
    pub fn from_args(args: &BenchArgs) -> Result<Self, Error> {
        let usage = |message: String| Err(Error::Usage(message));
        let within = |name: &str, value: usize, low: usize, high: usize| {
            if (low..=high).contains(&value) {
                Ok(value)
            } else {
                Err(Error::Usage(format!(
                    "--{name} must be in {low}..={high}, got {value}"
                )))
            }
        };
        let connections = within("connections", args.connections, 1, CONNECTIONS_MAX)?;
        let threads = within("threads", args.threads, 1, THREADS_MAX)?.min(connections);
        let pipeline = within("pipeline", args.pipeline, 1, PIPELINE_MAX)?;
        let key_size = within("key-size", args.key_size, 1, KEY_SIZE_MAX)?;
        let value_size = within("value-size", args.value_size, 0, VALUE_SIZE_MAX)?;
        if args.keys == 0 {
            return usage("--keys must be at least 1".into());
        }
        if KeyFormat::new(key_size, args.keys).is_none() {
            return usage(format!(
                "--key-size {key_size} is too short for {} keys: key {} has {} digits",
                args.keys,
                args.keys - 1,
                super::keys::digits(args.keys - 1)
            ));
        }
        let request_bytes = (value_size + key_size + 64) as u64;
        let in_flight_bytes = request_bytes * (pipeline * connections) as u64;
        if in_flight_bytes > IN_FLIGHT_BYTES_MAX {
            return usage(format!(
                "connections x pipeline x value size keeps {in_flight_bytes} bytes in flight, \
                 more than the limit of {IN_FLIGHT_BYTES_MAX}"
            ));
        }
        let rate = match args.rate {
            None => None,
            Some(rate) if rate.is_finite() && (RATE_MIN..=RATE_MAX).contains(&rate) => Some(rate),
            Some(rate) => {
                return usage(format!(
                    "--rate must be between {RATE_MIN} and {RATE_MAX} requests per second, got \
                     {rate}"
                ))
            }
        };
        let stop = match (args.duration, args.requests) {
            (_, Some(0)) => return usage("--requests must be at least 1".into()),
            (_, Some(n)) => Stop::Requests(n),
            (Some(secs), None) => Stop::After(seconds("duration", secs)?),
            (None, None) => Stop::After(DURATION_DEFAULT),
        };
        Ok(Self {
            host: args.host.clone(),
            port: args.port,
            connections,
            threads,
            pipeline,
            rate,
            ratio: args.ratio,
            keys: args.keys,
            key_size,
            value_size,
            distribution: args.distribution,
            stop,
            fill: !args.no_fill,
            seed: args.seed.unwrap_or_else(random_seed),
            protocol: args.protocol,
            timeout: seconds("timeout", args.timeout)?,
            progress: args.progress || std::io::stderr().is_terminal(),
            json: args.json,
        })
    }

    /// Requests in flight per connection during the warm-up fill: at least 16 so the fill is
    /// quick, but never past the in-flight byte limit.
    pub fn fill_pipeline(&self) -> usize {
        let request_bytes = (self.value_size + self.key_size + 64) as u64;
        let depth_max = IN_FLIGHT_BYTES_MAX / (request_bytes * self.connections as u64);
        let depth = usize::try_from(depth_max).map_or(FILL_PIPELINE, |d| d.min(FILL_PIPELINE));
        self.pipeline.max(depth)
    }

    /// `host:port` as it is shown in reports.
    pub fn target(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// A positive, bounded number of seconds.
fn seconds(name: &str, secs: f64) -> Result<Duration, Error> {
    if secs.is_finite() && secs > 0.0 && secs <= SECONDS_MAX {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err(Error::Usage(format!(
            "--{name} must be above 0 and at most {SECONDS_MAX} s"
        )))
    }
}

/// A seed that differs between runs: the clock mixed with the process id.
fn random_seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mixed = (nanos as u64) ^ (u64::from(std::process::id()) << 32);
    super::rng::Rng::new(mixed).next_u64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: BenchArgs,
    }

    fn config(line: &str) -> Result<Config, Error> {
        let cli = Cli::try_parse_from(line.split_whitespace()).map_err(|e| {
            Error::Usage(e.to_string()) // Surface clap's own message.
        })?;
        Config::from_args(&cli.args)
    }

    #[test]
    fn defaults() {
        let c = config("bench --seed 1").expect("defaults are valid");
        assert_eq!(c.target(), "127.0.0.1:11211");
        assert_eq!((c.connections, c.threads, c.pipeline), (50, 2, 1));
        assert_eq!(c.ratio, Ratio { get: 90, set: 10 });
        assert_eq!((c.keys, c.key_size, c.value_size), (100_000, 32, 100));
        assert_eq!(c.distribution, Distribution::Uniform);
        assert_eq!(c.stop, Stop::After(DURATION_DEFAULT));
        assert!(c.fill);
        assert_eq!(c.protocol, Protocol::Text);
        assert_eq!(c.fill_pipeline(), FILL_PIPELINE);
        assert_eq!(c.rate, None, "closed loop unless --rate");
    }

    #[test]
    fn fill_pipeline_respects_the_in_flight_limit() {
        let c = config("bench --pipeline 64").expect("valid");
        assert_eq!(c.fill_pipeline(), 64);
        let c = config("bench -c 100 --value-size 4000000").expect("valid");
        assert_eq!(c.fill_pipeline(), 2);
        let c = config("bench -c 200 --value-size 4000000").expect("valid");
        assert_eq!(c.fill_pipeline(), 1);
    }

    #[test]
    fn options_parse() {
        let c = config(
            "bench -c 4 -t 8 --pipeline 16 --ratio 1:0 --distribution zipf:1.2 --requests 99 \
             --no-fill --protocol meta --host ::1",
        )
        .expect("valid");
        assert_eq!((c.connections, c.threads, c.pipeline), (4, 4, 16));
        assert_eq!(c.ratio.get_fraction(), 1.0);
        assert_eq!(c.distribution, Distribution::Zipf { exponent: 1.2 });
        assert_eq!(c.stop, Stop::Requests(99));
        assert!(!c.fill);
        assert_eq!(c.protocol, Protocol::Meta);
        assert_eq!(c.target(), "[::1]:11211");
        let c = config("bench --rate 25000.5").expect("valid");
        assert_eq!(c.rate, Some(25000.5));
        let c = config("bench --no-fill --warmup-fill --distribution zipf").expect("valid");
        assert!(c.fill);
        assert_eq!(
            c.distribution,
            Distribution::Zipf {
                exponent: ZIPF_EXPONENT_DEFAULT
            }
        );
    }

    #[test]
    fn rejects_out_of_range() {
        for line in [
            "bench -c 0",
            "bench --pipeline 0",
            "bench --keys 0",
            "bench --keys 1000 --key-size 2",
            "bench --key-size 251",
            "bench --ratio 0:0",
            "bench --ratio 90",
            "bench --distribution zipf:-1",
            "bench --distribution pareto",
            "bench --duration 0",
            "bench --duration 5 --requests 10",
            "bench --requests 0",
            "bench --rate 0",
            "bench --rate -5",
            "bench --rate nan",
            "bench --rate 1e12",
            "bench --value-size 1000000 --pipeline 4096 -c 1000",
        ] {
            assert!(config(line).is_err(), "{line} was accepted");
        }
    }
}
