//! Limits: every buffer the parser asks the server to keep is bounded by these numbers.

/// memcached's `KEY_MAX_LENGTH`.
pub const KEY_LEN_MAX: usize = 250;
/// memcached's default `-I` (item size maximum): 1 MiB.
pub const ITEM_SIZE_MAX: usize = 1024 * 1024;
/// The longest command line memcached waits for before it closes the connection.
pub const LINE_LEN_MAX: usize = 2048;
/// memcached's `MAX_TOKENS`: a command line is split into at most this many tokens, the last
/// one standing for "the rest of the line" (only `get`-family commands read past it).
pub const TOKENS_MAX: usize = 24;
/// Bytes memcached adds to every item besides key and value: the 48-byte item header plus the
/// 8-byte CAS unique.
pub const ITEM_HEADER_BYTES: usize = 48 + 8;

/// The limits one connection's parser enforces.
///
/// The defaults are memcached's. [`Limits::buffer_len_max`] says how many unconsumed bytes the
/// parser can ever need at once; a server sizes its read buffer from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest key, in bytes (for base64 keys: of the encoded form, as memcached checks it).
    pub key_len_max: usize,
    /// Largest item, counted as memcached does (see [`item_size_bytes`]). A storage command
    /// over it is answered `SERVER_ERROR object too large for cache` and its data swallowed.
    pub item_size_max: usize,
    /// Longest command line (without its `\n`) of any command but `get`/`gets`/`gat`/`gats`.
    /// A longer line is a fatal [`Error::LineTooLong`](crate::Error::LineTooLong).
    pub line_len_max: usize,
    /// Longest `get`/`gets`/`gat`/`gats` line. memcached has no limit here (it grows its read
    /// buffer without bound); we keep one.
    pub multiget_line_len_max: usize,
    /// How many tokens a command line is split into (at most [`TOKENS_MAX`]).
    pub tokens_max: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            key_len_max: KEY_LEN_MAX,
            item_size_max: ITEM_SIZE_MAX,
            line_len_max: LINE_LEN_MAX,
            multiget_line_len_max: ITEM_SIZE_MAX,
            tokens_max: TOKENS_MAX,
        }
    }
}

impl Limits {
    /// The limits with a different item size maximum (memcached's `-I`); the multiget line limit
    /// follows it.
    pub fn with_item_size_max(item_size_max: usize) -> Self {
        Limits {
            item_size_max,
            multiget_line_len_max: item_size_max,
            ..Limits::default()
        }
    }

    /// The most unconsumed input the parser can need before it either returns a request or
    /// fails: a full command line with its `\n`, plus the largest data block and its `\r\n`.
    ///
    /// Whenever the parser answers [`Parsed::Incomplete`](crate::Parsed::Incomplete), the
    /// bytes it left unconsumed are fewer than this.
    pub fn buffer_len_max(&self) -> usize {
        let storage = self.line_len_max + 1 + self.item_size_max + 2;
        let multiget = self.multiget_line_len_max.max(self.line_len_max) + 1;
        storage.max(multiget)
    }

    /// Whether an item with this key, client flags and value is over
    /// [`item_size_max`](Self::item_size_max).
    pub fn is_too_large(&self, key_len: usize, client_flags: u32, value_len: usize) -> bool {
        item_size_bytes(key_len, client_flags, value_len) > self.item_size_max
    }
}

/// The size memcached charges an item against `-I`: header and CAS, the key and its NUL, the
/// value and its `\r\n`, and 4 bytes of client flags when they are not zero.
///
/// With the default 1 MiB limit, a 1-byte key with flags 0 fits a value of at most 1048516
/// bytes.
pub fn item_size_bytes(key_len: usize, client_flags: u32, value_len: usize) -> usize {
    let flags_bytes = if client_flags == 0 { 0 } else { 4 };
    ITEM_HEADER_BYTES
        .saturating_add(key_len)
        .saturating_add(1)
        .saturating_add(value_len)
        .saturating_add(2)
        .saturating_add(flags_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_size_matches_memcached_boundaries() {
        let limits = Limits::default();
        assert!(!limits.is_too_large(1, 0, 1_048_516));
        assert!(limits.is_too_large(1, 0, 1_048_517));
        assert!(!limits.is_too_large(1, 7, 1_048_512));
        assert!(limits.is_too_large(1, 7, 1_048_513));
        assert!(!limits.is_too_large(10, 0, 1_048_507));
        assert!(limits.is_too_large(10, 0, 1_048_508));
        assert_eq!(item_size_bytes(1, 0, 1), 61);
    }

    #[test]
    fn buffer_bound_covers_a_full_storage_request() {
        let limits = Limits::default();
        assert_eq!(limits.buffer_len_max(), 2048 + 1 + 1024 * 1024 + 2);
    }
}
