//! Compiles `examples/c/example.c` with a C compiler against the library cargo just built
//! (`libppdb.a`, and `libppdb.so` on Linux), runs it, and checks what it prints.
//!
//! The compiler is `$CC` or `gcc`. The system libraries the Rust standard library needs are
//! those `cargo rustc -p ppdb-ffi --crate-type staticlib -- --print native-static-libs`
//! prints; `$PPDB_NATIVE_LIBS` overrides the built-in list. Only on Linux and macOS: with
//! MSVC the library is `ppdb.lib` and the compiler is another story (see docs/embedding.md).
#![cfg(any(target_os = "linux", target_os = "macos"))]
#![expect(clippy::unwrap_used, reason = "a test fails by panicking")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The directory cargo puts this package's libraries in: the test binary lives in its `deps/`.
fn artifact_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().to_path_buf()
}

/// Builds the C libraries into [`artifact_dir`], with the profile of this test. `cargo test`
/// alone does not: it builds a library for integration tests only if it has an rlib, and this
/// one has none (see Cargo.toml).
fn build_libraries() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let dir = artifact_dir();
            let profile = dir.file_name().unwrap().to_str().unwrap().to_owned();
            let mut command = Command::new(std::env::var("CARGO").unwrap());
            command
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .args(["build", "--quiet", "-p", "ppdb-ffi", "--lib", "--profile"])
                .arg(if profile == "debug" { "dev" } else { &profile });
            // `TARGET_DIR/PROFILE`, or `TARGET_DIR/TRIPLE/PROFILE` for an explicit --target;
            // cargo marks the target directory's root with CACHEDIR.TAG.
            let parent = dir.parent().unwrap();
            if parent.join("CACHEDIR.TAG").exists() {
                command.arg("--target-dir").arg(parent);
            } else {
                let triple = parent.file_name().unwrap();
                command.arg("--target").arg(triple);
                command.arg("--target-dir").arg(parent.parent().unwrap());
            }
            let status = command.status().unwrap();
            assert!(status.success(), "cargo build -p ppdb-ffi failed");
            dir
        })
        .clone()
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn native_libs() -> Vec<String> {
    if let Ok(libs) = std::env::var("PPDB_NATIVE_LIBS") {
        return libs.split_whitespace().map(str::to_owned).collect();
    }
    let libs: &[&str] = if cfg!(target_os = "macos") {
        &["-liconv", "-lSystem", "-lc", "-lm"]
    } else {
        &[
            "-lgcc_s",
            "-lutil",
            "-lrt",
            "-lpthread",
            "-lm",
            "-ldl",
            "-lc",
        ]
    };
    libs.iter().map(|s| (*s).to_owned()).collect()
}

/// Compiles the example, linked with `link` (the library and what it needs), into `exe`.
fn compile(link: &[String], exe: &Path) {
    let root = repo_root();
    let cc = std::env::var("CC").unwrap_or_else(|_| "gcc".to_owned());
    let output = Command::new(&cc)
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-I"])
        .arg(root.join("ffi/include"))
        .arg(root.join("examples/c/example.c"))
        .args(link)
        .arg("-o")
        .arg(exe)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the C compiler {cc:?}: {e}"));
    assert!(
        output.status.success(),
        "{cc} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn check_run(output: &Output) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the example failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    for line in [
        "get greeting = hello (flags 42, version ",
        "snapshot sees greeting = hello",
        "second transaction: PPDB_CONFLICT",
        "counter = 115",
        "iter fruit:apple",
        "iter fruit:cherry",
        "empty key: invalid key: 0 bytes",
        "data_dir: reopened, kept = on disk",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
    assert!(!stdout.contains("fruit:banana"), "{stdout}");
    assert_eq!(stdout.lines().last(), Some("ok"), "{stdout}");
}

#[test]
fn c_example_runs_against_the_static_library() {
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("example");
    let library = build_libraries().join("libppdb.a");
    assert!(library.exists(), "{} is missing", library.display());
    let mut link = vec![library.display().to_string()];
    link.extend(native_libs());
    compile(&link, &exe);
    check_run(
        &Command::new(&exe)
            .arg(dir.path().join("data"))
            .output()
            .unwrap(),
    );
}

#[cfg(target_os = "linux")]
#[test]
fn c_example_runs_against_the_shared_library() {
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("example");
    let lib_dir = build_libraries();
    // Link against a copy so the runtime search path names only this directory.
    std::fs::copy(lib_dir.join("libppdb.so"), dir.path().join("libppdb.so")).unwrap();
    let link = [
        format!("-L{}", dir.path().display()),
        "-lppdb".to_owned(),
        format!("-Wl,-rpath,{}", dir.path().display()),
    ];
    compile(&link, &exe);
    check_run(
        &Command::new(&exe)
            .arg(dir.path().join("data"))
            .output()
            .unwrap(),
    );
}
