//! Mapping of `std::io::Error` to the platform's [`Error`], keeping the raw OS code.

use std::io;

use ppdb_platform::{Error, ErrorKind};

use crate::sys;

/// Converts an I/O error of operation `context` into a platform error: the kind from the raw
/// OS code where it says more than `io::ErrorKind` (e.g. `EDQUOT` is `NoSpace`), else from the
/// `io::ErrorKind`; the raw OS code is kept.
pub fn io_error(e: &io::Error, context: &'static str) -> Error {
    let kind = e
        .raw_os_error()
        .and_then(sys::kind_from_os_code)
        .unwrap_or_else(|| match e.kind() {
            io::ErrorKind::NotFound => ErrorKind::NotFound,
            io::ErrorKind::AlreadyExists => ErrorKind::AlreadyExists,
            io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
            io::ErrorKind::StorageFull => ErrorKind::NoSpace,
            io::ErrorKind::InvalidInput => ErrorKind::InvalidInput,
            io::ErrorKind::UnexpectedEof => ErrorKind::UnexpectedEof,
            io::ErrorKind::Interrupted => ErrorKind::Interrupted,
            _ => ErrorKind::Other,
        });
    match e.raw_os_error() {
        Some(code) => Error::with_os_code(kind, code, context),
        None => Error::new(kind, context),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_without_os_code() {
        let cases = [
            (io::ErrorKind::NotFound, ErrorKind::NotFound),
            (io::ErrorKind::AlreadyExists, ErrorKind::AlreadyExists),
            (io::ErrorKind::PermissionDenied, ErrorKind::PermissionDenied),
            (io::ErrorKind::StorageFull, ErrorKind::NoSpace),
            (io::ErrorKind::InvalidInput, ErrorKind::InvalidInput),
            (io::ErrorKind::UnexpectedEof, ErrorKind::UnexpectedEof),
            (io::ErrorKind::Interrupted, ErrorKind::Interrupted),
            (io::ErrorKind::WouldBlock, ErrorKind::Other),
        ];
        for (io_kind, kind) in cases {
            let e = io_error(&io::Error::from(io_kind), "op");
            assert_eq!(
                (e.kind(), e.os_code(), e.context()),
                (kind, None, "op"),
                "{io_kind:?}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn os_codes_are_kept() {
        let cases = [
            (libc::ENOSPC, ErrorKind::NoSpace),
            (libc::EDQUOT, ErrorKind::NoSpace),
            (libc::ENOENT, ErrorKind::NotFound),
            (libc::EEXIST, ErrorKind::AlreadyExists),
            (libc::EACCES, ErrorKind::PermissionDenied),
            (libc::EROFS, ErrorKind::PermissionDenied),
            (libc::EINTR, ErrorKind::Interrupted),
            (libc::EIO, ErrorKind::Other),
        ];
        for (code, kind) in cases {
            let e = io_error(&io::Error::from_raw_os_error(code), "write_at");
            assert_eq!(
                (e.kind(), e.os_code()),
                (kind, Some(code)),
                "os error {code}"
            );
        }
    }
}
