//! Shared helpers for the integration tests.

pub mod disk_model {
    //! A random workload for the database in disk mode and a `BTreeMap` model of it: steps,
    //! applying a step to the database and to the model, reading the database back.

    use std::collections::BTreeMap;

    use ppdb_core::{Config, Db, DiskOptions, Durability, RecoveryInfo, WriteBatch};
    use ppdb_platform::Platform;
    use ppdb_platform_sim::SplitMix64;

    /// The model: user key to value.
    pub type Model = BTreeMap<Vec<u8>, Vec<u8>>;

    /// The number of distinct keys the workload uses.
    pub const KEYS: u64 = 40;

    /// One write of a step: a key and its new value (`None`: delete).
    pub type Write = (Vec<u8>, Option<Vec<u8>>);

    /// One step of the workload.
    #[derive(Debug, Clone)]
    pub enum Step {
        /// Writes applied as one batch (a single put or delete is a batch of one).
        Batch(Vec<Write>),
        /// Writes applied as one serializable transaction.
        Txn(Vec<Write>),
        /// `flush_all`: every key deleted.
        FlushAll,
        /// Freeze the active memtable (starts a new WAL segment).
        Rotate,
        /// An explicit WAL sync.
        SyncWal,
    }

    /// The key with index `i`.
    pub fn key(i: u64) -> Vec<u8> {
        format!("key-{i:03}").into_bytes()
    }

    fn value(rng: &mut SplitMix64, tag: u64) -> Vec<u8> {
        let len = match rng.below(10) {
            0 => rng.below(3000),
            _ => rng.below(300),
        } as usize;
        let mut v = format!("{tag}:").into_bytes();
        v.extend((0..len).map(|j| (j as u64 ^ tag) as u8));
        v
    }

    fn writes(rng: &mut SplitMix64, tag: u64, n: u64) -> Vec<Write> {
        (0..n)
            .map(|j| {
                let k = key(rng.below(KEYS));
                if rng.chance(0.2) {
                    (k, None)
                } else {
                    (k, Some(value(rng, tag * 100 + j)))
                }
            })
            .collect()
    }

    /// A random step; `tag` makes its values unique.
    pub fn random_step(rng: &mut SplitMix64, tag: u64) -> Step {
        match rng.below(100) {
            0..=59 => Step::Batch(writes(rng, tag, 1)),
            60..=74 => {
                let n = 2 + rng.below(6);
                Step::Batch(writes(rng, tag, n))
            }
            75..=89 => {
                let n = 1 + rng.below(5);
                Step::Txn(writes(rng, tag, n))
            }
            90..=91 => Step::FlushAll,
            92..=96 => Step::Rotate,
            _ => Step::SyncWal,
        }
    }

    /// Applies `step` to the database; `Ok` means acknowledged.
    pub fn apply_db<P: Platform>(db: &Db<P>, step: &Step) -> ppdb_core::Result<()> {
        match step {
            Step::Batch(ws) => {
                let mut batch = WriteBatch::new();
                for (k, v) in ws {
                    match v {
                        Some(v) => batch.put(k, v),
                        None => batch.delete(k),
                    };
                }
                db.write(&batch).map(drop)
            }
            Step::Txn(ws) => db.transaction(|txn| {
                for (k, v) in ws {
                    match v {
                        Some(v) => txn.put(k, v)?,
                        None => txn.delete(k)?,
                    }
                }
                Ok(())
            }),
            Step::FlushAll => db.flush_all().map(drop),
            Step::Rotate => {
                db.engine().rotate(db.now());
                Ok(())
            }
            Step::SyncWal => db.sync_wal(),
        }
    }

    /// Applies `step` to the model.
    pub fn apply_model(model: &mut Model, step: &Step) {
        match step {
            Step::Batch(ws) | Step::Txn(ws) => {
                for (k, v) in ws {
                    match v {
                        Some(v) => model.insert(k.clone(), v.clone()),
                        None => model.remove(k),
                    };
                }
            }
            Step::FlushAll => model.clear(),
            Step::Rotate | Step::SyncWal => {}
        }
    }

    /// Whether `step` changes data (and so is logged).
    pub fn is_write(step: &Step) -> bool {
        matches!(step, Step::Batch(_) | Step::Txn(_) | Step::FlushAll)
    }

    /// Every key of the key space, read back.
    pub fn read_all<P: Platform>(db: &Db<P>) -> Model {
        (0..KEYS)
            .filter_map(|i| {
                let k = key(i);
                let item = db.get(&k).expect("reads work")?;
                Some((k, item.value))
            })
            .collect()
    }

    /// A small engine configuration, so that memtables rotate often.
    pub fn small_config(seed: u64) -> Config {
        Config {
            memtable_bytes_max: 8 << 10,
            arena_block_bytes: 2 << 10,
            seed,
            ..Config::default()
        }
    }

    /// Opens (or reopens) the database in `db/` of `platform`.
    pub fn open<P: Platform + Clone>(
        platform: &P,
        seed: u64,
        durability: Durability,
    ) -> ppdb_core::Result<(Db<P>, RecoveryInfo)> {
        let options = DiskOptions {
            durability,
            ..DiskOptions::default()
        };
        Db::open_dir(small_config(seed), platform.clone(), "db", options)
    }

    /// The number of seeds to run: `var` from the environment, else `default`.
    pub fn seeds(var: &str, default: u64) -> std::ops::Range<u64> {
        let first = std::env::var(format!("{var}_FIRST"))
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let n = std::env::var(var)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default);
        first..first + n
    }
}

pub mod crash_point {
    //! [`CrashPlatform`]: the simulated platform that crashes the disk right after the `n`-th
    //! successful operation of one kind (a sync, a rename, a directory sync), then fails every
    //! later operation until [`CrashPlatform::revive`], as if the process had died with the
    //! machine. This puts a crash between any two steps of a protocol such as the table flush.

    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;

    use ppdb_platform::{Error, ErrorKind, File, FileSystem, OpenMode, Platform, Result};
    use ppdb_platform_sim::{Op, SimClock, SimFile, SimFs, SimPlatform};

    #[derive(Debug)]
    struct Trigger {
        op: Op,
        remaining: AtomicU64,
        dead: AtomicBool,
    }

    /// A [`SimPlatform`] with a crash point.
    #[derive(Debug, Clone)]
    pub struct CrashPlatform {
        sim: SimPlatform,
        fs: CrashFs,
    }

    /// The file system of a [`CrashPlatform`].
    #[derive(Debug, Clone)]
    pub struct CrashFs {
        inner: SimFs,
        trigger: Arc<Trigger>,
    }

    /// A file of a [`CrashFs`].
    #[derive(Debug)]
    pub struct CrashFile {
        inner: SimFile,
        fs: CrashFs,
    }

    impl CrashPlatform {
        /// Crashes `sim`'s disk right after the `n`-th successful `op` (n >= 1; 0: never).
        pub fn new(sim: &SimPlatform, op: Op, n: u64) -> Self {
            let trigger = Arc::new(Trigger {
                op,
                remaining: AtomicU64::new(n),
                dead: AtomicBool::new(false),
            });
            CrashPlatform {
                sim: sim.clone(),
                fs: CrashFs {
                    inner: sim.fs.clone(),
                    trigger,
                },
            }
        }

        /// Whether the crash happened.
        pub fn crashed(&self) -> bool {
            self.fs.trigger.dead.load(Ordering::SeqCst)
        }
    }

    impl CrashFs {
        fn check(&self) -> Result<()> {
            if self.trigger.dead.load(Ordering::SeqCst) {
                Err(Error::new(ErrorKind::Other, "crashed"))
            } else {
                Ok(())
            }
        }

        /// Runs `f` (an operation of kind `op`); crashes after it if it is the chosen one.
        fn run<T>(&self, op: Op, f: impl FnOnce() -> Result<T>) -> Result<T> {
            self.check()?;
            let out = f()?;
            if op == self.trigger.op {
                let left = self.trigger.remaining.load(Ordering::SeqCst);
                if left > 0 {
                    self.trigger.remaining.store(left - 1, Ordering::SeqCst);
                    if left == 1 {
                        self.inner.crash();
                        self.trigger.dead.store(true, Ordering::SeqCst);
                    }
                }
            }
            Ok(out)
        }
    }

    impl File for CrashFile {
        fn len(&self) -> Result<u64> {
            self.fs.run(Op::Len, || self.inner.len())
        }
        fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize> {
            self.fs.run(Op::Read, || self.inner.read_at(buf, offset))
        }
        fn write_at(&self, buf: &[u8], offset: u64) -> Result<()> {
            self.fs.run(Op::Write, || self.inner.write_at(buf, offset))
        }
        fn set_len(&self, len: u64) -> Result<()> {
            self.fs.run(Op::SetLen, || self.inner.set_len(len))
        }
        fn sync_data(&self) -> Result<()> {
            self.fs.run(Op::SyncData, || self.inner.sync_data())
        }
    }

    impl FileSystem for CrashFs {
        type File = CrashFile;

        fn open(&self, path: &str, mode: OpenMode) -> Result<CrashFile> {
            let inner = self.run(Op::Open, || self.inner.open(path, mode))?;
            Ok(CrashFile {
                inner,
                fs: self.clone(),
            })
        }
        fn remove(&self, path: &str) -> Result<()> {
            self.run(Op::Remove, || self.inner.remove(path))
        }
        fn rename(&self, from: &str, to: &str) -> Result<()> {
            self.run(Op::Rename, || self.inner.rename(from, to))
        }
        fn list(&self, dir: &str) -> Result<Vec<String>> {
            self.run(Op::List, || self.inner.list(dir))
        }
        fn create_dir_all(&self, dir: &str) -> Result<()> {
            self.run(Op::CreateDir, || self.inner.create_dir_all(dir))
        }
        fn exists(&self, path: &str) -> Result<bool> {
            self.run(Op::Exists, || self.inner.exists(path))
        }
        fn sync_dir(&self, dir: &str) -> Result<()> {
            self.run(Op::SyncDir, || self.inner.sync_dir(dir))
        }
    }

    impl Platform for CrashPlatform {
        type Fs = CrashFs;
        type Clock = SimClock;

        fn fs(&self) -> &CrashFs {
            &self.fs
        }
        fn clock(&self) -> &SimClock {
            &self.sim.clock
        }
    }
}
