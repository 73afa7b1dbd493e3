//! The simulated directory tree: a *live* namespace (what operations see), a *durable* one
//! (what a crash falls back to) and the log of changes between them.
//!
//! Every create, remove, rename and new directory updates the live namespace at once and is
//! logged as a [`Change`]. `sync_dir(dir)` applies to the durable namespace the logged changes
//! that touch `dir` (plus the earlier changes they depend on: those naming the same path or
//! file) and drops them from the log. A crash applies each change still logged with a seeded
//! probability, in order, then drops the entries whose directory did not survive, and the live
//! namespace becomes the durable one.
//!
//! Changes are applied by effect on the file (`inode`), not by replaying the call: "this file
//! is now named `to`", "this file has no name". So any subset of the log gives a namespace in
//! which each file has at most one name and each rename happened entirely or not at all.

use std::collections::{BTreeMap, BTreeSet};

use ppdb_platform::parent_dir;

use crate::rng::SplitMix64;

/// The identity of a file's contents, independent of its names.
pub(crate) type InodeId = u64;

/// An entry of the namespace. The root directory is the entry `""`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Node {
    /// A directory.
    Dir,
    /// A file, with its contents' identity.
    File(InodeId),
}

/// One change of the namespace not yet durable.
#[derive(Debug, Clone)]
enum Change {
    /// A new file at `path`.
    Link { path: String, inode: InodeId },
    /// The file `inode` (at `path`) removed.
    Unlink { path: String, inode: InodeId },
    /// The file `inode` renamed from `from` to `to`, replacing what `to` held.
    Rename {
        from: String,
        to: String,
        inode: InodeId,
    },
    /// A new directory.
    Mkdir { path: String },
}

impl Change {
    /// Whether the change adds or removes an entry of directory `dir`.
    fn touches(&self, dir: &str) -> bool {
        match self {
            Change::Link { path, .. } | Change::Unlink { path, .. } | Change::Mkdir { path } => {
                parent_dir(path) == dir
            }
            Change::Rename { from, to, .. } => parent_dir(from) == dir || parent_dir(to) == dir,
        }
    }

    /// The paths the change names.
    fn paths(&self) -> impl Iterator<Item = &str> {
        let (first, second) = match self {
            Change::Link { path, .. } | Change::Unlink { path, .. } | Change::Mkdir { path } => {
                (path, None)
            }
            Change::Rename { from, to, .. } => (from, Some(to)),
        };
        core::iter::once(first.as_str()).chain(second.map(String::as_str))
    }

    /// The file the change is about, if any.
    fn inode(&self) -> Option<InodeId> {
        match self {
            Change::Link { inode, .. }
            | Change::Unlink { inode, .. }
            | Change::Rename { inode, .. } => Some(*inode),
            Change::Mkdir { .. } => None,
        }
    }

    /// Applies the change's effect to `tree` (see the module documentation).
    fn apply(&self, tree: &mut BTreeMap<String, Node>) {
        match self {
            Change::Link { path: to, inode } | Change::Rename { to, inode, .. } => {
                if tree.get(to) == Some(&Node::Dir) {
                    return;
                }
                tree.retain(|_, node| *node != Node::File(*inode));
                tree.insert(to.clone(), Node::File(*inode));
            }
            Change::Unlink { inode, .. } => tree.retain(|_, node| *node != Node::File(*inode)),
            Change::Mkdir { path } => {
                tree.entry(path.clone()).or_insert(Node::Dir);
            }
        }
    }
}

/// What a crash did to the logged changes.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CrashOutcome {
    /// Changes applied.
    pub(crate) kept: u64,
    /// Changes dropped.
    pub(crate) lost: u64,
}

/// The live and durable namespaces and the log between them.
#[derive(Debug)]
pub(crate) struct Namespace {
    live: BTreeMap<String, Node>,
    durable: BTreeMap<String, Node>,
    log: Vec<Change>,
}

impl Namespace {
    /// An empty namespace: only the root directory, durable.
    pub(crate) fn new() -> Self {
        let root = BTreeMap::from([(String::new(), Node::Dir)]);
        Namespace {
            live: root.clone(),
            durable: root,
            log: Vec::new(),
        }
    }

    /// The live entry at `path`.
    pub(crate) fn get(&self, path: &str) -> Option<Node> {
        self.live.get(path).copied()
    }

    /// The live files (their contents' identities).
    pub(crate) fn live_files(&self) -> impl Iterator<Item = InodeId> + '_ {
        self.live.values().filter_map(|node| match node {
            Node::File(inode) => Some(*inode),
            Node::Dir => None,
        })
    }

    /// Whether any namespace (live, durable, or a logged change) refers to `inode`.
    pub(crate) fn refers_to(&self, inode: InodeId) -> bool {
        let file = Node::File(inode);
        self.live.values().any(|n| *n == file)
            || self.durable.values().any(|n| *n == file)
            || self.log.iter().any(|c| c.inode() == Some(inode))
    }

    /// The names of the direct entries of directory `dir`, sorted bytewise.
    pub(crate) fn children(&self, dir: &str) -> Vec<String> {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        self.live
            .range::<str, _>((
                core::ops::Bound::Included(prefix.as_str()),
                core::ops::Bound::Unbounded,
            ))
            .take_while(|(path, _)| path.starts_with(&prefix))
            .filter_map(|(path, _)| {
                let name = &path[prefix.len()..];
                (!name.is_empty() && !name.contains('/')).then(|| name.to_owned())
            })
            .collect()
    }

    /// Creates the file entry `path` (which must be free) for `inode`.
    pub(crate) fn link(&mut self, path: &str, inode: InodeId) {
        self.live.insert(path.to_owned(), Node::File(inode));
        self.log.push(Change::Link {
            path: path.to_owned(),
            inode,
        });
    }

    /// Removes the file entry `path` of `inode`.
    pub(crate) fn unlink(&mut self, path: &str, inode: InodeId) {
        self.live.remove(path);
        self.log.push(Change::Unlink {
            path: path.to_owned(),
            inode,
        });
    }

    /// Renames the file `inode` from `from` to `to` (which holds a file or nothing).
    pub(crate) fn rename(&mut self, from: &str, to: &str, inode: InodeId) {
        self.live.remove(from);
        self.live.insert(to.to_owned(), Node::File(inode));
        self.log.push(Change::Rename {
            from: from.to_owned(),
            to: to.to_owned(),
            inode,
        });
    }

    /// Creates the directory entry `path` (which must be free).
    pub(crate) fn mkdir(&mut self, path: &str) {
        self.live.insert(path.to_owned(), Node::Dir);
        self.log.push(Change::Mkdir {
            path: path.to_owned(),
        });
    }

    /// Makes the logged changes of directory `dir` durable, with the earlier changes they
    /// depend on (same path or same file), in log order.
    pub(crate) fn sync_dir(&mut self, dir: &str) {
        let mut selected = vec![false; self.log.len()];
        let mut paths = BTreeSet::new();
        let mut inodes = BTreeSet::new();
        for (i, change) in self.log.iter().enumerate().rev() {
            let depended_on = change.paths().any(|p| paths.contains(p))
                || change.inode().is_some_and(|inode| inodes.contains(&inode));
            if change.touches(dir) || depended_on {
                selected[i] = true;
                paths.extend(change.paths().map(str::to_owned));
                inodes.extend(change.inode());
            }
        }
        let log = core::mem::take(&mut self.log);
        for (change, selected) in log.into_iter().zip(selected) {
            if selected {
                change.apply(&mut self.durable);
            } else {
                self.log.push(change);
            }
        }
    }

    /// Simulates a crash: each logged change is kept with probability `keep`, in order; entries
    /// whose parent directory did not survive are dropped; the live namespace becomes the
    /// durable one.
    pub(crate) fn crash(&mut self, rng: &mut SplitMix64, keep: f64) -> CrashOutcome {
        let mut outcome = CrashOutcome::default();
        for change in core::mem::take(&mut self.log) {
            if rng.chance(keep) {
                change.apply(&mut self.durable);
                outcome.kept += 1;
            } else {
                outcome.lost += 1;
            }
        }
        // A parent sorts before its children (it is their prefix), so one pass suffices.
        let mut pruned = BTreeMap::new();
        for (path, node) in core::mem::take(&mut self.durable) {
            if path.is_empty() || pruned.get(parent_dir(&path)) == Some(&Node::Dir) {
                pruned.insert(path, node);
            }
        }
        self.durable = pruned;
        self.live = self.durable.clone();
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(ns: &Namespace, dir: &str) -> Vec<String> {
        ns.children(dir)
    }

    #[test]
    fn children_are_direct_and_sorted() {
        let mut ns = Namespace::new();
        ns.mkdir("d");
        ns.mkdir("d/sub");
        ns.link("d/sub/x", 1);
        ns.link("d/b", 2);
        ns.link("d/a-b", 3);
        ns.link("d-e", 4);
        assert_eq!(names(&ns, "d"), ["a-b", "b", "sub"]);
        assert_eq!(names(&ns, ""), ["d", "d-e"]);
        assert_eq!(names(&ns, "d/sub"), ["x"]);
    }

    #[test]
    fn crash_keeps_synced_dirs_only() {
        let mut ns = Namespace::new();
        ns.mkdir("d");
        ns.sync_dir("");
        ns.link("d/kept", 1);
        ns.sync_dir("d");
        ns.link("d/lost", 2);
        ns.crash(&mut SplitMix64::new(1), 0.0);
        assert_eq!(names(&ns, "d"), ["kept"]);
        assert!(!ns.refers_to(2));
    }

    #[test]
    fn entries_under_a_lost_directory_are_dropped() {
        let mut ns = Namespace::new();
        ns.mkdir("d");
        ns.link("d/f", 1);
        ns.sync_dir("d");
        ns.crash(&mut SplitMix64::new(1), 0.0);
        assert_eq!(names(&ns, ""), Vec::<String>::new());
        assert_eq!(ns.get("d/f"), None);
    }

    #[test]
    fn sync_pulls_in_dependencies_across_directories() {
        let mut ns = Namespace::new();
        for dir in ["x", "y"] {
            ns.mkdir(dir);
        }
        ns.sync_dir("");
        ns.link("x/a", 1);
        ns.rename("x/a", "y/b", 1);
        ns.sync_dir("y");
        ns.crash(&mut SplitMix64::new(1), 1.0);
        assert_eq!(
            (names(&ns, "x"), names(&ns, "y")),
            (vec![], vec!["b".to_owned()])
        );
    }

    #[test]
    fn any_subset_keeps_one_name_per_file() {
        for seed in 0..200 {
            let mut ns = Namespace::new();
            ns.link("a", 1);
            ns.link("t", 9);
            ns.sync_dir("");
            ns.rename("a", "b", 1);
            ns.rename("b", "c", 1);
            ns.rename("c", "t", 1);
            ns.unlink("t", 1);
            ns.link("a", 2);
            ns.crash(&mut SplitMix64::new(seed), 0.5);
            let files: Vec<_> = ns.live_files().collect();
            let unique: BTreeSet<_> = files.iter().collect();
            assert_eq!(files.len(), unique.len(), "seed {seed}: {:?}", ns.live);
        }
    }
}
