//! `ppdb shell`: the language on the embedded engine. `--memory` has transactions and native
//! scans; `--data-dir` locks the directory first, so it never opens one another process holds.

mod cli_common;

use cli_common::{ppdb, run, run_with_input};
use ppdb::cli::lock::DirLock;

#[test]
fn memory_shell_with_transactions_and_scans() {
    let script = br#"
(set "acct:a" 10) (set "acct:b" 5) (set "other" "x")
(txn (set "acct:a" (- (parse-int (get "acct:a")) 3))
     (set "acct:b" (+ (parse-int (get "acct:b")) 3))
     (keys "acct:"))
(scan "acct:")
(try (txn (set "acct:a" 0) (error "abort")) (catch e e))
(get "acct:a")
(list (add "acct:a" 1) (replace "acct:c" 1) (append "other" "y") (get "other"))
(define item (gets "other"))
(list (cas "other" "z" (nth item 2)) (cas "other" "w" (nth item 2)) (get "other"))
(list (incr "acct:b" 2) (decr "acct:b" 100) (incr "nope"))
(list (touch "other" 100) (delete "other") (delete "other") (touch "other" 1))
(set "gone" "v" -1)
(get "gone")
(first (stats))
(flush)
(keys)
"#;
    let outcome = run_with_input(ppdb(&["shell", "--memory", "-o", "json"]), script);
    assert_eq!(outcome.code(), 0, "{}", outcome.stderr);
    let expected = r#"true
true
true
["acct:a","acct:b"]
[["acct:a","7"],["acct:b","8"]]
"abort"
"7"
[false,false,true,"xy"]
[true,false,"z"]
[10,0,null]
[true,true,false,false]
true
null
["curr_items",2]
true
[]
"#;
    assert_eq!(outcome.out(), expected);
}

#[test]
fn a_locked_data_dir_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let held = DirLock::acquire(dir.path()).unwrap();
    let outcome = run(ppdb(&[
        "shell",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "-e",
        "1",
    ]));
    assert_eq!(outcome.code(), 1);
    assert!(outcome.stderr.contains("cannot lock"), "{}", outcome.stderr);
    assert!(
        outcome.stderr.contains("held by another process"),
        "{}",
        outcome.stderr
    );
    drop(held);

    // Free: the shell takes the lock and opens the directory in disk mode; what one shell
    // writes, the next one reads.
    let data = dir.path().to_str().unwrap();
    let outcome = run(ppdb(&[
        "shell",
        "--data-dir",
        data,
        "-e",
        "(set \"k\" \"41\")",
        "-e",
        "(incr \"k\")",
    ]));
    assert_eq!(outcome.code(), 0, "{}", outcome.stderr);
    let outcome = run(ppdb(&["shell", "--data-dir", data, "-e", "(get \"k\")"]));
    assert_eq!(outcome.code(), 0, "{}", outcome.stderr);
    assert_eq!(String::from_utf8_lossy(&outcome.stdout).trim(), "42");
    // The lock file stays; the lock itself ended with each process.
    assert!(dir.path().join("LOCK").exists());
}
