//! The transcript files of this crate (`tests/transcripts/*.txt`), read with
//! [`ppdb_memcache::transcript`] (the format is described there and in docs/protocol.md).

use std::path::Path;

use ppdb_memcache::transcript::Transcript;

/// Every transcript file, sorted by name.
pub(crate) fn all() -> Vec<Transcript> {
    ppdb_memcache::transcript::read_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts"),
    )
}
