//! [`SimFs`] and [`SimFile`]: an in-memory `FileSystem` with crashes and injected faults,
//! deterministic from one seed.
//!
//! All state sits behind one mutex, so every operation is atomic and, for one sequence of
//! calls, every random draw (fault or crash outcome) is the same from run to run. Faults and
//! crash outcomes draw from two generators split from the seed, so that turning a fault knob
//! does not change what a crash keeps.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use ppdb_platform::{
    parent_dir, validate_path, Error, ErrorKind, File, FileSystem, OpenMode, Result,
};

use crate::data::{DataOutcome, FileData};
use crate::faults::{Counters, Faults, Op};
use crate::namespace::{InodeId, Namespace, Node};
use crate::rng::SplitMix64;

/// The largest file the simulator holds in memory; a write or `set_len` past it fails with
/// `NoSpace`.
pub const FILE_SIZE_MAX_BYTES: u64 = 1 << 32;

/// What [`SimFs::crash`] did with the changes that were not durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CrashReport {
    /// Unsynced entry changes (create, remove, rename, new directory) that survived.
    pub entry_changes_kept: u64,
    /// Unsynced entry changes that were undone.
    pub entry_changes_lost: u64,
    /// Unsynced sectors that came back with their new contents.
    pub sectors_kept: u64,
    /// Unsynced sectors that came back with their synced contents.
    pub sectors_lost: u64,
    /// Unsynced sectors that came back torn (new bytes first, then synced ones).
    pub sectors_torn: u64,
}

/// A "fail the n-th operation" countdown.
#[derive(Debug, Clone, Copy)]
struct Countdown {
    /// The operation kind counted, or every operation.
    op: Option<Op>,
    /// Matching operations left before the failing one (1: the next one fails).
    remaining: u64,
}

/// Everything behind the mutex.
struct State {
    seed: u64,
    faults: Faults,
    countdowns: Vec<Countdown>,
    fault_rng: SplitMix64,
    crash_rng: SplitMix64,
    counters: Counters,
    /// Incremented by each crash; handles of an older epoch are dead.
    epoch: u64,
    next_inode: InodeId,
    files: BTreeMap<InodeId, FileData>,
    namespace: Namespace,
}

/// A simulated file system: clone it to share it (between a test and the engine under test);
/// every clone sees the same files, faults and counters.
///
/// Files keep live bytes (what reads see) and durable bytes (what survives [`SimFs::crash`]);
/// entries likewise have a live and a durable namespace. Faults are configured with
/// [`Faults`] and the setters; see the crate documentation for the crash model.
#[derive(Clone)]
pub struct SimFs {
    state: Arc<Mutex<State>>,
}

impl fmt::Debug for SimFs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("SimFs")
            .field("seed", &state.seed)
            .field("epoch", &state.epoch)
            .field("files", &state.files.len())
            .field("faults", &state.faults)
            .finish_non_exhaustive()
    }
}

impl SimFs {
    /// An empty file system (only the root directory, durable) without faults.
    pub fn new(seed: u64) -> Self {
        SimFs::with_faults(seed, Faults::NONE)
    }

    /// An empty file system with the given fault knobs.
    pub fn with_faults(seed: u64, faults: Faults) -> Self {
        let mut split = SplitMix64::new(seed);
        let state = State {
            seed,
            faults,
            countdowns: Vec::new(),
            fault_rng: SplitMix64::new(split.next_u64()),
            crash_rng: SplitMix64::new(split.next_u64()),
            counters: Counters::default(),
            epoch: 0,
            next_inode: 1,
            files: BTreeMap::new(),
            namespace: Namespace::new(),
        };
        SimFs {
            state: Arc::new(Mutex::new(state)),
        }
    }

    /// The seed the file system was made with.
    pub fn seed(&self) -> u64 {
        self.lock().seed
    }

    /// The current fault knobs.
    pub fn faults(&self) -> Faults {
        self.lock().faults
    }

    /// Replaces all fault knobs.
    pub fn set_faults(&self, faults: Faults) {
        self.lock().faults = faults;
    }

    /// Sets the probability that a `write_at` or `set_len` fails.
    pub fn set_write_error_probability(&self, p: f64) {
        self.lock().faults.write_error_probability = p;
    }

    /// Sets the probability that a `sync_data` or `sync_dir` fails (making nothing durable).
    pub fn set_sync_error_probability(&self, p: f64) {
        self.lock().faults.sync_error_probability = p;
    }

    /// Sets the probability that a `read_at` fails.
    pub fn set_read_error_probability(&self, p: f64) {
        self.lock().faults.read_error_probability = p;
    }

    /// Sets the probability that a `read_at` returns one bit flipped.
    pub fn set_bit_flip_probability(&self, p: f64) {
        self.lock().faults.bit_flip_probability = p;
    }

    /// Sets the probability that a `read_at` returns fewer bytes than it could.
    pub fn set_short_read_probability(&self, p: f64) {
        self.lock().faults.short_read_probability = p;
    }

    /// Sets the capacity in bytes (`None`: unlimited). Lowering it below the bytes in use
    /// fails the writes that grow a file until space is freed.
    pub fn set_capacity_bytes(&self, capacity: Option<u64>) {
        self.lock().faults.capacity_bytes = capacity;
    }

    /// Sets what a crash does with unsynced data.
    pub fn set_torn_writes(&self, mode: crate::TornWrites) {
        self.lock().faults.torn_writes = mode;
    }

    /// Sets the probability that a crash keeps each unsynced change.
    pub fn set_crash_keep_probability(&self, p: f64) {
        self.lock().faults.crash_keep_probability = p;
    }

    /// Makes the `n`-th operation from now, of any kind, fail (`n = 1`: the next one) with
    /// `ErrorKind::Other`, once. Run a workload once to learn its [`Counters::io_total`], then
    /// fail each of its operations in turn.
    pub fn fail_nth_io(&self, n: u64) {
        self.add_countdown(None, n);
    }

    /// Makes the `n`-th `op` from now fail with `ErrorKind::Other`, once.
    pub fn fail_nth_op(&self, op: Op, n: u64) {
        self.add_countdown(Some(op), n);
    }

    /// Stops injecting I/O errors: error probabilities to zero, capacity unlimited, countdowns
    /// cancelled. The crash model (`torn_writes`, `crash_keep_probability`) stays.
    pub fn heal(&self) {
        let mut state = self.lock();
        state.faults = Faults {
            torn_writes: state.faults.torn_writes,
            crash_keep_probability: state.faults.crash_keep_probability,
            ..Faults::NONE
        };
        state.countdowns.clear();
    }

    /// The operation counts.
    pub fn counters(&self) -> Counters {
        self.lock().counters
    }

    /// Sets the operation counts to zero.
    pub fn reset_counters(&self) {
        self.lock().counters = Counters::default();
    }

    /// The bytes in use: the total live length of the files in the namespace (files removed
    /// while open are not counted).
    pub fn used_bytes(&self) -> u64 {
        self.lock().used_bytes()
    }

    /// The live contents of the file at `path`, if there is one, without counting an
    /// operation or injecting a fault: for assertions in tests.
    pub fn peek(&self, path: &str) -> Option<Vec<u8>> {
        let state = self.lock();
        match state.namespace.get(path)? {
            Node::File(inode) => state.files.get(&inode).map(|data| data.live().to_vec()),
            Node::Dir => None,
        }
    }

    /// Simulates a power loss and restart. Every file reverts to its durable bytes and each
    /// entry to its durable state, except that each change since the last successful sync
    /// survives with probability `crash_keep_probability` (per sector of data per
    /// [`crate::TornWrites`], per new length, per entry change; renames whole). Handles opened
    /// before return errors from now on. Faults and countdowns stay as they are.
    pub fn crash(&self) -> CrashReport {
        let mut guard = self.lock();
        let state = &mut *guard;
        state.epoch += 1;
        state.counters.crashes += 1;
        let keep = state.faults.crash_keep_probability;
        let entries = state.namespace.crash(&mut state.crash_rng, keep);
        let namespace = &state.namespace;
        state.files.retain(|&inode, _| namespace.refers_to(inode));
        let mut data = DataOutcome::default();
        for file in state.files.values_mut() {
            file.crash(
                &mut state.crash_rng,
                state.faults.torn_writes,
                keep,
                &mut data,
            );
        }
        CrashReport {
            entry_changes_kept: entries.kept,
            entry_changes_lost: entries.lost,
            sectors_kept: data.sectors_kept,
            sectors_lost: data.sectors_lost,
            sectors_torn: data.sectors_torn,
        }
    }

    fn add_countdown(&self, op: Option<Op>, n: u64) {
        self.lock().countdowns.push(Countdown {
            op,
            remaining: n.max(1),
        });
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock (a failed assertion in a test thread) leaves the state
        // consistent: every operation validates before it mutates.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    /// Counts `op` and decides whether it fails on purpose.
    fn begin(&mut self, op: Op) -> Result<()> {
        self.counters.count(op);
        let mut hit = false;
        for countdown in &mut self.countdowns {
            if countdown.op.is_none_or(|o| o == op) {
                countdown.remaining -= 1;
                hit |= countdown.remaining == 0;
            }
        }
        if hit {
            self.countdowns.retain(|c| c.remaining > 0);
            self.counters.faults_injected += 1;
            return Err(Error::new(
                ErrorKind::Other,
                "sim: injected fault (countdown)",
            ));
        }
        let (p, context) = match op {
            Op::Write | Op::SetLen => (
                self.faults.write_error_probability,
                "sim: injected write error",
            ),
            Op::SyncData | Op::SyncDir => (
                self.faults.sync_error_probability,
                "sim: injected sync error",
            ),
            Op::Read => (
                self.faults.read_error_probability,
                "sim: injected read error",
            ),
            _ => return Ok(()),
        };
        if self.fault_rng.chance(p) {
            self.counters.faults_injected += 1;
            return Err(Error::new(ErrorKind::Other, context));
        }
        Ok(())
    }

    fn used_bytes(&self) -> u64 {
        let files = &self.files;
        let len = |inode| {
            files
                .get(&inode)
                .map_or(0, |data: &FileData| data.len() as u64)
        };
        self.namespace.live_files().map(len).sum()
    }

    /// Fails with `NoSpace` if growing file `inode` to `new_len` bytes does not fit.
    fn check_space(&mut self, inode: InodeId, new_len: u64) -> Result<()> {
        let old_len = self.files.get(&inode).map_or(0, |data| data.len() as u64);
        let growth = new_len.saturating_sub(old_len);
        if growth == 0 {
            return Ok(());
        }
        let full = match self.faults.capacity_bytes {
            _ if new_len > FILE_SIZE_MAX_BYTES => true,
            Some(capacity) => self.used_bytes().saturating_add(growth) > capacity,
            None => false,
        };
        if full {
            self.counters.faults_injected += 1;
            return Err(Error::new(ErrorKind::NoSpace, "sim: disk full"));
        }
        Ok(())
    }

    /// The directory at `dir`: `NotFound` if missing, `Other` if it is a file.
    fn dir(&self, dir: &str) -> Result<()> {
        match self.namespace.get(dir) {
            Some(Node::Dir) => Ok(()),
            Some(Node::File(_)) => Err(Error::new(ErrorKind::Other, "sim: not a directory")),
            None => Err(Error::new(ErrorKind::NotFound, "sim: no such directory")),
        }
    }

    /// Drops the contents of `inode` if nothing refers to it any more.
    fn collect(&mut self, inode: InodeId) {
        let unused = self.files.get(&inode).is_some_and(|data| data.handles == 0);
        if unused && !self.namespace.refers_to(inode) {
            self.files.remove(&inode);
        }
    }

    fn open(&mut self, path: &str, mode: OpenMode) -> Result<InodeId> {
        validate_path(path)?;
        self.begin(Op::Open)?;
        if path.is_empty() {
            return Err(Error::new(ErrorKind::Other, "sim: is a directory"));
        }
        self.dir(parent_dir(path))?;
        let inode = match (self.namespace.get(path), mode) {
            (Some(Node::Dir), _) => {
                return Err(Error::new(ErrorKind::Other, "sim: is a directory"))
            }
            (Some(Node::File(_)), OpenMode::CreateNew) => {
                return Err(Error::new(ErrorKind::AlreadyExists, "sim: file exists"))
            }
            (Some(Node::File(inode)), OpenMode::Truncate) => {
                if let Some(data) = self.files.get_mut(&inode) {
                    data.set_len(0);
                }
                inode
            }
            (Some(Node::File(inode)), _) => inode,
            (None, OpenMode::Existing) => {
                return Err(Error::new(ErrorKind::NotFound, "sim: no such file"))
            }
            (None, _) => {
                let inode = self.next_inode;
                self.next_inode += 1;
                self.files.insert(inode, FileData::default());
                self.namespace.link(path, inode);
                inode
            }
        };
        if let Some(data) = self.files.get_mut(&inode) {
            data.handles += 1;
        }
        Ok(inode)
    }

    fn remove(&mut self, path: &str) -> Result<()> {
        validate_path(path)?;
        self.begin(Op::Remove)?;
        match self.namespace.get(path) {
            Some(Node::File(inode)) => {
                self.namespace.unlink(path, inode);
                self.collect(inode);
                Ok(())
            }
            Some(Node::Dir) => Err(Error::new(ErrorKind::Other, "sim: is a directory")),
            None => Err(Error::new(ErrorKind::NotFound, "sim: no such file")),
        }
    }

    fn rename(&mut self, from: &str, to: &str) -> Result<()> {
        validate_path(from)?;
        validate_path(to)?;
        self.begin(Op::Rename)?;
        let inode = match self.namespace.get(from) {
            Some(Node::File(inode)) => inode,
            Some(Node::Dir) => {
                return Err(Error::new(
                    ErrorKind::Other,
                    "sim: cannot rename a directory",
                ))
            }
            None => return Err(Error::new(ErrorKind::NotFound, "sim: no such file")),
        };
        self.dir(parent_dir(to))?;
        let replaced = match self.namespace.get(to) {
            Some(Node::Dir) => return Err(Error::new(ErrorKind::Other, "sim: is a directory")),
            Some(Node::File(replaced)) => Some(replaced),
            None => None,
        };
        if from == to {
            return Ok(());
        }
        self.namespace.rename(from, to, inode);
        if let Some(replaced) = replaced {
            self.collect(replaced);
        }
        Ok(())
    }

    fn create_dir_all(&mut self, dir: &str) -> Result<()> {
        validate_path(dir)?;
        self.begin(Op::CreateDir)?;
        if dir.is_empty() {
            return Ok(());
        }
        let ends = dir.match_indices('/').map(|(i, _)| i).chain([dir.len()]);
        for end in ends {
            let prefix = &dir[..end];
            match self.namespace.get(prefix) {
                Some(Node::Dir) => {}
                Some(Node::File(_)) => {
                    return Err(Error::new(
                        ErrorKind::Other,
                        "sim: a path component is a file",
                    ))
                }
                None => self.namespace.mkdir(prefix),
            }
        }
        Ok(())
    }
}

impl FileSystem for SimFs {
    type File = SimFile;

    fn open(&self, path: &str, mode: OpenMode) -> Result<SimFile> {
        let mut state = self.lock();
        let inode = state.open(path, mode)?;
        Ok(SimFile {
            fs: self.clone(),
            inode,
            epoch: state.epoch,
        })
    }

    fn remove(&self, path: &str) -> Result<()> {
        self.lock().remove(path)
    }

    fn rename(&self, from: &str, to: &str) -> Result<()> {
        self.lock().rename(from, to)
    }

    fn list(&self, dir: &str) -> Result<Vec<String>> {
        validate_path(dir)?;
        let mut state = self.lock();
        state.begin(Op::List)?;
        state.dir(dir)?;
        Ok(state.namespace.children(dir))
    }

    fn create_dir_all(&self, dir: &str) -> Result<()> {
        self.lock().create_dir_all(dir)
    }

    fn exists(&self, path: &str) -> Result<bool> {
        validate_path(path)?;
        let mut state = self.lock();
        state.begin(Op::Exists)?;
        Ok(state.namespace.get(path).is_some())
    }

    fn sync_dir(&self, dir: &str) -> Result<()> {
        validate_path(dir)?;
        let mut state = self.lock();
        state.begin(Op::SyncDir)?;
        state.dir(dir)?;
        state.namespace.sync_dir(dir);
        Ok(())
    }
}

/// An open file of a [`SimFs`]. Dead after a crash of its file system: every operation then
/// fails with `ErrorKind::Other`.
pub struct SimFile {
    fs: SimFs,
    inode: InodeId,
    epoch: u64,
}

impl fmt::Debug for SimFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimFile")
            .field("inode", &self.inode)
            .field("epoch", &self.epoch)
            .finish()
    }
}

impl SimFile {
    /// Locks the file system, checks that the handle is alive and counts `op` (which may fail
    /// on purpose), then runs `f` on the state and this file's contents.
    fn with<T>(&self, op: Op, f: impl FnOnce(&mut State, InodeId) -> Result<T>) -> Result<T> {
        let mut state = self.fs.lock();
        if state.epoch != self.epoch {
            return Err(Error::new(
                ErrorKind::Other,
                "sim: handle opened before a crash",
            ));
        }
        state.begin(op)?;
        f(&mut state, self.inode)
    }
}

/// The contents of `inode` (present while a live handle refers to it).
fn data(state: &mut State, inode: InodeId) -> Result<&mut FileData> {
    state
        .files
        .get_mut(&inode)
        .ok_or(Error::new(ErrorKind::Other, "sim: file contents missing"))
}

/// `offset` as an index into memory.
fn index(offset: u64) -> Result<usize> {
    usize::try_from(offset).map_err(|_| Error::new(ErrorKind::InvalidInput, "sim: offset too big"))
}

impl File for SimFile {
    fn len(&self) -> Result<u64> {
        self.with(Op::Len, |state, inode| Ok(data(state, inode)?.len() as u64))
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize> {
        self.with(Op::Read, |state, inode| {
            let len = data(state, inode)?.len();
            let offset = index(offset).unwrap_or(usize::MAX);
            let mut n = buf.len().min(len.saturating_sub(offset));
            if n > 1 && state.fault_rng.chance(state.faults.short_read_probability) {
                n = 1 + state.fault_rng.below(n as u64 - 1) as usize;
            }
            let n = data(state, inode)?.read(&mut buf[..n], offset);
            if n > 0 && state.fault_rng.chance(state.faults.bit_flip_probability) {
                let byte = state.fault_rng.below(n as u64) as usize;
                buf[byte] ^= 1 << state.fault_rng.below(8);
                state.counters.faults_injected += 1;
            }
            state.counters.bytes_read += n as u64;
            Ok(n)
        })
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> Result<()> {
        self.with(Op::Write, |state, inode| {
            if buf.is_empty() {
                return Ok(());
            }
            let end = offset.saturating_add(buf.len() as u64);
            state.check_space(inode, end)?;
            data(state, inode)?.write(buf, index(offset)?);
            state.counters.bytes_written += buf.len() as u64;
            Ok(())
        })
    }

    fn set_len(&self, len: u64) -> Result<()> {
        self.with(Op::SetLen, |state, inode| {
            state.check_space(inode, len)?;
            data(state, inode)?.set_len(index(len)?);
            Ok(())
        })
    }

    fn sync_data(&self) -> Result<()> {
        self.with(Op::SyncData, |state, inode| {
            data(state, inode)?.sync();
            Ok(())
        })
    }
}

impl Drop for SimFile {
    fn drop(&mut self) {
        let mut state = self.fs.lock();
        if let Some(data) = state.files.get_mut(&self.inode) {
            data.handles = data.handles.saturating_sub(1);
        }
        state.collect(self.inode);
    }
}
