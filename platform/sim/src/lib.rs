//! # ppdb-platform-sim: a deterministic simulator of the platform traits
//!
//! [`SimPlatform`] runs the engine on an in-memory file system ([`SimFs`]) and a clock that
//! moves only when told to ([`SimClock`]). Everything random (injected faults, what a crash
//! keeps) comes from one `u64` seed, so a failing run is reproduced by its seed.
//!
//! ## The crash model
//!
//! Each file keeps *live* bytes (what reads see) and *durable* bytes (what survives a crash);
//! `sync_data` copies live to durable. Directory entries likewise have a live and a durable
//! namespace; a create, remove, rename or new directory becomes durable at `sync_dir` of its
//! parent (both parents for a rename across directories). [`SimFs::crash`] then:
//!
//! - reverts every entry to its durable state, except that each unsynced entry change is kept
//!   with probability [`Faults::crash_keep_probability`], independently and in order; a rename
//!   is kept whole or not at all, so its target never vanishes; entries whose directory did not
//!   survive are dropped;
//! - reverts every file to its durable bytes, except that per [`TornWrites`] each 512-byte
//!   sector written since the last successful sync may come back new (or torn: new bytes then
//!   old ones), and the length may be the synced one or the current one;
//! - kills every handle opened before: their operations return `ErrorKind::Other`.
//!
//! A failed `sync_data` or `sync_dir` makes nothing durable. The model keeps no older
//! intermediate versions: an unsynced sector comes back as synced or as last written.
//!
//! ## Fault injection
//!
//! [`Faults`] (at creation or through the setters of [`SimFs`]) sets error probabilities for
//! writes, syncs and reads, bit flips and short reads on read, and a capacity after which
//! writes fail with `NoSpace`. [`SimFs::fail_nth_io`] and [`SimFs::fail_nth_op`] fail one
//! chosen operation, so that a test can fail each operation of a workload in turn;
//! [`SimFs::counters`] counts operations.
//!
//! `docs/platform.md` lists what the simulator does not model.

mod clock;
mod data;
mod faults;
mod fs;
mod namespace;
mod rng;

pub use clock::SimClock;
pub use faults::{Counters, Faults, Op, TornWrites};
pub use fs::{CrashReport, SimFile, SimFs, FILE_SIZE_MAX_BYTES};
pub use rng::SplitMix64;

use ppdb_platform::Platform;

/// The simulated environment the engine runs on: a [`SimFs`] and a [`SimClock`]. Clones share
/// both, so a test keeps one to crash the disk and move the clock under the engine.
#[derive(Debug, Clone)]
pub struct SimPlatform {
    /// The simulated file system.
    pub fs: SimFs,
    /// The simulated clock.
    pub clock: SimClock,
}

impl SimPlatform {
    /// A platform without faults, from `seed`.
    pub fn new(seed: u64) -> Self {
        SimPlatform::with_faults(seed, Faults::NONE)
    }

    /// A platform with the given fault knobs, from `seed`.
    pub fn with_faults(seed: u64, faults: Faults) -> Self {
        SimPlatform {
            fs: SimFs::with_faults(seed, faults),
            clock: SimClock::new(),
        }
    }

    /// The seed the platform was made from.
    pub fn seed(&self) -> u64 {
        self.fs.seed()
    }
}

impl Platform for SimPlatform {
    type Fs = SimFs;
    type Clock = SimClock;

    fn fs(&self) -> &SimFs {
        &self.fs
    }

    fn clock(&self) -> &SimClock {
        &self.clock
    }
}
