//! Two system constants read with sysconf(3) for /metrics: the clock tick
//! of /proc's CPU times and the page size of its memory figures.

/// `sysconf(_SC_CLK_TCK)`: ticks per second; -1 if unknown.
pub fn clock_ticks() -> libc::c_long {
    // SAFETY: sysconf only reads a system constant; it touches no memory.
    unsafe { libc::sysconf(libc::_SC_CLK_TCK) }
}

/// `sysconf(_SC_PAGESIZE)`: bytes per page; -1 if unknown.
pub fn page_size() -> libc::c_long {
    // SAFETY: as in clock_ticks.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_are_sane() {
        assert!(clock_ticks() > 0);
        assert!(page_size() >= 4096);
    }
}
