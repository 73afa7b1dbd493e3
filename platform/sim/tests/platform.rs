//! `SimPlatform`: one seed, shared clones, usable wherever a `Platform` is expected.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail the test by panicking"
)]

use std::time::Duration;

use ppdb_platform::{Clock, File, FileSystem, OpenMode, Platform};
use ppdb_platform_sim::{Faults, SimClock, SimPlatform};

/// What the engine does: only the `Platform` trait.
fn stamp<P: Platform>(platform: &P) -> u64 {
    let now = platform.clock().unix_time_secs();
    let file = platform.fs().open("stamp", OpenMode::Create).unwrap();
    file.write_at(&now.to_le_bytes(), 0).unwrap();
    file.sync_data().unwrap();
    now
}

#[test]
fn clones_share_the_file_system_and_the_clock() {
    let platform = SimPlatform::new(11);
    let engine = platform.clone();
    platform.clock.advance(Duration::from_secs(60));
    let stamped = stamp(&engine);
    assert_eq!(stamped, SimClock::START_UNIX_SECS + 60);
    assert_eq!(platform.fs.peek("stamp").unwrap(), stamped.to_le_bytes());
    assert_eq!(platform.seed(), 11);
    assert_eq!(engine.clock().now(), platform.clock.now());
}

#[test]
fn faults_apply_to_the_platform_fs() {
    let faults = Faults {
        capacity_bytes: Some(4),
        ..Faults::NONE
    };
    let platform = SimPlatform::with_faults(12, faults);
    let file = platform.fs().open("f", OpenMode::Create).unwrap();
    assert!(file.write_at(&[0; 5], 0).is_err());
    assert_eq!(platform.fs.faults().capacity_bytes, Some(4));
}
