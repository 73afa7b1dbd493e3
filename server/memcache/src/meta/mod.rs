//! Meta commands: `mg`, `ms`, `md`, `ma`, `mn` and `me`.
//!
//! ```text
//! <cm> <key> <datalen*> <flag>*\r\n      → <RC> <datalen*> <flag>*\r\n
//! ```
//!
//! A flag is one character, possibly followed by an argument (`T30`, `Oopaque`). memcached
//! checks every flag against one list shared by all meta commands, so a flag that means nothing
//! to a command (`mg key F5`) is accepted and ignored; a flag on no list, or a flag given twice,
//! is an error. After the key, at most 17 flags may follow (16 after `ms`'s data length).
//!
//! The reply writers ([`MetaGet::write_hit`], [`MetaSet::write_reply`], ...) put the return
//! flags in the order the request gave them and apply the `q` flag the way memcached does:
//!
//! | command | `q` suppresses |
//! |---|---|
//! | `mg` | `EN` (a miss) |
//! | `ms` | `HD` (stored) |
//! | `md` | `HD` (deleted) |
//! | `ma` | `HD` and `VA` (success) |
//!
//! Errors are never suppressed, and `mn` always answers `MN`.

mod arithmetic;
mod debug;
mod delete;
mod get;
mod set;

use alloc::vec::Vec;
use core::fmt;

pub use arithmetic::{MetaArithmetic, MetaArithmeticOutcome};
pub use debug::{write_meta_noop, MetaDebug, MetaDebugInfo};
pub use delete::{MetaDelete, MetaDeleteStatus};
pub use get::{MetaGet, MetaItem, Recache};
pub use set::{MetaSet, MetaSetStatus, SetMode};

use crate::arithmetic::{write_decimal, write_signed};
use crate::base64;
use crate::display::Quoted;
use crate::key::Key;
use crate::lex::{offset_in, parse_i32, parse_u32, parse_u64, words, Tokens};
use crate::reply::ClientError;

/// memcached's `MFLAG_MAX_OPT_LENGTH`: a meta command line may have at most this many tokens
/// counting the command, the key, `ms`'s data length, the flags and one for the line's end.
pub const META_TOKENS_MAX: usize = 20;
/// The longest `O` token, the `O` included (so an opaque value has at most 31 bytes).
pub const OPAQUE_TOKEN_LEN_MAX: usize = 32;
/// The most flags any meta command can carry.
const FLAGS_MAX: usize = META_TOKENS_MAX - 3;

/// The flags of a meta command, in the order sent, with their arguments read.
///
/// Flags without an argument ignore anything after their character (`vv` is `v`), as
/// memcached does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetaFlags<'a> {
    /// The part of the command line holding the flags.
    raw: &'a [u8],
    /// `q`: noreply semantics for the nominal reply (see the module docs).
    pub quiet: bool,
    /// `v`: return the value (`mg`, `ma`).
    pub return_value: bool,
    /// `u`: do not bump the item in the LRU, nor mark it fetched (`mg`).
    pub no_bump: bool,
    /// `I`: invalidate — `md` marks the item stale instead of removing it; `ms` with `C`
    /// stores a CAS-older value as stale.
    pub invalidate: bool,
    /// `x`: `md` removes the value but keeps the item (newer than memcached 1.6.18).
    pub remove_value: bool,
    /// `O<opaque>`: copied back in the reply.
    pub opaque: Option<&'a [u8]>,
    /// `T<ttl>`: new expiration time (as `exptime`, see
    /// [`expiry_to_deadline`](crate::expiry_to_deadline)).
    pub ttl: Option<i64>,
    /// `N<ttl>`: create the item on a miss, with this expiration time (`mg`, `ma`; `ms` in
    /// append mode).
    pub vivify_ttl: Option<i64>,
    /// `R<ttl>`: win the right to recache when the remaining TTL is below this (`mg`).
    pub recache_ttl: Option<i64>,
    /// `C<cas>`: compare this CAS unique first (`ms`, `md`, `ma`).
    pub compare_cas: Option<u64>,
    /// `E<cas>`: use this as the new CAS unique (newer than memcached 1.6.18).
    pub new_cas: Option<u64>,
    /// `F<flags>`: client flags to store (`ms`; 0 when absent).
    pub client_flags: Option<u32>,
    /// `M<mode>`: the mode character (`ms`, `ma`), checked by the command.
    pub mode: Option<u8>,
    /// `J<number>`: initial value when `ma` creates the item (0 when absent).
    pub initial: Option<u64>,
    /// `D<number>`: `ma`'s delta (1 when absent).
    pub delta: Option<u64>,
}

impl<'a> MetaFlags<'a> {
    /// The flag tokens as sent, in order (`b"k"`, `b"T30"`, `b"Oabc"`, ...).
    pub fn tokens(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        words(self.raw)
    }

    /// Whether the flag `flag` (its character) was sent.
    pub fn has(&self, flag: u8) -> bool {
        self.tokens().any(|t| t.first() == Some(&flag))
    }

    /// Whether the key came in base64 (`b`).
    pub fn base64_key(&self) -> bool {
        self.has(b'b')
    }

    /// Reads the flags after the key of a meta command, memcached's `_meta_flag_preparse`: a
    /// flag given twice or unknown fails at once; a bad argument is remembered and the last
    /// one reported. `b` decodes the key.
    ///
    /// The caller has checked that `tokens` holds at most [`FLAGS_MAX`] flags, so the rest of
    /// `line` from flag `first` on holds exactly them.
    pub(crate) fn parse(
        line: &'a [u8],
        tokens: &Tokens<'a>,
        first: usize,
        key: &'a [u8],
    ) -> Result<(MetaFlags<'a>, Key<'a>), ClientError> {
        debug_assert!(tokens.len() <= first + FLAGS_MAX);
        let raw = if first < tokens.len() {
            &line[offset_in(line, tokens.get(first))..]
        } else {
            &[]
        };
        let mut flags = MetaFlags {
            raw,
            ..MetaFlags::default()
        };
        let mut key = Key::plain(key);
        let mut seen = [false; 127];
        let mut error = None;
        for token in words(raw) {
            let Some(&flag) = token.first() else { continue };
            if usize::from(flag) >= seen.len() || seen[usize::from(flag)] {
                return Err(ClientError::DuplicateFlag);
            }
            seen[usize::from(flag)] = true;
            if let Err(e) = flags.read(flag, &token[1..], &mut key) {
                match e {
                    FlagError::Fatal(e) => return Err(e),
                    FlagError::Bad(e) => error = Some(e),
                    FlagError::Silent => {
                        error = Some(error.unwrap_or(ClientError::BadCommandLineFormat))
                    }
                }
            }
        }
        match error {
            Some(e) => Err(e),
            None => Ok((flags, key)),
        }
    }

    fn read(&mut self, flag: u8, arg: &'a [u8], key: &mut Key<'a>) -> Result<(), FlagError> {
        let bad_token = FlagError::Bad(ClientError::BadToken);
        match flag {
            b'b' => match base64::decode(key.as_bytes()) {
                Some(decoded) => *key = Key::binary(decoded),
                None => return Err(FlagError::Bad(ClientError::ErrorDecodingKey)),
            },
            b'N' => self.vivify_ttl = Some(parse_i32(arg).ok_or(bad_token)?.into()),
            b'T' => self.ttl = Some(parse_i32(arg).ok_or(bad_token)?.into()),
            b'R' => self.recache_ttl = Some(parse_i32(arg).ok_or(bad_token)?.into()),
            b'C' => self.compare_cas = Some(parse_u64(arg).ok_or(bad_token)?),
            b'E' => self.new_cas = Some(parse_u64(arg).ok_or(bad_token)?),
            b'F' => self.client_flags = Some(parse_u32(arg).ok_or(FlagError::Silent)?),
            b'M' => match arg {
                [mode] => self.mode = Some(*mode),
                _ => return Err(FlagError::Bad(ClientError::IncorrectModeLength)),
            },
            b'J' => {
                let initial =
                    parse_u64(arg).ok_or(FlagError::Bad(ClientError::InvalidInitialValue));
                self.initial = Some(initial?);
            }
            b'D' => {
                let delta = parse_u64(arg).ok_or(FlagError::Bad(ClientError::InvalidDeltaValue));
                self.delta = Some(delta?);
            }
            b'O' => self.opaque = Some(arg),
            b'q' => self.quiet = true,
            b'v' => self.return_value = true,
            b'u' => self.no_bump = true,
            b'I' => self.invalidate = true,
            b'x' => self.remove_value = true,
            b'k' | b's' | b't' | b'c' | b'f' | b'h' | b'l' | b'P' | b'L' => {}
            _ => return Err(FlagError::Fatal(ClientError::InvalidFlag)),
        }
        Ok(())
    }

    /// memcached's opaque length check.
    pub(crate) fn check_opaque(&self) -> Result<(), ClientError> {
        match self.opaque {
            Some(o) if o.len() + 1 > OPAQUE_TOKEN_LEN_MAX => Err(ClientError::OpaqueTooLong),
            _ => Ok(()),
        }
    }
}

enum FlagError {
    /// Stop reading flags.
    Fatal(ClientError),
    /// Report this unless a later flag fails too.
    Bad(ClientError),
    /// Fail without changing the message (memcached's `F` with a bad number).
    Silent,
}

impl fmt::Display for MetaFlags<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("flags=[")?;
        for (i, token) in self.tokens().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            // Flag tokens hold no spaces; escape anything unprintable.
            let quoted = alloc::format!("{}", Quoted(token));
            f.write_str(&quoted[1..quoted.len() - 1])?;
        }
        f.write_str("]")
    }
}

/// Writes the key of a request for `Display`.
pub(crate) fn fmt_key(f: &mut fmt::Formatter<'_>, key: &Key<'_>) -> fmt::Result {
    write!(f, " key={}", Quoted(key.as_bytes()))?;
    if key.is_binary() {
        f.write_str(" base64")?;
    }
    Ok(())
}

/// A meta reply line being written.
pub(crate) struct Line<'o> {
    out: &'o mut Vec<u8>,
}

impl<'o> Line<'o> {
    pub(crate) fn new(out: &'o mut Vec<u8>, code: &[u8]) -> Self {
        out.extend_from_slice(code);
        Line { out }
    }

    /// `VA <len>`.
    pub(crate) fn value(out: &'o mut Vec<u8>, len: usize) -> Self {
        out.extend_from_slice(b"VA ");
        write_decimal(len as u64, out);
        Line { out }
    }

    pub(crate) fn unsigned(&mut self, flag: u8, value: u64) {
        self.out.extend_from_slice(&[b' ', flag]);
        write_decimal(value, self.out);
    }

    pub(crate) fn signed(&mut self, flag: u8, value: i64) {
        self.out.extend_from_slice(&[b' ', flag]);
        write_signed(value, self.out);
    }

    pub(crate) fn bare(&mut self, flag: u8) {
        self.out.extend_from_slice(&[b' ', flag]);
    }

    /// The `O` token, copied back as sent.
    pub(crate) fn opaque(&mut self, token: &[u8]) {
        self.out.push(b' ');
        self.out.extend_from_slice(token);
    }

    /// ` k<key>`, or ` k<base64 key> b` for a binary key.
    pub(crate) fn key(&mut self, key: &[u8], binary: bool) {
        self.out.extend_from_slice(b" k");
        if binary {
            base64::encode_into(key, self.out);
            self.out.extend_from_slice(b" b");
        } else {
            self.out.extend_from_slice(key);
        }
    }

    /// Ends the line; returns the output for a data block to follow.
    pub(crate) fn end(self) -> &'o mut Vec<u8> {
        self.out.extend_from_slice(b"\r\n");
        self.out
    }
}

/// Writes the `O` and `k` flags of `flags` in order: the return flags every meta reply has.
pub(crate) fn write_opaque_and_key(line: &mut Line<'_>, flags: &MetaFlags<'_>, key: &Key<'_>) {
    for token in flags.tokens() {
        match token[0] {
            b'O' => line.opaque(token),
            b'k' => line.key(key.as_bytes(), key.is_binary()),
            _ => {}
        }
    }
}
