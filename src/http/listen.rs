//! Binding the configured HTTP servers' sockets at start-up, before
//! daemonizing, with Python's errors: a port in use, a live unix socket of
//! another supervisord, and any other socket error end start-up (exit 2).
//! The unix socket gets its chmod/chown before anyone can connect to it.

use crate::config::{ServerConfig, ServerKind};
use crate::logs::activity;
use crate::pycompat::repr::py_repr;
use std::net::TcpListener;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// A bound server socket.
pub enum Listener {
    Tcp(TcpListener),
    /// The socket, the path to unlink at exit, and the (device, inode) of
    /// the file we put there: someone may remove or replace it.
    Unix(UnixListener, PathBuf, Option<(u64, u64)>),
}

/// A server's config with its bound socket.
pub struct BoundServer {
    pub config: ServerConfig,
    pub listener: Listener,
    /// The unix socket's path was removed (by `close`): never twice, so a
    /// late drop cannot remove a socket a later server made at the path.
    unlinked: AtomicBool,
}

impl BoundServer {
    fn raw_fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        match &self.listener {
            Listener::Tcp(l) => l.as_raw_fd(),
            Listener::Unix(l, _, _) => l.as_raw_fd(),
        }
    }

    /// Stops accepting: accept() in any thread returns at once.
    pub fn shutdown(&self) {
        // Errors (ENOTCONN on some kernels for a listening socket) leave
        // nothing to do.
        let _ = nix::sys::socket::shutdown(self.raw_fd(), nix::sys::socket::Shutdown::Both);
    }

    /// Stops accepting and removes the unix socket's file, as Python's
    /// cleanup does at exit; connection threads may still hold this
    /// struct for a moment after.
    pub fn close(&self) {
        self.shutdown();
        if let Listener::Unix(_, path, _) = &self.listener {
            // Never someone else's file at our path.
            if self.socket_file_intact() && !self.unlinked.swap(true, Ordering::SeqCst) {
                let _ = std::fs::remove_file(path);
            }
        }
    }

    /// Whether clients can still reach this server by its address: for a
    /// unix socket, whether the file at its path is still the one we
    /// bound (it may have been removed or replaced under us); a TCP
    /// server always can.
    pub fn socket_file_intact(&self) -> bool {
        match &self.listener {
            Listener::Tcp(_) => true,
            Listener::Unix(_, path, bound) => bound.is_some() && file_id(path) == *bound,
        }
    }
}

impl Drop for BoundServer {
    fn drop(&mut self) {
        self.close();
    }
}

const IN_USE: &str = "Another program is already listening on a port that one of our HTTP servers is configured to use.  Shut this program down first before starting supervisord.";

fn socket_error(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::EADDRINUSE) => IN_USE.to_string(),
        Some(code) => format!(
            "Cannot open an HTTP server: socket.error reported errno.{} ({})",
            crate::sys::errno::errno_name_any(code),
            code
        ),
        None => format!("Cannot open an HTTP server: socket.error reported {}", e),
    }
}

/// What Python logs as it makes each server, at every start and restart.
pub fn announce(servers: &[ServerConfig], rpcinterfaces: &[String]) {
    for s in servers {
        for name in rpcinterfaces {
            activity::info(format!("RPC interface {} initialized", py_repr(name)));
        }
        if s.username.is_none() {
            activity::crit(format!(
                "Server {} running without any HTTP authentication checking",
                py_repr(&s.section)
            ));
        }
    }
}

/// Binds every server; the error is the usage message.
pub fn bind_all(servers: &[ServerConfig]) -> Result<Vec<BoundServer>, String> {
    let mut out = Vec::new();
    for s in servers {
        let listener = match &s.kind {
            ServerKind::Inet { host, port } => {
                let host = if host.is_empty() {
                    "0.0.0.0"
                } else {
                    host.as_str()
                };
                let l = TcpListener::bind((host, *port)).map_err(|e| socket_error(&e))?;
                // Accepted sockets inherit TCP_NODELAY. Without it a reply
                // written in pieces waits ~40 ms for the client's delayed
                // ACK (Nagle), which capped getAllProcessInfo at ~40 req/s.
                let _ =
                    nix::sys::socket::setsockopt(&l, nix::sys::socket::sockopt::TcpNoDelay, &true);
                Listener::Tcp(l)
            }
            ServerKind::Unix { file, chmod, chown } => {
                let l = bind_unix(file, *chmod, *chown)?;
                Listener::Unix(l, file.clone(), file_id(file))
            }
        };
        widen_backlog(&listener);
        out.push(BoundServer {
            config: s.clone(),
            listener,
            unlinked: AtomicBool::new(false),
        });
    }
    Ok(out)
}

/// Lets the kernel queue as many not-yet-accepted connections as the
/// system allows (net.core.somaxconn, 4096 on current Linux). std binds
/// with a backlog of 128; a burst of connections that outruns the accept
/// thread overflows that, and the kernel then drops the SYNs of whoever
/// connects next, so every client waits a second or more for its retry.
/// Python listens with 1024, which the same limit caps. Listening again
/// on a listening socket only changes its backlog.
fn widen_backlog(listener: &Listener) {
    use nix::sys::socket::{listen, Backlog};
    let _ = match listener {
        Listener::Tcp(l) => listen(l, Backlog::MAXALLOWABLE),
        Listener::Unix(l, _, _) => listen(l, Backlog::MAXALLOWABLE),
    };
}

/// The (device, inode) of the file at `path`, if any.
fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino()))
}

fn bind_unix(
    path: &Path,
    chmod: u32,
    chown: Option<(u32, Option<u32>)>,
) -> Result<UnixListener, String> {
    // sun_path holds 107 bytes plus the NUL.
    if path.as_os_str().len() > 107 {
        return Err(
            "Cannot open an HTTP server: socket.error reported AF_UNIX path too long".to_string(),
        );
    }
    if path.exists() || std::fs::symlink_metadata(path).is_ok() {
        if UnixStream::connect(path).is_ok() {
            return Err(IN_USE.to_string());
        }
        eprintln!("Unlinking stale socket {}", path.display());
        let _ = std::fs::remove_file(path);
    }
    // Bind under a temporary name, set mode and owner, then link it into
    // place, so nobody can connect before the permissions are right.
    let tmp = PathBuf::from(format!("{}.{}", path.display(), std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let l = UnixListener::bind(&tmp).map_err(|e| socket_error(&e))?;
    let finish = || -> Result<(), String> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(chmod))
            .map_err(|e| format!("Could not change permissions of socket file: {}", e))?;
        if let Some((uid, gid)) = chown {
            std::os::unix::fs::chown(&tmp, Some(uid), gid).map_err(|e| {
                format!(
                    "Not permitted to chown {} to uid/gid {}/{}: {}",
                    path.display(),
                    uid,
                    gid.map(|g| g as i64).unwrap_or(-1),
                    e
                )
            })?;
        }
        std::fs::hard_link(&tmp, path).map_err(|e| socket_error(&e))?;
        Ok(())
    };
    let r = finish();
    let _ = std::fs::remove_file(&tmp);
    r.map(|_| l)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{SocketAddr, TcpStream};
    use std::time::Duration;

    /// 300 connections that nobody accepts yet all get through at once (a
    /// backlog of 128 drops SYNs from about the 130th on).
    #[test]
    fn the_backlog_holds_a_burst() {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr: SocketAddr = l.local_addr().expect("address");
        let listener = Listener::Tcp(l);
        widen_backlog(&listener);
        let clients: Vec<TcpStream> = (0..300)
            .map(|i| {
                TcpStream::connect_timeout(&addr, Duration::from_millis(500))
                    .unwrap_or_else(|e| panic!("connection {i} not queued: {e}"))
            })
            .collect();
        assert_eq!(clients.len(), 300);
    }
}
