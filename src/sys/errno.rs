//! Python's `errno.errorcode` names for the errno values Supervisor puts
//! in its messages (`couldn't chdir to /x: ENOENT`, `EADDRINUSE`). Only
//! the table: which message uses a name is the caller's business.

/// Python's `errno.errorcode` names for what chdir and exec report.
pub fn errno_name(e: i32) -> &'static str {
    match e {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EIO => "EIO",
        libc::E2BIG => "E2BIG",
        libc::ENOEXEC => "ENOEXEC",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::ENOTDIR => "ENOTDIR",
        libc::EISDIR => "EISDIR",
        libc::EINVAL => "EINVAL",
        libc::ENFILE => "ENFILE",
        libc::EMFILE => "EMFILE",
        libc::ETXTBSY => "ETXTBSY",
        libc::ENOSPC => "ENOSPC",
        libc::EROFS => "EROFS",
        libc::ENAMETOOLONG => "ENAMETOOLONG",
        libc::ELOOP => "ELOOP",
        _ => "EUNKNOWN",
    }
}

/// Like [`errno_name`], with the socket errors too (for server messages).
pub fn errno_name_any(e: i32) -> &'static str {
    match e {
        libc::EADDRINUSE => "EADDRINUSE",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::ENOTSOCK => "ENOTSOCK",
        _ => errno_name(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_like_python_errorcode() {
        assert_eq!(errno_name(libc::ENOENT), "ENOENT");
        assert_eq!(errno_name(libc::EACCES), "EACCES");
        assert_eq!(errno_name(libc::EADDRINUSE), "EUNKNOWN");
        assert_eq!(errno_name_any(libc::EADDRINUSE), "EADDRINUSE");
        assert_eq!(errno_name_any(libc::ENOTDIR), "ENOTDIR");
    }
}
