//! [`Options`] (`ppdb_options`): how `ppdb_open` opens a database, and its mapping to the
//! engine's `Config`.

use std::ffi::c_char;
use std::ptr;

use ppdb_core::Config;

use crate::guard::{guard, out};
use crate::status::{Failure, Status, PPDB_OK};

/// How to open a database. Initialise it with `ppdb_options_init` (which sets `struct_size`
/// and every default), then change the fields you need. Fields may be added at the end in later
/// versions; `struct_size` lets the library tell which version the caller was compiled with.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// `sizeof(ppdb_options)`, set by `ppdb_options_init`.
    pub struct_size: usize,
    /// NULL for a database in memory. A directory path (UTF-8, NUL-terminated) opens or
    /// creates a database there in disk mode: every write is synced to its write-ahead log
    /// before it returns, and reopening the directory recovers everything written.
    pub data_dir: *const c_char,
    /// The memory the database may hold, in bytes; 0 means no limit.
    pub memory_bytes_max: u64,
    /// The size at which the active memtable is frozen, in bytes (at least 4096; the default is
    /// 4 MiB). With a memory limit, the limit must be at least four times this.
    pub memtable_bytes_max: u64,
    /// The seed of the skiplists' random heights (runs are reproducible from it).
    pub seed: u64,
    /// The longest key, in bytes (default 65536).
    pub key_bytes_max: u32,
    /// The longest value, in bytes (default 64 MiB).
    pub value_bytes_max: u32,
    /// At the memory limit: nonzero evicts the coldest keys (a cache), 0 refuses writes with
    /// `PPDB_OUT_OF_MEMORY`.
    pub evict: u32,
}

impl Options {
    /// The defaults: memory mode, no memory limit, the engine's default sizes.
    pub fn defaults() -> Options {
        let config = Config::default();
        Options {
            struct_size: size_of::<Options>(),
            data_dir: ptr::null(),
            memory_bytes_max: saturate(config.memory_bytes_max),
            memtable_bytes_max: saturate(config.memtable_bytes_max),
            seed: config.seed,
            key_bytes_max: u32::try_from(config.key_bytes_max).unwrap_or(u32::MAX),
            value_bytes_max: u32::try_from(config.value_bytes_max).unwrap_or(u32::MAX),
            evict: u32::from(config.evict),
        }
    }

    /// The engine configuration these options ask for, or why they cannot be honoured.
    pub(crate) fn to_config(self) -> Result<Config, Failure> {
        if self.struct_size != size_of::<Options>() {
            return Err(Failure::invalid(format!(
                "ppdb_options.struct_size is {}, expected {}: initialise the options with \
                 ppdb_options_init",
                self.struct_size,
                size_of::<Options>()
            )));
        }
        let size = |value: u64, name: &str| {
            usize::try_from(value).map_err(|_| {
                Failure::new(
                    crate::status::PPDB_INVALID_CONFIG,
                    format!("ppdb_options.{name} = {value} does not fit this machine's memory"),
                )
            })
        };
        let mut config = Config {
            memory_bytes_max: size(self.memory_bytes_max, "memory_bytes_max")?,
            memtable_bytes_max: size(self.memtable_bytes_max, "memtable_bytes_max")?,
            seed: self.seed,
            key_bytes_max: self.key_bytes_max as usize,
            value_bytes_max: self.value_bytes_max as usize,
            evict: self.evict != 0,
            ..Config::default()
        };
        // The arena block must fit in a memtable: follow a smaller memtable down.
        config.arena_block_bytes = config.arena_block_bytes.min(config.memtable_bytes_max);
        config.validate()?;
        Ok(config)
    }
}

fn saturate(value: usize) -> u64 {
    u64::try_from(value).unwrap_or(u64::MAX)
}

/// Fills `options` with the defaults (memory mode, no memory limit, the engine's default
/// sizes) and sets `struct_size`. Returns `PPDB_INVALID_ARGUMENT` if `options` is NULL.
///
/// # Safety
///
/// If not NULL, `options` must point to writable memory for one `ppdb_options`.
#[no_mangle]
pub unsafe extern "C" fn ppdb_options_init(options: *mut Options) -> Status {
    guard(|| {
        // SAFETY: the caller guarantees a writable `ppdb_options` (or NULL, refused by `out`).
        let options = unsafe { out(options, "options") }?;
        options.write(Options::defaults());
        Ok(PPDB_OK)
    })
}
