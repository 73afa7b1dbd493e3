//! `include/ppdb.h` must be what cbindgen generates from the current source.
//!
//! The test runs `cbindgen` (or `$CBINDGEN`) and compares. The header is pinned to cbindgen
//! 0.24.3 (Debian 12's; `cargo install cbindgen --version 0.24.3 --locked` elsewhere), since
//! other versions format differently. Without that cbindgen the test says so and passes,
//! unless `PPDB_REQUIRE_CBINDGEN` is set, as CI does (`.ci/portability` installs it).

use std::path::Path;
use std::process::Command;

/// The cbindgen version the committed header was generated with.
const CBINDGEN_VERSION: &str = "0.24.3";

/// Why the check cannot run here, or `None` if it can.
fn cbindgen_missing(cbindgen: &str) -> Option<String> {
    match Command::new(cbindgen).arg("--version").output() {
        Err(e) => Some(format!("cannot run {cbindgen:?}: {e}")),
        Ok(output) => {
            let version = String::from_utf8_lossy(&output.stdout);
            let version = version.trim();
            (version != format!("cbindgen {CBINDGEN_VERSION}")).then(|| {
                format!("{cbindgen:?} is {version:?}, the header is pinned to {CBINDGEN_VERSION}")
            })
        }
    }
}

#[test]
fn header_is_fresh() {
    let cbindgen = std::env::var("CBINDGEN").unwrap_or_else(|_| "cbindgen".to_owned());
    if let Some(why) = cbindgen_missing(&cbindgen) {
        assert!(
            std::env::var_os("PPDB_REQUIRE_CBINDGEN").is_none(),
            "PPDB_REQUIRE_CBINDGEN is set but {why}"
        );
        eprintln!("header_is_fresh: not checked: {why}");
        return;
    }
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let generated = dir.path().join("ppdb.h");
    let output = Command::new(&cbindgen)
        .current_dir(crate_dir)
        .args([
            "--config",
            "cbindgen.toml",
            "--crate",
            "ppdb-ffi",
            "--quiet",
            "--output",
        ])
        .arg(&generated)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cbindgen failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let fresh = std::fs::read_to_string(&generated).unwrap();
    let committed = std::fs::read_to_string(crate_dir.join("include/ppdb.h")).unwrap();
    if fresh != committed {
        let line = fresh
            .lines()
            .zip(committed.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| fresh.lines().count().min(committed.lines().count()));
        panic!(
            "ffi/include/ppdb.h is stale (first difference at line {}): regenerate it with\n  \
             cd ffi && cbindgen --config cbindgen.toml --crate ppdb-ffi --output include/ppdb.h\n\
             generated: {:?}\ncommitted: {:?}",
            line + 1,
            fresh.lines().nth(line),
            committed.lines().nth(line)
        );
    }
}
