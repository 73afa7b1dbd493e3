//! [`DiskTable`]: a table file opened for the engine's reads, behind the object-safe
//! [`TableSource`] (the engine has no platform type parameter).

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use ppdb_platform::File;

use super::{TableCursor, TableSource};
use crate::memtable::VersionRef;
use crate::sync::AtomicU64;
use crate::table::{TableEntry, TableIter, TableReader};

/// A live table.
pub(crate) struct DiskTable<F: File> {
    number: u64,
    reader: TableReader<F>,
    /// The disk layer's count of failed table reads.
    read_errors: Arc<AtomicU64>,
}

impl<F: File> DiskTable<F> {
    pub(crate) fn new(number: u64, reader: TableReader<F>, read_errors: Arc<AtomicU64>) -> Self {
        DiskTable {
            number,
            reader,
            read_errors,
        }
    }

    fn count_error(&self) {
        self.read_errors.fetch_add(1, Ordering::Relaxed);
    }
}

impl<F: File> core::fmt::Debug for DiskTable<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DiskTable")
            .field("number", &self.number)
            .field("properties", self.reader.properties())
            .finish()
    }
}

impl<F: File> TableSource for DiskTable<F> {
    fn get(&self, key: &[u8], seq: u64) -> Option<TableEntry> {
        let p = self.reader.properties();
        if p.entries == 0 || key < p.smallest_key.as_slice() || key > p.largest_key.as_slice() {
            return None;
        }
        match self.reader.get(key, seq) {
            Ok(entry) => entry,
            Err(_) => {
                self.count_error();
                None
            }
        }
    }

    fn cursor(&self) -> Box<dyn TableCursor + '_> {
        Box::new(DiskTableCursor {
            table: self,
            iter: self.reader.iter(),
            failed: false,
        })
    }
}

/// A cursor over a [`DiskTable`]; a read error ends it.
struct DiskTableCursor<'t, F: File> {
    table: &'t DiskTable<F>,
    iter: TableIter<'t, F>,
    failed: bool,
}

impl<F: File> DiskTableCursor<'_, F> {
    fn check(&mut self, result: crate::Result<()>) {
        if result.is_err() {
            self.failed = true;
            self.table.count_error();
        }
    }
}

impl<F: File> TableCursor for DiskTableCursor<'_, F> {
    fn seek(&mut self, key: &[u8], seq: u64) {
        self.failed = false;
        let result = self.iter.seek(key, seq);
        self.check(result);
    }

    fn seek_to_first(&mut self) {
        self.failed = false;
        let result = self.iter.seek_to_first();
        self.check(result);
    }

    fn advance(&mut self) {
        if !self.failed {
            let result = self.iter.advance();
            self.check(result);
        }
    }

    fn current(&self) -> Option<VersionRef<'_>> {
        if self.failed {
            return None;
        }
        self.iter.current()
    }
}
