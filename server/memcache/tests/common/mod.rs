//! Shared helpers of the integration tests: transcripts, chunked feeding, the model engine.
#![allow(dead_code, reason = "each test file uses a different part")]

pub(crate) mod feed;
pub(crate) mod model;
pub(crate) mod transcript;

use ppdb_memcache::{Limits, Parsed, Parser};

use model::{After, Model};

/// Runs `input` through a parser and `model` as a server would, returning the reply bytes and
/// whether the connection was closed.
pub(crate) fn serve(model: &mut Model, limits: Limits, input: &[u8]) -> (Vec<u8>, bool) {
    let mut parser = Parser::new(limits);
    let mut out = Vec::new();
    let mut at = 0;
    loop {
        match parser.parse(&input[at..]) {
            Ok(Parsed::Complete { request, consumed }) => {
                at += consumed;
                if model.execute(&request, &mut out) == After::Close {
                    return (out, true);
                }
            }
            Ok(Parsed::Incomplete { .. }) => return (out, false),
            // memcached closes without sending what it had queued.
            Err(_) => return (Vec::new(), true),
        }
    }
}

/// The limits the transcripts run with (memcached's defaults).
pub(crate) fn limits() -> Limits {
    Limits::default()
}
