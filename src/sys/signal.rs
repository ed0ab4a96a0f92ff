//! Signal dispositions and the signal mask: what a child would inherit
//! from us, and whether supervisorctl's Ctrl-C is ignored. Each function
//! is async-signal-safe and allocates nothing, so the code a forked child
//! runs before exec may call it.

use nix::sys::signal::{sigprocmask, SigSet, SigmaskHow};

/// Whether `sig` is ignored (SIG_IGN) in this process: a background job
/// of a non-interactive shell starts with SIGINT ignored, and exec keeps
/// ignored signals ignored. False for numbers that are not signals.
pub fn is_ignored(sig: i32) -> bool {
    let mut old = std::mem::MaybeUninit::<libc::sigaction>::zeroed();
    // SAFETY: a null new action makes sigaction only read the current
    // disposition into `old`, a live local sized for it; on success `old`
    // is initialised, and it is read only then.
    unsafe {
        libc::sigaction(sig, std::ptr::null(), old.as_mut_ptr()) == 0
            && old.assume_init().sa_sigaction == libc::SIG_IGN
    }
}

/// Sets `sig` back to its default action (SIG_DFL). Errors (a number that
/// is no signal, SIGKILL, SIGSTOP) are ignored: there is nothing to reset.
pub fn set_default(sig: i32) {
    // SAFETY: installing SIG_DFL runs no code of ours, so no handler can
    // observe any state; signal(2) takes plain integers.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
    }
}

/// Unblocks every signal of this thread (the mask a child inherits).
pub fn clear_mask() {
    let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_a_signal_is_not_ignored() {
        assert!(!is_ignored(0));
        assert!(!is_ignored(1000));
    }
}
