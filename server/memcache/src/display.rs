//! Printing bytes in requests readably: printable ASCII as is, everything else escaped.

use core::fmt;

/// Bytes between double quotes, with `\r`, `\n`, `\t`, `\0`, `\\`, `\"` and `\xNN` escapes.
pub(crate) struct Quoted<'a>(pub(crate) &'a [u8]);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        let mut rest = self.0;
        while !rest.is_empty() {
            // Runs of printable ASCII go out at once.
            let run = rest.iter().take_while(|&&b| is_plain(b)).count();
            if run > 0 {
                let (plain, after) = rest.split_at(run);
                f.write_str(core::str::from_utf8(plain).map_err(|_| fmt::Error)?)?;
                rest = after;
                continue;
            }
            match rest[0] {
                b'\r' => f.write_str("\\r")?,
                b'\n' => f.write_str("\\n")?,
                b'\t' => f.write_str("\\t")?,
                0 => f.write_str("\\0")?,
                b'\\' => f.write_str("\\\\")?,
                b'"' => f.write_str("\\\"")?,
                b => write!(f, "\\x{b:02x}")?,
            }
            rest = &rest[1..];
        }
        f.write_str("\"")
    }
}

/// A byte printed as itself.
fn is_plain(b: u8) -> bool {
    (0x20..=0x7e).contains(&b) && b != b'\\' && b != b'"'
}

/// Writes ` name=value` when the value is present.
pub(crate) fn opt<T: fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    value: Option<T>,
) -> fmt::Result {
    match value {
        Some(v) => write!(f, " {name}={v}"),
        None => Ok(()),
    }
}

/// Writes ` name` when the flag is set.
pub(crate) fn flag(f: &mut fmt::Formatter<'_>, name: &str, set: bool) -> fmt::Result {
    if set {
        write!(f, " {name}")
    } else {
        Ok(())
    }
}
