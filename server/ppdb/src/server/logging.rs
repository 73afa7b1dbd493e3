//! Logging: `tracing` events to stderr, at a level the `verbosity` command can change while
//! the server runs.
//!
//! | verbosity | flag | level |
//! |---|---|---|
//! | 0 | (none) | warnings and errors |
//! | 1 | `-v` | info: start, stop, configuration |
//! | 2 | `-vv` | debug: every connection opened and closed, with its id and peer |
//! | 3+ | `-vvv` | trace |
//!
//! Stdout stays quiet; every line goes to stderr.

use std::io::IsTerminal;

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{fmt, reload, Registry};

/// The level filter for a verbosity (memcached's `-v` count or `verbosity` argument).
pub fn level_for(verbosity: u8) -> LevelFilter {
    match verbosity {
        0 => LevelFilter::WARN,
        1 => LevelFilter::INFO,
        2 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    }
}

/// Changes the level of the subscriber [`init`] installed.
#[derive(Debug, Clone)]
pub struct LogControl {
    handle: reload::Handle<LevelFilter, Registry>,
}

impl LogControl {
    /// Applies a new verbosity.
    pub fn set_verbosity(&self, verbosity: u8) {
        let level = level_for(verbosity);
        // Fails only if the subscriber is gone, and then there is nothing left to filter.
        let _ = self.handle.modify(|filter| *filter = level);
    }
}

/// Installs the process's subscriber at `verbosity`: plain lines on stderr (coloured on a
/// terminal) with the event's fields. Returns `None` if a subscriber was installed already.
pub fn init(verbosity: u8) -> Option<LogControl> {
    let (filter, handle) = reload::Layer::new(level_for(verbosity));
    let format = fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let subscriber = Registry::default().with(filter).with(format);
    tracing::subscriber::set_global_default(subscriber)
        .ok()
        .map(|()| LogControl { handle })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbosity_maps_to_levels() {
        assert_eq!(level_for(0), LevelFilter::WARN);
        assert_eq!(level_for(1), LevelFilter::INFO);
        assert_eq!(level_for(2), LevelFilter::DEBUG);
        assert_eq!(level_for(3), LevelFilter::TRACE);
        assert_eq!(level_for(200), LevelFilter::TRACE);
    }
}
