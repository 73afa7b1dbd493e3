//! Each fault knob of `SimFs`: error probabilities, bit flips, short reads, disk full,
//! countdowns, counters, and failing every operation of a workload in turn.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail the test by panicking"
)]

use ppdb_platform::{ErrorKind, File, FileSystem, OpenMode};
use ppdb_platform_sim::{Faults, Op, SimFs};

fn file_with(fs: &SimFs, path: &str, data: &[u8]) -> ppdb_platform_sim::SimFile {
    let file = fs.open(path, OpenMode::Truncate).unwrap();
    file.write_at(data, 0).unwrap();
    file
}

#[test]
fn write_errors_change_nothing() {
    let fs = SimFs::new(1);
    let file = file_with(&fs, "f", b"before");
    fs.set_write_error_probability(1.0);
    assert_eq!(
        file.write_at(b"after!", 0).unwrap_err().kind(),
        ErrorKind::Other
    );
    assert_eq!(file.set_len(0).unwrap_err().kind(), ErrorKind::Other);
    assert_eq!(fs.peek("f").unwrap(), b"before");

    fs.set_write_error_probability(0.5);
    let failed = (0..1000u64)
        .filter(|&i| file.write_at(b"x", i).is_err())
        .count();
    assert!((400..600).contains(&failed), "{failed}");
    assert_eq!(fs.counters().faults_injected, 2 + failed as u64);
}

#[test]
fn read_errors() {
    let fs = SimFs::new(2);
    let file = file_with(&fs, "f", b"data");
    fs.set_read_error_probability(1.0);
    assert_eq!(
        file.read_at(&mut [0; 4], 0).unwrap_err().kind(),
        ErrorKind::Other
    );
    assert!(file.read_exact_at(&mut [0; 4], 0).is_err());
    fs.heal();
    let mut buf = [0; 4];
    file.read_exact_at(&mut buf, 0).unwrap();
    assert_eq!(&buf, b"data");
}

#[test]
fn bit_flips_corrupt_the_read_not_the_file() {
    let fs = SimFs::new(3);
    let data: Vec<u8> = (0..=255).collect();
    let file = file_with(&fs, "f", &data);
    fs.set_bit_flip_probability(1.0);
    for _ in 0..50 {
        let mut buf = vec![0; 256];
        file.read_exact_at(&mut buf, 0).unwrap();
        let flipped: u32 = buf
            .iter()
            .zip(&data)
            .map(|(a, b)| (a ^ b).count_ones())
            .sum();
        assert_eq!(flipped, 1, "exactly one bit must flip");
    }
    assert_eq!(fs.peek("f").unwrap(), data, "the file must be unchanged");
    fs.set_bit_flip_probability(0.0);
    let mut buf = vec![0; 256];
    file.read_exact_at(&mut buf, 0).unwrap();
    assert_eq!(buf, data);
}

#[test]
fn short_reads_return_less_but_add_up() {
    let fs = SimFs::new(4);
    let data = vec![7u8; 1000];
    let file = file_with(&fs, "f", &data);
    fs.set_short_read_probability(1.0);
    let mut buf = vec![0; 1000];
    let n = file.read_at(&mut buf, 0).unwrap();
    assert!((1..1000).contains(&n), "{n}");
    file.read_exact_at(&mut buf, 0).unwrap();
    assert_eq!(buf, data);
    assert!(fs.counters().reads > 2);
}

#[test]
fn sync_errors_are_injected_per_probability() {
    let fs = SimFs::with_faults(
        5,
        Faults {
            sync_error_probability: 0.3,
            ..Faults::NONE
        },
    );
    let file = file_with(&fs, "f", b"x");
    let failed = (0..1000).filter(|_| file.sync_data().is_err()).count();
    assert!((200..400).contains(&failed), "{failed}");
}

#[test]
fn disk_full_then_recovers_after_remove_or_shrink() {
    let fs = SimFs::new(6);
    fs.set_capacity_bytes(Some(1000));
    let a = file_with(&fs, "a", &[1; 600]);
    let b = file_with(&fs, "b", &[2; 300]);
    assert_eq!(fs.used_bytes(), 900);
    let e = b.write_at(&[2; 200], 300).unwrap_err();
    assert_eq!((e.kind(), e.os_code()), (ErrorKind::NoSpace, None));
    assert_eq!(b.set_len(501).unwrap_err().kind(), ErrorKind::NoSpace);
    assert_eq!(
        fs.peek("b").unwrap(),
        [2; 300],
        "a failed write must change nothing"
    );
    b.write_at(&[3; 300], 0).unwrap();
    b.write_at(&[3; 100], 300).unwrap();
    assert_eq!(
        b.write_at(&[3], 400).unwrap_err().kind(),
        ErrorKind::NoSpace
    );

    a.set_len(100).unwrap();
    b.write_at(&[3; 500], 400).unwrap();
    assert_eq!(fs.used_bytes(), 1000);
    assert_eq!(file_with_err(&fs, "c"), ErrorKind::NoSpace);
    drop(a);
    fs.remove("a").unwrap();
    file_with(&fs, "c", &[4; 100]);
    fs.set_capacity_bytes(None);
    b.write_at(&[5; 10_000], 0).unwrap();
}

fn file_with_err(fs: &SimFs, path: &str) -> ErrorKind {
    let file = fs.open(path, OpenMode::Truncate).unwrap();
    file.write_at(&[0; 10], 0).unwrap_err().kind()
}

#[test]
fn countdowns_fail_exactly_the_nth_operation_once() {
    let fs = SimFs::new(7);
    let file = file_with(&fs, "f", b"abc");
    fs.fail_nth_io(3);
    assert!(file.len().is_ok());
    assert!(fs.exists("f").is_ok());
    assert_eq!(fs.list("").unwrap_err().kind(), ErrorKind::Other);
    assert!(fs.list("").is_ok());

    fs.fail_nth_op(Op::Write, 2);
    file.write_at(b"1", 0).unwrap();
    assert!(file.sync_data().is_ok(), "other operations do not count");
    assert!(file.write_at(b"2", 0).is_err());
    file.write_at(b"3", 0).unwrap();

    fs.fail_nth_op(Op::SyncData, 1);
    fs.heal();
    file.sync_data().unwrap();
}

#[test]
fn counters_count_every_call() {
    let fs = SimFs::new(8);
    fs.create_dir_all("d").unwrap();
    let file = fs.open("d/f", OpenMode::CreateNew).unwrap();
    file.write_at(b"hello", 0).unwrap();
    file.write_at(b"!", 5).unwrap();
    file.sync_data().unwrap();
    fs.sync_dir("d").unwrap();
    let mut buf = [0; 6];
    file.read_exact_at(&mut buf, 0).unwrap();
    let _ = fs.open("d/missing", OpenMode::Existing);
    fs.rename("d/f", "d/g").unwrap();
    fs.remove("d/g").unwrap();
    fs.list("d").unwrap();
    assert!(
        fs.exists("/invalid").is_err(),
        "invalid paths are not counted"
    );
    let c = fs.counters();
    assert_eq!(
        (c.dir_creates, c.opens, c.writes, c.syncs, c.dir_syncs),
        (1, 2, 2, 1, 1)
    );
    assert_eq!(
        (c.reads, c.renames, c.removes, c.lists, c.exists_checks),
        (1, 1, 1, 1, 0)
    );
    assert_eq!((c.bytes_written, c.bytes_read), (6, 6));
    assert_eq!(c.io_total(), 11);
    assert_eq!(c.ops(Op::Write), 2);
    fs.reset_counters();
    assert_eq!(fs.counters().io_total(), 0);
}

/// Replaces `CURRENT` atomically; stops at the first error, as the engine would.
fn replace_current(fs: &SimFs, contents: &[u8]) -> ppdb_platform::Result<()> {
    let tmp = fs.open("CURRENT.tmp", OpenMode::Truncate)?;
    tmp.write_at(contents, 0)?;
    tmp.sync_data()?;
    drop(tmp);
    fs.rename("CURRENT.tmp", "CURRENT")?;
    fs.sync_dir("")
}

#[test]
fn failing_every_operation_in_turn_never_breaks_an_atomic_replace() {
    let (old, new) = (vec![1u8; 700], vec![2u8; 1100]);
    let setup = |seed| {
        let fs = SimFs::new(seed);
        replace_current(&fs, &old).unwrap();
        fs.reset_counters();
        fs
    };
    let fs = setup(0);
    replace_current(&fs, &new).unwrap();
    let total = fs.counters().io_total();
    assert_eq!(total, 5);
    for n in 1..=total {
        for seed in 0..16 {
            let fs = setup(seed);
            fs.fail_nth_io(n);
            let result = replace_current(&fs, &new);
            assert!(result.is_err(), "operation {n} must fail");
            fs.crash();
            let current = fs.peek("CURRENT").unwrap();
            assert!(
                current == old || current == new,
                "seed {seed}, failing op {n}"
            );
        }
    }
}
