//! The small I/O error type shared by every platform implementation.

use core::fmt;

/// What went wrong, in terms the engine can branch on.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The file or directory does not exist.
    NotFound,
    /// The file exists and the open mode asked for a new one.
    AlreadyExists,
    /// The caller has no permission for the operation.
    PermissionDenied,
    /// The device has no space left.
    NoSpace,
    /// The argument is malformed (e.g. an absolute path or `..` in a path).
    InvalidInput,
    /// The data read does not have the expected shape (e.g. a read past the end of the file).
    UnexpectedEof,
    /// The operation was interrupted and may be retried.
    Interrupted,
    /// Any other failure of the device or the operating system.
    Other,
}

impl ErrorKind {
    /// A short lowercase description.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not found",
            ErrorKind::AlreadyExists => "already exists",
            ErrorKind::PermissionDenied => "permission denied",
            ErrorKind::NoSpace => "no space left on device",
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::UnexpectedEof => "unexpected end of file",
            ErrorKind::Interrupted => "interrupted",
            ErrorKind::Other => "i/o error",
        }
    }
}

/// An I/O error: a kind, an optional OS error code and a static context string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    os_code: Option<i32>,
    context: &'static str,
}

impl Error {
    /// An error of `kind` with a static context (e.g. the operation that failed).
    pub const fn new(kind: ErrorKind, context: &'static str) -> Self {
        Error {
            kind,
            os_code: None,
            context,
        }
    }

    /// An error carrying the raw operating-system error code.
    pub const fn with_os_code(kind: ErrorKind, os_code: i32, context: &'static str) -> Self {
        Error {
            kind,
            os_code: Some(os_code),
            context,
        }
    }

    /// The kind of the error.
    pub const fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The raw operating-system error code, if the error came from the OS.
    pub const fn os_code(&self) -> Option<i32> {
        self.os_code
    }

    /// The static context (the operation that failed).
    pub const fn context(&self) -> &'static str {
        self.context
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error::new(kind, "")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.context.is_empty() {
            f.write_str(self.kind.as_str())?;
        } else {
            write!(f, "{}: {}", self.context, self.kind.as_str())?;
        }
        if let Some(code) = self.os_code {
            write!(f, " (os error {code})")?;
        }
        Ok(())
    }
}

impl core::error::Error for Error {}

/// The result type of platform operations.
pub type Result<T> = core::result::Result<T, Error>;
