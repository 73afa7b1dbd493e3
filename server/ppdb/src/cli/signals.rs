//! Ctrl-C: it stops the running evaluation, not the program.
//!
//! SIGINT raises the interrupt flag, which the evaluator reads at every step (and the remote
//! backend while it waits for a reply); the evaluation ends with an "interrupted" error and the
//! REPL goes on. While the program waits for input in batch mode there is no evaluation to stop,
//! so the handler is "armed" then: SIGINT exits at once with 130, as the shell expects. The
//! REPL never arms it (its line editor reads Ctrl-C as a key while it waits).
//!
//! The line editor installs a SIGINT handler of its own when it is created, so the REPL
//! installs these handlers after creating it (they then run first and chain to the editor's).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use signal_hook::consts::SIGINT;

/// The interrupt flag and the "exit on SIGINT" switch.
#[derive(Debug, Clone)]
pub(crate) struct Signals {
    /// Raised by SIGINT; cleared before each evaluation.
    pub(crate) interrupt: Arc<AtomicBool>,
    armed: Arc<AtomicBool>,
}

impl Signals {
    /// The flags, with no handler installed yet.
    pub(crate) fn new() -> Signals {
        Signals {
            interrupt: Arc::new(AtomicBool::new(false)),
            armed: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Installs the SIGINT handlers (a failure leaves Ctrl-C with its default effect).
    pub(crate) fn install(&self) {
        // The conditional shutdown runs first: when armed, the process exits with 130.
        let _ = signal_hook::flag::register_conditional_shutdown(SIGINT, 130, self.armed.clone());
        let _ = signal_hook::flag::register(SIGINT, self.interrupt.clone());
    }

    /// New flags with the handlers installed.
    pub(crate) fn installed() -> Signals {
        let signals = Signals::new();
        signals.install();
        signals
    }

    /// Whether SIGINT arrived since the last [`Signals::clear`].
    pub(crate) fn interrupted(&self) -> bool {
        self.interrupt.load(Ordering::Relaxed)
    }

    /// Lowers the interrupt flag (before an evaluation).
    pub(crate) fn clear(&self) {
        self.interrupt.store(false, Ordering::Relaxed);
    }

    /// While armed, SIGINT ends the program with 130 (waiting for input in batch mode).
    pub(crate) fn arm(&self, armed: bool) {
        self.armed.store(armed, Ordering::Relaxed);
    }
}
