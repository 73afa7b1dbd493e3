//! Standard output for scripts and results, with a broken pipe (`ppdb ... | head`) turned into
//! a quiet, clean end instead of an error message.

use std::io::{self, Write};

use ppdb_lisp::{Error, ErrorKind};

/// Where printed text and results go.
pub(crate) struct Output {
    writer: Box<dyn Write>,
    broken_pipe: bool,
}

impl Output {
    /// Standard output (line-buffered).
    pub(crate) fn stdout() -> Output {
        Output::new(Box::new(io::stdout()))
    }

    pub(crate) fn new(writer: Box<dyn Write>) -> Output {
        Output {
            writer,
            broken_pipe: false,
        }
    }

    /// Whether a write found the reader gone.
    pub(crate) fn broken_pipe(&self) -> bool {
        self.broken_pipe
    }

    /// Writes `bytes`; an error is the language's output error.
    pub(crate) fn write(&mut self, bytes: &[u8]) -> ppdb_lisp::Result<()> {
        let result = self.writer.write_all(bytes);
        result.map_err(|e| self.failed(&e))
    }

    /// Flushes what is buffered.
    pub(crate) fn flush(&mut self) -> ppdb_lisp::Result<()> {
        let result = self.writer.flush();
        result.map_err(|e| self.failed(&e))
    }

    fn failed(&mut self, e: &io::Error) -> Error {
        if e.kind() == io::ErrorKind::BrokenPipe {
            self.broken_pipe = true;
            return Error::new(ErrorKind::Output, "broken pipe");
        }
        Error::new(ErrorKind::Output, format!("cannot write the output: {e}"))
    }
}
