//! The OS leaf: the only module allowed `unsafe` (the crate root denies
//! it everywhere else). Each raw call sits in a small function here with
//! a `// SAFETY:` line, and every `unsafe fn` says in `# Safety` what its
//! caller must guarantee. Nothing here knows about supervisord: it wraps
//! calls that `nix` and `std` do not (or not in the shape we need).

pub mod process;
