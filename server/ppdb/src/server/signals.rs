//! SIGTERM and SIGINT as an event source of the acceptor's poll.
//!
//! On Unix the signals arrive through signal-hook's self-pipe, registered with the acceptor's
//! `mio::Poll`, so the acceptor wakes at once. Elsewhere (Windows: Ctrl-C) a flag is set and
//! the acceptor looks at it every [`Signals::poll_interval`].
//!
//! Once the server is stopping, a second signal ends the process at once (exit code 1), for
//! the operator who does not want to wait for slow clients to drain.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mio::{Registry, Token};
use signal_hook::consts::{SIGINT, SIGTERM};

/// The stop signals, watched.
pub(crate) struct Signals {
    #[cfg(unix)]
    source: signal_hook_mio::v1_0::Signals,
    #[cfg(not(unix))]
    received: Arc<AtomicBool>,
    /// Set when the server starts stopping: a further signal then exits the process.
    stopping: Arc<AtomicBool>,
}

impl std::fmt::Debug for Signals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signals").finish_non_exhaustive()
    }
}

impl Signals {
    /// Starts watching SIGTERM and SIGINT, registered under `token` (on Unix).
    pub(crate) fn new(registry: &Registry, token: Token) -> io::Result<Signals> {
        let stopping = Arc::new(AtomicBool::new(false));
        for signal in [SIGTERM, SIGINT] {
            signal_hook::flag::register_conditional_shutdown(signal, 1, stopping.clone())?;
        }
        #[cfg(unix)]
        {
            let mut source = signal_hook_mio::v1_0::Signals::new([SIGTERM, SIGINT])?;
            registry.register(&mut source, token, mio::Interest::READABLE)?;
            Ok(Signals { source, stopping })
        }
        #[cfg(not(unix))]
        {
            let _ = (registry, token);
            let received = Arc::new(AtomicBool::new(false));
            for signal in [SIGTERM, SIGINT] {
                signal_hook::flag::register(signal, received.clone())?;
            }
            Ok(Signals { received, stopping })
        }
    }

    /// How often the acceptor must call [`Signals::take`] even without an event.
    pub(crate) fn poll_interval(&self) -> Option<Duration> {
        if cfg!(unix) {
            None
        } else {
            Some(Duration::from_millis(100))
        }
    }

    /// The name of a stop signal received since the last call, if any.
    pub(crate) fn take(&mut self) -> Option<&'static str> {
        #[cfg(unix)]
        {
            self.source.pending().fold(None, |found, signal| {
                found.or(match signal {
                    SIGTERM => Some("SIGTERM"),
                    SIGINT => Some("SIGINT"),
                    _ => None,
                })
            })
        }
        #[cfg(not(unix))]
        {
            self.received
                .swap(false, Ordering::Relaxed)
                .then_some("a stop signal")
        }
    }

    /// From now on, a stop signal ends the process at once.
    pub(crate) fn arm_forced_exit(&self) {
        self.stopping.store(true, Ordering::Relaxed);
    }
}
