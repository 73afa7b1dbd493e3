//! `delete <key> [noreply]\r\n` → `DELETED` or `NOT_FOUND`.
//!
//! For old clients memcached still accepts a hold time of exactly `0` after the key
//! (`delete <key> 0 [noreply]`); any other third token is answered with a usage error.

use core::fmt;

use crate::display::{flag, Quoted};
use crate::lex::Tokens;
use crate::limits::Limits;
use crate::reply::{ClientError, Rejection};
use crate::request::Request;

/// A parsed `delete`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delete<'a> {
    /// The key.
    pub key: &'a [u8],
    /// Send no reply.
    pub noreply: bool,
}

impl<'a> Delete<'a> {
    pub(crate) fn parse(tokens: &Tokens<'a>, limits: &Limits) -> Request<'a> {
        let count = tokens.len();
        if !(2..=4).contains(&count) {
            return Request::Rejected(Rejection::error());
        }
        let mut noreply = false;
        if count > 2 {
            let hold_is_zero = tokens.get(2) == b"0";
            noreply = tokens.noreply();
            let valid = (count == 3 && (hold_is_zero || noreply))
                || (count == 4 && hold_is_zero && noreply);
            if !valid {
                return Request::Rejected(Rejection::client(ClientError::DeleteUsage, noreply));
            }
        }
        let key = tokens.get(1);
        if key.len() > limits.key_len_max {
            return Request::Rejected(Rejection::client(
                ClientError::BadCommandLineFormat,
                noreply,
            ));
        }
        Request::Delete(Delete { key, noreply })
    }
}

impl fmt::Display for Delete<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "delete key={}", Quoted(self.key))?;
        flag(f, "noreply", self.noreply)
    }
}
