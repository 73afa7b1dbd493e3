//! The interactive REPL (standard input is a terminal): a line editor with a history file,
//! multi-line input (Enter inside an open list or string continues the input), matching
//! brackets highlighted, and Tab completion of special forms, built-ins and definitions.
//!
//! Ctrl-C while typing clears the line; while evaluating it interrupts the evaluation and the
//! REPL goes on. Ctrl-D (or `exit`, `quit`) leaves.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use ppdb_lisp::{is_incomplete, Pos};
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::{CmdKind, Highlighter, MatchingBracketHighlighter};
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Config, Context, Editor, Helper};

use super::session::{Host, Session};
use super::{EXIT_ERROR, EXIT_OK};

/// Entries the history file keeps.
const HISTORY_ENTRIES_MAX: usize = 1000;

/// Completion, validation and highlighting for the line editor.
struct LispHelper {
    names: Vec<String>,
    brackets: MatchingBracketHighlighter,
}

fn is_word_char(c: char) -> bool {
    !(c.is_whitespace() || matches!(c, '(' | ')' | '\'' | '"' | ';'))
}

impl Completer for LispHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let start = line[..pos]
            .char_indices()
            .rev()
            .find(|&(_, c)| !is_word_char(c))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let word = &line[start..pos];
        let candidates = self
            .names
            .iter()
            .filter(|name| !word.is_empty() && name.starts_with(word))
            .map(|name| Pair {
                display: name.clone(),
                replacement: name.clone(),
            })
            .collect();
        Ok((start, candidates))
    }
}

impl Hinter for LispHelper {
    type Hint = String;
}

impl Highlighter for LispHelper {
    fn highlight<'l>(&self, line: &'l str, pos: usize) -> Cow<'l, str> {
        self.brackets.highlight(line, pos)
    }

    fn highlight_char(&self, line: &str, pos: usize, kind: CmdKind) -> bool {
        self.brackets.highlight_char(line, pos, kind)
    }
}

impl Validator for LispHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        Ok(if is_incomplete(ctx.input()) {
            ValidationResult::Incomplete
        } else {
            ValidationResult::Valid(None)
        })
    }
}

impl Helper for LispHelper {}

fn save_history(editor: &mut Editor<LispHelper, FileHistory>, path: Option<&Path>) {
    if let Some(path) = path {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = editor.save_history(path);
    }
}

/// Runs the REPL until end of input; returns the exit code.
pub(crate) fn run<H: Host>(session: &mut Session<H>, prompt: &str, history: Option<PathBuf>) -> u8 {
    let config = Config::builder()
        .auto_add_history(true)
        .max_history_size(HISTORY_ENTRIES_MAX)
        .and_then(|b| b.history_ignore_dups(true))
        .map(|b| b.build())
        .unwrap_or_default();
    let mut editor: Editor<LispHelper, FileHistory> = match Editor::with_config(config) {
        Ok(editor) => editor,
        Err(e) => {
            eprintln!("ppdb: cannot start the line editor: {e}");
            return EXIT_ERROR;
        }
    };
    session.signals.install();
    editor.set_helper(Some(LispHelper {
        names: session.lisp.names(),
        brackets: MatchingBracketHighlighter::new(),
    }));
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    println!(
        "PPDB {} — (help) lists what there is; Ctrl-D leaves.",
        env!("CARGO_PKG_VERSION")
    );
    loop {
        match editor.readline(prompt) {
            Ok(text) => {
                let command = text.trim();
                if matches!(command, "exit" | "quit" | "(exit)" | "(quit)") {
                    break;
                }
                save_history(&mut editor, history.as_deref());
                if !command.is_empty() {
                    eval_input(session, &text);
                }
                if session.output_gone() {
                    return EXIT_OK;
                }
                if let Some(helper) = editor.helper_mut() {
                    helper.names = session.lisp.names();
                }
            }
            Err(ReadlineError::Interrupted) => {}
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("ppdb: cannot read input: {e}");
                save_history(&mut editor, history.as_deref());
                return EXIT_ERROR;
            }
        }
    }
    save_history(&mut editor, history.as_deref());
    EXIT_OK
}

/// Evaluates one input, echoing each result and reporting an error (the REPL goes on).
fn eval_input<H: Host>(session: &mut Session<H>, text: &str) {
    session.begin_input();
    let forms = match session.lisp.read(text, Pos::START) {
        Ok(forms) => forms,
        Err(e) => {
            session.report(None, &e);
            return;
        }
    };
    for form in &forms {
        if let Err(e) = session.eval_form(form, true) {
            session.report(None, &e);
            return;
        }
    }
    if let Err(e) = session.flush() {
        session.report(None, &e);
    }
}
