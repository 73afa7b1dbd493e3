//! The executor's transcript files (`src/exec/transcripts/*.txt`), read with
//! [`ppdb_memcache::transcript`] (the format is described there and in docs/protocol.md).
//! `@sleep N` waits N seconds before an exchange: the in-process runner advances its clock, the
//! TCP runner (`tests/server_transcripts.rs`, which includes this file) really sleeps.

use std::path::Path;

use ppdb_memcache::transcript::Transcript;

/// Every transcript of the executor, sorted by name.
pub(crate) fn all() -> Vec<Transcript> {
    ppdb_memcache::transcript::read_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/exec/transcripts"),
    )
}
