//! The crate's error type.

use alloc::string::String;
use core::fmt;

/// Everything that can go wrong in the engine.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// An optimistic transaction (or a compare-and-swap) lost against a concurrent commit: a key
    /// it wrote (or, when serializable, read) changed after its snapshot. Retry it.
    Conflict,
    /// A key is empty or longer than the configured maximum.
    InvalidKey {
        /// The key's length in bytes.
        len: usize,
        /// The configured maximum (`Config::key_bytes_max`).
        max: usize,
    },
    /// A value is longer than the configured maximum.
    ValueTooLarge {
        /// The value's length in bytes.
        len: usize,
        /// The configured maximum (`Config::value_bytes_max`).
        max: usize,
    },
    /// A write batch holds more operations than the configured maximum.
    BatchTooLarge {
        /// The batch's number of operations.
        ops: usize,
        /// The configured maximum (`Config::batch_ops_max`).
        max: usize,
    },
    /// The memory limit is reached and the engine may not evict (or nothing could be evicted).
    OutOfMemory {
        /// The configured limit (`Config::memory_bytes_max`).
        limit_bytes: usize,
    },
    /// The configuration is invalid; the message says which field and why.
    InvalidConfig(&'static str),
    /// The platform (file system, clock) failed.
    Platform(ppdb_platform::Error),
    /// Stored bytes fail a check: a checksum, a magic number, a length or an encoding.
    Corruption {
        /// What was being decoded and which check failed.
        what: &'static str,
        /// The byte offset in the file where the damaged structure starts.
        offset: u64,
        /// The file's path, once a caller that knows it has named it ([`Error::in_file`]).
        file: Option<String>,
    },
    /// A file was written in a format version (or with a feature) this code cannot read.
    UnsupportedFormat {
        /// The structure (file kind, block compression, operation tag).
        what: &'static str,
        /// The version or type number found.
        version: u32,
    },
    /// An earlier sync failed, so what reached the disk is unknown: the writer refuses
    /// further writes (a failed sync is fatal and sticky).
    Poisoned,
    /// The disk is full: the write was refused (or its outcome is unknown if it was waiting
    /// for a sync), nothing acknowledged is lost, and writes resume once space is freed.
    DiskFull,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Conflict => f.write_str("transaction conflict: a concurrent commit won"),
            Error::InvalidKey { len, max } => {
                write!(f, "invalid key: {len} bytes (keys must be 1..={max} bytes)")
            }
            Error::ValueTooLarge { len, max } => {
                write!(f, "value too large: {len} bytes (maximum {max})")
            }
            Error::BatchTooLarge { ops, max } => {
                write!(f, "write batch too large: {ops} operations (maximum {max})")
            }
            Error::OutOfMemory { limit_bytes } => {
                write!(
                    f,
                    "out of memory: the limit of {limit_bytes} bytes is reached"
                )
            }
            Error::InvalidConfig(why) => write!(f, "invalid configuration: {why}"),
            Error::Platform(e) => write!(f, "platform error: {e}"),
            Error::Corruption {
                what,
                offset,
                file: Some(file),
            } => write!(f, "corruption in {file} at byte {offset}: {what}"),
            Error::Corruption {
                what,
                offset,
                file: None,
            } => write!(f, "corruption at byte {offset}: {what}"),
            Error::UnsupportedFormat { what, version } => {
                write!(f, "unsupported format: {what} version {version}")
            }
            Error::Poisoned => {
                f.write_str("an earlier sync failed: the durable state is unknown, writes refused")
            }
            Error::DiskFull => f.write_str("disk full: writes refused until space is freed"),
        }
    }
}

impl Error {
    /// A corruption of `what` at byte `offset` of a file its caller names ([`Error::in_file`]).
    pub fn corruption(what: &'static str, offset: u64) -> Error {
        Error::Corruption {
            what,
            offset,
            file: None,
        }
    }

    /// Names the file a corruption was found in, unless it is named already; any other error
    /// is returned as it is.
    pub fn in_file(self, path: &str) -> Error {
        match self {
            Error::Corruption {
                what,
                offset,
                file: None,
            } => Error::Corruption {
                what,
                offset,
                file: Some(String::from(path)),
            },
            other => other,
        }
    }
}

impl From<ppdb_platform::Error> for Error {
    fn from(e: ppdb_platform::Error) -> Self {
        Error::Platform(e)
    }
}

// `core::error::Error` is `std::error::Error`: implemented without the `std` feature, so that
// feature only switches the lock shim.
impl core::error::Error for Error {}

/// The result type of the engine.
pub type Result<T> = core::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn the_first_file_named_stays_and_other_errors_pass_through() {
        let e = Error::corruption("bad magic", 7);
        assert_eq!(e.to_string(), "corruption at byte 7: bad magic");
        let named = e.in_file("db/000004.sst").in_file("db/CURRENT");
        assert_eq!(
            named.to_string(),
            "corruption in db/000004.sst at byte 7: bad magic"
        );
        assert_eq!(Error::DiskFull.in_file("db/x"), Error::DiskFull);
    }
}
