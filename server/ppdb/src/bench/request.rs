//! Request encoding: the bytes of one get or set in the text or meta protocol.
//!
//! Everything that is the same for every request (the value, the length field, the line ends) is
//! rendered once, so encoding a request is a handful of `extend_from_slice` calls.

use super::config::Protocol;

/// The kind of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// Read one key.
    Get,
    /// Write one key.
    Set,
}

/// Renders requests of one protocol with one value.
#[derive(Debug, Clone)]
pub(crate) struct Encoder {
    protocol: Protocol,
    /// What follows the key on a set's command line, including its `\r\n`.
    set_line_tail: Vec<u8>,
    /// The value followed by `\r\n`.
    value_block: Vec<u8>,
}

impl Encoder {
    /// An encoder for `protocol` whose sets carry `value_size` bytes of a fixed printable pattern.
    pub(crate) fn new(protocol: Protocol, value_size: usize) -> Self {
        let set_line_tail = match protocol {
            Protocol::Text => format!(" 0 0 {value_size}\r\n"),
            Protocol::Meta => format!(" {value_size}\r\n"),
        };
        let mut value_block: Vec<u8> = (0..value_size).map(|i| b'a' + (i % 26) as u8).collect();
        value_block.extend_from_slice(b"\r\n");
        Self {
            protocol,
            set_line_tail: set_line_tail.into_bytes(),
            value_block,
        }
    }

    /// Appends a request of kind `op` for `key` to `out`.
    pub(crate) fn append(&self, op: Op, key: &[u8], out: &mut Vec<u8>) {
        match (op, self.protocol) {
            (Op::Get, Protocol::Text) => {
                out.extend_from_slice(b"get ");
                out.extend_from_slice(key);
                out.extend_from_slice(b"\r\n");
            }
            (Op::Get, Protocol::Meta) => {
                out.extend_from_slice(b"mg ");
                out.extend_from_slice(key);
                out.extend_from_slice(b" v\r\n");
            }
            (Op::Set, protocol) => {
                out.extend_from_slice(match protocol {
                    Protocol::Text => b"set ",
                    Protocol::Meta => b"ms ",
                });
                out.extend_from_slice(key);
                out.extend_from_slice(&self.set_line_tail);
                out.extend_from_slice(&self.value_block);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(protocol: Protocol, op: Op, value_size: usize) -> String {
        let mut out = Vec::new();
        Encoder::new(protocol, value_size).append(op, b"007", &mut out);
        String::from_utf8(out).expect("ascii")
    }

    #[test]
    fn text_and_meta_requests() {
        assert_eq!(encode(Protocol::Text, Op::Get, 5), "get 007\r\n");
        assert_eq!(
            encode(Protocol::Text, Op::Set, 5),
            "set 007 0 0 5\r\nabcde\r\n"
        );
        assert_eq!(encode(Protocol::Meta, Op::Get, 5), "mg 007 v\r\n");
        assert_eq!(encode(Protocol::Meta, Op::Set, 5), "ms 007 5\r\nabcde\r\n");
        assert_eq!(encode(Protocol::Meta, Op::Set, 0), "ms 007 0\r\n\r\n");
        assert_eq!(
            encode(Protocol::Text, Op::Set, 28).len(),
            "set 007 0 0 28\r\n".len() + 30
        );
    }
}
