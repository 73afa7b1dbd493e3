//! `stats detail on|off|dump`: per key-prefix counts of gets, hits, sets and deletes.
//!
//! As in memcached, a key's prefix is everything before its first `:`; keys without one are
//! not counted, and only the classic `get`/`gets`/`gat`/`gats`, storage commands and `delete`
//! are. The dump lists `PREFIX <prefix> get <n> hit <n> set <n> del <n>` lines, then `END`.
//! Unlike memcached's table, ours is bounded: at most [`PREFIXES_MAX`] prefixes are tracked.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use ppdb_memcache::arithmetic::write_counter;

/// memcached's default `-D` prefix delimiter.
pub(crate) const PREFIX_DELIMITER: u8 = b':';
/// The most prefixes tracked; new ones beyond it are not counted.
pub(crate) const PREFIXES_MAX: usize = 4096;

/// The counts of one prefix.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    gets: u64,
    hits: u64,
    sets: u64,
    deletes: u64,
}

/// Per-prefix statistics, collected while enabled.
#[derive(Debug, Default)]
pub(crate) struct PrefixStats {
    enabled: AtomicBool,
    table: Mutex<BTreeMap<Vec<u8>, Counts>>,
}

/// Which operation to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// A retrieval; whether it hit.
    Get(bool),
    /// A storage command.
    Set,
    /// A delete.
    Delete,
}

impl PrefixStats {
    /// Whether collecting is on.
    pub(crate) fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// `stats detail on|off`.
    pub(crate) fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::Relaxed);
    }

    fn table(&self) -> MutexGuard<'_, BTreeMap<Vec<u8>, Counts>> {
        self.table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts `op` on `key`, if collecting is on and the key has a prefix.
    pub(crate) fn record(&self, key: &[u8], op: Op) {
        if !self.enabled() {
            return;
        }
        let Some(end) = key.iter().position(|&b| b == PREFIX_DELIMITER) else {
            return;
        };
        let prefix = &key[..end];
        let mut table = self.table();
        if !table.contains_key(prefix) {
            if table.len() >= PREFIXES_MAX {
                return;
            }
            table.insert(prefix.to_vec(), Counts::default());
        }
        let Some(counts) = table.get_mut(prefix) else {
            return;
        };
        match op {
            Op::Get(hit) => {
                counts.gets += 1;
                counts.hits += u64::from(hit);
            }
            Op::Set => counts.sets += 1,
            Op::Delete => counts.deletes += 1,
        }
    }

    /// Forgets every prefix (`stats reset`).
    pub(crate) fn clear(&self) {
        self.table().clear();
    }

    /// Appends the `PREFIX` lines and `END`.
    pub(crate) fn dump(&self, out: &mut Vec<u8>) {
        for (prefix, c) in self.table().iter() {
            out.extend_from_slice(b"PREFIX ");
            out.extend_from_slice(prefix);
            for (name, value) in [
                (&b" get "[..], c.gets),
                (b" hit ", c.hits),
                (b" set ", c.sets),
                (b" del ", c.deletes),
            ] {
                out.extend_from_slice(name);
                write_counter(value, 0, out);
            }
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"END\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_bounded_and_sorted() {
        let stats = PrefixStats::default();
        stats.record(b"a:1", Op::Set);
        assert_eq!(stats.table().len(), 0, "nothing is counted while off");
        stats.set_enabled(true);
        for i in (0..PREFIXES_MAX + 10).rev() {
            stats.record(format!("p{i:05}:x").as_bytes(), Op::Get(i % 2 == 0));
        }
        stats.record(b"nodelimiter", Op::Delete);
        assert_eq!(stats.table().len(), PREFIXES_MAX);
        stats.record(b"p00010:y", Op::Delete);
        let mut out = Vec::new();
        stats.dump(&mut out);
        let text = String::from_utf8(out).expect("ascii");
        assert!(
            text.starts_with("PREFIX p00010 get 1 hit 1 set 0 del 1\r\n"),
            "{text:.80}"
        );
        assert!(text.ends_with("END\r\n"));
        stats.clear();
        let mut out = Vec::new();
        stats.dump(&mut out);
        assert_eq!(out, b"END\r\n");
    }
}
