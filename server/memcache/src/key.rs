//! Keys of meta commands: borrowed from the input, or decoded from base64.

use alloc::borrow::Cow;
use core::fmt;

/// A meta command's key: the bytes to look up, and whether the client sent them base64-encoded
/// (the `b` flag), in which case memcached remembers the item's key as binary and returns it
/// base64-encoded (followed by a `b` flag) wherever a reply carries the key.
#[derive(Clone, PartialEq, Eq)]
pub struct Key<'a> {
    bytes: Cow<'a, [u8]>,
    binary: bool,
}

impl<'a> Key<'a> {
    /// A key sent as plain text.
    pub fn plain(bytes: &'a [u8]) -> Self {
        Key {
            bytes: Cow::Borrowed(bytes),
            binary: false,
        }
    }

    /// A key the client sent in base64 (`bytes` is already decoded).
    pub fn binary(bytes: alloc::vec::Vec<u8>) -> Self {
        Key {
            bytes: Cow::Owned(bytes),
            binary: true,
        }
    }

    /// The key's bytes, decoded if it came in base64.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Whether the key came in base64 (the `b` flag).
    pub fn is_binary(&self) -> bool {
        self.binary
    }
}

impl fmt::Debug for Key<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", crate::display::Quoted(self.as_bytes()))?;
        if self.binary {
            f.write_str(" (base64)")?;
        }
        Ok(())
    }
}
