//! The OS leaf: the only module allowed `unsafe` (the crate root denies
//! it everywhere else). Each raw call sits in a small function here with
//! a `// SAFETY:` line, and every `unsafe fn` says in `# Safety` what its
//! caller must guarantee; what `nix` wraps safely is called through nix.
//! Nothing here reads the config or decides anything: which user, which
//! signal, what a message says is the caller's; these functions only make
//! the calls, and report what the OS said.
//!
//! - [`process`]: kill, reap, fork to daemonize, `_exit`.
//! - [`child`]: the code a forked child runs before exec.
//! - [`signal`]: signal dispositions (what a child inherits, Ctrl-C).
//! - [`users`]: the user and group databases.
//! - [`errno`]: Python's names for errno values.
//! - [`time`]: broken-down local time.
//! - [`sysconf`]: clock ticks and page size.

pub mod child;
pub mod errno;
pub mod process;
pub mod signal;
pub mod sysconf;
pub mod time;
pub mod users;
