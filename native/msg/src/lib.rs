//! `solana-msg` 3.1.0's API (the `msg!` macro and `sol_log`) with one addition: a per-thread
//! log hook. Off-chain, upstream prints every message to stdout, so a program run natively as a
//! builtin (see `concord-native`) logs nowhere a client can read. `concord-native` sets the
//! hook for the length of each builtin call to forward into the runtime's log collector, so
//! `msg!` lines and Anchor's error logs appear in the transaction's `logMessages` as on-chain.
//! Without a hook the behaviour is upstream's.
#![no_std]
#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

/// Re-exported for the `msg!` macro.
#[cfg(feature = "alloc")]
#[doc(hidden)]
pub use alloc::format;

/// Logs a message: one `&str` expression as is, anything else through `format!`.
#[cfg(feature = "alloc")]
#[macro_export]
macro_rules! msg {
    ($msg:expr) => {
        $crate::sol_log($msg)
    };
    ($($arg:tt)*) => ($crate::sol_log(&$crate::format!($($arg)*)));
}

#[cfg(target_os = "solana")]
pub mod syscalls {
    //! Syscall definitions used by `solana_msg`.
    pub use solana_define_syscall::definitions::{
        sol_log_, sol_log_64_, sol_log_compute_units_, sol_log_data,
    };
}

#[cfg(all(not(target_os = "solana"), feature = "std"))]
mod hook {
    use core::cell::Cell;

    std::thread_local! {
        static HOOK: Cell<Option<fn(&str)>> = const { Cell::new(None) };
    }

    /// The hook in force on this thread, if any.
    pub(crate) fn current() -> Option<fn(&str)> {
        HOOK.with(Cell::get)
    }

    /// Routes this thread's log messages to `hook` until the guard drops; the hook in force
    /// before comes back then, so nested calls (a builtin invoking another) restore correctly.
    pub fn set_log_hook(hook: fn(&str)) -> LogHookGuard {
        LogHookGuard {
            previous: HOOK.with(|cell| cell.replace(Some(hook))),
        }
    }

    /// Restores the previous hook when dropped.
    #[must_use = "the hook is removed when the guard drops"]
    pub struct LogHookGuard {
        previous: Option<fn(&str)>,
    }

    impl Drop for LogHookGuard {
        fn drop(&mut self) {
            HOOK.with(|cell| cell.set(self.previous));
        }
    }
}

#[cfg(all(not(target_os = "solana"), feature = "std"))]
pub use hook::{set_log_hook, LogHookGuard};

/// Print a string to the log.
#[inline]
pub fn sol_log(message: &str) {
    #[cfg(target_os = "solana")]
    unsafe {
        syscalls::sol_log_(message.as_ptr(), message.len() as u64);
    }

    #[cfg(all(not(target_os = "solana"), feature = "std"))]
    match hook::current() {
        Some(hook) => hook(message),
        None => std::println!("{message}"),
    }

    #[cfg(all(not(target_os = "solana"), not(feature = "std")))]
    core::hint::black_box(message);
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use std::string::{String, ToString};
    use std::vec::Vec;

    std::thread_local! {
        static SEEN: core::cell::RefCell<Vec<String>> = const { core::cell::RefCell::new(Vec::new()) };
    }

    fn record(tag: &str, message: &str) {
        SEEN.with(|seen| seen.borrow_mut().push(std::format!("{tag}:{message}")));
    }
    fn outer(message: &str) {
        record("outer", message)
    }
    fn inner(message: &str) {
        record("inner", message)
    }

    #[test]
    fn messages_go_to_the_hook_in_force_and_nesting_restores_the_outer_one() {
        {
            let _outer = set_log_hook(outer);
            msg!("a");
            {
                let _inner = set_log_hook(inner);
                msg!("b {}", 1);
            }
            msg!("c");
        }
        msg!("after: printed, not recorded");
        let seen = SEEN.with(|seen| seen.borrow().clone());
        assert_eq!(
            seen,
            ["outer:a", "inner:b 1", "outer:c"].map(str::to_string)
        );
    }

    #[test]
    fn a_hook_is_per_thread() {
        let _hook = set_log_hook(outer);
        std::thread::spawn(|| {
            msg!("elsewhere");
            assert!(SEEN.with(|seen| seen.borrow().is_empty()));
        })
        .join()
        .unwrap();
    }
}
