//! Fault knobs ([`Faults`], [`TornWrites`]), operation kinds ([`Op`]) and [`Counters`].

/// The operations of the simulated file system, as counted by [`Counters`] and targeted by
/// [`crate::SimFs::fail_nth_op`]. Every call of a trait method is one operation (calls rejected
/// for an invalid path or a handle from before a crash are not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    /// `FileSystem::open`.
    Open,
    /// `FileSystem::remove`.
    Remove,
    /// `FileSystem::rename`.
    Rename,
    /// `FileSystem::list`.
    List,
    /// `FileSystem::create_dir_all`.
    CreateDir,
    /// `FileSystem::exists`.
    Exists,
    /// `FileSystem::sync_dir`.
    SyncDir,
    /// `File::len`.
    Len,
    /// `File::read_at` (each call, also inside `read_exact_at`).
    Read,
    /// `File::write_at`.
    Write,
    /// `File::set_len`.
    SetLen,
    /// `File::sync_data`.
    SyncData,
}

impl Op {
    /// Every operation kind.
    pub const ALL: [Op; 12] = [
        Op::Open,
        Op::Remove,
        Op::Rename,
        Op::List,
        Op::CreateDir,
        Op::Exists,
        Op::SyncDir,
        Op::Len,
        Op::Read,
        Op::Write,
        Op::SetLen,
        Op::SyncData,
    ];
}

/// What a crash does with data written since the last successful `sync_data` of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TornWrites {
    /// Unsynced data is always lost: the file reverts to its synced bytes and length.
    Never,
    /// Each unsynced 512-byte sector comes back whole-old or whole-new (the default).
    #[default]
    Sectors,
    /// As `Sectors`, and a sector not kept whole is torn half the time: its first bytes (at
    /// least one) new, the rest old.
    WithinSectors,
}

/// The fault and crash knobs of a [`crate::SimFs`]. Probabilities are per operation, in
/// `0.0..=1.0`; each draw comes from the file system's seeded generator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Faults {
    /// Probability that a `write_at` or `set_len` fails (changing nothing).
    pub write_error_probability: f64,
    /// Probability that a `sync_data` or `sync_dir` fails (making nothing durable).
    pub sync_error_probability: f64,
    /// Probability that a `read_at` fails.
    pub read_error_probability: f64,
    /// Probability that a `read_at` returns its data with one bit flipped (the file is
    /// unchanged: the next read is correct, unless it flips too).
    pub bit_flip_probability: f64,
    /// Probability that a `read_at` returns fewer bytes than it could (at least one).
    pub short_read_probability: f64,
    /// Capacity of the disk: a `write_at` or `set_len` that would take the total length of the
    /// files in the namespace past it fails with `NoSpace`. `None`: unlimited.
    pub capacity_bytes: Option<u64>,
    /// What a crash does with unsynced data.
    pub torn_writes: TornWrites,
    /// Probability that a crash keeps each unsynced change whole: a sector of data, a file's
    /// new length, an entry change (create, remove, rename, new directory). 0 loses all of
    /// them (but with `WithinSectors` half the sectors come back torn), 1 keeps all of them (a
    /// crash then loses nothing). Default 0.5.
    pub crash_keep_probability: f64,
}

impl Faults {
    /// No injected errors, unlimited capacity, the default crash model.
    pub const NONE: Faults = Faults {
        write_error_probability: 0.0,
        sync_error_probability: 0.0,
        read_error_probability: 0.0,
        bit_flip_probability: 0.0,
        short_read_probability: 0.0,
        capacity_bytes: None,
        torn_writes: TornWrites::Sectors,
        crash_keep_probability: 0.5,
    };
}

impl Default for Faults {
    fn default() -> Self {
        Faults::NONE
    }
}

/// Operation counts of a [`crate::SimFs`] since it was made (or [`crate::SimFs::reset_counters`]).
/// Failed operations count too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    /// `open` calls.
    pub opens: u64,
    /// `remove` calls.
    pub removes: u64,
    /// `rename` calls.
    pub renames: u64,
    /// `list` calls.
    pub lists: u64,
    /// `create_dir_all` calls.
    pub dir_creates: u64,
    /// `exists` calls.
    pub exists_checks: u64,
    /// `sync_dir` calls.
    pub dir_syncs: u64,
    /// `len` calls.
    pub lens: u64,
    /// `read_at` calls.
    pub reads: u64,
    /// `write_at` calls.
    pub writes: u64,
    /// `set_len` calls.
    pub set_lens: u64,
    /// `sync_data` calls.
    pub syncs: u64,
    /// Bytes returned by successful reads.
    pub bytes_read: u64,
    /// Bytes written by successful writes.
    pub bytes_written: u64,
    /// Operations failed on purpose (probabilities, countdowns, capacity).
    pub faults_injected: u64,
    /// Crashes.
    pub crashes: u64,
}

impl Counters {
    /// The count of operation `op`.
    pub fn ops(&self, op: Op) -> u64 {
        match op {
            Op::Open => self.opens,
            Op::Remove => self.removes,
            Op::Rename => self.renames,
            Op::List => self.lists,
            Op::CreateDir => self.dir_creates,
            Op::Exists => self.exists_checks,
            Op::SyncDir => self.dir_syncs,
            Op::Len => self.lens,
            Op::Read => self.reads,
            Op::Write => self.writes,
            Op::SetLen => self.set_lens,
            Op::SyncData => self.syncs,
        }
    }

    /// All operations: the range of `n` for which [`crate::SimFs::fail_nth_io`] hits a run of
    /// the same workload.
    pub fn io_total(&self) -> u64 {
        Op::ALL.iter().map(|&op| self.ops(op)).sum()
    }

    /// Counts one call of `op`.
    pub(crate) fn count(&mut self, op: Op) {
        let counter = match op {
            Op::Open => &mut self.opens,
            Op::Remove => &mut self.removes,
            Op::Rename => &mut self.renames,
            Op::List => &mut self.lists,
            Op::CreateDir => &mut self.dir_creates,
            Op::Exists => &mut self.exists_checks,
            Op::SyncDir => &mut self.dir_syncs,
            Op::Len => &mut self.lens,
            Op::Read => &mut self.reads,
            Op::Write => &mut self.writes,
            Op::SetLen => &mut self.set_lens,
            Op::SyncData => &mut self.syncs,
        };
        *counter += 1;
    }
}
