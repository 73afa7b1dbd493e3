//! Runs the `ppdb` command-line tools (`cli`, `run`, `shell`, `dump`, `load`) for the `cli_*`
//! tests, with a clean environment and a time limit.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the helpers"
)]

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long one command may run before the test fails.
pub(crate) const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// Environment variables the command line reads; cleared so the tests' own environment cannot
/// change what they test.
const CLI_VARIABLES: &[&str] = &["PPDB_URL", "PPDB_HISTORY"];

/// The examples directory of the repository.
pub(crate) fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/lisp")
}

/// `ppdb ARGS` with a clean environment.
pub(crate) fn ppdb(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ppdb"));
    command.args(args);
    for name in CLI_VARIABLES {
        command.env_remove(name);
    }
    command
}

/// `-H HOST -p PORT` for a server.
pub(crate) fn server_args(addr: SocketAddr) -> Vec<String> {
    vec![
        "-H".to_string(),
        addr.ip().to_string(),
        "-p".to_string(),
        addr.port().to_string(),
    ]
}

/// What a finished command did.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) status: ExitStatus,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: String,
}

impl Outcome {
    /// The exit code (panics if a signal ended the process).
    pub(crate) fn code(&self) -> i32 {
        self.status.code().expect("exited, not killed by a signal")
    }

    /// Standard output as text.
    pub(crate) fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// Waits for `child` (killing it after [`RUN_TIMEOUT`]) and collects its output.
pub(crate) fn finish(mut child: Child) -> Outcome {
    let mut stdout = child.stdout.take().expect("stdout piped");
    let mut stderr = child.stderr.take().expect("stderr piped");
    let out_thread = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err_thread = thread::spawn(move || {
        let mut buf = String::new();
        let _ = stderr.read_to_string(&mut buf);
        buf
    });
    let deadline = Instant::now() + RUN_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("the command ran longer than {RUN_TIMEOUT:?}");
        }
        thread::sleep(Duration::from_millis(10));
    };
    Outcome {
        status,
        stdout: out_thread.join().expect("stdout reader"),
        stderr: err_thread.join().expect("stderr reader"),
    }
}

/// Runs `command` with `stdin` as its standard input.
pub(crate) fn run_with_input(mut command: Command, stdin: &[u8]) -> Outcome {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ppdb");
    let mut input = child.stdin.take().expect("stdin piped");
    let stdin = stdin.to_vec();
    let writer = thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let outcome = finish(child);
    writer.join().expect("stdin writer");
    outcome
}

/// Runs `command` with no standard input.
pub(crate) fn run(command: Command) -> Outcome {
    run_with_input(command, b"")
}

/// Sends a signal (`INT`, `TERM`...) to a process with kill(1).
pub(crate) fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args(["-s", name, &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -s {name} failed");
}
