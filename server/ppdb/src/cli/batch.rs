//! Non-interactive input: `-e EXPR`, piped standard input, and script files.
//!
//! All of them stop at the first error and exit with its code. Piped input is evaluated form
//! by form as it arrives (a form may span lines), each form with a fresh budget, and results
//! are echoed; a script is one evaluation whose output is only what it prints.

use std::io::BufRead;

use ppdb_lisp::{is_incomplete, Error, Pos};

use super::session::{Host, Session};
use super::{EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK};

/// Evaluates each `-e` expression (one budget each) and echoes the results.
pub(crate) fn exprs<H: Host>(session: &mut Session<H>, exprs: &[String]) -> u8 {
    for text in exprs {
        session.begin_input();
        let forms = match session.lisp.read(text, Pos::START) {
            Ok(forms) => forms,
            Err(e) => return session.report(Some("-e"), &e),
        };
        for form in &forms {
            let result = session.eval_form(form, true).and_then(|()| session.flush());
            if let Err(e) = result {
                return session.report(Some("-e"), &e);
            }
        }
    }
    EXIT_OK
}

/// Evaluates the forms of `input` as they arrive, echoing each result.
pub(crate) fn stream<H: Host, R: BufRead>(
    session: &mut Session<H>,
    mut input: R,
    origin: &str,
) -> u8 {
    let mut buffer = String::new();
    let mut start_line = 1u32;
    let mut line_no = 0u32;
    let mut raw = Vec::new();
    loop {
        raw.clear();
        // Waiting for input there is nothing to interrupt: Ctrl-C ends the program.
        session.signals.arm(true);
        let read = input.read_until(b'\n', &mut raw);
        session.signals.arm(false);
        if session.signals.interrupted() {
            return EXIT_INTERRUPTED;
        }
        let n = match read {
            Ok(n) => n,
            Err(e) => {
                eprintln!("{origin}: cannot read: {e}");
                return EXIT_ERROR;
            }
        };
        if n > 0 {
            line_no = line_no.saturating_add(1);
            let Ok(line) = std::str::from_utf8(&raw) else {
                eprintln!("{origin}:{line_no}: the input is not UTF-8 text");
                return EXIT_ERROR;
            };
            if buffer.trim().is_empty() {
                buffer.clear();
                start_line = line_no;
            }
            buffer.push_str(line);
            if is_incomplete(&buffer) {
                continue;
            }
        }
        if let Err(e) = eval_echo(session, &buffer, start_line) {
            return session.report(Some(origin), &e);
        }
        buffer.clear();
        if n == 0 {
            return EXIT_OK;
        }
    }
}

fn eval_echo<H: Host>(session: &mut Session<H>, text: &str, start_line: u32) -> Result<(), Error> {
    let forms = session.lisp.read(text, Pos::new(start_line, 1))?;
    for form in &forms {
        session.begin_input();
        session.eval_form(form, true)?;
    }
    session.flush()
}

/// Runs a script: one evaluation of all its forms, no echo.
pub(crate) fn script<H: Host>(session: &mut Session<H>, text: &str, origin: &str) -> u8 {
    let forms = match session.lisp.read(text, Pos::START) {
        Ok(forms) => forms,
        Err(e) => return session.report(Some(origin), &e),
    };
    session.begin_input();
    for form in &forms {
        if let Err(e) = session.eval_form(form, false) {
            return session.report(Some(origin), &e);
        }
    }
    match session.flush() {
        Ok(()) => EXIT_OK,
        Err(e) => session.report(Some(origin), &e),
    }
}
