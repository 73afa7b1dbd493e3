//! `touch <key> <exptime> [noreply]\r\n` → `TOUCHED` or `NOT_FOUND`.

use core::fmt;

use crate::display::{flag, Quoted};
use crate::lex::{parse_i32, Tokens};
use crate::limits::Limits;
use crate::reply::{ClientError, Rejection};
use crate::request::Request;

/// A parsed `touch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Touch<'a> {
    /// The key.
    pub key: &'a [u8],
    /// The new expiration time (see [`expiry_to_deadline`](crate::expiry_to_deadline)).
    pub exptime: i64,
    /// Send no reply.
    pub noreply: bool,
}

impl<'a> Touch<'a> {
    pub(crate) fn parse(tokens: &Tokens<'a>, limits: &Limits) -> Request<'a> {
        if !matches!(tokens.len(), 3 | 4) {
            return Request::Rejected(Rejection::error());
        }
        let noreply = tokens.noreply();
        let key = tokens.get(1);
        if key.len() > limits.key_len_max {
            return Request::Rejected(Rejection::client(
                ClientError::BadCommandLineFormat,
                noreply,
            ));
        }
        match parse_i32(tokens.get(2)) {
            Some(exptime) => Request::Touch(Touch {
                key,
                exptime: i64::from(exptime),
                noreply,
            }),
            None => Request::Rejected(Rejection::client(ClientError::InvalidExptime, noreply)),
        }
    }
}

impl fmt::Display for Touch<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "touch key={} exptime={}", Quoted(self.key), self.exptime)?;
        flag(f, "noreply", self.noreply)
    }
}
