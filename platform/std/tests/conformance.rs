//! The platform conformance suite on a temporary directory (no crash checks: a real file system
//! cannot be made to lose power from a test).
#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail the test by panicking"
)]

use ppdb_platform::conformance::{self, Harness};
use ppdb_platform_std::StdFs;

struct TempHarness {
    _dir: tempfile::TempDir,
    fs: StdFs,
}

impl TempHarness {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let fs = StdFs::new(dir.path());
        TempHarness { _dir: dir, fs }
    }
}

impl Harness for TempHarness {
    type Fs = StdFs;

    fn fs(&self) -> &StdFs {
        &self.fs
    }
}

#[test]
fn conformance_suite_passes() {
    let summary = conformance::run_all(&mut TempHarness::new());
    assert_eq!(summary.crash_checks_skipped, 4);
    assert!(summary.checks_passed >= 13, "{summary:?}");
}

#[test]
fn conformance_suite_is_rerunnable_in_one_root() {
    let mut harness = TempHarness::new();
    conformance::run_all(&mut harness);
    conformance::run_all(&mut harness);
}
