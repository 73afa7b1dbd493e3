//! Evaluator tests: the language, every evaluation error with its position, and every limit.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cell::Cell;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::backend::{Backend, Entry, Store, StoreMode, StoreOutcome, TxnBody};
use crate::error::{Error, ErrorKind, Limit, Pos, Result};
use crate::eval::{Interpreter, Limits};
use crate::value::Value;

/// A database over a `BTreeMap`, with a settable clock and captured output.
#[derive(Default, Clone)]
struct MapDb {
    items: BTreeMap<Vec<u8>, Entry>,
    cas_next: u64,
    out: Vec<u8>,
    /// Added to the clock at every reading.
    clock_step_ms: u64,
    clock_ms: Cell<u64>,
    /// Raised by `print` when set (to test interrupts).
    interrupt_on_print: Option<Arc<AtomicBool>>,
    /// With `txn`: conflicts to report before a commit succeeds.
    conflicts: u32,
    txn_runs: u32,
    transactions: bool,
}

impl MapDb {
    fn output(&self) -> String {
        String::from_utf8_lossy(&self.out).into_owned()
    }
}

impl Backend for MapDb {
    fn now_ms(&self) -> u64 {
        let now = self.clock_ms.get() + self.clock_step_ms;
        self.clock_ms.set(now);
        now
    }

    fn print(&mut self, bytes: &[u8]) -> Result<()> {
        self.out.extend_from_slice(bytes);
        if let Some(flag) = &self.interrupt_on_print {
            flag.store(true, Ordering::Relaxed);
        }
        Ok(())
    }

    fn get(&mut self, key: &[u8]) -> Result<Option<Entry>> {
        Ok(self.items.get(key).cloned())
    }

    fn store(&mut self, s: Store<'_>) -> Result<StoreOutcome> {
        self.cas_next += 1;
        let cas = self.cas_next;
        let old = self.items.get(s.key).cloned();
        let new_value = match (s.mode, &old) {
            (StoreMode::Add, Some(_)) => return Ok(StoreOutcome::NotStored),
            (StoreMode::Replace | StoreMode::Append | StoreMode::Prepend, None) => {
                return Ok(StoreOutcome::NotStored)
            }
            (StoreMode::Cas(_), None) => return Ok(StoreOutcome::NotFound),
            (StoreMode::Cas(c), Some(e)) if e.cas != c => return Ok(StoreOutcome::Exists),
            (StoreMode::Append, Some(e)) => [&e.value[..], s.value].concat(),
            (StoreMode::Prepend, Some(e)) => [s.value, &e.value[..]].concat(),
            _ => s.value.to_vec(),
        };
        let flags = match (s.mode, &old) {
            (StoreMode::Append | StoreMode::Prepend, Some(e)) => e.flags,
            _ => s.flags,
        };
        let entry = Entry {
            value: new_value,
            flags,
            cas,
        };
        self.items.insert(s.key.to_vec(), entry);
        Ok(StoreOutcome::Stored)
    }

    fn delete(&mut self, key: &[u8]) -> Result<bool> {
        Ok(self.items.remove(key).is_some())
    }

    fn incr(&mut self, key: &[u8], delta: u64, decrement: bool) -> Result<Option<u64>> {
        let Some(e) = self.items.get_mut(key) else {
            return Ok(None);
        };
        let n: u64 = core::str::from_utf8(&e.value)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| Error::db("cannot increment or decrement non-numeric value"))?;
        let n = if decrement {
            n.saturating_sub(delta)
        } else {
            n.wrapping_add(delta)
        };
        e.value = n.to_string().into_bytes();
        Ok(Some(n))
    }

    fn touch(&mut self, key: &[u8], _exptime: i64) -> Result<bool> {
        Ok(self.items.contains_key(key))
    }

    fn flush(&mut self, _delay: u32) -> Result<()> {
        self.items.clear();
        Ok(())
    }

    fn stats(&mut self, group: Option<&str>) -> Result<Vec<(String, String)>> {
        match group {
            None => Ok(alloc::vec![
                ("curr_items".into(), self.items.len().to_string()),
                ("version".into(), "test 1.0".into()),
            ]),
            Some(g) => Err(Error::db(alloc::format!("no stats group {g}"))),
        }
    }

    fn keys(&mut self, prefix: &[u8], limit: usize) -> Result<Vec<Vec<u8>>> {
        Ok(self
            .items
            .keys()
            .filter(|k| k.starts_with(prefix))
            .take(limit)
            .cloned()
            .collect())
    }

    fn transaction(&mut self, body: &mut TxnBody<'_>) -> Result<Value> {
        if !self.transactions {
            return Err(Error::db("txn needs the embedded mode"));
        }
        loop {
            self.txn_runs += 1;
            let mut copy = MapDb {
                transactions: false,
                ..self.clone()
            };
            let value = body(&mut copy)?;
            if self.conflicts > 0 {
                self.conflicts -= 1;
                continue;
            }
            self.items = copy.items;
            self.cas_next = copy.cas_next;
            self.out = copy.out;
            return Ok(value);
        }
    }
}

fn lisp() -> Interpreter {
    Interpreter::new(Limits::default())
}

fn eval_with(text: &str, db: &mut MapDb) -> Result<Value> {
    lisp().eval_str(text, db)
}

/// Evaluates `text` and returns the result as written.
fn ev(text: &str) -> String {
    match eval_with(text, &mut MapDb::default()) {
        Ok(v) => v.repr(),
        Err(e) => panic!("{text}: {e}"),
    }
}

fn fails(text: &str) -> Error {
    match eval_with(text, &mut MapDb::default()) {
        Ok(v) => panic!("{text}: expected an error, got {}", v.repr()),
        Err(e) => e,
    }
}

#[test]
fn atoms_evaluate_to_themselves() {
    assert_eq!(ev("42"), "42");
    assert_eq!(ev("-1.5"), "-1.5");
    assert_eq!(ev("\"hi\""), "\"hi\"");
    assert_eq!(ev("nil"), "nil");
    assert_eq!(ev("true"), "true");
    assert_eq!(ev("()"), "()");
    assert_eq!(ev("'sym"), "sym");
    assert_eq!(ev("'(1 (2 x))"), "(1 (2 x))");
    assert_eq!(ev("(quote (a b))"), "(a b)");
    assert_eq!(ev(""), "nil");
}

#[test]
fn arithmetic() {
    assert_eq!(ev("(+)"), "0");
    assert_eq!(ev("(+ 1 2 3)"), "6");
    assert_eq!(ev("(+ 1 2.5)"), "3.5");
    assert_eq!(ev("(- 5)"), "-5");
    assert_eq!(ev("(- 10 1 2)"), "7");
    assert_eq!(ev("(* 2 3 4)"), "24");
    assert_eq!(ev("(/ 7 2)"), "3");
    assert_eq!(ev("(/ 7.0 2)"), "3.5");
    assert_eq!(ev("(/ 2)"), "0");
    assert_eq!(ev("(mod -7 3)"), "2");
    assert_eq!(ev("(mod 7.5 2)"), "1.5");
    assert_eq!(ev("(abs -3)"), "3");
    assert_eq!(ev("(min 3 1 2)"), "1");
    assert_eq!(ev("(max 3 1.5 2)"), "3");
    assert_eq!(ev("(int 3.9)"), "3");
    assert_eq!(ev("(int \"42\")"), "42");
    assert_eq!(ev("(float 2)"), "2.0");
    assert_eq!(ev("(float \"2.5\")"), "2.5");
}

#[test]
fn comparison_logic_and_types() {
    assert_eq!(ev("(= 1 1 1)"), "true");
    assert_eq!(ev("(= 1 1.0)"), "true");
    assert_eq!(ev("(= '(1 \"a\") (list 1 \"a\"))"), "true");
    assert_eq!(ev("(!= 1 2)"), "true");
    assert_eq!(ev("(< 1 2 3)"), "true");
    assert_eq!(ev("(< 1 3 2)"), "false");
    assert_eq!(ev("(<= 1 1 2)"), "true");
    assert_eq!(ev("(> \"b\" \"a\")"), "true");
    assert_eq!(ev("(>= 2 2.0)"), "true");
    assert_eq!(ev("(not nil)"), "true");
    assert_eq!(ev("(not 0)"), "false");
    assert_eq!(ev("(type 1.0)"), "float");
    assert_eq!(ev("(type first)"), "function");
    assert_eq!(
        ev("(list (nil? nil) (number? 1) (string? \"\") (list? '()) (fn? +))"),
        "(true true true true true)"
    );
}

#[test]
fn strings() {
    assert_eq!(
        ev(r#"(str "a" 1 'b 2.5 nil '("q"))"#),
        r#""a1b2.5nil(\"q\")""#
    );
    assert_eq!(ev(r#"(concat "ab" "cd")"#), r#""abcd""#);
    assert_eq!(ev(r#"(concat '(1) '(2 3) nil)"#), "(1 2 3)");
    assert_eq!(ev(r#"(length "héllo")"#), "6");
    assert_eq!(ev(r#"(slice "hello" 1 3)"#), r#""el""#);
    assert_eq!(ev(r#"(slice "hello" -3)"#), r#""llo""#);
    assert_eq!(ev(r#"(slice "hello" 3 100)"#), r#""lo""#);
    assert_eq!(ev(r#"(slice '(1 2 3 4) 1 -1)"#), "(2 3)");
    assert_eq!(
        ev(r#"(format "{} has {} {{items}}" "cart" 3)"#),
        r#""cart has 3 {items}""#
    );
    assert_eq!(ev(r#"(parse-int " 42 ")"#), "42");
    assert_eq!(ev(r#"(parse-int "-17")"#), "-17");
    assert_eq!(ev(r#"(parse-int "ff" 16)"#), "255");
    assert_eq!(ev(r#"(parse-int "4x")"#), "nil");
    assert_eq!(ev(r#"(parse-float "2.5")"#), "2.5");
    assert_eq!(ev(r#"(parse-float "nan")"#), "nil");
    assert_eq!(ev(r#"(split "a,b,,c" ",")"#), r#"("a" "b" "" "c")"#);
    assert_eq!(ev(r#"(join '("a" 1 b) "-")"#), r#""a-1-b""#);
    assert_eq!(
        ev(r#"(list (upper "aé") (lower "AB") (trim "  x \n"))"#),
        r#"("Aé" "ab" "x")"#
    );
    assert_eq!(
        ev(r#"(list (starts-with? "user:1" "user:") (ends-with? "a.txt" ".txt"))"#),
        "(true true)"
    );
    assert_eq!(
        ev(r#"(list (contains? "hello" "ell") (contains? '(1 2) 2) (contains? '(1 2) 3))"#),
        "(true true false)"
    );
    assert_eq!(ev(r#"(reverse "abc")"#), r#""cba""#);
    assert_eq!(ev(r#""\xff\x00""#), r#""\xff\0""#);
}

#[test]
fn lists() {
    assert_eq!(ev("(list 1 (+ 1 1) 'x)"), "(1 2 x)");
    assert_eq!(ev("(cons 0 '(1 2))"), "(0 1 2)");
    assert_eq!(ev("(cons 0 nil)"), "(0)");
    assert_eq!(ev("(first '(1 2))"), "1");
    assert_eq!(ev("(first '())"), "nil");
    assert_eq!(ev("(rest '(1 2 3))"), "(2 3)");
    assert_eq!(ev("(rest '())"), "()");
    assert_eq!(ev("(rest nil)"), "()");
    assert_eq!(ev("(nth '(a b c) 1)"), "b");
    assert_eq!(ev("(nth '(a b c) 5)"), "nil");
    assert_eq!(ev("(last '(a b c))"), "c");
    assert_eq!(ev("(reverse '(1 2 3))"), "(3 2 1)");
    assert_eq!(
        ev("(list (empty? '()) (empty? nil) (empty? \"\") (empty? '(1)))"),
        "(true true true false)"
    );
    assert_eq!(ev("(range 4)"), "(0 1 2 3)");
    assert_eq!(ev("(range 2 5)"), "(2 3 4)");
    assert_eq!(ev("(range 10 0 -3)"), "(10 7 4 1)");
    assert_eq!(ev("(range 5 2)"), "()");
    assert_eq!(ev("(sort '(3 1 2))"), "(1 2 3)");
    assert_eq!(ev("(sort '(\"b\" \"a\"))"), "(\"a\" \"b\")");
    assert_eq!(ev("(map (lambda (x) (* x x)) '(1 2 3))"), "(1 4 9)");
    assert_eq!(ev("(map first '((1 2) (3 4)))"), "(1 3)");
    assert_eq!(ev("(map + nil)"), "()");
    assert_eq!(ev("(filter (lambda (x) (> x 1)) '(1 2 3))"), "(2 3)");
    assert_eq!(ev("(fold + 0 '(1 2 3 4))"), "10");
    assert_eq!(
        ev("(fold (lambda (acc x) (cons x acc)) '() '(1 2 3))"),
        "(3 2 1)"
    );
    assert_eq!(ev("(apply + '(1 2 3))"), "6");
    assert_eq!(ev("(apply (lambda (a &rest r) r) '(1 2 3))"), "(2 3)");
    assert_eq!(ev("(length (rest (rest '(1 2 3))))"), "1");
}

#[test]
fn special_forms() {
    assert_eq!(ev("(if true 1 2)"), "1");
    assert_eq!(ev("(if nil 1 2)"), "2");
    assert_eq!(ev("(if false 1)"), "nil");
    assert_eq!(ev("(if 0 'zero-is-true 'no)"), "zero-is-true");
    assert_eq!(ev("(cond ((= 1 2) 'a) ((= 1 1) 'b) (else 'c))"), "b");
    assert_eq!(ev("(cond (nil 'a) (else 'c))"), "c");
    assert_eq!(ev("(cond (nil 'a))"), "nil");
    assert_eq!(ev("(cond (42))"), "42");
    assert_eq!(ev("(let ((x 1) (y (+ x 1))) (list x y))"), "(1 2)");
    assert_eq!(ev("(let () 5)"), "5");
    assert_eq!(ev("(define x 5) (set! x (+ x 1)) x"), "6");
    assert_eq!(ev("(define (f a b) (- a b)) (f 5 3)"), "2");
    assert_eq!(ev("(define (f &rest xs) xs) (f 1 2)"), "(1 2)");
    assert_eq!(ev("(define (f) 1 2 3) (f)"), "3");
    assert_eq!(ev("((lambda (x) (* 2 x)) 21)"), "42");
    assert_eq!(ev("(begin 1 2 3)"), "3");
    assert_eq!(ev("(begin)"), "nil");
    assert_eq!(
        ev("(list (and) (and 1 2) (and 1 nil 2) (or) (or nil 3) (or nil false))"),
        "(true 2 nil nil 3 false)"
    );
    assert_eq!(
        ev("(define i 0) (define s 0) (while (< i 5) (set! s (+ s i)) (set! i (+ i 1))) s"),
        "10"
    );
    assert_eq!(
        ev("(define s 0) (for (x '(1 2 3)) (set! s (+ s x))) s"),
        "6"
    );
    assert_eq!(ev("(define s 0) (for (i 4) (set! s (+ s i))) s"), "6");
    assert_eq!(ev("(for (i nil) (error \"never\"))"), "nil");
    assert_eq!(
        ev("(try (error \"boom {}\" 1) (catch e (str \"caught: \" e)))"),
        "\"caught: boom 1\""
    );
    assert_eq!(ev("(try (+ 1 \"a\"))"), "nil");
    assert_eq!(ev("(try 1 2)"), "2");
    assert_eq!(ev("(try (car 1) (catch e e))"), "\"unbound symbol `car`\"");
}

#[test]
fn closures_capture_their_scope() {
    let text = "
        (define (counter)
          (let ((n 0))
            (lambda () (set! n (+ n 1)) n)))
        (define c (counter))
        (c) (c)
        (list (c) ((counter)))";
    assert_eq!(ev(text), "(3 1)");
    assert_eq!(
        ev("(define (adder n) (lambda (x) (+ x n))) ((adder 3) 4)"),
        "7"
    );
    assert_eq!(ev("(define f (lambda (x) x)) f"), "#<fn f>");
    assert_eq!(ev("+"), "#<builtin +>");
    assert_eq!(ev("(define (f) (define y 2) y) (f)"), "2");
    let e = fails("(define (f) (define y 2) y) (f) y");
    assert!(e.message.contains("unbound symbol `y`"), "{e}");
}

#[test]
fn tail_calls_run_in_constant_space() {
    let text = "(define (loop n acc) (if (= n 0) acc (loop (- n 1) (+ acc 1)))) (loop 100000 0)";
    assert_eq!(ev(text), "100000");
    let text = "(define (even? n) (if (= n 0) true (odd? (- n 1))))
                (define (odd? n) (if (= n 0) false (even? (- n 1))))
                (even? 20001)";
    assert_eq!(ev(text), "false");
    // Non-tail recursion works up to the depth cap.
    let text = "(define (sum n) (if (= n 0) 0 (+ n (sum (- n 1))))) (sum 1000)";
    assert_eq!(ev(text), "500500");
}

#[test]
fn printing_goes_to_the_backend() {
    let mut db = MapDb::default();
    eval_with(
        r#"(print "a" 1) (println " b" '("c")) (print "\xff")"#,
        &mut db,
    )
    .unwrap();
    assert_eq!(db.out, b"a 1 b (\"c\")\n\xff");
}

#[test]
fn help_lists_and_explains() {
    let mut db = MapDb::default();
    eval_with("(help)", &mut db).unwrap();
    let text = db.output();
    assert!(text.contains("special forms:") && text.contains("txn") && text.contains("database:"));
    for b in crate::builtins::all() {
        assert!(text.contains(b.name), "{} is listed", b.name);
    }
    let mut db = MapDb::default();
    eval_with(
        "(help set) (help \"if\") (help nope) (define (f a &rest b) a) (help f)",
        &mut db,
    )
    .unwrap();
    let text = db.output();
    assert!(text.contains("(set key value [ttl [flags]])"), "{text}");
    assert!(text.contains("(if test then [else])"), "{text}");
    assert!(text.contains("no help for `nope`"), "{text}");
    assert!(text.contains("(f a &rest b)"), "{text}");
}

#[test]
fn database_builtins() {
    let mut db = MapDb::default();
    let text = r#"
        (list
          (set "a" "1") (get "a") (get "missing")
          (add "a" "x") (add "b" 2) (replace "zz" "x") (replace "b" "3")
          (append "a" "0") (prepend "a" "-") (get "a")
          (incr "b" 5) (decr "b") (incr "nope")
          (delete "b") (delete "b")
          (touch "a" 10) (touch "b" 10)
          (keys) (keys "a") (scan "a")
          (first (stats)))"#;
    let v = eval_with(text, &mut db).unwrap();
    assert_eq!(
        v.repr(),
        concat!(
            r#"(true "1" nil false true false true true true "-10" 8 7 nil true false "#,
            r#"true false ("a") ("a") (("a" "-10")) ("curr_items" 1))"#
        )
    );
    let text = r#"
        (set 'k "v" 0 7)
        (define item (gets 'k))
        (list (nth item 1)
              (cas 'k "w" (nth item 2))
              (cas 'k "x" (nth item 2))
              (cas 'missing "x" 1)
              (get 'k)
              (set 42 3.5) (get "42")
              (flush) (keys))"#;
    assert_eq!(
        eval_with(text, &mut db).unwrap().repr(),
        r#"(7 true false nil "w" true "3.5" true ())"#
    );
}

#[test]
fn database_errors_are_catchable() {
    let mut db = MapDb::default();
    let e = eval_with("(set \"s\" \"abc\")\n(incr \"s\")", &mut db).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Db);
    assert_eq!(e.pos, Some(Pos::new(2, 1)));
    let v = eval_with("(try (incr \"s\") (catch e e))", &mut db).unwrap();
    assert_eq!(
        v.repr(),
        "\"cannot increment or decrement non-numeric value\""
    );
    let e = eval_with("(stats \"slabs\")", &mut db).unwrap_err();
    assert_eq!(e.to_string(), "1:1: database error: no stats group slabs");
}

#[test]
fn transactions_retry_and_commit_atomically() {
    let mut db = MapDb {
        transactions: true,
        conflicts: 2,
        ..MapDb::default()
    };
    let text = r#"(set "n" "1") (txn (set "n" (+ 1 (parse-int (get "n")))) (set "m" "x") 'done)"#;
    let v = eval_with(text, &mut db).unwrap();
    assert_eq!(v.repr(), "done");
    assert_eq!(db.txn_runs, 3, "two conflicts, then the commit");
    assert_eq!(db.items.get(&b"n"[..]).unwrap().value, b"2");
    // An error inside aborts: nothing is written.
    let e = eval_with(r#"(txn (set "n" "9") (error "stop"))"#, &mut db).unwrap_err();
    assert_eq!(e.kind, ErrorKind::User);
    assert_eq!(db.items.get(&b"n"[..]).unwrap().value, b"2");
    let v = eval_with(
        r#"(try (txn (set "n" "9") (error "stop")) (catch e e))"#,
        &mut db,
    );
    assert_eq!(v.unwrap().repr(), "\"stop\"");
    let e = eval_with("(txn (txn 1))", &mut db).unwrap_err();
    assert!(e.message.contains("cannot nest"), "{e}");
    assert_eq!(e.pos, Some(Pos::new(1, 6)));
}

#[test]
fn transactions_need_a_backend_that_has_them() {
    let e = fails("\n  (txn (set \"a\" \"b\"))");
    assert_eq!(e.kind, ErrorKind::Db);
    assert_eq!(e.pos, Some(Pos::new(2, 3)));
    assert!(e.message.contains("embedded mode"), "{e}");
}

/// Every evaluation error, with the position it reports.
#[test]
fn every_evaluation_error_has_its_position() {
    let cases: &[(&str, Pos, &str)] = &[
        (
            "(+ 1\n   undefined-thing)",
            Pos::new(2, 4),
            "unbound symbol `undefined-thing`",
        ),
        ("  nope", Pos::new(1, 3), "unbound symbol `nope`"),
        ("(list if)", Pos::new(1, 7), "`if` is a special form"),
        ("(1 2)", Pos::new(1, 1), "int 1 is not a function"),
        ("(\"f\")", Pos::new(1, 1), "string \"f\" is not a function"),
        ("(first)", Pos::new(1, 1), "`first` takes 1 argument, got 0"),
        (
            "(slice \"a\")",
            Pos::new(1, 1),
            "`slice` takes 2 to 3 arguments, got 1",
        ),
        (
            "(-)",
            Pos::new(1, 1),
            "`-` takes at least 1 argument, got 0",
        ),
        (
            "(define (f a) a)\n(f)",
            Pos::new(2, 1),
            "`f` takes 1 argument, got 0",
        ),
        (
            "((lambda (a &rest b) a))",
            Pos::new(1, 1),
            "`fn` takes at least 1 argument",
        ),
        (
            "(+ 1 \"2\")",
            Pos::new(1, 1),
            "`+`: argument 2 must be a number, got string \"2\"",
        ),
        ("(< 1 \"a\")", Pos::new(1, 1), "cannot compare"),
        ("(/ 1 0)", Pos::new(1, 1), "division by zero"),
        ("(mod 1 0)", Pos::new(1, 1), "division by zero"),
        (
            "(+ 9223372036854775807 1)",
            Pos::new(1, 1),
            "integer overflow",
        ),
        (
            "(- -9223372036854775808)",
            Pos::new(1, 1),
            "integer overflow",
        ),
        ("(int 1e300)", Pos::new(1, 1), "out of the integer range"),
        ("(int \"x\")", Pos::new(1, 1), "argument 1 must be"),
        ("(set! zz 1)", Pos::new(1, 1), "`zz` is not defined"),
        ("(quote)", Pos::new(1, 1), "malformed `quote`"),
        ("(if)", Pos::new(1, 1), "malformed `if`"),
        ("(if 1 2 3 4)", Pos::new(1, 1), "malformed `if`"),
        ("(cond 5)", Pos::new(1, 7), "a cond clause must be a list"),
        ("(cond ())", Pos::new(1, 7), "malformed `cond`"),
        ("(let)", Pos::new(1, 1), "malformed `let`"),
        (
            "(let x 1)",
            Pos::new(1, 6),
            "the bindings of `let` must be a list",
        ),
        ("(let ((x)) 1)", Pos::new(1, 7), "malformed `let`"),
        ("(let ((1 2)) 1)", Pos::new(1, 8), "must be a symbol"),
        ("(define)", Pos::new(1, 1), "malformed `define`"),
        ("(define x)", Pos::new(1, 1), "malformed `define`"),
        ("(define 5 1)", Pos::new(1, 1), "malformed `define`"),
        (
            "(define if 1)",
            Pos::new(1, 9),
            "cannot bind `if`: it is a special form",
        ),
        (
            "(define (f 1) 1)",
            Pos::new(1, 12),
            "a parameter must be a symbol",
        ),
        ("(lambda)", Pos::new(1, 1), "malformed `lambda`"),
        (
            "(lambda x 1)",
            Pos::new(1, 9),
            "the parameters of `lambda` must be a list",
        ),
        (
            "(lambda (a a) 1)",
            Pos::new(1, 12),
            "parameter `a` appears twice",
        ),
        (
            "(lambda (&rest) 1)",
            Pos::new(1, 10),
            "`&rest` must be followed by exactly one name",
        ),
        (
            "(lambda (&rest a b) 1)",
            Pos::new(1, 10),
            "`&rest` must be followed",
        ),
        ("(while)", Pos::new(1, 1), "malformed `while`"),
        ("(for x 1)", Pos::new(1, 1), "malformed `for`"),
        ("(for (x) 1)", Pos::new(1, 6), "malformed `for`"),
        (
            "(for (x \"s\") 1)",
            Pos::new(1, 1),
            "expected a list or a count",
        ),
        ("(try 1 (catch))", Pos::new(1, 8), "malformed `catch`"),
        (
            "(try 1 (catch 5 1))",
            Pos::new(1, 15),
            "the name in `catch` must be a symbol",
        ),
        ("(help 1)", Pos::new(1, 1), "malformed `help`"),
        ("(error \"bad {}\" 'thing)", Pos::new(1, 1), "bad thing"),
        (
            "(format \"{}\")",
            Pos::new(1, 1),
            "more {} than the 0 arguments",
        ),
        ("(format \"{\" 1)", Pos::new(1, 1), "unmatched `{`"),
        (
            "(format \"x\" 1)",
            Pos::new(1, 1),
            "1 arguments given but the template has 0",
        ),
        ("(range 1 2 0)", Pos::new(1, 1), "the step must not be 0"),
        (
            "(sort '(1 \"a\"))",
            Pos::new(1, 1),
            "`sort`: cannot compare",
        ),
        ("(split \"a\" \"\")", Pos::new(1, 1), "must not be empty"),
        ("(map 1 '(1))", Pos::new(1, 1), "int 1 is not a function"),
        (
            "(map + 5)",
            Pos::new(1, 1),
            "`map`: argument 2 must be a list",
        ),
        (
            "(set \"k\" '(1))",
            Pos::new(1, 1),
            "`set`: argument 2 must be a string or a number",
        ),
        (
            "(set \"k\" \"v\" 0 -1)",
            Pos::new(1, 1),
            "flags from 0 to 4294967295",
        ),
        ("(get '(1))", Pos::new(1, 1), "argument 1 must be a key"),
        ("(incr \"k\" -1)", Pos::new(1, 1), "a delta of 0 or more"),
        ("(keys \"a\" -1)", Pos::new(1, 1), "a limit of 0 or more"),
        (
            "(define (f x) (g x))\n(define (g x) (h x))\n(f 1)",
            Pos::new(2, 16),
            "unbound symbol `h`",
        ),
    ];
    for (text, pos, message) in cases {
        let e = fails(text);
        assert_eq!(e.pos, Some(*pos), "{text}: {e}");
        assert!(e.message.contains(message), "{text}: {e}");
        assert!(e.is_catchable(), "{text}: {e}");
    }
}

#[test]
fn reader_errors_come_through_eval_str() {
    let e = fails("(+ 1 2))");
    assert_eq!(e.kind, ErrorKind::Syntax);
    assert_eq!(
        e.to_string(),
        "1:8: syntax error: unexpected `)` with no open list"
    );
}

fn limited(limits: Limits) -> Interpreter {
    Interpreter::new(limits)
}

#[test]
fn step_budget_stops_endless_loops() {
    let mut lisp = limited(Limits {
        steps_max: 10_000,
        ..Limits::default()
    });
    let e = lisp
        .eval_str("(define (f) (f))\n(f)", &mut MapDb::default())
        .unwrap_err();
    assert_eq!(e.limit_hit(), Some(Limit::Steps));
    assert_eq!(
        e.to_string(),
        "1:13: limit reached: step limit of 10000 exceeded"
    );
    let e = lisp
        .eval_str("(while true nil)", &mut MapDb::default())
        .unwrap_err();
    assert_eq!(e.limit_hit(), Some(Limit::Steps));
    // The budget starts again with each evaluation.
    assert_eq!(
        lisp.eval_str("(+ 1 2)", &mut MapDb::default())
            .unwrap()
            .repr(),
        "3"
    );
}

#[test]
fn limits_cannot_be_caught() {
    let mut lisp = limited(Limits {
        steps_max: 1000,
        ..Limits::default()
    });
    let e = lisp
        .eval_str(
            "(try (while true nil) (catch e 'caught))",
            &mut MapDb::default(),
        )
        .unwrap_err();
    assert_eq!(e.limit_hit(), Some(Limit::Steps));
    assert!(!e.is_catchable());
}

#[test]
fn deep_recursion_hits_the_depth_cap_not_the_native_stack() {
    let mut lisp = lisp();
    let text = "(define (sum n) (if (= n 0) 0 (+ n (sum (- n 1)))))\n(sum 1000000)";
    let e = lisp.eval_str(text, &mut MapDb::default()).unwrap_err();
    assert_eq!(e.limit_hit(), Some(Limit::Depth));
    assert!(e.message.contains("recursion depth limit of 10000"), "{e}");
    assert!(e.pos.is_some());
    // Deeply nested calls count too.
    let mut lisp = limited(Limits {
        depth_max: 50,
        ..Limits::default()
    });
    let mut text = String::new();
    for _ in 0..100 {
        text.push_str("(+ 1 ");
    }
    text.push('0');
    for _ in 0..100 {
        text.push(')');
    }
    let e = lisp.eval_str(&text, &mut MapDb::default()).unwrap_err();
    assert_eq!(e.limit_hit(), Some(Limit::Depth));
    // Recursion through map and fold is bounded the same way.
    let text = "(define (deep n) (if (= n 0) '() (map (lambda (x) x) (list (deep (- n 1))))))\n\
                (deep 100000)";
    let e = lisp.eval_str(text, &mut MapDb::default()).unwrap_err();
    assert_eq!(e.limit_hit(), Some(Limit::Depth));
}

#[test]
fn deep_nesting_in_input_is_a_clean_error() {
    let mut text: String = core::iter::repeat_n('(', 100_000).collect();
    text.push('1');
    let e = fails(&text);
    assert_eq!(e.limit_hit(), Some(Limit::Nesting));
    assert_eq!(e.pos, Some(Pos::new(1, 1001)));
    // Just under the cap evaluates (a deeply nested quoted list prints and compares).
    let mut text = String::from("(define a '");
    text.extend(core::iter::repeat_n('(', 998));
    text.extend(core::iter::repeat_n(')', 998));
    text.push_str(")\n(= a a)");
    assert_eq!(ev(&text), "true");
}

#[test]
fn deep_nesting_in_data_is_a_clean_error() {
    let text = "(define (wrap x n) (if (= n 0) x (wrap (list x) (- n 1))))\n(wrap 1 5000)";
    let e = fails(text);
    assert_eq!(e.limit_hit(), Some(Limit::Nesting));
    assert_eq!(e.pos, Some(Pos::new(1, 40)));
    // At the cap, printing, comparing and dropping such data is fine.
    let text = "(define (wrap x n) (if (= n 0) x (wrap (list x) (- n 1))))\n\
                (define a (wrap 1 999)) (define b (wrap 1 999))\n\
                (list (= a b) (< a b) (length (str a)))";
    assert_eq!(ev(text), "(true false 1999)");
}

#[test]
fn long_chains_of_closures_drop_without_recursion() {
    // Each closure captures the previous one: a long chain.
    let text = "(define (chain f n) (if (= n 0) f (chain (lambda () f) (- n 1))))\n\
                (define c (chain nil 100000)) (set! c nil) 'ok";
    let mut lisp = lisp();
    let before = lisp.meter().used();
    assert_eq!(
        lisp.eval_str(text, &mut MapDb::default()).unwrap().repr(),
        "ok"
    );
    assert!(lisp.meter().used() < before + 4096, "the chain was freed");
    // Dropping the interpreter with such a chain in a global is fine too.
    let mut lisp2 = Interpreter::new(Limits::default());
    lisp2
        .eval_str(
            "(define (chain f n) (if (= n 0) f (chain (lambda () f) (- n 1))))\n\
                   (define c (chain nil 100000))",
            &mut MapDb::default(),
        )
        .unwrap();
    drop(lisp2);
}

#[test]
fn memory_budget_counts_live_values() {
    let mut lisp = limited(Limits {
        memory_bytes_max: 1 << 20,
        ..Limits::default()
    });
    let mut db = MapDb::default();
    // A string that doubles until it passes the budget.
    let e = lisp
        .eval_str("(define s \"x\")\n(while true (set! s (str s s)))", &mut db)
        .unwrap_err();
    assert_eq!(e.limit_hit(), Some(Limit::Memory));
    assert_eq!(e.pos, Some(Pos::new(2, 21)));
    // A huge list is refused before it is allocated.
    let e = lisp.eval_str("(range 1000000000000)", &mut db).unwrap_err();
    assert_eq!(e.limit_hit(), Some(Limit::Memory));
    // Memory freed is memory available again: many short-lived values fit.
    lisp.eval_str("(set! s nil)", &mut db).unwrap();
    let v = lisp
        .eval_str(
            "(define n 0) (for (i 2000) (set! n (+ n (length (range 1000))))) n",
            &mut db,
        )
        .unwrap();
    assert_eq!(v.repr(), "2000000");
    assert!(lisp.meter().peak() <= 1 << 20);
    // Memory errors are not catchable.
    let e = lisp
        .eval_str("(try (range 1000000000000) (catch e 'caught))", &mut db)
        .unwrap_err();
    assert_eq!(e.limit_hit(), Some(Limit::Memory));
}

#[test]
fn timeout_reads_the_backend_clock() {
    let mut lisp = limited(Limits {
        timeout_ms: 1000,
        ..Limits::default()
    });
    let mut db = MapDb {
        clock_step_ms: 10,
        ..MapDb::default()
    };
    let e = lisp.eval_str("(while true nil)", &mut db).unwrap_err();
    assert_eq!(e.limit_hit(), Some(Limit::Timeout));
    assert!(
        e.to_string()
            .ends_with(": limit reached: timeout of 1000 ms exceeded"),
        "{e}"
    );
    assert!(e.pos.is_some());
    // The clock is read every CLOCK_EVERY_STEPS steps: about 100 readings of 10 ms.
    let steps = lisp.steps();
    assert!(steps > 90 * crate::CLOCK_EVERY_STEPS && steps < 110 * crate::CLOCK_EVERY_STEPS);
    // A quick evaluation is not affected.
    assert_eq!(lisp.eval_str("(+ 1 1)", &mut db).unwrap().repr(), "2");
}

#[test]
fn interrupt_flag_stops_at_the_next_step() {
    let flag = Arc::new(AtomicBool::new(false));
    let mut lisp = lisp();
    lisp.set_interrupt(flag.clone());
    let mut db = MapDb {
        interrupt_on_print: Some(flag.clone()),
        ..MapDb::default()
    };
    let e = lisp
        .eval_str(
            "(define n 0)\n(while true (set! n (+ n 1)) (if (= n 1000) (print \"x\")))",
            &mut db,
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Interrupted);
    assert!(!e.is_catchable());
    assert_eq!(lisp.global("n").unwrap().repr(), "1000");
    let e = lisp
        .eval_str("(try (while true nil) (catch e 'caught))", &mut db)
        .unwrap_err();
    assert_eq!(
        e.kind,
        ErrorKind::Interrupted,
        "try does not catch an interrupt"
    );
    flag.store(false, Ordering::Relaxed);
    assert_eq!(lisp.eval_str("(+ 1 1)", &mut db).unwrap().repr(), "2");
}

#[test]
fn completion_names_include_definitions() {
    let mut lisp = lisp();
    lisp.eval_str("(define my-thing 1)", &mut MapDb::default())
        .unwrap();
    let names = lisp.names();
    for name in ["get", "set", "txn", "lambda", "my-thing", "parse-int"] {
        assert!(names.iter().any(|n| n == name), "{name}");
    }
}
