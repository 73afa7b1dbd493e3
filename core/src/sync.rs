//! The lock shim: spin locks in `no_std` builds, the operating system's locks with `std`.
//!
//! Both variants expose the same small API (`Mutex::lock`, `RwLock::read`/`write`) and never
//! report poisoning: a panic while a lock is held is already a bug that aborts the test or the
//! process, and the engine's invariants are re-checked by assertions, not by poison flags.
//! Atomics and `crossbeam-utils` (`CachePadded`, `Backoff`) are used directly, except the 64-bit
//! atomics: they come from `portable-atomic` (re-exported here as [`AtomicU64`]), which is the
//! native type where the target has 64-bit atomics and a lock-based fallback where it does not
//! (e.g. `thumbv7em-none-eabihf`, Cortex-M4).

#[cfg(not(feature = "std"))]
mod imp {
    /// A mutual-exclusion lock (spin lock without `std`).
    #[derive(Debug, Default)]
    pub struct Mutex<T: ?Sized>(spin::Mutex<T>);

    /// The guard of a [`Mutex`].
    pub type MutexGuard<'a, T> = spin::MutexGuard<'a, T>;

    impl<T> Mutex<T> {
        /// A new unlocked mutex.
        pub const fn new(value: T) -> Self {
            Mutex(spin::Mutex::new(value))
        }
    }

    impl<T: ?Sized> Mutex<T> {
        /// Locks the mutex, spinning until it is free.
        pub fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock()
        }
    }

    /// A reader-writer lock (spin lock without `std`).
    #[derive(Debug, Default)]
    pub struct RwLock<T: ?Sized>(spin::RwLock<T>);

    /// The shared guard of a [`RwLock`].
    pub type RwLockReadGuard<'a, T> = spin::RwLockReadGuard<'a, T>;
    /// The exclusive guard of a [`RwLock`].
    pub type RwLockWriteGuard<'a, T> = spin::RwLockWriteGuard<'a, T>;

    impl<T> RwLock<T> {
        /// A new unlocked reader-writer lock.
        pub const fn new(value: T) -> Self {
            RwLock(spin::RwLock::new(value))
        }
    }

    impl<T: ?Sized> RwLock<T> {
        /// Locks for shared access.
        pub fn read(&self) -> RwLockReadGuard<'_, T> {
            self.0.read()
        }
        /// Locks for exclusive access.
        pub fn write(&self) -> RwLockWriteGuard<'_, T> {
            self.0.write()
        }
    }

    /// Waiting for a condition under a [`Mutex`]: without `std` there is nobody to wake a
    /// sleeper, so a waiter releases the lock, spins briefly and locks again.
    #[derive(Debug, Default)]
    pub struct Condvar(());

    impl Condvar {
        /// A new condition variable.
        pub const fn new() -> Self {
            Condvar(())
        }

        /// Releases `guard`, waits a little (or until notified), and locks `mutex` again.
        /// Spurious wake-ups are normal: check the condition in a loop.
        pub fn wait<'a, T>(
            &self,
            guard: MutexGuard<'a, T>,
            mutex: &'a Mutex<T>,
        ) -> MutexGuard<'a, T> {
            drop(guard);
            for _ in 0..64 {
                core::hint::spin_loop();
            }
            mutex.lock()
        }

        /// Wakes every waiter (nothing to do for spinning waiters).
        pub fn notify_all(&self) {}
    }
}

#[cfg(feature = "std")]
mod imp {
    /// A mutual-exclusion lock (the operating system's lock with `std`).
    #[derive(Debug, Default)]
    pub struct Mutex<T: ?Sized>(std::sync::Mutex<T>);

    /// The guard of a [`Mutex`].
    pub type MutexGuard<'a, T> = std::sync::MutexGuard<'a, T>;

    impl<T> Mutex<T> {
        /// A new unlocked mutex.
        pub const fn new(value: T) -> Self {
            Mutex(std::sync::Mutex::new(value))
        }
    }

    impl<T: ?Sized> Mutex<T> {
        /// Locks the mutex, blocking until it is free.
        pub fn lock(&self) -> MutexGuard<'_, T> {
            self.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        }
    }

    /// A reader-writer lock (the operating system's lock with `std`).
    #[derive(Debug, Default)]
    pub struct RwLock<T: ?Sized>(std::sync::RwLock<T>);

    /// The shared guard of a [`RwLock`].
    pub type RwLockReadGuard<'a, T> = std::sync::RwLockReadGuard<'a, T>;
    /// The exclusive guard of a [`RwLock`].
    pub type RwLockWriteGuard<'a, T> = std::sync::RwLockWriteGuard<'a, T>;

    impl<T> RwLock<T> {
        /// A new unlocked reader-writer lock.
        pub const fn new(value: T) -> Self {
            RwLock(std::sync::RwLock::new(value))
        }
    }

    impl<T: ?Sized> RwLock<T> {
        /// Locks for shared access.
        pub fn read(&self) -> RwLockReadGuard<'_, T> {
            self.0
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        }
        /// Locks for exclusive access.
        pub fn write(&self) -> RwLockWriteGuard<'_, T> {
            self.0
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        }
    }

    /// Waiting for a condition under a [`Mutex`] (the operating system's condition variable).
    #[derive(Debug, Default)]
    pub struct Condvar(std::sync::Condvar);

    impl Condvar {
        /// A new condition variable.
        pub const fn new() -> Self {
            Condvar(std::sync::Condvar::new())
        }

        /// Releases `guard`, sleeps until notified, and locks the mutex again. Spurious
        /// wake-ups are possible: check the condition in a loop.
        pub fn wait<'a, T>(
            &self,
            guard: MutexGuard<'a, T>,
            _mutex: &'a Mutex<T>,
        ) -> MutexGuard<'a, T> {
            self.0
                .wait(guard)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        }

        /// Wakes every waiter.
        pub fn notify_all(&self) {
            self.0.notify_all();
        }
    }
}

pub use imp::{Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use portable_atomic::AtomicU64;

/// Asks the CPU to bring the cache line at `p` into its cache: a hint for a load that comes
/// soon, so that several independent misses overlap instead of following one another. It reads
/// nothing and never faults, whatever the address. x86-64 only; elsewhere it does nothing.
#[inline]
#[cfg_attr(
    target_arch = "x86_64",
    expect(unsafe_code, reason = "a CPU intrinsic")
)]
pub fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    #[allow(
        unused_unsafe,
        reason = "the intrinsic is safe to call in newer Rust versions"
    )]
    // SAFETY: a prefetch is a hint: no memory is accessed and no fault is raised.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutex_and_rwlock() {
        let m = Mutex::new(1);
        *m.lock() += 1;
        assert_eq!(*m.lock(), 2);
        let l = RwLock::new(5);
        {
            let a = l.read();
            let b = l.read();
            assert_eq!(*a + *b, 10);
        }
        *l.write() = 7;
        assert_eq!(*l.read(), 7);
    }

    #[test]
    fn prefetch_is_only_a_hint() {
        let v = [1u64, 2, 3];
        prefetch(v.as_ptr());
        // Addresses that must not be read are fine too.
        prefetch(core::ptr::null::<u64>());
        prefetch(v.as_ptr().wrapping_add(1 << 40));
        assert_eq!(v, [1, 2, 3]);
    }
}
