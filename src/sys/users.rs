//! The user and group databases (passwd, group) and our own ids, through
//! nix's safe wrappers of getpw*_r, getgr*_r and getgrouplist.
//!
//! A missing entry and a missing or unreadable database both read as
//! "not found": an empty root has no /etc/passwd, and that is an unknown
//! user, never a panic or an error of its own.

use nix::unistd::{Gid, Group, Uid, User};
use std::ffi::CString;

/// The fields of a passwd entry that Supervisor uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passwd {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
}

impl From<User> for Passwd {
    fn from(u: User) -> Passwd {
        Passwd {
            name: u.name,
            uid: u.uid.as_raw(),
            gid: u.gid.as_raw(),
            home: u.dir.to_string_lossy().into_owned(),
        }
    }
}

/// The passwd entry of a user name (getpwnam).
pub fn passwd_by_name(name: &str) -> Option<Passwd> {
    User::from_name(name).ok().flatten().map(Passwd::from)
}

/// The passwd entry of a uid (getpwuid).
pub fn passwd_by_uid(uid: u32) -> Option<Passwd> {
    User::from_uid(Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(Passwd::from)
}

pub fn uid_of_name(name: &str) -> Option<u32> {
    passwd_by_name(name).map(|p| p.uid)
}

pub fn name_of_uid(uid: u32) -> Option<String> {
    passwd_by_uid(uid).map(|p| p.name)
}

pub fn home_of_uid(uid: u32) -> Option<String> {
    passwd_by_uid(uid).map(|p| p.home)
}

pub fn home_of_name(name: &str) -> Option<String> {
    passwd_by_name(name).map(|p| p.home)
}

/// Our real uid (getuid).
pub fn current_uid() -> u32 {
    Uid::current().as_raw()
}

/// Our real gid (getgid).
pub fn current_gid() -> u32 {
    Gid::current().as_raw()
}

/// The gid of a group name (getgrnam).
pub fn gid_of_name(name: &str) -> Option<u32> {
    Group::from_name(name)
        .ok()
        .flatten()
        .map(|g| g.gid.as_raw())
}

/// Whether the group database has this gid (getgrgid).
pub fn group_exists(gid: u32) -> bool {
    matches!(Group::from_gid(Gid::from_raw(gid)), Ok(Some(_)))
}

/// A user's groups for setgroups: `gid` first (Python puts the primary
/// group first, so a later setgid cannot lose it), then every group the
/// database lists the user in (getgrouplist), each once. Only `gid` when
/// the name is unknown or the look-up fails.
pub fn group_list(name: &str, gid: u32) -> Vec<u32> {
    let mut groups = vec![gid];
    let Ok(cname) = CString::new(name) else {
        return groups;
    };
    if let Ok(found) = nix::unistd::getgrouplist(&cname, Gid::from_raw(gid)) {
        for g in found.into_iter().map(Gid::as_raw) {
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_found_both_ways() {
        let by_name = passwd_by_name("root").expect("root in /etc/passwd");
        assert_eq!((by_name.uid, by_name.gid), (0, 0));
        assert_eq!(passwd_by_uid(0), Some(by_name));
        assert_eq!(name_of_uid(0).as_deref(), Some("root"));
        assert_eq!(gid_of_name("root"), Some(0));
        assert!(group_exists(0));
    }

    #[test]
    fn unknown_names_and_ids_are_none() {
        assert_eq!(passwd_by_name("no-such-user-here"), None);
        assert_eq!(passwd_by_name("nul\0inside"), None);
        assert_eq!(passwd_by_uid(u32::MAX - 7), None);
        assert_eq!(gid_of_name("no-such-group-here"), None);
        assert!(!group_exists(u32::MAX - 7));
    }

    #[test]
    fn group_list_puts_the_primary_first_once() {
        let groups = group_list("root", 0);
        assert_eq!(groups.first(), Some(&0));
        assert_eq!(groups.iter().filter(|&&g| g == 0).count(), 1);
        assert_eq!(group_list("no-such-user-here", 42), vec![42]);
        assert_eq!(group_list("nul\0inside", 42), vec![42]);
    }
}
