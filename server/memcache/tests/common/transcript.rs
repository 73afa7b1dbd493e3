//! The transcript files of this crate (`tests/transcripts/*.txt`), read with
//! [`ppdb_memcache::transcript`] (the format is described there and in docs/protocol.md).

use std::fs;
use std::path::{Path, PathBuf};

pub(crate) use ppdb_memcache::transcript::Exchange;

/// A transcript file.
#[derive(Debug, Clone)]
pub(crate) struct Transcript {
    /// The file's path.
    pub(crate) path: PathBuf,
    /// Its exchanges.
    pub(crate) exchanges: Vec<Exchange>,
}

/// Every transcript file, sorted by name.
pub(crate) fn all() -> Vec<Transcript> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts");
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("transcript directory")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no transcripts in {}", dir.display());
    paths
        .into_iter()
        .map(|path| {
            let text = fs::read_to_string(&path).expect("transcript file");
            let exchanges = ppdb_memcache::transcript::parse(&text, &path.display().to_string());
            Transcript { path, exchanges }
        })
        .collect()
}
