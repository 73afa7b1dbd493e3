//! Conformance suite for implementations of the platform traits (feature `testing`).
//!
//! Every implementation of [`FileSystem`] runs this suite in its tests through a [`Harness`]:
//!
//! ```
//! use ppdb_platform::conformance::{run_all, Harness};
//! use ppdb_platform::FileSystem;
//!
//! struct MyHarness<F> {
//!     fs: F,
//! }
//!
//! impl<F: FileSystem> Harness for MyHarness<F> {
//!     type Fs = F;
//!     fn fs(&self) -> &F {
//!         &self.fs
//!     }
//!     // With crash support: `fn crash(&mut self) -> bool { self.fs.crash(); true }`.
//! }
//!
//! fn check_my_fs<F: FileSystem>(fs: F) {
//!     let summary = run_all(&mut MyHarness { fs });
//!     assert_eq!(summary.crash_checks_skipped, 4);
//! }
//! ```
//!
//! Each `check_*` function exercises one rule of the traits in a directory of its own under
//! `conformance/` and panics with a message naming the rule on a violation. The `check_crash_*`
//! functions check the durability contract (see the crate documentation): they call
//! [`Harness::crash`] and skip their verification, returning `false`, when the implementation
//! cannot simulate a crash. The checks expect a healthy file system: no injected faults.
//!
//! The crash checks verify the contract, not a particular model: unsynced bytes may come back old
//! or new (per [`SECTOR_SIZE`] block), unsynced entries may come back or not, renames are
//! atomic. A simulator that promises more tests the rest itself.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::{ErrorKind, File, FileSystem, OpenMode, Result, SECTOR_SIZE};

/// The directory all checks work under.
pub const ROOT_DIR: &str = "conformance";

/// What the suite needs from an implementation under test.
pub trait Harness {
    /// The file system under test.
    type Fs: FileSystem;

    /// The file system under test; after [`Harness::crash`], the file system as it is after the
    /// restart.
    fn fs(&self) -> &Self::Fs;

    /// Simulates a crash (power loss) and a restart: afterwards `fs()` shows what survived.
    /// Returns `false` if the implementation cannot simulate crashes; the crash checks are then
    /// skipped. Handles opened before the crash are dropped by the checks before they call it.
    fn crash(&mut self) -> bool {
        false
    }
}

/// What [`run_all`] ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    /// Checks that ran and passed (crash checks included when they ran).
    pub checks_passed: u32,
    /// Crash checks skipped because the harness cannot simulate crashes.
    pub crash_checks_skipped: u32,
}

/// Runs every check of the suite, the crash checks last; panics on the first violation.
pub fn run_all<H: Harness>(h: &mut H) -> Summary {
    let plain: [fn(&H); 13] = [
        check_open_modes,
        check_write_read,
        check_read_past_end,
        check_write_past_end_zero_fills,
        check_set_len,
        check_rename_replaces,
        check_remove,
        check_list,
        check_create_dir_all,
        check_exists,
        check_path_validation,
        check_shared_handles,
        check_sync,
    ];
    let crashing: [fn(&mut H) -> bool; 4] = [
        check_crash_keeps_synced,
        check_crash_unsynced_data,
        check_crash_unsynced_entries,
        check_crash_rename_atomic,
    ];
    let mut summary = Summary::default();
    for check in plain {
        check(h);
        summary.checks_passed += 1;
    }
    for check in crashing {
        if check(h) {
            summary.checks_passed += 1;
        } else {
            summary.crash_checks_skipped += 1;
        }
    }
    summary
}

/// `Existing` on a missing file is `NotFound`; `CreateNew` on an existing one is
/// `AlreadyExists`; `Create` keeps the contents; `Truncate` empties (or creates); a missing
/// parent directory is `NotFound`.
pub fn check_open_modes<H: Harness>(h: &H) {
    let fs = h.fs();
    let dir = fresh_dir(fs, "open_modes");
    let path = format!("{dir}/f");
    expect_err(
        fs.open(&path, OpenMode::Existing),
        ErrorKind::NotFound,
        "open Existing, missing",
    );
    let file = ok(
        fs.open(&path, OpenMode::CreateNew),
        "open CreateNew, missing",
    );
    assert_eq!(
        ok(file.len(), "len"),
        0,
        "conformance: CreateNew must create an empty file"
    );
    ok(file.write_at(b"hello", 0), "write_at");
    expect_err(
        fs.open(&path, OpenMode::CreateNew),
        ErrorKind::AlreadyExists,
        "CreateNew, exists",
    );
    let created = ok(fs.open(&path, OpenMode::Create), "open Create, exists");
    assert_eq!(
        read_all(&created),
        b"hello",
        "conformance: Create must keep the contents"
    );
    let existing = ok(fs.open(&path, OpenMode::Existing), "open Existing, exists");
    assert_eq!(
        read_all(&existing),
        b"hello",
        "conformance: Existing must keep the contents"
    );
    let truncated = ok(fs.open(&path, OpenMode::Truncate), "open Truncate, exists");
    assert_eq!(
        ok(truncated.len(), "len"),
        0,
        "conformance: Truncate must empty the file"
    );
    assert_eq!(
        ok(file.len(), "len"),
        0,
        "conformance: a truncation is seen by other handles"
    );
    drop((file, created, existing, truncated));

    for (name, mode) in [("t", OpenMode::Truncate), ("c", OpenMode::Create)] {
        let path = format!("{dir}/{name}");
        let file = ok(fs.open(&path, mode), "open Truncate/Create, missing");
        assert_eq!(
            ok(file.len(), "len"),
            0,
            "conformance: {mode:?} must create an empty file"
        );
        assert!(
            ok(fs.exists(&path), "exists"),
            "conformance: {mode:?} must create {path}"
        );
    }
    for mode in [
        OpenMode::Existing,
        OpenMode::Create,
        OpenMode::CreateNew,
        OpenMode::Truncate,
    ] {
        let path = format!("{dir}/missing/f");
        expect_err(
            fs.open(&path, mode),
            ErrorKind::NotFound,
            "open with a missing parent",
        );
    }
}

/// Bytes written read back, through the same handle and a new one; overwrites replace.
pub fn check_write_read<H: Harness>(h: &H) {
    let fs = h.fs();
    let dir = fresh_dir(fs, "write_read");
    let path = format!("{dir}/f");
    let file = ok(fs.open(&path, OpenMode::CreateNew), "open CreateNew");
    let mut expected = pattern(1, 10_000);
    ok(file.write_at(&expected, 0), "write_at");
    assert_eq!(
        ok(file.len(), "len"),
        10_000,
        "conformance: len after a write"
    );
    assert_eq!(
        read_all(&file),
        expected,
        "conformance: written bytes must read back"
    );
    let patch = pattern(2, 100);
    ok(file.write_at(&patch, 1000), "write_at (overwrite)");
    expected[1000..1100].copy_from_slice(&patch);
    assert_eq!(
        ok(file.len(), "len"),
        10_000,
        "conformance: an overwrite must not change len"
    );
    ok(file.write_at(&[], 500), "write_at (empty)");
    drop(file);
    let reopened = ok(fs.open(&path, OpenMode::Existing), "open Existing");
    assert_eq!(
        read_all(&reopened),
        expected,
        "conformance: an overwrite must read back"
    );
    let mut middle = [0u8; 50];
    ok(reopened.read_exact_at(&mut middle, 1075), "read_exact_at");
    assert_eq!(
        middle[..],
        expected[1075..1125],
        "conformance: read at an offset"
    );
}

/// `read_at` returns at most what is left (possibly less), 0 at or past the end and never an
/// error there; `read_exact_at` past the end is `UnexpectedEof`.
pub fn check_read_past_end<H: Harness>(h: &H) {
    let fs = h.fs();
    let dir = fresh_dir(fs, "read_past_end");
    let file = ok(
        fs.open(&format!("{dir}/f"), OpenMode::CreateNew),
        "open CreateNew",
    );
    let data = pattern(3, 100);
    ok(file.write_at(&data, 0), "write_at");

    let mut buf = vec![0u8; 200];
    let mut got = Vec::new();
    loop {
        let n = ok(file.read_at(&mut buf, got.len() as u64), "read_at");
        assert!(
            n <= buf.len(),
            "conformance: read_at returned more than the buffer"
        );
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        assert!(
            got.len() <= 100,
            "conformance: read_at returned bytes past the end"
        );
    }
    assert_eq!(
        got, data,
        "conformance: short reads must add up to the file"
    );
    for offset in [100, 101, 1_000_000] {
        let n = ok(file.read_at(&mut buf, offset), "read_at past the end");
        assert_eq!(
            n, 0,
            "conformance: read_at at/past the end (offset {offset}) must return 0"
        );
    }
    assert_eq!(
        ok(file.read_at(&mut [], 10), "read_at (empty)"),
        0,
        "conformance: empty read"
    );
    let mut ten = [0u8; 10];
    ok(
        file.read_exact_at(&mut ten, 90),
        "read_exact_at up to the end",
    );
    assert_eq!(
        ten[..],
        data[90..],
        "conformance: read_exact_at up to the end"
    );
    for offset in [95, 100, 5000] {
        expect_err(
            file.read_exact_at(&mut ten, offset),
            ErrorKind::UnexpectedEof,
            "read_exact",
        );
    }
    ok(
        file.read_exact_at(&mut [], 5000),
        "read_exact_at (empty) past the end",
    );
}

/// A write past the end extends the file and zero-fills the gap, also where a shrink cut
/// older bytes.
pub fn check_write_past_end_zero_fills<H: Harness>(h: &H) {
    let fs = h.fs();
    let dir = fresh_dir(fs, "write_gap");
    let file = ok(
        fs.open(&format!("{dir}/f"), OpenMode::CreateNew),
        "open CreateNew",
    );
    ok(file.write_at(b"abc", 1000), "write_at past the end");
    let mut expected = vec![0u8; 1003];
    expected[1000..].copy_from_slice(b"abc");
    assert_eq!(
        read_all(&file),
        expected,
        "conformance: the gap before a write must be zeros"
    );

    let file = ok(
        fs.open(&format!("{dir}/g"), OpenMode::CreateNew),
        "open CreateNew",
    );
    ok(file.write_at(&pattern(4, 100), 0), "write_at");
    ok(file.set_len(10), "set_len (shrink)");
    ok(file.write_at(b"z", 50), "write_at past the end");
    let mut expected = pattern(4, 10);
    expected.resize(50, 0);
    expected.push(b'z');
    assert_eq!(
        read_all(&file),
        expected,
        "conformance: bytes cut by set_len must not return"
    );
}

/// `set_len` shrinks (cutting the tail) and extends (with zeros).
pub fn check_set_len<H: Harness>(h: &H) {
    let fs = h.fs();
    let dir = fresh_dir(fs, "set_len");
    let file = ok(
        fs.open(&format!("{dir}/f"), OpenMode::CreateNew),
        "open CreateNew",
    );
    let data = pattern(5, 1000);
    ok(file.write_at(&data, 0), "write_at");
    ok(file.set_len(300), "set_len (shrink)");
    assert_eq!(
        read_all(&file),
        data[..300],
        "conformance: set_len must cut the tail"
    );
    ok(file.set_len(800), "set_len (extend)");
    ok(file.set_len(800), "set_len (same length)");
    let mut expected = data[..300].to_vec();
    expected.resize(800, 0);
    assert_eq!(
        read_all(&file),
        expected,
        "conformance: set_len must extend with zeros"
    );
    ok(file.set_len(0), "set_len (zero)");
    assert!(
        ok(file.is_empty(), "is_empty"),
        "conformance: set_len(0) must empty the file"
    );
    assert_eq!(
        ok(file.read_at(&mut [0u8; 8], 0), "read_at"),
        0,
        "conformance: read of empty"
    );
}

/// `rename` replaces an existing target (the old contents gone, the source name gone), moves
/// between directories, and reports a missing source or target directory as `NotFound`.
pub fn check_rename_replaces<H: Harness>(h: &H) {
    let fs = h.fs();
    let dir = fresh_dir(fs, "rename");
    let (a, b) = (format!("{dir}/a"), format!("{dir}/b"));
    ok(fs.create_dir_all(&format!("{dir}/sub")), "create_dir_all");
    write_file(fs, &a, b"new contents");
    write_file(fs, &b, b"old contents, longer");
    ok(fs.rename(&a, &b), "rename over an existing file");
    assert!(
        !ok(fs.exists(&a), "exists"),
        "conformance: rename must remove the source name"
    );
    expect_err(
        fs.open(&a, OpenMode::Existing),
        ErrorKind::NotFound,
        "open renamed source",
    );
    assert_eq!(
        read_path(fs, &b),
        b"new contents",
        "conformance: rename must replace the target"
    );
    assert_eq!(
        ok(fs.list(&dir), "list"),
        ["b", "sub"],
        "conformance: list after rename"
    );

    let c = format!("{dir}/c");
    ok(fs.rename(&b, &c), "rename to a new name");
    assert_eq!(
        read_path(fs, &c),
        b"new contents",
        "conformance: rename to a new name"
    );
    let moved = format!("{dir}/sub/d");
    ok(fs.rename(&c, &moved), "rename into a subdirectory");
    assert_eq!(
        read_path(fs, &moved),
        b"new contents",
        "conformance: rename between dirs"
    );
    assert_eq!(
        ok(fs.list(&dir), "list"),
        ["sub"],
        "conformance: list after a move"
    );

    expect_err(
        fs.rename(&a, &b),
        ErrorKind::NotFound,
        "rename of a missing file",
    );
    let orphan = format!("{dir}/missing/x");
    expect_err(
        fs.rename(&moved, &orphan),
        ErrorKind::NotFound,
        "rename into a missing dir",
    );
    assert!(
        ok(fs.exists(&moved), "exists"),
        "conformance: a failed rename must keep the source"
    );
}

/// `remove` deletes the file (then `NotFound` on open and on a second remove).
pub fn check_remove<H: Harness>(h: &H) {
    let fs = h.fs();
    let dir = fresh_dir(fs, "remove");
    let (path, other) = (format!("{dir}/f"), format!("{dir}/g"));
    write_file(fs, &path, b"doomed");
    write_file(fs, &other, b"kept");
    ok(fs.remove(&path), "remove");
    assert!(
        !ok(fs.exists(&path), "exists"),
        "conformance: remove must delete the file"
    );
    expect_err(
        fs.open(&path, OpenMode::Existing),
        ErrorKind::NotFound,
        "open after remove",
    );
    expect_err(fs.remove(&path), ErrorKind::NotFound, "second remove");
    assert_eq!(
        ok(fs.list(&dir), "list"),
        ["g"],
        "conformance: list after remove"
    );
    assert_eq!(
        read_path(fs, &other),
        b"kept",
        "conformance: remove must not touch other files"
    );
    let file = ok(
        fs.open(&path, OpenMode::CreateNew),
        "open CreateNew after remove",
    );
    assert_eq!(
        ok(file.len(), "len"),
        0,
        "conformance: a re-created file must start empty"
    );
}

/// `list` returns the names of the direct entries only (files and directories), sorted
/// bytewise; a missing directory is `NotFound`.
pub fn check_list<H: Harness>(h: &H) {
    let fs = h.fs();
    let dir = fresh_dir(fs, "list");
    for name in ["c.log", "a", "B", "a9", "a10"] {
        write_file(fs, &format!("{dir}/{name}"), name.as_bytes());
    }
    ok(
        fs.create_dir_all(&format!("{dir}/sub/deeper")),
        "create_dir_all",
    );
    write_file(fs, &format!("{dir}/sub/inner"), b"x");
    let expected = ["B", "a", "a10", "a9", "c.log", "sub"];
    assert_eq!(
        ok(fs.list(&dir), "list"),
        expected,
        "conformance: list must be sorted, direct"
    );
    let sub = ok(fs.list(&format!("{dir}/sub")), "list");
    assert_eq!(
        sub,
        ["deeper", "inner"],
        "conformance: list of a subdirectory"
    );
    assert!(
        ok(fs.list(&format!("{dir}/sub/deeper")), "list").is_empty(),
        "conformance: empty"
    );
    let root = ok(fs.list(""), "list of the root");
    assert!(
        root.iter().any(|n| n == ROOT_DIR),
        "conformance: list of the root must hold it"
    );
    expect_err(
        fs.list(&format!("{dir}/missing")),
        ErrorKind::NotFound,
        "list of a missing dir",
    );
}

/// `create_dir_all` creates the parents and is idempotent.
pub fn check_create_dir_all<H: Harness>(h: &H) {
    let fs = h.fs();
    let dir = fresh_dir(fs, "create_dir_all");
    let deep = format!("{dir}/x/y/z");
    ok(fs.create_dir_all(&deep), "create_dir_all");
    ok(fs.create_dir_all(&deep), "create_dir_all (again)");
    ok(
        fs.create_dir_all(&format!("{dir}/x")),
        "create_dir_all (an existing parent)",
    );
    ok(fs.create_dir_all(""), "create_dir_all of the root");
    for path in [format!("{dir}/x"), format!("{dir}/x/y"), deep.clone()] {
        assert!(
            ok(fs.exists(&path), "exists"),
            "conformance: create_dir_all must create {path}"
        );
    }
    assert_eq!(
        ok(fs.list(&format!("{dir}/x")), "list"),
        ["y"],
        "conformance: one level each"
    );
    write_file(fs, &format!("{deep}/f"), b"deep");
    assert_eq!(
        ok(fs.list(&deep), "list"),
        ["f"],
        "conformance: a file in a new directory"
    );
}

/// `exists` is true for files, directories and the root; false for missing paths.
pub fn check_exists<H: Harness>(h: &H) {
    let fs = h.fs();
    let dir = fresh_dir(fs, "exists");
    let file = format!("{dir}/f");
    write_file(fs, &file, b"x");
    for path in ["", dir.as_str(), file.as_str()] {
        assert!(
            ok(fs.exists(path), "exists"),
            "conformance: exists({path:?}) must be true"
        );
    }
    for path in [format!("{dir}/g"), format!("{dir}/missing/g")] {
        assert!(
            !ok(fs.exists(&path), "exists"),
            "conformance: exists({path:?}) must be false"
        );
    }
}

/// Every operation rejects absolute paths, `..`, `.`, empty components, backslashes and
/// colons with `InvalidInput`, without side effects.
pub fn check_path_validation<H: Harness>(h: &H) {
    let fs = h.fs();
    let dir = fresh_dir(fs, "path_validation");
    let good = format!("{dir}/good");
    write_file(fs, &good, b"x");
    let bad_paths = [
        String::from("/etc/ppdb-conformance"),
        format!("/{dir}/f"),
        String::from(".."),
        format!("{dir}/../f"),
        format!("{dir}/./f"),
        format!("{dir}//f"),
        format!("{dir}/"),
        format!("{dir}\\f"),
        format!("{dir}/C:f"),
    ];
    let invalid = ErrorKind::InvalidInput;
    for bad in &bad_paths {
        let bad = bad.as_str();
        expect_err(
            fs.open(bad, OpenMode::Create),
            invalid,
            "open of an invalid path",
        );
        expect_err(fs.remove(bad), invalid, "remove of an invalid path");
        expect_err(fs.rename(&good, bad), invalid, "rename to an invalid path");
        expect_err(
            fs.rename(bad, &good),
            invalid,
            "rename from an invalid path",
        );
        expect_err(fs.list(bad), invalid, "list of an invalid path");
        expect_err(
            fs.create_dir_all(bad),
            invalid,
            "create_dir_all of an invalid path",
        );
        expect_err(fs.exists(bad), invalid, "exists of an invalid path");
        expect_err(fs.sync_dir(bad), invalid, "sync_dir of an invalid path");
    }
    assert_eq!(
        ok(fs.list(&dir), "list"),
        ["good"],
        "conformance: invalid paths must not act"
    );
    assert_eq!(
        read_path(fs, &good),
        b"x",
        "conformance: invalid paths must not act"
    );
}

/// Two handles of one file see each other's writes and length changes at once.
pub fn check_shared_handles<H: Harness>(h: &H) {
    let fs = h.fs();
    let dir = fresh_dir(fs, "shared_handles");
    let path = format!("{dir}/f");
    let one = ok(fs.open(&path, OpenMode::CreateNew), "open CreateNew");
    let two = ok(fs.open(&path, OpenMode::Existing), "open Existing");
    ok(one.write_at(b"first", 0), "write_at");
    assert_eq!(
        read_all(&two),
        b"first",
        "conformance: a write must be seen by other handles"
    );
    ok(two.write_at(b"SECOND", 3), "write_at");
    assert_eq!(
        read_all(&one),
        b"firSECOND",
        "conformance: writes must be seen both ways"
    );
    ok(two.set_len(2), "set_len");
    assert_eq!(
        ok(one.len(), "len"),
        2,
        "conformance: set_len must be seen by other handles"
    );
    assert_eq!(
        read_all(&one),
        b"fi",
        "conformance: set_len must be seen by other handles"
    );
}

/// `sync_data` and `sync_dir` succeed on a healthy file system (also for an empty file and the
/// root); `sync_dir` of a missing directory is `NotFound`.
pub fn check_sync<H: Harness>(h: &H) {
    let fs = h.fs();
    let dir = fresh_dir(fs, "sync");
    let file = ok(
        fs.open(&format!("{dir}/f"), OpenMode::CreateNew),
        "open CreateNew",
    );
    ok(file.sync_data(), "sync_data of an empty file");
    ok(file.write_at(b"data", 0), "write_at");
    ok(file.sync_data(), "sync_data");
    ok(fs.sync_dir(&dir), "sync_dir");
    ok(fs.sync_dir(ROOT_DIR), "sync_dir");
    ok(fs.sync_dir(""), "sync_dir of the root");
    expect_err(
        fs.sync_dir(&format!("{dir}/missing")),
        ErrorKind::NotFound,
        "sync_dir, missing",
    );
    assert_eq!(
        read_all(&file),
        b"data",
        "conformance: sync must not change the data"
    );
}

/// Synced data in synced entries survives a crash exactly: files, rewrites and directories.
pub fn check_crash_keeps_synced<H: Harness>(h: &mut H) -> bool {
    let fs = h.fs();
    let dir = durable_dir(fs, "crash_synced");
    let mut f = pattern(10, 3000);
    let g = pattern(11, 1500);
    let sub_h = pattern(12, 700);
    {
        let file = ok(
            fs.open(&format!("{dir}/f"), OpenMode::CreateNew),
            "open CreateNew",
        );
        ok(file.write_at(&f, 0), "write_at");
        ok(file.sync_data(), "sync_data");
        let patch = pattern(13, 100);
        ok(file.write_at(&patch, 100), "write_at");
        f[100..200].copy_from_slice(&patch);
        ok(file.sync_data(), "sync_data");

        let file = ok(
            fs.open(&format!("{dir}/g"), OpenMode::CreateNew),
            "open CreateNew",
        );
        ok(file.write_at(&g[..1000], 0), "write_at");
        ok(file.sync_data(), "sync_data");
        ok(file.write_at(&g[1000..], 1000), "write_at (append)");
        ok(file.sync_data(), "sync_data");

        ok(fs.create_dir_all(&format!("{dir}/sub")), "create_dir_all");
        let file = ok(
            fs.open(&format!("{dir}/sub/h"), OpenMode::CreateNew),
            "open CreateNew",
        );
        ok(file.write_at(&sub_h, 0), "write_at");
        ok(file.sync_data(), "sync_data");
        ok(fs.sync_dir(&format!("{dir}/sub")), "sync_dir");
        ok(fs.sync_dir(&dir), "sync_dir");
    }
    if !h.crash() {
        return false;
    }
    let fs = h.fs();
    let what = "conformance: synced data must survive a crash exactly";
    assert_eq!(
        ok(fs.list(&dir), "list after crash"),
        ["f", "g", "sub"],
        "{what} (entries)"
    );
    assert_eq!(
        read_path(fs, &format!("{dir}/f")),
        f,
        "{what} (rewritten file)"
    );
    assert_eq!(
        read_path(fs, &format!("{dir}/g")),
        g,
        "{what} (appended file)"
    );
    assert_eq!(
        read_path(fs, &format!("{dir}/sub/h")),
        sub_h,
        "{what} (file in a new dir)"
    );
    true
}

/// Unsynced writes to a file whose entry is durable come back per the contract: the length
/// synced or current, untouched blocks exact, touched bytes old (zero past the synced length)
/// or new.
pub fn check_crash_unsynced_data<H: Harness>(h: &mut H) -> bool {
    let fs = h.fs();
    let dir = durable_dir(fs, "crash_unsynced");
    let sector = SECTOR_SIZE as usize;
    let synced = pattern(20, 3 * sector + 100);
    // One write inside block 1, one across the end into block 4; blocks 0 and 2 untouched.
    let writes = [
        (sector + 10, pattern(21, 20)),
        (3 * sector + 80, pattern(22, 600)),
    ];
    let fresh = [(0, pattern(23, 700))];
    {
        let file = ok(
            fs.open(&format!("{dir}/f"), OpenMode::CreateNew),
            "open CreateNew",
        );
        ok(file.write_at(&synced, 0), "write_at");
        ok(file.sync_data(), "sync_data");
        let empty = ok(
            fs.open(&format!("{dir}/e"), OpenMode::CreateNew),
            "open CreateNew",
        );
        ok(fs.sync_dir(&dir), "sync_dir");
        for (offset, data) in &writes {
            ok(file.write_at(data, *offset as u64), "write_at");
        }
        ok(empty.write_at(&fresh[0].1, 0), "write_at");
    }
    if !h.crash() {
        return false;
    }
    let fs = h.fs();
    let got = read_path(fs, &format!("{dir}/f"));
    check_unsynced_bytes("file with synced data", &got, &synced, &writes);
    let got = read_path(fs, &format!("{dir}/e"));
    check_unsynced_bytes("file never synced", &got, &[], &fresh);
    true
}

/// Unsynced entry changes may be undone by a crash, each on its own: a new file (data synced)
/// may vanish, a removed file may come back (whole), a new directory may vanish.
pub fn check_crash_unsynced_entries<H: Harness>(h: &mut H) -> bool {
    let fs = h.fs();
    let dir = durable_dir(fs, "crash_entries");
    let (new, removed) = (pattern(30, 1000), pattern(31, 600));
    write_file(fs, &format!("{dir}/removed"), &removed);
    ok(fs.sync_dir(&dir), "sync_dir");
    write_file(fs, &format!("{dir}/new"), &new);
    ok(fs.remove(&format!("{dir}/removed")), "remove");
    ok(
        fs.create_dir_all(&format!("{dir}/newdir")),
        "create_dir_all",
    );
    if !h.crash() {
        return false;
    }
    let fs = h.fs();
    let names = ok(fs.list(&dir), "list after crash");
    for name in &names {
        let path = format!("{dir}/{name}");
        match name.as_str() {
            "new" => assert_eq!(read_path(fs, &path), new, "conformance: unsynced new file"),
            "removed" => assert_eq!(
                read_path(fs, &path),
                removed,
                "conformance: unsynced remove"
            ),
            "newdir" => {
                let inner = ok(fs.list(&path), "list of an unsynced new directory");
                assert!(
                    inner.is_empty(),
                    "conformance: unsynced new dir must come back empty"
                );
            }
            other => panic!("conformance: unexpected entry {other:?} after crash in {dir}"),
        }
    }
    true
}

/// A rename over a durable file is atomic across a crash: without `sync_dir` the target holds
/// the old or the new contents (and the source is gone if it holds the new ones); after
/// `sync_dir` the new contents and no source.
pub fn check_crash_rename_atomic<H: Harness>(h: &mut H) -> bool {
    let fs = h.fs();
    let dir = durable_dir(fs, "crash_rename");
    // Two directories, so that syncing one leaves the other's rename unsynced.
    let (unsynced, synced) = (format!("{dir}/unsynced"), format!("{dir}/synced"));
    for sub in [&unsynced, &synced] {
        ok(fs.create_dir_all(sub), "create_dir_all");
        remove_files(fs, sub);
    }
    ok(fs.sync_dir(&dir), "sync_dir");
    let (old, new) = (pattern(40, 900), pattern(41, 1300));
    for sub in [&unsynced, &synced] {
        write_file(fs, &format!("{sub}/target"), &old);
        ok(fs.sync_dir(sub), "sync_dir");
        write_file(fs, &format!("{sub}/tmp"), &new);
        ok(
            fs.rename(&format!("{sub}/tmp"), &format!("{sub}/target")),
            "rename",
        );
    }
    ok(fs.sync_dir(&synced), "sync_dir");
    if !h.crash() {
        return false;
    }
    let fs = h.fs();
    let (target, tmp) = (format!("{unsynced}/target"), format!("{unsynced}/tmp"));
    let what = "conformance: an unsynced rename must be atomic";
    assert!(
        ok(fs.exists(&target), "exists"),
        "{what}: the target must never vanish"
    );
    let got = read_path(fs, &target);
    if got == new {
        assert!(
            !ok(fs.exists(&tmp), "exists"),
            "{what}: source and target both present"
        );
    } else {
        assert_eq!(
            got, old,
            "{what}: the target must hold the old or the new file"
        );
        if ok(fs.exists(&tmp), "exists") {
            assert_eq!(read_path(fs, &tmp), new, "{what}: the source must be whole");
        }
    }
    let what = "conformance: a synced rename must survive a crash";
    assert_eq!(read_path(fs, &format!("{synced}/target")), new, "{what}");
    assert_eq!(
        ok(fs.list(&synced), "list"),
        ["target"],
        "{what}: the source must be gone"
    );
    true
}

/// Checks `got` (a file after a crash) against the contract, given its synced contents and the
/// unsynced, non-overlapping `writes` (offset, bytes) issued since; the length must be the
/// synced one or the one after the writes.
#[track_caller]
fn check_unsynced_bytes(what: &str, got: &[u8], synced: &[u8], writes: &[(usize, Vec<u8>)]) {
    let end = writes.iter().map(|(o, d)| o + d.len()).max().unwrap_or(0);
    let new_len = synced.len().max(end);
    assert!(
        got.len() == synced.len() || got.len() == new_len,
        "conformance: {what}: length {} after crash, expected {} (synced) or {new_len}",
        got.len(),
        synced.len()
    );
    let sector = SECTOR_SIZE as usize;
    for (p, &byte) in got.iter().enumerate() {
        let old = synced.get(p).copied().unwrap_or(0);
        let written = writes.iter().find(|(o, d)| p >= *o && p < o + d.len());
        let touched = writes.iter().any(|(o, d)| {
            let (first, last) = (o / sector, (o + d.len() - 1) / sector);
            (first..=last).contains(&(p / sector))
        });
        let new = written.map(|(o, d)| d[p - o]);
        let allowed = if touched {
            byte == old || Some(byte) == new
        } else {
            byte == old
        };
        assert!(
            allowed,
            "conformance: {what}: byte {p} is {byte:#04x} after crash; synced {old:#04x}, \
             written {new:?}, block touched: {touched}"
        );
    }
}

/// Creates `conformance/<name>` and empties it of files left by an earlier run.
fn fresh_dir<F: FileSystem>(fs: &F, name: &str) -> String {
    let dir = format!("{ROOT_DIR}/{name}");
    ok(
        fs.create_dir_all(&dir),
        "create_dir_all of the check's directory",
    );
    remove_files(fs, &dir);
    dir
}

/// Like [`fresh_dir`], with every directory entry on the way made durable.
fn durable_dir<F: FileSystem>(fs: &F, name: &str) -> String {
    let dir = fresh_dir(fs, name);
    ok(fs.sync_dir(""), "sync_dir of the root");
    ok(fs.sync_dir(ROOT_DIR), "sync_dir");
    ok(fs.sync_dir(&dir), "sync_dir");
    dir
}

/// Removes the files under `dir`, recursively (directories stay: the traits cannot remove them).
fn remove_files<F: FileSystem>(fs: &F, dir: &str) {
    for name in ok(fs.list(dir), "list (cleanup)") {
        let path = format!("{dir}/{name}");
        if fs.remove(&path).is_err() {
            remove_files(fs, &path);
        }
    }
}

/// Creates (or replaces) the file at `path` with `data`, and syncs its data (not its entry).
fn write_file<F: FileSystem>(fs: &F, path: &str, data: &[u8]) {
    let file = ok(fs.open(path, OpenMode::Truncate), "open Truncate");
    ok(file.write_at(data, 0), "write_at");
    ok(file.sync_data(), "sync_data");
}

/// The whole contents of the file at `path`.
#[track_caller]
fn read_path<F: FileSystem>(fs: &F, path: &str) -> Vec<u8> {
    read_all(&ok(fs.open(path, OpenMode::Existing), "open Existing"))
}

/// The whole contents of `file`.
#[track_caller]
fn read_all<F: File>(file: &F) -> Vec<u8> {
    let len = ok(file.len(), "len");
    let Ok(len) = usize::try_from(len) else {
        panic!("conformance: file length {len} does not fit in memory");
    };
    let mut buf = vec![0u8; len];
    ok(
        file.read_exact_at(&mut buf, 0),
        "read_exact_at of the whole file",
    );
    buf
}

/// `len` bytes of a pattern that depends on `seed` and never contains zero (so that zero-filled
/// bytes stand out).
fn pattern(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 31 + usize::from(seed) * 7) % 251) as u8 + 1)
        .collect()
}

/// The value of `result`, or a panic naming the operation.
#[track_caller]
fn ok<T>(result: Result<T>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("conformance: {what}: unexpected error: {e}"),
    }
}

/// Panics unless `result` is an error of `kind`.
#[track_caller]
fn expect_err<T>(result: Result<T>, kind: ErrorKind, what: &str) {
    match result {
        Ok(_) => panic!("conformance: {what}: expected a {kind:?} error, got Ok"),
        Err(e) if e.kind() == kind => {}
        Err(e) => panic!(
            "conformance: {what}: expected a {kind:?} error, got {:?} ({e})",
            e.kind()
        ),
    }
}
