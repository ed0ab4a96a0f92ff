//! The directories watched for restart-on-change, and what an inotify
//! event in one of them means for each program.
//!
//! A program (a [`Target`]) wants to know when the files of its command
//! change, or when files matching a pattern change anywhere in a tree.
//! Both are seen from the directory: a binary replaced by a rename (how
//! package managers and `install` replace a running file) is an event of
//! its directory, not of the old file. A tree is watched directory by
//! directory (inotify is not recursive), and a directory that does not
//! exist (yet, or any more) is waited for by watching its nearest
//! existing ancestor.
//!
//! The kernel side sits behind [`Notify`], so this is tested with a fake
//! and real temporary directories; one directory has one watch however
//! many programs need it.

use crate::logs::activity;
use crate::pycompat::glob::fnmatch;
use nix::sys::inotify::AddWatchFlags;
use std::collections::{BTreeSet, HashMap};
use std::ffi::OsString;
use std::hash::Hash;
use std::io;
use std::path::{Path, PathBuf};

/// Adds and removes the kernel's watches on directories.
pub trait Notify {
    type Wd: Copy + Eq + Hash + std::fmt::Debug;
    fn add(&mut self, dir: &Path) -> io::Result<Self::Wd>;
    fn remove(&mut self, wd: Self::Wd);
}

/// What a watch on a directory asks for: changes of its entries and of
/// the directory itself.
pub const DIR_MASK: AddWatchFlags = AddWatchFlags::IN_CLOSE_WRITE
    .union(AddWatchFlags::IN_CREATE)
    .union(AddWatchFlags::IN_MOVED_TO)
    .union(AddWatchFlags::IN_MOVED_FROM)
    .union(AddWatchFlags::IN_DELETE)
    .union(AddWatchFlags::IN_DELETE_SELF)
    .union(AddWatchFlags::IN_MOVE_SELF)
    .union(AddWatchFlags::IN_ONLYDIR);

/// The events that are a change of an entry: written, created, moved in
/// or out, deleted.
const ENTRY_CHANGED: AddWatchFlags = AddWatchFlags::IN_CLOSE_WRITE
    .union(AddWatchFlags::IN_CREATE)
    .union(AddWatchFlags::IN_MOVED_TO)
    .union(AddWatchFlags::IN_MOVED_FROM)
    .union(AddWatchFlags::IN_DELETE);

/// The events that change which directories exist.
const DIR_CHANGED: AddWatchFlags = AddWatchFlags::IN_CREATE
    .union(AddWatchFlags::IN_MOVED_TO)
    .union(AddWatchFlags::IN_MOVED_FROM)
    .union(AddWatchFlags::IN_DELETE);

/// One event read from the kernel.
#[derive(Debug, Clone)]
pub struct Event<W> {
    pub wd: W,
    pub mask: AddWatchFlags,
    pub name: Option<OsString>,
}

/// What a program watches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The program's name, for log lines.
    pub label: String,
    /// Absolute paths of the command's file (and of the file it links to).
    pub binaries: Vec<PathBuf>,
    /// An absolute directory watched recursively, and the pattern file
    /// names must match.
    pub tree: Option<(PathBuf, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Binary,
    Files,
}

/// A change that concerns target number `target`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub target: usize,
    pub kind: Kind,
    pub path: PathBuf,
}

struct TargetState {
    target: Target,
    /// The directories watched for it now.
    dirs: BTreeSet<PathBuf>,
    /// Those that belong to its tree (empty while the tree is missing).
    tree_dirs: BTreeSet<PathBuf>,
    /// Whether the tree's root existed at the last look.
    root_present: bool,
}

pub struct WatchSet<N: Notify> {
    notify: N,
    targets: Vec<TargetState>,
    /// Every watched directory: its watch and how many targets need it.
    dirs: HashMap<PathBuf, (N::Wd, usize)>,
    /// The paths of a watch (two paths to the same directory, through a
    /// link, share one).
    by_wd: HashMap<N::Wd, Vec<PathBuf>>,
}

impl<N: Notify> WatchSet<N> {
    pub fn new(notify: N) -> WatchSet<N> {
        WatchSet {
            notify,
            targets: Vec::new(),
            dirs: HashMap::new(),
            by_wd: HashMap::new(),
        }
    }

    pub fn notify(&self) -> &N {
        &self.notify
    }

    /// Replaces the targets; the index of a target in `targets` is the
    /// one its changes carry. A target equal to one already watched keeps
    /// its watches (and says nothing again about a missing directory).
    pub fn set_targets(&mut self, targets: Vec<Target>) {
        let mut old: Vec<Option<TargetState>> = std::mem::take(&mut self.targets)
            .into_iter()
            .map(Some)
            .collect();
        let mut fresh = Vec::new();
        for (i, t) in targets.into_iter().enumerate() {
            let kept = old
                .iter_mut()
                .find(|o| o.as_ref().is_some_and(|o| o.target == t))
                .and_then(Option::take);
            match kept {
                Some(state) => self.targets.push(state),
                None => {
                    fresh.push(i);
                    self.targets.push(TargetState {
                        target: t,
                        dirs: BTreeSet::new(),
                        tree_dirs: BTreeSet::new(),
                        root_present: true,
                    });
                }
            }
        }
        // Release before adding: a directory moved between paths must
        // get a fresh watch, not lose the one it shares.
        for gone in old.into_iter().flatten() {
            for d in gone.dirs {
                self.release(&d);
            }
        }
        for i in fresh {
            self.sync(i, true);
        }
    }

    /// Acts on a batch of events: the changes they mean, after the watches
    /// have followed directories created, moved and deleted.
    pub fn on_events(&mut self, events: Vec<Event<N::Wd>>) -> Vec<Change> {
        let mut changes = Vec::new();
        let mut resync = BTreeSet::new();
        for ev in events {
            self.on_event(ev, &mut changes, &mut resync);
        }
        for i in resync {
            changes.extend(self.sync(i, false));
        }
        changes
    }

    fn on_event(
        &mut self,
        ev: Event<N::Wd>,
        changes: &mut Vec<Change>,
        resync: &mut BTreeSet<usize>,
    ) {
        if ev.mask.contains(AddWatchFlags::IN_Q_OVERFLOW) {
            // Events were lost: look at every tree again, and take it that
            // each changed (a restart too many beats a change missed).
            activity::warn("too many file changes at once: inotify events were lost");
            for (i, t) in self.targets.iter().enumerate() {
                resync.insert(i);
                if let (Some((root, _)), true) = (&t.target.tree, t.root_present) {
                    changes.push(Change {
                        target: i,
                        kind: Kind::Files,
                        path: root.clone(),
                    });
                }
            }
            return;
        }
        let Some(paths) = self.by_wd.get(&ev.wd).cloned() else {
            return; // a watch we removed; its last events may trail
        };
        let gone = ev.mask.contains(AddWatchFlags::IN_IGNORED);
        if gone || ev.mask.contains(AddWatchFlags::IN_MOVE_SELF) {
            // Deleted (the kernel dropped the watch) or moved away (the
            // watch follows the directory, so its path is wrong now).
            self.by_wd.remove(&ev.wd);
            if !gone {
                self.notify.remove(ev.wd);
            }
            for p in &paths {
                self.dirs.remove(p);
                for (i, t) in self.targets.iter_mut().enumerate() {
                    if t.dirs.remove(p) {
                        resync.insert(i);
                    }
                }
            }
            return;
        }
        let Some(name) = ev.name else {
            return;
        };
        let is_dir = ev.mask.contains(AddWatchFlags::IN_ISDIR);
        let matters = ev.mask.intersects(ENTRY_CHANGED);
        for dir in &paths {
            let full = dir.join(&name);
            for (i, t) in self.targets.iter().enumerate() {
                if !t.dirs.contains(dir) {
                    continue;
                }
                let in_tree = t.tree_dirs.contains(dir);
                if matters && !is_dir && t.target.binaries.contains(&full) {
                    changes.push(Change {
                        target: i,
                        kind: Kind::Binary,
                        path: full.clone(),
                    });
                }
                if let (Some((_, pattern)), true, true) = (&t.target.tree, in_tree, matters) {
                    if fnmatch(pattern, &name.to_string_lossy()) {
                        changes.push(Change {
                            target: i,
                            kind: Kind::Files,
                            path: full.clone(),
                        });
                    }
                }
                if is_dir && ev.mask.intersects(DIR_CHANGED) {
                    let on_the_way = |p: &Path| p.starts_with(&full);
                    let related = in_tree
                        || t.target.tree.as_ref().is_some_and(|(r, _)| on_the_way(r))
                        || t.target.binaries.iter().any(|b| on_the_way(b));
                    if related {
                        resync.insert(i);
                    }
                }
            }
        }
    }

    /// Makes target `i`'s watches match the file system. A directory of
    /// its tree that is new (not at the first look) may hold files made
    /// before its watch was: those are changes.
    fn sync(&mut self, i: usize, first: bool) -> Vec<Change> {
        let was_present = self.targets[i].root_present;
        let old_tree = self.targets[i].tree_dirs.clone();
        // A directory may be made between our look and its watch: look
        // again until two looks agree (bounded; a tree that never stops
        // changing is followed through its later events).
        let mut last: Option<BTreeSet<PathBuf>> = None;
        let mut tree_dirs = BTreeSet::new();
        let mut present = was_present;
        for _ in 0..8 {
            let (want, tree, p) = self.wanted(i);
            present = p;
            if last.as_ref() == Some(&want) {
                break;
            }
            self.apply(i, &want);
            tree_dirs = tree;
            last = Some(want);
        }
        let t = &mut self.targets[i];
        t.tree_dirs = tree_dirs.intersection(&t.dirs).cloned().collect();
        t.root_present = present;
        let mut changes = Vec::new();
        let Some((root, pattern)) = &t.target.tree else {
            return changes;
        };
        let label = &t.target.label;
        match (first, was_present, present) {
            (true, _, false) => activity::warn(format!(
                "directory {} watched for {} does not exist; waiting for it to appear",
                root.display(),
                label
            )),
            (false, true, false) => activity::warn(format!(
                "directory {} watched for {} is gone; waiting for it to appear again",
                root.display(),
                label
            )),
            (false, false, true) => activity::info(format!(
                "directory {} watched for {} exists again; watching it",
                root.display(),
                label
            )),
            _ => {}
        }
        if !first {
            for d in t.tree_dirs.difference(&old_tree) {
                for f in matching_files(d, pattern) {
                    changes.push(Change {
                        target: i,
                        kind: Kind::Files,
                        path: f,
                    });
                }
            }
        }
        changes
    }

    /// The directories target `i` needs watched now, those of its tree,
    /// and whether the tree's root exists.
    fn wanted(&self, i: usize) -> (BTreeSet<PathBuf>, BTreeSet<PathBuf>, bool) {
        let t = &self.targets[i].target;
        let mut want = BTreeSet::new();
        for b in &t.binaries {
            if let Some(parent) = b.parent() {
                want.insert(nearest_existing(parent));
            }
        }
        let mut tree = BTreeSet::new();
        let mut present = true;
        if let Some((root, _)) = &t.tree {
            present = root.is_dir();
            if present {
                tree = walk(root);
                want.extend(tree.iter().cloned());
            } else {
                want.insert(nearest_existing(root));
            }
        }
        (want, tree, present)
    }

    /// Watches `want` for target `i`, and nothing else.
    fn apply(&mut self, i: usize, want: &BTreeSet<PathBuf>) {
        let old = self.targets[i].dirs.clone();
        for d in old.difference(want) {
            self.release(d);
        }
        let mut have: BTreeSet<PathBuf> = old.intersection(want).cloned().collect();
        // One line for all that failed: a tree past the kernel's limit
        // would otherwise log a line per directory.
        let mut failed: Option<(PathBuf, io::Error, usize)> = None;
        for d in want.difference(&old) {
            match self.acquire(d) {
                Ok(()) => {
                    have.insert(d.clone());
                }
                // Gone meanwhile: the event of its parent brings us back.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => match failed.as_mut() {
                    Some((_, _, n)) => *n += 1,
                    None => failed = Some((d.clone(), e, 1)),
                },
            }
        }
        if let Some((dir, e, n)) = failed {
            let hint = if e.raw_os_error() == Some(libc::ENOSPC) {
                " (raise fs.inotify.max_user_watches)"
            } else {
                ""
            };
            let others = match n {
                1 => String::new(),
                n => format!(" and {} more directories", n - 1),
            };
            activity::warn(format!(
                "cannot watch {}{} for {}: {}{}",
                dir.display(),
                others,
                self.targets[i].target.label,
                e,
                hint
            ));
        }
        self.targets[i].dirs = have;
    }

    /// One more target needs `dir` watched.
    fn acquire(&mut self, dir: &Path) -> io::Result<()> {
        if let Some((_, users)) = self.dirs.get_mut(dir) {
            *users += 1;
            return Ok(());
        }
        let wd = self.notify.add(dir)?;
        self.dirs.insert(dir.to_path_buf(), (wd, 1));
        self.by_wd.entry(wd).or_default().push(dir.to_path_buf());
        Ok(())
    }

    /// One target less needs `dir`; the last one removes the watch.
    fn release(&mut self, dir: &Path) {
        let Some((wd, users)) = self.dirs.get_mut(dir) else {
            return;
        };
        *users -= 1;
        if *users > 0 {
            return;
        }
        let wd = *wd;
        self.dirs.remove(dir);
        let last = match self.by_wd.get_mut(&wd) {
            Some(paths) => {
                paths.retain(|p| p != dir);
                paths.is_empty()
            }
            None => false,
        };
        if last {
            self.by_wd.remove(&wd);
            self.notify.remove(wd);
        }
    }

    /// How many directories are watched (for tests and the debug log).
    pub fn watched(&self) -> usize {
        self.by_wd.len()
    }
}

/// `p` or its nearest ancestor that is a directory.
fn nearest_existing(p: &Path) -> PathBuf {
    let mut p = p;
    loop {
        if p.is_dir() {
            return p.to_path_buf();
        }
        match p.parent() {
            Some(parent) => p = parent,
            None => return PathBuf::from("/"),
        }
    }
}

/// `root` and every directory under it, without following links (a link
/// back up would never end).
fn walk(root: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(d) = todo.pop() {
        if let Ok(entries) = std::fs::read_dir(&d) {
            for e in entries.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    todo.push(e.path());
                }
            }
        }
        out.insert(d);
    }
    out
}

/// The entries of `dir` whose names match `pattern`.
fn matching_files(dir: &Path, pattern: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| fnmatch(pattern, &e.file_name().to_string_lossy()))
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::fs;

    /// The kernel's part, faked: watch numbers, and which exist.
    #[derive(Default)]
    struct Fake {
        next: i32,
        live: BTreeMap<i32, PathBuf>,
        /// The kernel's max_user_watches.
        limit: Option<usize>,
    }

    impl Notify for Fake {
        type Wd = i32;
        fn add(&mut self, dir: &Path) -> io::Result<i32> {
            if !dir.is_dir() {
                return Err(io::ErrorKind::NotFound.into());
            }
            if let Some((wd, _)) = self.live.iter().find(|(_, p)| *p == dir) {
                return Ok(*wd);
            }
            if self.limit.is_some_and(|l| self.live.len() >= l) {
                return Err(io::Error::from_raw_os_error(libc::ENOSPC));
            }
            self.next += 1;
            self.live.insert(self.next, dir.to_path_buf());
            Ok(self.next)
        }
        fn remove(&mut self, wd: i32) {
            assert!(self.live.remove(&wd).is_some(), "removed twice: {}", wd);
        }
    }

    impl Fake {
        fn wd(&self, dir: &Path) -> i32 {
            *self
                .live
                .iter()
                .find(|(_, p)| *p == dir)
                .unwrap_or_else(|| panic!("{} not watched; {:?}", dir.display(), self.live))
                .0
        }
        fn dirs(&self) -> Vec<PathBuf> {
            let mut v: Vec<PathBuf> = self.live.values().cloned().collect();
            v.sort();
            v
        }
    }

    fn ev(set: &WatchSet<Fake>, dir: &Path, mask: AddWatchFlags, name: &str) -> Event<i32> {
        Event {
            wd: set.notify().wd(dir),
            mask,
            name: Some(name.into()),
        }
    }

    fn tree(label: &str, root: &Path, pattern: &str) -> Target {
        Target {
            label: label.into(),
            binaries: Vec::new(),
            tree: Some((root.to_path_buf(), pattern.into())),
        }
    }

    use AddWatchFlags as F;

    #[test]
    fn a_binary_replaced_by_rename_or_written_is_a_change() {
        let tmp = tempfile::tempdir().expect("tmp");
        let bin = tmp.path().join("app");
        fs::write(&bin, "x").expect("write");
        let mut set = WatchSet::new(Fake::default());
        set.set_targets(vec![Target {
            label: "web".into(),
            binaries: vec![bin.clone()],
            tree: None,
        }]);
        assert_eq!(set.notify().dirs(), vec![tmp.path().to_path_buf()]);
        let want = vec![Change {
            target: 0,
            kind: Kind::Binary,
            path: bin.clone(),
        }];
        for mask in [
            F::IN_MOVED_TO,
            F::IN_CLOSE_WRITE,
            F::IN_DELETE,
            F::IN_CREATE,
        ] {
            let e = ev(&set, tmp.path(), mask, "app");
            assert_eq!(set.on_events(vec![e]), want, "{:?}", mask);
        }
        let other = ev(&set, tmp.path(), F::IN_CLOSE_WRITE, "app.tmp");
        assert_eq!(set.on_events(vec![other]), vec![]);
    }

    #[test]
    fn a_tree_is_watched_with_new_subdirectories_and_the_pattern() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path().join("conf");
        fs::create_dir_all(root.join("a")).expect("mkdir");
        let mut set = WatchSet::new(Fake::default());
        set.set_targets(vec![tree("web", &root, "*.conf")]);
        assert_eq!(set.notify().dirs(), vec![root.clone(), root.join("a")]);

        let e = ev(&set, &root.join("a"), F::IN_CLOSE_WRITE, "x.conf");
        assert_eq!(set.on_events(vec![e]).len(), 1);
        let e = ev(&set, &root, F::IN_CLOSE_WRITE, "x.txt");
        assert_eq!(set.on_events(vec![e]), vec![]);

        // A directory made with a matching file in it before we watched it.
        fs::create_dir_all(root.join("b/c")).expect("mkdir");
        fs::write(root.join("b/c/late.conf"), "x").expect("write");
        let e = ev(&set, &root, F::IN_CREATE | F::IN_ISDIR, "b");
        let changes = set.on_events(vec![e]);
        assert_eq!(
            changes,
            vec![Change {
                target: 0,
                kind: Kind::Files,
                path: root.join("b/c/late.conf"),
            }]
        );
        assert_eq!(set.watched(), 4);
        let e = ev(&set, &root.join("b/c"), F::IN_DELETE, "late.conf");
        assert_eq!(set.on_events(vec![e]).len(), 1);

        // Moved out of the tree: its watches go.
        fs::rename(root.join("b"), tmp.path().join("b")).expect("mv");
        let e = ev(&set, &root, F::IN_MOVED_FROM | F::IN_ISDIR, "b");
        set.on_events(vec![e]);
        assert_eq!(set.notify().dirs(), vec![root.clone(), root.join("a")]);
    }

    #[test]
    fn a_missing_root_is_waited_for_and_followed_when_it_comes_and_goes() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path().join("x/y");
        let mut set = WatchSet::new(Fake::default());
        set.set_targets(vec![tree("web", &root, "*")]);
        assert_eq!(set.notify().dirs(), vec![tmp.path().to_path_buf()]);
        // Unrelated directories change nothing.
        fs::create_dir(tmp.path().join("other")).expect("mkdir");
        let e = ev(&set, tmp.path(), F::IN_CREATE | F::IN_ISDIR, "other");
        assert_eq!(set.on_events(vec![e]), vec![]);
        assert_eq!(set.notify().dirs(), vec![tmp.path().to_path_buf()]);

        fs::create_dir(tmp.path().join("x")).expect("mkdir");
        let e = ev(&set, tmp.path(), F::IN_CREATE | F::IN_ISDIR, "x");
        assert_eq!(set.on_events(vec![e]), vec![]);
        assert_eq!(set.notify().dirs(), vec![tmp.path().join("x")]);

        fs::create_dir(&root).expect("mkdir");
        fs::write(root.join("f"), "x").expect("write");
        let e = ev(&set, &tmp.path().join("x"), F::IN_CREATE | F::IN_ISDIR, "y");
        assert_eq!(set.on_events(vec![e]).len(), 1, "its file is new");
        assert_eq!(set.notify().dirs(), vec![root.clone()]);

        // Deleted: the kernel drops the watch; we wait on the parent.
        fs::remove_dir_all(&root).expect("rm");
        let wd = set.notify().wd(&root);
        set.notify.live.remove(&wd);
        let gone = Event {
            wd,
            mask: F::IN_IGNORED,
            name: None,
        };
        assert_eq!(set.on_events(vec![gone]), vec![]);
        assert_eq!(set.notify().dirs(), vec![tmp.path().join("x")]);
    }

    #[test]
    fn shared_directories_have_one_watch_until_the_last_user_goes() {
        let tmp = tempfile::tempdir().expect("tmp");
        let bin = tmp.path().join("app");
        let t = |label: &str| Target {
            label: label.into(),
            binaries: vec![bin.clone()],
            tree: Some((tmp.path().to_path_buf(), "*.py".into())),
        };
        let mut set = WatchSet::new(Fake::default());
        set.set_targets(vec![t("a"), t("b")]);
        assert_eq!(set.watched(), 1);
        let e = ev(&set, tmp.path(), F::IN_MOVED_TO, "app");
        let changes = set.on_events(vec![e]);
        assert_eq!(
            changes.iter().map(|c| c.target).collect::<Vec<_>>(),
            vec![0, 1]
        );
        // "a" kept (same target, now index 0 still), "b" dropped.
        set.set_targets(vec![t("a")]);
        assert_eq!(set.watched(), 1);
        set.set_targets(vec![]);
        assert_eq!(set.watched(), 0);
        assert!(set.notify().live.is_empty());
    }

    #[test]
    fn a_directory_moved_away_loses_its_watch() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path().join("conf");
        fs::create_dir(&root).expect("mkdir");
        let mut set = WatchSet::new(Fake::default());
        set.set_targets(vec![tree("web", &root, "*")]);
        fs::rename(&root, tmp.path().join("old")).expect("mv");
        let moved = Event {
            wd: set.notify().wd(&root),
            mask: F::IN_MOVE_SELF,
            name: None,
        };
        set.on_events(vec![moved]);
        assert_eq!(set.notify().dirs(), vec![tmp.path().to_path_buf()]);
    }

    #[test]
    fn past_the_kernels_limit_what_can_be_watched_is() {
        let tmp = tempfile::tempdir().expect("tmp");
        for d in ["a", "b", "c", "d"] {
            fs::create_dir(tmp.path().join(d)).expect("mkdir");
        }
        let fake = Fake {
            limit: Some(3),
            ..Fake::default()
        };
        let mut set = WatchSet::new(fake);
        set.set_targets(vec![tree("web", tmp.path(), "*")]);
        assert_eq!(set.watched(), 3);
        // Still works where it watches.
        let e = ev(&set, tmp.path(), F::IN_CLOSE_WRITE, "x");
        assert_eq!(set.on_events(vec![e]).len(), 1);
    }

    #[test]
    fn overflow_counts_as_a_change_of_every_tree() {
        let tmp = tempfile::tempdir().expect("tmp");
        let mut set = WatchSet::new(Fake::default());
        set.set_targets(vec![tree("web", tmp.path(), "*")]);
        let overflow = Event {
            wd: -1,
            mask: F::IN_Q_OVERFLOW,
            name: None,
        };
        assert_eq!(set.on_events(vec![overflow]).len(), 1);
    }
}
