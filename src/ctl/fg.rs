//! `fg`: the program's stdout and stderr streamed from `/logtail` by two
//! threads while the main thread forwards typed lines; and the plain line
//! reader used wherever Python calls `input()` without readline.

use super::actions::write_log_data;
use super::client::Client;
use super::http::{Shutdown, StreamEnd};
use super::sigint::{self, Wake};
use std::os::fd::AsFd;
use std::sync::Mutex;
use std::thread::JoinHandle;

/// The two streaming threads of `fg`.
pub struct Streams {
    threads: Vec<(Option<Shutdown>, JoinHandle<()>)>,
}

impl Streams {
    pub fn start(client: &Client, name: &str) -> Streams {
        let mut threads = Vec::new();
        for channel in ["stdout", "stderr"] {
            let path = format!("/logtail/{}/{}", name, channel);
            let mut conn = match client.open_stream(&path) {
                Ok(c) => c,
                Err(line) => {
                    eprintln!("{}", line);
                    continue;
                }
            };
            // Only the keyboard loop may take a Ctrl-C.
            conn.watch_sigint = false;
            let stop = conn.shutdown_handle();
            let headers = client.stream_headers();
            let full = format!("{}{}", client.url, path);
            let spawned = std::thread::Builder::new()
                .name(format!("fg-{}", channel))
                .stack_size(256 * 1024)
                .spawn(move || {
                    if let StreamEnd::Status(code) =
                        conn.stream_get(&path, &headers, write_log_data)
                    {
                        eprintln!("{} Cannot read, status code {}", full, code);
                    }
                });
            if let Ok(h) = spawned {
                threads.push((stop, h));
            }
        }
        Streams { threads }
    }

    /// Closes both streams and waits for their threads.
    pub fn stop(self) {
        for (stop, _) in &self.threads {
            if let Some(s) = stop {
                s.shutdown();
            }
        }
        for (_, h) in self.threads {
            let _ = h.join();
        }
    }
}

/// Bytes read from stdin past the last line handed out.
static PENDING: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// Ctrl-C while waiting for input.
#[derive(Debug)]
pub struct Interrupted;

/// One line from stdin without its newline, as Python's `input()` gives it
/// when stdin is not a terminal it edits; None at end of input.
pub fn read_stdin_line() -> Result<Option<String>, Interrupted> {
    let stdin = std::io::stdin();
    let fd = stdin.as_fd();
    let mut pending = PENDING.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        if let Some(i) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=i).collect();
            return Ok(Some(String::from_utf8_lossy(&line[..i]).into_owned()));
        }
        if sigint::wait_readable(fd, -1) == Wake::Interrupted {
            return Err(Interrupted);
        }
        let mut buf = [0u8; 4096];
        match nix::unistd::read(fd, &mut buf) {
            Err(nix::errno::Errno::EINTR) | Err(nix::errno::Errno::EAGAIN) => continue,
            Ok(n) if n > 0 => pending.extend_from_slice(&buf[..n]),
            _ if pending.is_empty() => return Ok(None),
            _ => {
                // A last line without its newline.
                let line: Vec<u8> = std::mem::take(&mut *pending);
                return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
            }
        }
    }
}
