//! The crate's error type: every error says what went wrong and where (line:column).

use alloc::string::String;
use core::fmt;

/// A position in the source: 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// The line, from 1.
    pub line: u32,
    /// The column, from 1.
    pub col: u32,
}

impl Pos {
    /// Line 1, column 1.
    pub const START: Pos = Pos { line: 1, col: 1 };

    /// A position.
    pub const fn new(line: u32, col: u32) -> Pos {
        Pos { line, col }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// Which limit an evaluation hit (see [`crate::Limits`]).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// The step budget.
    Steps,
    /// The cap on pending evaluations (recursion depth).
    Depth,
    /// The cap on how deeply lists nest, in source text or in data.
    Nesting,
    /// The memory budget.
    Memory,
    /// The wall-clock timeout.
    Timeout,
}

impl Limit {
    /// The limit's name as the docs and the `--max-*` options spell it.
    pub fn name(self) -> &'static str {
        match self {
            Limit::Steps => "step",
            Limit::Depth => "depth",
            Limit::Nesting => "nesting",
            Limit::Memory => "memory",
            Limit::Timeout => "timeout",
        }
    }
}

/// What kind of error it is; callers branch on this (exit codes, `try`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The reader could not parse the text.
    Syntax,
    /// The text ended inside a list, a string or after a quote: more input may complete it.
    Incomplete,
    /// Evaluation failed: an unbound symbol, a wrong argument, a malformed special form...
    Eval,
    /// A script raised it with `(error ...)`.
    User,
    /// The database refused or failed an operation.
    Db,
    /// A limit was hit. Not catchable by `try`.
    Limit(Limit),
    /// The interrupt flag was raised (Ctrl-C). Not catchable by `try`.
    Interrupted,
    /// Printing failed (e.g. the output pipe was closed). Not catchable by `try`.
    Output,
}

/// An error with its kind, message and the position of the form it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What kind of error.
    pub kind: ErrorKind,
    /// The message, without the position.
    pub message: String,
    /// Where: the form being read or evaluated.
    pub pos: Option<Pos>,
}

impl Error {
    /// An error of `kind` with no position yet.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            pos: None,
        }
    }

    /// A syntax error at `pos`.
    pub fn syntax(pos: Pos, message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Syntax, message).at(pos)
    }

    /// An evaluation error (no position yet; the evaluator adds the form's).
    pub fn eval(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Eval, message)
    }

    /// A database error.
    pub fn db(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Db, message)
    }

    /// A limit error.
    pub fn limit(limit: Limit, message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Limit(limit), message)
    }

    /// The interrupt flag was raised.
    pub fn interrupted() -> Error {
        Error::new(ErrorKind::Interrupted, "interrupted")
    }

    /// Sets the position if none is set yet.
    pub fn at(mut self, pos: Pos) -> Error {
        if self.pos.is_none() {
            self.pos = Some(pos);
        }
        self
    }

    /// Whether `try` may catch it: limits, interrupts and output failures always end the
    /// evaluation.
    pub fn is_catchable(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Eval | ErrorKind::User | ErrorKind::Db | ErrorKind::Syntax
        )
    }

    /// Whether more input could complete the text (for multi-line input).
    pub fn is_incomplete(&self) -> bool {
        self.kind == ErrorKind::Incomplete
    }

    /// The limit hit, if it is a limit error.
    pub fn limit_hit(&self) -> Option<Limit> {
        match self.kind {
            ErrorKind::Limit(limit) => Some(limit),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(pos) = self.pos {
            write!(f, "{pos}: ")?;
        }
        let label = match self.kind {
            ErrorKind::Syntax | ErrorKind::Incomplete => "syntax error",
            ErrorKind::Eval | ErrorKind::User => "error",
            ErrorKind::Db => "database error",
            ErrorKind::Limit(_) => "limit reached",
            ErrorKind::Interrupted => return f.write_str("interrupted"),
            ErrorKind::Output => "output error",
        };
        write!(f, "{label}: {}", self.message)
    }
}

impl core::error::Error for Error {}

/// The result type of the crate.
pub type Result<T> = core::result::Result<T, Error>;
