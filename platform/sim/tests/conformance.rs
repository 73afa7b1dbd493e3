//! The platform conformance suite on the simulator, crash checks included, across seeds and
//! crash models.

use ppdb_platform::conformance::{self, Harness};
use ppdb_platform_sim::{Faults, SimFs, TornWrites};

struct SimHarness {
    fs: SimFs,
}

impl Harness for SimHarness {
    type Fs = SimFs;

    fn fs(&self) -> &SimFs {
        &self.fs
    }

    fn crash(&mut self) -> bool {
        self.fs.crash();
        true
    }
}

fn run(seed: u64, faults: Faults) {
    let mut harness = SimHarness {
        fs: SimFs::with_faults(seed, faults),
    };
    let summary = conformance::run_all(&mut harness);
    assert_eq!(summary.crash_checks_skipped, 0, "seed {seed}");
    assert_eq!(summary.checks_passed, 17, "seed {seed}");
}

#[test]
fn conformance_across_seeds_and_crash_models() {
    for torn_writes in [
        TornWrites::Never,
        TornWrites::Sectors,
        TornWrites::WithinSectors,
    ] {
        for crash_keep_probability in [0.0, 0.5, 1.0] {
            for seed in 0..40 {
                run(
                    seed,
                    Faults {
                        torn_writes,
                        crash_keep_probability,
                        ..Faults::NONE
                    },
                );
            }
        }
    }
}

#[test]
fn conformance_with_short_reads() {
    for seed in 0..10 {
        run(
            seed,
            Faults {
                short_read_probability: 0.5,
                ..Faults::NONE
            },
        );
    }
}

#[test]
fn conformance_is_rerunnable_after_crashes() {
    let mut harness = SimHarness { fs: SimFs::new(5) };
    conformance::run_all(&mut harness);
    conformance::run_all(&mut harness);
}
