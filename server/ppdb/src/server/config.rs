//! `ppdb server`'s configuration: memcached's flags, a TOML file and `PPDB_*` environment
//! variables, merged into one [`ServerConfig`].
//!
//! Every option has four sources, each overriding the one before:
//!
//! ```text
//!   built-in default  <  --config FILE (TOML)  <  PPDB_* environment  <  command-line flag
//! ```
//!
//! The flags are memcached's (`-p -l -m -M -c -t -I -U -A -v`), so that a memcached command
//! line starts PPDB unchanged. memcached's tuning flags that mean nothing here (`-o`, `-f`,
//! `-n`, `-L`, `-R`, `-B`, `-D`, `-C`, `-b`, `-u`, `-P`, `-a`, `-k`, `-r`, `-W`) are accepted
//! and reported as ignored; `-o idle_timeout=N` is honoured. Flags whose absence would change
//! what a client may do or see (`-s`, `-S`, `-Z`, `-Y`, `-e`, `-d`, `-F`, `-X`) are refused.
//!
//! [`ServerConfig::resolve`] is a pure function of the flags, an environment lookup and the
//! file's text, so the precedence is tested without touching the process environment.

use std::fmt;
use std::path::PathBuf;

use clap::{ArgAction, Args};
use serde::Deserialize;

use crate::shared::Settings;
use crate::store::StoreConfig;

/// The smallest `-I` memcached accepts.
pub const ITEM_SIZE_MIN: u64 = 1 << 10;
/// The largest `-I` memcached accepts.
pub const ITEM_SIZE_MAX: u64 = 1 << 30;
/// The most worker threads.
pub const THREADS_MAX: usize = 256;
/// The most simultaneous connections.
pub const CONNECTIONS_MAX: usize = 1 << 20;
/// The number of store shards.
pub const STORE_SHARDS: usize = 16;

/// `ppdb server`'s command line: memcached's flags plus `--config` and `--idle-timeout`.
#[derive(Debug, Clone, Default, Args)]
pub struct ServerArgs {
    /// TCP port to listen on [default: 11211; 0 picks a free port] [env: PPDB_PORT]
    #[arg(short = 'p', long = "port", value_name = "PORT")]
    pub port: Option<u16>,
    /// Address to listen on [default: 127.0.0.1] [env: PPDB_LISTEN]
    #[arg(short = 'l', long = "listen", value_name = "ADDR")]
    pub listen: Option<String>,
    /// Item memory in MiB [default: 64] [env: PPDB_MEMORY_LIMIT]
    #[arg(short = 'm', long = "memory-limit", value_name = "MIB")]
    pub memory_limit: Option<u64>,
    /// Refuse writes when memory is full instead of evicting [env: PPDB_DISABLE_EVICTIONS]
    #[arg(short = 'M', long = "disable-evictions")]
    pub disable_evictions: bool,
    /// Maximum simultaneous connections [default: 1024] [env: PPDB_CONN_LIMIT]
    #[arg(short = 'c', long = "conn-limit", value_name = "N")]
    pub conn_limit: Option<usize>,
    /// Worker threads [default: 4] [env: PPDB_THREADS]
    #[arg(short = 't', long = "threads", value_name = "N")]
    pub threads: Option<usize>,
    /// Largest item, with k/m/g suffixes (1k..1g) [default: 1m] [env: PPDB_MAX_ITEM_SIZE]
    #[arg(short = 'I', long = "max-item-size", value_name = "SIZE", value_parser = parse_size)]
    pub max_item_size: Option<u64>,
    /// UDP port; only 0 (off) is supported [default: 0] [env: PPDB_UDP_PORT]
    #[arg(short = 'U', long = "udp-port", value_name = "PORT")]
    pub udp_port: Option<u16>,
    /// Allow the `shutdown` command [env: PPDB_ENABLE_SHUTDOWN]
    #[arg(short = 'A', long = "enable-shutdown")]
    pub enable_shutdown: bool,
    /// Log more: -v info, -vv debug, -vvv trace [default: warnings only] [env: PPDB_VERBOSE]
    #[arg(short = 'v', long = "verbose", action = ArgAction::Count)]
    pub verbose: u8,
    /// Close connections idle this many seconds; 0 never [default: 0] [env: PPDB_IDLE_TIMEOUT]
    #[arg(long = "idle-timeout", value_name = "SECS")]
    pub idle_timeout: Option<u64>,
    /// Requests a connection runs before its worker serves the others [default: 20]
    /// [env: PPDB_MAX_REQS_PER_EVENT]
    #[arg(short = 'R', long = "max-reqs-per-event", value_name = "N")]
    pub max_reqs_per_event: Option<usize>,
    /// Keep the data in this directory (write-ahead log, tables): a database that survives
    /// restarts and crashes, instead of a cache in memory [env: PPDB_DATA_DIR]
    #[arg(long = "data-dir", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// With --data-dir: when a write is acknowledged. `sync`: after fsync (nothing acknowledged
    /// is ever lost); `periodic:MS`: fsync every MS ms (survives a killed process, a power loss
    /// costs at most MS ms); `none`: left to the OS [default: sync] [env: PPDB_DURABILITY]
    #[arg(long = "durability", value_name = "MODE", value_parser = parse_durability)]
    pub durability: Option<Durability>,
    /// With --data-dir: `strict` fails to start on a corrupt log; `skip-corrupt` skips the
    /// damaged records, logs and counts them [default: strict] [env: PPDB_RECOVERY]
    #[arg(long = "recovery", value_name = "MODE", value_parser = parse_recovery)]
    pub recovery: Option<Recovery>,
    /// Read options from this TOML file (keys as the long flags) [env: PPDB_CONFIG]
    #[arg(long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// memcached's other flags, hidden from `--help`.
    #[command(flatten)]
    pub memcached: MemcachedFlags,
}

/// memcached flags accepted for compatibility. The tuning ones are ignored with a warning; the
/// ones PPDB cannot honour safely are refused (see [`ServerConfig::resolve`]).
#[derive(Debug, Clone, Default, Args)]
pub struct MemcachedFlags {
    /// `-o`: extended options (`idle_timeout=N` is honoured).
    #[arg(short = 'o', long = "extended", hide = true, action = ArgAction::Append)]
    pub extended: Vec<String>,
    /// `-f`: slab growth factor.
    #[arg(short = 'f', long = "slab-growth-factor", hide = true)]
    pub slab_growth_factor: Option<String>,
    /// `-n`: slab minimum size.
    #[arg(short = 'n', long = "slab-min-size", hide = true)]
    pub slab_min_size: Option<String>,
    /// `-B`: protocol.
    #[arg(short = 'B', long = "protocol", hide = true)]
    pub protocol: Option<String>,
    /// `-D`: stats prefix delimiter.
    #[arg(short = 'D', hide = true)]
    pub delimiter: Option<String>,
    /// `-b`: listen backlog.
    #[arg(short = 'b', long = "listen-backlog", hide = true)]
    pub listen_backlog: Option<String>,
    /// `-u`: user to run as.
    #[arg(short = 'u', long = "user", hide = true)]
    pub user: Option<String>,
    /// `-P`: pid file (memcached writes it only with `-d`).
    #[arg(short = 'P', long = "pidfile", hide = true)]
    pub pidfile: Option<String>,
    /// `-a`: unix socket mask.
    #[arg(short = 'a', long = "unix-mask", hide = true)]
    pub unix_mask: Option<String>,
    /// `-L`: large pages.
    #[arg(short = 'L', long = "enable-largepages", hide = true)]
    pub large_pages: bool,
    /// `-C`: disable CAS.
    #[arg(short = 'C', long = "disable-cas", hide = true)]
    pub disable_cas: bool,
    /// `-k`: lock memory.
    #[arg(short = 'k', long = "lock-memory", hide = true)]
    pub lock_memory: bool,
    /// `-r`: core dumps.
    #[arg(short = 'r', long = "enable-coredumps", hide = true)]
    pub core_dumps: bool,
    /// `-W`: disable watch.
    #[arg(short = 'W', long = "disable-watch", hide = true)]
    pub disable_watch: bool,
    /// `-s`: unix socket (refused).
    #[arg(short = 's', long = "unix-socket", hide = true)]
    pub unix_socket: Option<String>,
    /// `-S`: SASL (refused).
    #[arg(short = 'S', long = "enable-sasl", hide = true)]
    pub sasl: bool,
    /// `-Z`: TLS (refused).
    #[arg(short = 'Z', long = "enable-ssl", hide = true)]
    pub ssl: bool,
    /// `-Y`: authentication file (refused).
    #[arg(short = 'Y', long = "auth-file", hide = true)]
    pub auth_file: Option<String>,
    /// `-e`: memory file (refused).
    #[arg(short = 'e', long = "memory-file", hide = true)]
    pub memory_file: Option<String>,
    /// `-d`: daemonize (refused).
    #[arg(short = 'd', long = "daemon", hide = true)]
    pub daemon: bool,
    /// `-F`: disable `flush_all` (refused).
    #[arg(short = 'F', long = "disable-flush-all", hide = true)]
    pub disable_flush_all: bool,
    /// `-X`: disable dumping (refused).
    #[arg(short = 'X', long = "disable-dumping", hide = true)]
    pub disable_dumping: bool,
}

impl MemcachedFlags {
    /// The refused flags given, as `-x (what it does)`.
    fn refused(&self) -> Vec<&'static str> {
        let flags = [
            (self.unix_socket.is_some(), "-s (unix socket)"),
            (self.sasl, "-S (SASL authentication)"),
            (self.ssl, "-Z (TLS)"),
            (self.auth_file.is_some(), "-Y (authentication file)"),
            (self.memory_file.is_some(), "-e (memory file)"),
            (
                self.daemon,
                "-d (daemon mode; run under a supervisor instead)",
            ),
            (self.disable_flush_all, "-F (disable flush_all)"),
            (self.disable_dumping, "-X (disable dumping)"),
        ];
        flags
            .into_iter()
            .filter(|(given, _)| *given)
            .map(|(_, name)| name)
            .collect()
    }

    /// The ignored flags given, as they would be written.
    fn ignored(&self) -> Vec<String> {
        let mut out = Vec::new();
        let valued = [
            ('f', &self.slab_growth_factor),
            ('n', &self.slab_min_size),
            ('B', &self.protocol),
            ('D', &self.delimiter),
            ('b', &self.listen_backlog),
            ('u', &self.user),
            ('P', &self.pidfile),
            ('a', &self.unix_mask),
        ];
        for (flag, value) in valued {
            if let Some(value) = value {
                out.push(format!("-{flag} {value}"));
            }
        }
        let bare = [
            ('L', self.large_pages),
            ('C', self.disable_cas),
            ('k', self.lock_memory),
            ('r', self.core_dumps),
            ('W', self.disable_watch),
        ];
        for (flag, given) in bare {
            if given {
                out.push(format!("-{flag}"));
            }
        }
        out
    }

    /// Splits the `-o` options into the honoured `idle_timeout` and the ignored rest.
    fn extended(&self) -> Result<(Option<u64>, Vec<String>), ConfigError> {
        let mut idle_timeout = None;
        let mut ignored = Vec::new();
        for option in self.extended.iter().flat_map(|o| o.split(',')) {
            let option = option.trim();
            if option.is_empty() {
                continue;
            }
            match option.split_once('=') {
                Some(("idle_timeout", secs)) => {
                    idle_timeout = Some(parse_number::<u64>("-o idle_timeout", secs)?);
                }
                _ => ignored.push(format!("-o {option}")),
            }
        }
        Ok((idle_timeout, ignored))
    }
}

/// An invalid option: the server does not start, and exits with code 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

fn error(message: impl Into<String>) -> ConfigError {
    ConfigError(message.into())
}

/// `-I`'s value in the config file: bytes, or a string with a k/m/g suffix.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum SizeValue {
    Bytes(u64),
    Text(String),
}

/// When a write is acknowledged in disk mode (`--durability`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// After the write-ahead log is synced.
    Sync,
    /// At once; the log is synced every this many milliseconds.
    Periodic(u64),
    /// At once; the log is synced when the OS decides.
    None,
}

/// What recovery does with a corrupt write-ahead log (`--recovery`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// Refuse to start.
    Strict,
    /// Skip the damaged records, log and count them.
    SkipCorrupt,
}

/// Parses `sync`, `periodic:MS` or `none`.
pub fn parse_durability(text: &str) -> Result<Durability, String> {
    match text.trim() {
        "sync" => Ok(Durability::Sync),
        "none" => Ok(Durability::None),
        other => match other.strip_prefix("periodic:").map(str::parse::<u64>) {
            Some(Ok(ms)) if (1..=3_600_000).contains(&ms) => Ok(Durability::Periodic(ms)),
            _ => Err(format!(
                "expected sync, periodic:MS (1..=3600000) or none, got {other:?}"
            )),
        },
    }
}

/// Parses `strict` or `skip-corrupt`.
pub fn parse_recovery(text: &str) -> Result<Recovery, String> {
    match text.trim() {
        "strict" => Ok(Recovery::Strict),
        "skip-corrupt" => Ok(Recovery::SkipCorrupt),
        other => Err(format!("expected strict or skip-corrupt, got {other:?}")),
    }
}

/// Disk mode: where and how the data is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskSettings {
    /// The data directory.
    pub dir: PathBuf,
    /// When writes are acknowledged.
    pub durability: Durability,
    /// What recovery does with corruption.
    pub recovery: Recovery,
}

/// The TOML file: the long flags' names as keys, every key optional, unknown keys refused.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileConfig {
    port: Option<u16>,
    listen: Option<String>,
    memory_limit: Option<u64>,
    disable_evictions: Option<bool>,
    conn_limit: Option<usize>,
    threads: Option<usize>,
    max_item_size: Option<SizeValue>,
    udp_port: Option<u16>,
    enable_shutdown: Option<bool>,
    verbose: Option<u8>,
    idle_timeout: Option<u64>,
    max_reqs_per_event: Option<usize>,
    data_dir: Option<PathBuf>,
    durability: Option<String>,
    recovery: Option<String>,
}

/// One option from all its sources, before validation.
#[derive(Debug, Clone, Default)]
struct Layer {
    port: Option<u16>,
    listen: Option<String>,
    memory_limit: Option<u64>,
    disable_evictions: Option<bool>,
    conn_limit: Option<usize>,
    threads: Option<usize>,
    max_item_size: Option<u64>,
    udp_port: Option<u16>,
    enable_shutdown: Option<bool>,
    verbose: Option<u8>,
    idle_timeout: Option<u64>,
    max_reqs_per_event: Option<usize>,
    data_dir: Option<PathBuf>,
    durability: Option<Durability>,
    recovery: Option<Recovery>,
}

impl Layer {
    /// `self` with every option `over` sets replaced.
    fn overridden_by(self, over: Layer) -> Layer {
        Layer {
            port: over.port.or(self.port),
            listen: over.listen.or(self.listen),
            memory_limit: over.memory_limit.or(self.memory_limit),
            disable_evictions: over.disable_evictions.or(self.disable_evictions),
            conn_limit: over.conn_limit.or(self.conn_limit),
            threads: over.threads.or(self.threads),
            max_item_size: over.max_item_size.or(self.max_item_size),
            udp_port: over.udp_port.or(self.udp_port),
            enable_shutdown: over.enable_shutdown.or(self.enable_shutdown),
            verbose: over.verbose.or(self.verbose),
            idle_timeout: over.idle_timeout.or(self.idle_timeout),
            max_reqs_per_event: over.max_reqs_per_event.or(self.max_reqs_per_event),
            data_dir: over.data_dir.or(self.data_dir),
            durability: over.durability.or(self.durability),
            recovery: over.recovery.or(self.recovery),
        }
    }

    fn from_file(text: &str, path: &str) -> Result<Layer, ConfigError> {
        let file: FileConfig = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |span| {
                text.as_bytes()[..span.start.min(text.len())]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count()
                    + 1
            });
            error(format!("{path}: line {line}: {}", e.message().trim_end()))
        })?;
        let max_item_size = match file.max_item_size {
            None => None,
            Some(SizeValue::Bytes(n)) => Some(n),
            Some(SizeValue::Text(text)) => {
                Some(parse_size(&text).map_err(|e| error(format!("{path}: max-item-size: {e}")))?)
            }
        };
        let durability = file
            .durability
            .map(|t| parse_durability(&t).map_err(|e| error(format!("{path}: durability: {e}"))))
            .transpose()?;
        let recovery = file
            .recovery
            .map(|t| parse_recovery(&t).map_err(|e| error(format!("{path}: recovery: {e}"))))
            .transpose()?;
        Ok(Layer {
            port: file.port,
            listen: file.listen,
            memory_limit: file.memory_limit,
            disable_evictions: file.disable_evictions,
            conn_limit: file.conn_limit,
            threads: file.threads,
            max_item_size,
            udp_port: file.udp_port,
            enable_shutdown: file.enable_shutdown,
            verbose: file.verbose,
            idle_timeout: file.idle_timeout,
            max_reqs_per_event: file.max_reqs_per_event,
            data_dir: file.data_dir,
            durability,
            recovery,
        })
    }

    fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Layer, ConfigError> {
        let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let number = |name: &str| -> Result<Option<u64>, ConfigError> {
            var(name).map(|v| parse_number(name, &v)).transpose()
        };
        let boolean = |name: &str| var(name).map(|v| parse_bool(name, &v)).transpose();
        let narrow = |name: &str, v: Option<u64>, max: u64| -> Result<_, ConfigError> {
            match v {
                Some(v) if v > max => Err(error(format!("{name}: {v} is out of range"))),
                _ => Ok(v),
            }
        };
        let port = narrow("PPDB_PORT", number("PPDB_PORT")?, u64::from(u16::MAX))?;
        let udp_port = narrow(
            "PPDB_UDP_PORT",
            number("PPDB_UDP_PORT")?,
            u64::from(u16::MAX),
        )?;
        let verbose = narrow("PPDB_VERBOSE", number("PPDB_VERBOSE")?, u64::from(u8::MAX))?;
        let max_item_size = var("PPDB_MAX_ITEM_SIZE")
            .map(|v| parse_size(&v).map_err(|e| error(format!("PPDB_MAX_ITEM_SIZE: {e}"))))
            .transpose()?;
        Ok(Layer {
            port: port.and_then(|v| u16::try_from(v).ok()),
            listen: var("PPDB_LISTEN"),
            memory_limit: number("PPDB_MEMORY_LIMIT")?,
            disable_evictions: boolean("PPDB_DISABLE_EVICTIONS")?,
            conn_limit: number("PPDB_CONN_LIMIT")?.map(saturating_usize),
            threads: number("PPDB_THREADS")?.map(saturating_usize),
            max_item_size,
            udp_port: udp_port.and_then(|v| u16::try_from(v).ok()),
            enable_shutdown: boolean("PPDB_ENABLE_SHUTDOWN")?,
            verbose: verbose.and_then(|v| u8::try_from(v).ok()),
            idle_timeout: number("PPDB_IDLE_TIMEOUT")?,
            max_reqs_per_event: number("PPDB_MAX_REQS_PER_EVENT")?.map(saturating_usize),
            data_dir: var("PPDB_DATA_DIR").map(PathBuf::from),
            durability: var("PPDB_DURABILITY")
                .map(|v| parse_durability(&v).map_err(|e| error(format!("PPDB_DURABILITY: {e}"))))
                .transpose()?,
            recovery: var("PPDB_RECOVERY")
                .map(|v| parse_recovery(&v).map_err(|e| error(format!("PPDB_RECOVERY: {e}"))))
                .transpose()?,
        })
    }

    fn from_flags(args: &ServerArgs, extended_idle_timeout: Option<u64>) -> Layer {
        Layer {
            port: args.port,
            listen: args.listen.clone(),
            memory_limit: args.memory_limit,
            disable_evictions: args.disable_evictions.then_some(true),
            conn_limit: args.conn_limit,
            threads: args.threads,
            max_item_size: args.max_item_size,
            udp_port: args.udp_port,
            enable_shutdown: args.enable_shutdown.then_some(true),
            verbose: (args.verbose > 0).then_some(args.verbose),
            idle_timeout: args.idle_timeout.or(extended_idle_timeout),
            max_reqs_per_event: args.max_reqs_per_event,
            data_dir: args.data_dir.clone(),
            durability: args.durability,
            recovery: args.recovery,
        }
    }
}

fn saturating_usize(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// The merged, validated configuration of `ppdb server`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// The settings the runtime and `stats settings` use.
    pub settings: Settings,
    /// The log level at start-up: 0 warnings, 1 info, 2 debug, 3 or more trace.
    pub verbosity: u8,
    /// memcached flags that were given and are ignored, as written (for a warning at start).
    pub ignored_flags: Vec<String>,
    /// Disk mode (`--data-dir`), or `None` for a cache in memory.
    pub disk: Option<DiskSettings>,
}

impl ServerConfig {
    /// Merges defaults, the file (`--config` or `PPDB_CONFIG`, read by `read_file`), the
    /// environment (looked up by `env`) and the flags, and validates the result.
    pub fn resolve(
        args: &ServerArgs,
        env: &dyn Fn(&str) -> Option<String>,
        read_file: &dyn Fn(&std::path::Path) -> std::io::Result<String>,
    ) -> Result<ServerConfig, ConfigError> {
        let refused = args.memcached.refused();
        if !refused.is_empty() {
            return Err(error(format!(
                "unsupported memcached option: {}",
                refused.join(", ")
            )));
        }
        let (extended_idle_timeout, mut ignored_flags) = args.memcached.extended()?;
        ignored_flags.extend(args.memcached.ignored());

        let path = args.config.clone().or_else(|| {
            env("PPDB_CONFIG")
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
        });
        let file = match path {
            Some(path) => {
                let shown = path.display().to_string();
                let text = read_file(&path).map_err(|e| error(format!("{shown}: {e}")))?;
                Layer::from_file(&text, &shown)?
            }
            None => Layer::default(),
        };
        let merged = file
            .overridden_by(Layer::from_env(env)?)
            .overridden_by(Layer::from_flags(args, extended_idle_timeout));
        let mut config = Self::validate(merged)?;
        config.ignored_flags = ignored_flags;
        Ok(config)
    }

    /// Resolves the configuration from the process environment and file system.
    pub fn from_process(args: &ServerArgs) -> Result<ServerConfig, ConfigError> {
        Self::resolve(args, &|name| std::env::var(name).ok(), &|path| {
            std::fs::read_to_string(path)
        })
    }

    fn validate(layer: Layer) -> Result<ServerConfig, ConfigError> {
        let defaults = Settings::default();
        let udp_port = layer.udp_port.unwrap_or(0);
        if udp_port != 0 {
            return Err(error(format!(
                "UDP is not supported: -U/--udp-port must be 0 (got {udp_port})"
            )));
        }
        let memory_mib = layer
            .memory_limit
            .unwrap_or(defaults.memory_bytes_max >> 20);
        let memory_bytes_max = memory_mib
            .checked_mul(1 << 20)
            .filter(|&b| usize::try_from(b).is_ok())
            .ok_or_else(|| error(format!("-m/--memory-limit: {memory_mib} MiB is too large")))?;
        let item_size_max = layer.max_item_size.unwrap_or(defaults.item_size_max as u64);
        check_item_size(item_size_max)?;
        if item_size_max > memory_bytes_max / 2 {
            return Err(error(format!(
                "-I/--max-item-size ({item_size_max} bytes) cannot be more than half of \
                 -m/--memory-limit ({memory_mib} MiB)"
            )));
        }
        let connections_max = layer.conn_limit.unwrap_or(defaults.connections_max);
        if !(1..=CONNECTIONS_MAX).contains(&connections_max) {
            return Err(error(format!(
                "-c/--conn-limit must be between 1 and {CONNECTIONS_MAX} (got {connections_max})"
            )));
        }
        let threads = layer.threads.unwrap_or(defaults.threads);
        if !(1..=THREADS_MAX).contains(&threads) {
            return Err(error(format!(
                "-t/--threads must be between 1 and {THREADS_MAX} (got {threads})"
            )));
        }
        let requests_per_event = layer
            .max_reqs_per_event
            .unwrap_or(defaults.requests_per_event);
        if requests_per_event == 0 {
            return Err(error(
                "-R/--max-reqs-per-event: the number of requests per event must be greater \
                 than 0"
                    .to_string(),
            ));
        }
        let listen = layer.listen.unwrap_or(defaults.listen.clone());
        if listen.trim().is_empty() || listen.contains(',') {
            return Err(error(format!(
                "-l/--listen takes one address (got {listen:?})"
            )));
        }
        let disk = match layer.data_dir {
            Some(dir) if dir.as_os_str().is_empty() => {
                return Err(error("--data-dir needs a directory".to_string()));
            }
            Some(dir) => Some(DiskSettings {
                dir,
                durability: layer.durability.unwrap_or(Durability::Sync),
                recovery: layer.recovery.unwrap_or(Recovery::Strict),
            }),
            None if layer.durability.is_some() || layer.recovery.is_some() => {
                return Err(error(
                    "--durability and --recovery need --data-dir (without it the data is kept \
                     in memory only)"
                        .to_string(),
                ));
            }
            None => None,
        };
        let item_size_max = usize::try_from(item_size_max).unwrap_or(usize::MAX);
        let settings = Settings {
            port: layer.port.unwrap_or(defaults.port),
            listen,
            memory_bytes_max,
            evictions_disabled: layer.disable_evictions.unwrap_or(false),
            connections_max,
            threads,
            item_size_max,
            shutdown_enabled: layer.enable_shutdown.unwrap_or(false),
            idle_timeout_secs: layer.idle_timeout.unwrap_or(0),
            requests_per_event,
            output_bytes_max: defaults.output_bytes_max,
            multiget_line_bytes_max: item_size_max,
        };
        Ok(ServerConfig {
            settings,
            verbosity: layer.verbose.unwrap_or(0),
            ignored_flags: Vec::new(),
            disk,
        })
    }

    /// The store configuration these settings ask for: `-m` of memory in 16 shards, evicting
    /// unless `-M`, and values up to what `-I` leaves after the item header and a 1-byte key.
    pub fn store_config(&self) -> StoreConfig {
        let settings = &self.settings;
        let overhead = ppdb_memcache::item_size_bytes(1, 0, 0);
        StoreConfig {
            shards: STORE_SHARDS,
            memory_bytes_max: usize::try_from(settings.memory_bytes_max).unwrap_or(usize::MAX),
            evict: !settings.evictions_disabled,
            value_bytes_max: settings.item_size_max.saturating_sub(overhead),
            background_merges: true,
            ..StoreConfig::default()
        }
    }
}

fn check_item_size(bytes: u64) -> Result<(), ConfigError> {
    if (ITEM_SIZE_MIN..=ITEM_SIZE_MAX).contains(&bytes) {
        Ok(())
    } else {
        Err(error(format!(
            "-I/--max-item-size must be between 1k and 1g (got {bytes} bytes)"
        )))
    }
}

/// Parses a size as memcached's `-I` does: bytes, or a number with a `k`, `m` or `g` suffix
/// (powers of 1024, either case).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text[..i], c.to_ascii_lowercase()),
        _ => (text, 'b'),
    };
    let shift = match unit {
        'b' => 0,
        'k' => 10,
        'm' => 20,
        'g' => 30,
        _ => return Err(format!("{text:?}: unknown unit (use k, m or g)")),
    };
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a size (e.g. 1048576, 512k, 1m)"))?;
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("{text:?} is too large"))
}

fn parse_number<T: std::str::FromStr>(name: &str, text: &str) -> Result<T, ConfigError> {
    text.trim()
        .parse()
        .map_err(|_| error(format!("{name}: {text:?} is not a valid number")))
}

fn parse_bool(name: &str, text: &str) -> Result<bool, ConfigError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(error(format!(
            "{name}: {text:?} is not a boolean (use true or false)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use std::collections::HashMap;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: ServerArgs,
    }

    fn args(flags: &[&str]) -> ServerArgs {
        Cli::try_parse_from(std::iter::once("server").chain(flags.iter().copied()))
            .expect("flags parse")
            .args
    }

    fn resolve(
        flags: &[&str],
        env: &[(&str, &str)],
        file: Option<&str>,
    ) -> Result<ServerConfig, ConfigError> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let file = file.map(str::to_string);
        ServerConfig::resolve(&args(flags), &|name| env.get(name).cloned(), &|_| {
            file.clone()
                .ok_or_else(|| std::io::Error::other("no such file"))
        })
    }

    #[test]
    fn defaults_are_memcacheds() {
        let config = resolve(&[], &[], None).expect("valid");
        assert_eq!(config.settings, Settings::default());
        assert_eq!(config.verbosity, 0);
        let store = config.store_config();
        assert_eq!(store.memory_bytes_max, 64 << 20);
        assert!(store.evict);
        assert_eq!(store.value_bytes_max, 1_048_516);
        assert_eq!(store.shards, 16);
    }

    #[test]
    fn disk_mode_options_from_every_source() {
        let config = resolve(&[], &[], None).expect("valid");
        assert_eq!(config.disk, None);
        let config = resolve(&["--data-dir", "/d"], &[], None).expect("valid");
        assert_eq!(
            config.disk,
            Some(DiskSettings {
                dir: PathBuf::from("/d"),
                durability: Durability::Sync,
                recovery: Recovery::Strict,
            })
        );
        let file = "data-dir = \"/f\"\ndurability = \"periodic:50\"\nrecovery = \"skip-corrupt\"\n";
        let config = resolve(&["--config", "x.toml"], &[], Some(file)).expect("valid");
        let disk = config.disk.expect("disk mode");
        assert_eq!(disk.dir, PathBuf::from("/f"));
        assert_eq!(disk.durability, Durability::Periodic(50));
        assert_eq!(disk.recovery, Recovery::SkipCorrupt);
        // Environment over file, flags over environment.
        let config = resolve(
            &["--config", "x.toml", "--durability", "none"],
            &[("PPDB_DATA_DIR", "/e"), ("PPDB_DURABILITY", "sync")],
            Some(file),
        )
        .expect("valid");
        let disk = config.disk.expect("disk mode");
        assert_eq!(disk.dir, PathBuf::from("/e"));
        assert_eq!(disk.durability, Durability::None);
        assert_eq!(disk.recovery, Recovery::SkipCorrupt);
    }

    #[test]
    fn bad_disk_mode_options_are_errors() {
        for (flags, env, want) in [
            (&["--durability", "sync"][..], &[][..], "need --data-dir"),
            (&["--recovery", "strict"][..], &[][..], "need --data-dir"),
            (
                &[][..],
                &[("PPDB_DURABILITY", "often")][..],
                "expected sync",
            ),
            (
                &[][..],
                &[("PPDB_RECOVERY", "maybe")][..],
                "expected strict",
            ),
        ] {
            let err = resolve(flags, env, None).expect_err("invalid");
            assert!(err.to_string().contains(want), "{flags:?} {env:?}: {err}");
        }
        let err = resolve(&["--config", "x.toml"], &[], Some("data-dir = \"\"\n"))
            .expect_err("an empty directory");
        assert!(err.to_string().contains("needs a directory"), "{err}");
        for bad in ["periodic:0", "periodic:x", "periodic:", "Sync"] {
            assert!(parse_durability(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_durability("periodic:10"),
            Ok(Durability::Periodic(10))
        );
        assert!(Cli::try_parse_from(["server", "--durability", "often"]).is_err());
    }

    #[test]
    fn flags_set_every_setting() {
        let config = resolve(
            &[
                "-p",
                "1234",
                "-l",
                "0.0.0.0",
                "-m",
                "128",
                "-M",
                "-c",
                "10",
                "-t",
                "2",
                "-I",
                "2m",
                "-U",
                "0",
                "-A",
                "-vv",
                "--idle-timeout",
                "30",
            ],
            &[],
            None,
        )
        .expect("valid");
        let s = &config.settings;
        assert_eq!(s.port, 1234);
        assert_eq!(s.listen, "0.0.0.0");
        assert_eq!(s.memory_bytes_max, 128 << 20);
        assert!(s.evictions_disabled);
        assert_eq!(s.connections_max, 10);
        assert_eq!(s.threads, 2);
        assert_eq!(s.item_size_max, 2 << 20);
        assert_eq!(s.multiget_line_bytes_max, 2 << 20);
        assert!(s.shutdown_enabled);
        assert_eq!(s.idle_timeout_secs, 30);
        assert_eq!(config.verbosity, 2);
        assert!(!config.store_config().evict);
    }

    #[test]
    fn file_then_environment_then_flags() {
        let file = "port = 1000\nthreads = 3\nmemory-limit = 100\nmax-item-size = \"2m\"\n\
                    enable-shutdown = true\nverbose = 1\nidle-timeout = 5\n\
                    max-reqs-per-event = 8\n";
        let env = [("PPDB_PORT", "2000"), ("PPDB_THREADS", "5")];
        let flags = ["--config", "ppdb.toml", "-p", "3000"];
        let config = resolve(&flags, &env, Some(file)).expect("valid");
        let s = &config.settings;
        assert_eq!(s.port, 3000, "a flag beats the environment and the file");
        assert_eq!(s.threads, 5, "the environment beats the file");
        assert_eq!(s.memory_bytes_max, 100 << 20, "the file beats the default");
        assert_eq!(s.item_size_max, 2 << 20);
        assert!(s.shutdown_enabled);
        assert_eq!(s.idle_timeout_secs, 5);
        assert_eq!(s.requests_per_event, 8);
        assert_eq!(config.verbosity, 1);
        assert_eq!(s.connections_max, 1024, "the default where nobody says");

        let config = resolve(&["--config", "f"], &env, Some(file)).expect("valid");
        assert_eq!(config.settings.port, 2000);
        let config = resolve(&["--config", "f"], &[], Some(file)).expect("valid");
        assert_eq!(config.settings.port, 1000);
    }

    #[test]
    fn environment_can_switch_a_file_boolean_off() {
        let file = "disable-evictions = true\nenable-shutdown = true\n";
        let env = [
            ("PPDB_CONFIG", "ppdb.toml"),
            ("PPDB_DISABLE_EVICTIONS", "false"),
        ];
        let config = resolve(&[], &env, Some(file)).expect("valid");
        assert!(!config.settings.evictions_disabled);
        assert!(config.settings.shutdown_enabled);
    }

    #[test]
    fn environment_reads_every_key() {
        let env = [
            ("PPDB_PORT", "7"),
            ("PPDB_LISTEN", "::1"),
            ("PPDB_MEMORY_LIMIT", "8"),
            ("PPDB_DISABLE_EVICTIONS", "yes"),
            ("PPDB_CONN_LIMIT", "9"),
            ("PPDB_THREADS", "1"),
            ("PPDB_MAX_ITEM_SIZE", "512k"),
            ("PPDB_UDP_PORT", "0"),
            ("PPDB_ENABLE_SHUTDOWN", "1"),
            ("PPDB_VERBOSE", "3"),
            ("PPDB_IDLE_TIMEOUT", "4"),
            ("PPDB_MAX_REQS_PER_EVENT", "6"),
        ];
        let config = resolve(&[], &env, None).expect("valid");
        let s = &config.settings;
        assert_eq!(
            (s.port, s.listen.as_str(), s.memory_bytes_max),
            (7, "::1", 8 << 20)
        );
        assert!(s.evictions_disabled && s.shutdown_enabled);
        assert_eq!(
            (s.connections_max, s.threads, s.item_size_max),
            (9, 1, 512 << 10)
        );
        assert_eq!((config.verbosity, s.idle_timeout_secs), (3, 4));
        assert_eq!(s.requests_per_event, 6);
    }

    /// Flags, environment, and a part of the expected error.
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);

    #[test]
    fn invalid_values_are_errors() {
        let cases: &[Case<'_>] = &[
            (&["-U", "1"], &[], "UDP is not supported"),
            (&[], &[("PPDB_UDP_PORT", "11211")], "UDP is not supported"),
            (&["-I", "512"], &[], "between 1k and 1g"),
            (&["-I", "2g"], &[], "between 1k and 1g"),
            (&["-I", "64m"], &[], "half of -m"),
            (&["-m", "0"], &[], "half of -m"),
            (&["-c", "0"], &[], "conn-limit"),
            (&["-t", "0"], &[], "threads"),
            (&["-t", "100000"], &[], "threads"),
            (&[], &[("PPDB_PORT", "70000")], "out of range"),
            (&[], &[("PPDB_THREADS", "many")], "not a valid number"),
            (&[], &[("PPDB_ENABLE_SHUTDOWN", "maybe")], "not a boolean"),
            (&["-l", "a,b"], &[], "one address"),
            (
                &["-s", "/tmp/sock"],
                &[],
                "unsupported memcached option: -s",
            ),
            (&["-d"], &[], "daemon"),
            (&["-o", "idle_timeout=x"], &[], "not a valid number"),
            (
                &["-R", "0"],
                &[],
                "requests per event must be greater than 0",
            ),
            (&[], &[("PPDB_MAX_REQS_PER_EVENT", "0")], "greater than 0"),
        ];
        for (flags, env, expected) in cases {
            let err = resolve(flags, env, None).expect_err("must fail");
            assert!(
                err.0.contains(expected),
                "{flags:?} {env:?}: {err} lacks {expected:?}"
            );
        }
    }

    #[test]
    fn bad_files_are_errors() {
        let cases = [
            ("port = \"x\"", "line 1: invalid type"),
            ("threads = 2\nport = -1", "line 2"),
            ("colour = 1", "colour"),
            ("max-item-size = \"1x\"", "unknown unit"),
            ("port = ", "ppdb.toml"),
        ];
        for (text, expected) in cases {
            let err = resolve(&["--config", "ppdb.toml"], &[], Some(text)).expect_err(text);
            assert!(err.0.contains(expected), "{text}: {err}");
        }
        let err = resolve(&["--config", "missing.toml"], &[], None).expect_err("missing");
        assert!(err.0.contains("missing.toml"), "{err}");
    }

    #[test]
    fn memcached_tuning_flags_are_ignored() {
        let config = resolve(
            &[
                "-o",
                "modern,idle_timeout=7",
                "-f",
                "1.25",
                "-n",
                "48",
                "-L",
                "-R",
                "5",
                "-B",
                "ascii",
                "-D",
                ":",
                "-C",
                "-b",
                "512",
                "-u",
                "nobody",
                "-kr",
            ],
            &[],
            None,
        )
        .expect("valid");
        assert_eq!(config.settings.idle_timeout_secs, 7);
        // -R is honoured, not ignored.
        assert_eq!(config.settings.requests_per_event, 5);
        assert_eq!(
            config.ignored_flags,
            [
                "-o modern",
                "-f 1.25",
                "-n 48",
                "-B ascii",
                "-D :",
                "-b 512",
                "-u nobody",
                "-L",
                "-C",
                "-k",
                "-r"
            ]
        );
        let config =
            resolve(&["-o", "idle_timeout=7", "--idle-timeout", "9"], &[], None).expect("valid");
        assert_eq!(config.settings.idle_timeout_secs, 9);
    }

    #[test]
    fn sizes_parse_like_memcached() {
        assert_eq!(parse_size("1m"), Ok(1 << 20));
        assert_eq!(parse_size("1024k"), Ok(1 << 20));
        assert_eq!(parse_size("2M"), Ok(2 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("1.5m").is_err());
        assert!(parse_size("m").is_err());
        assert!(parse_size("1t").is_err());
        assert!(parse_size("99999999999999999g").is_err());
    }
}
