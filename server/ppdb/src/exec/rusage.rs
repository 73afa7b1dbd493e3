//! The process's CPU time, for `stats`' `rusage_user` and `rusage_system`.

/// CPU time in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CpuTime {
    /// Time spent in user mode.
    pub(crate) user_us: u64,
    /// Time spent in the kernel.
    pub(crate) system_us: u64,
}

/// The process's CPU time so far (zero where the platform cannot tell).
pub(crate) fn cpu_time() -> CpuTime {
    imp::cpu_time()
}

/// Appends `us` microseconds as memcached prints them: `<seconds>.<6 digits>`.
pub(crate) fn write_seconds(us: u64, out: &mut Vec<u8>) {
    let text = format!("{}.{:06}", us / 1_000_000, us % 1_000_000);
    out.extend_from_slice(text.as_bytes());
}

#[cfg(unix)]
mod imp {
    use super::CpuTime;

    fn micros(t: libc::timeval) -> u64 {
        let secs = u64::try_from(t.tv_sec).unwrap_or(0);
        let micros = u64::try_from(t.tv_usec).unwrap_or(0);
        secs.saturating_mul(1_000_000).saturating_add(micros)
    }

    #[expect(unsafe_code, reason = "getrusage(2) has no safe wrapper in std")]
    pub(super) fn cpu_time() -> CpuTime {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: `usage` is a properly aligned, zero-initialized `struct rusage` that lives
        // across the call, and RUSAGE_SELF is a valid `who`; getrusage only writes into it.
        let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
        if rc != 0 {
            return CpuTime::default();
        }
        // SAFETY: every field of `struct rusage` is a plain integer, so the zeroed memory
        // (overwritten by a successful getrusage) is a valid value.
        let usage = unsafe { usage.assume_init() };
        CpuTime {
            user_us: micros(usage.ru_utime),
            system_us: micros(usage.ru_stime),
        }
    }
}

#[cfg(not(unix))]
mod imp {
    use super::CpuTime;

    pub(super) fn cpu_time() -> CpuTime {
        CpuTime::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_have_six_decimals() {
        let mut out = Vec::new();
        write_seconds(12_000_345, &mut out);
        assert_eq!(out, b"12.000345");
        out.clear();
        write_seconds(0, &mut out);
        assert_eq!(out, b"0.000000");
    }

    #[test]
    fn the_process_used_some_cpu() {
        let spin: u64 = (0..2_000_000u64).fold(0, |a, b| a.wrapping_add(b * b));
        assert!(spin > 0);
        let cpu = cpu_time();
        if cfg!(unix) {
            assert!(cpu.user_us + cpu.system_us > 0);
        }
    }
}
