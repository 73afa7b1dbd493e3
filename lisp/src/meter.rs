//! The memory budget: every heap object the interpreter creates (lists, strings, functions,
//! environments) holds a [`Charge`] against the interpreter's [`Meter`] and gives it back
//! when it is dropped. The meter therefore counts live bytes, not bytes ever allocated, and an
//! allocation that would pass the budget fails before it happens.

use alloc::format;
use alloc::rc::Rc;
use core::cell::Cell;

use crate::error::{Error, Limit, Result};

#[derive(Debug, Default)]
struct MeterState {
    used: Cell<usize>,
    peak: Cell<usize>,
    /// 0: no limit.
    max: Cell<usize>,
}

/// Counts the live bytes of one interpreter against its budget. Cloning shares the count.
#[derive(Debug, Clone, Default)]
pub struct Meter(Rc<MeterState>);

impl Meter {
    /// A meter with a budget of `max` bytes (0: no limit).
    pub fn new(max: usize) -> Meter {
        let meter = Meter::default();
        meter.0.max.set(max);
        meter
    }

    /// Changes the budget (0: no limit). Objects already alive stay.
    pub fn set_max(&self, max: usize) {
        self.0.max.set(max);
    }

    /// The live bytes counted now.
    pub fn used(&self) -> usize {
        self.0.used.get()
    }

    /// The most live bytes counted at once.
    pub fn peak(&self) -> usize {
        self.0.peak.get()
    }

    /// Reserves `bytes`, or fails with a memory-limit error if the budget would be passed.
    pub fn charge(&self, bytes: usize) -> Result<Charge> {
        self.reserve(bytes)?;
        Ok(Charge {
            meter: self.clone(),
            bytes,
        })
    }

    fn reserve(&self, bytes: usize) -> Result<()> {
        let used = self.0.used.get().saturating_add(bytes);
        let max = self.0.max.get();
        if max != 0 && used > max {
            return Err(Error::limit(
                Limit::Memory,
                format!("memory limit of {max} bytes exceeded"),
            ));
        }
        self.0.used.set(used);
        if used > self.0.peak.get() {
            self.0.peak.set(used);
        }
        Ok(())
    }

    fn release(&self, bytes: usize) {
        self.0.used.set(self.0.used.get().saturating_sub(bytes));
    }
}

/// Bytes reserved on a [`Meter`], given back on drop.
#[derive(Debug)]
pub struct Charge {
    meter: Meter,
    bytes: usize,
}

impl Charge {
    /// Reserves `more` bytes on top of this charge.
    pub fn grow(&mut self, more: usize) -> Result<()> {
        self.meter.reserve(more)?;
        self.bytes += more;
        Ok(())
    }

    /// The bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.meter.release(self.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_are_given_back_on_drop() {
        let meter = Meter::new(100);
        let a = meter.charge(60).unwrap();
        assert_eq!(meter.used(), 60);
        let err = meter.charge(50).unwrap_err();
        assert_eq!(err.limit_hit(), Some(Limit::Memory));
        assert_eq!(meter.used(), 60, "a refused charge reserves nothing");
        drop(a);
        assert_eq!(meter.used(), 0);
        let mut b = meter.charge(40).unwrap();
        b.grow(60).unwrap();
        assert!(b.grow(1).is_err());
        assert_eq!(meter.peak(), 100);
    }
}
