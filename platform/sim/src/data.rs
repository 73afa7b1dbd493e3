//! The contents of one simulated file: the *live* bytes reads see, the *durable* bytes a crash
//! falls back to, and the sectors where they may differ.
//!
//! Invariant: seen as infinite sequences padded with zeros, the live and the durable bytes are
//! equal outside the sectors in `dirty`. Writes and `set_len` mark the sectors they touch; a
//! successful sync copies those sectors and the length, then clears the set. So a sync costs
//! what was written since the last one, not the size of the file.

use std::collections::BTreeSet;

use ppdb_platform::SECTOR_SIZE;

use crate::faults::TornWrites;
use crate::rng::SplitMix64;

/// [`SECTOR_SIZE`] as a `usize`.
const SECTOR: usize = SECTOR_SIZE as usize;

/// What a crash did to the unsynced sectors of files.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DataOutcome {
    /// Sectors that came back with their new (unsynced) contents.
    pub(crate) sectors_kept: u64,
    /// Sectors that came back with their synced contents.
    pub(crate) sectors_lost: u64,
    /// Sectors that came back torn: new bytes first, then synced ones.
    pub(crate) sectors_torn: u64,
}

/// One file's contents.
#[derive(Debug, Default)]
pub(crate) struct FileData {
    live: Vec<u8>,
    durable: Vec<u8>,
    dirty: BTreeSet<u64>,
    /// Open handles (of any epoch) on this file.
    pub(crate) handles: u64,
}

impl FileData {
    /// The live length.
    pub(crate) fn len(&self) -> usize {
        self.live.len()
    }

    /// The live contents.
    pub(crate) fn live(&self) -> &[u8] {
        &self.live
    }

    /// Copies live bytes at `offset` into `buf`; returns how many (0 at or past the end).
    pub(crate) fn read(&self, buf: &mut [u8], offset: usize) -> usize {
        let Some(rest) = self.live.get(offset..) else {
            return 0;
        };
        let n = buf.len().min(rest.len());
        buf[..n].copy_from_slice(&rest[..n]);
        n
    }

    /// Writes `buf` at `offset`, zero-filling a gap (the caller checked the capacity).
    pub(crate) fn write(&mut self, buf: &[u8], offset: usize) {
        if buf.is_empty() {
            return;
        }
        let end = offset + buf.len();
        let old_len = self.live.len();
        if end > old_len {
            self.live.resize(end, 0);
        }
        self.live[offset..end].copy_from_slice(buf);
        self.mark_dirty(offset.min(old_len), end);
    }

    /// Cuts or zero-extends the live bytes to `len`.
    pub(crate) fn set_len(&mut self, len: usize) {
        let old_len = self.live.len();
        self.live.resize(len, 0);
        self.mark_dirty(old_len.min(len), old_len.max(len));
    }

    /// Makes the live bytes durable.
    pub(crate) fn sync(&mut self) {
        let len = self.live.len();
        self.durable.resize(len, 0);
        for &sector in &self.dirty {
            let start = sector as usize * SECTOR;
            if start >= len {
                break;
            }
            let end = (start + SECTOR).min(len);
            self.durable[start..end].copy_from_slice(&self.live[start..end]);
        }
        self.dirty.clear();
    }

    /// Simulates a crash: the durable bytes, plus each unsynced sector kept whole with
    /// probability `keep` (unless `mode` is `Never`); with `WithinSectors`, a sector not kept
    /// whole is torn half the time. The length is the durable one, or the live one with
    /// probability `keep`. Live and durable bytes are then the same.
    pub(crate) fn crash(
        &mut self,
        rng: &mut SplitMix64,
        mode: TornWrites,
        keep: f64,
        outcome: &mut DataOutcome,
    ) {
        if mode == TornWrites::Never {
            outcome.sectors_lost += self.dirty.len() as u64;
        } else {
            let len_kept = self.live.len() != self.durable.len() && rng.chance(keep);
            let len = if len_kept {
                self.live.len()
            } else {
                self.durable.len()
            };
            let mut image = core::mem::take(&mut self.durable);
            image.resize(len, 0);
            for &sector in &self.dirty {
                let start = sector as usize * SECTOR;
                if start >= len {
                    break;
                }
                let end = (start + SECTOR).min(len);
                let new_end = if rng.chance(keep) {
                    outcome.sectors_kept += 1;
                    end
                } else if mode == TornWrites::WithinSectors && end - start > 1 && rng.chance(0.5) {
                    outcome.sectors_torn += 1;
                    start + 1 + rng.below((end - start - 1) as u64) as usize
                } else {
                    outcome.sectors_lost += 1;
                    continue;
                };
                copy_live(&self.live, &mut image[start..new_end], start);
            }
            self.durable = image;
        }
        self.live.clone_from(&self.durable);
        self.dirty.clear();
    }

    /// Marks the sectors of bytes `start..end` as possibly different from the durable bytes.
    fn mark_dirty(&mut self, start: usize, end: usize) {
        if start >= end {
            return;
        }
        let (first, last) = (start / SECTOR, (end - 1) / SECTOR);
        self.dirty.extend((first..=last).map(|s| s as u64));
    }
}

/// Fills `out` with the live bytes from `offset`, zeros past the live end.
fn copy_live(live: &[u8], out: &mut [u8], offset: usize) {
    let available = live.get(offset..).unwrap_or(&[]);
    let n = out.len().min(available.len());
    out[..n].copy_from_slice(&available[..n]);
    out[n..].fill(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_then_crash_keeps_live() {
        let mut data = FileData::default();
        data.write(&[7; 1500], 100);
        data.sync();
        data.set_len(300);
        data.sync();
        data.write(&[9; 10], 2000);
        data.crash(
            &mut SplitMix64::new(3),
            TornWrites::Sectors,
            0.0,
            &mut DataOutcome::default(),
        );
        let mut expected = vec![0u8; 100];
        expected.resize(300, 7);
        assert_eq!(data.live(), expected);
    }

    #[test]
    fn unsynced_shrink_can_be_undone() {
        let mut data = FileData::default();
        data.write(&[7; 1000], 0);
        data.sync();
        data.set_len(10);
        data.crash(
            &mut SplitMix64::new(3),
            TornWrites::Sectors,
            0.0,
            &mut DataOutcome::default(),
        );
        assert_eq!(data.live(), [7; 1000]);
        data.set_len(10);
        data.crash(
            &mut SplitMix64::new(3),
            TornWrites::Sectors,
            1.0,
            &mut DataOutcome::default(),
        );
        assert_eq!(data.live(), [7; 10]);
    }

    #[test]
    fn torn_sectors_are_new_then_old() {
        let mut torn = 0;
        for seed in 0..100 {
            let mut data = FileData::default();
            data.write(&[1; 512], 0);
            data.sync();
            data.write(&[2; 512], 0);
            let mut outcome = DataOutcome::default();
            data.crash(
                &mut SplitMix64::new(seed),
                TornWrites::WithinSectors,
                0.0,
                &mut outcome,
            );
            let split = data.live().iter().take_while(|&&b| b == 2).count();
            assert!(data.live()[split..].iter().all(|&b| b == 1), "seed {seed}");
            torn += outcome.sectors_torn;
        }
        assert!(torn > 20, "{torn}");
    }
}
