//! A benchmark yardstick, not part of supervisord: an HTTP/1.1 server that
//! answers every `POST /RPC2` at once with the bytes of a getState reply,
//! on keep-alive connections, one thread per connection. `bench/run.py`
//! drives it with the same load generator as the daemons, so the table
//! shows what the client and the kernel alone allow on this machine.
//!
//! Usage: instant_server --tcp PORT --unix PATH
//! (built by `make bench` with `rustc -O`; std only).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::net::UnixListener;

const BODY: &str = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n\
<value><struct>\n<member>\n<name>statecode</name>\n<value><int>1</int></value>\n</member>\n\
<member>\n<name>statename</name>\n<value><string>RUNNING</string></value>\n</member>\n\
</struct></value>\n</param>\n</params>\n</methodResponse>\n";

/// Serves one connection until the client closes it or sends garbage.
fn serve<S: Read + Write>(stream: S) {
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{}",
        BODY.len(),
        BODY
    );
    let mut conn = BufReader::new(stream);
    let mut line = String::new();
    let mut body = Vec::new();
    loop {
        let mut length = 0usize;
        loop {
            line.clear();
            match conn.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        body.resize(length, 0);
        if conn.read_exact(&mut body).is_err() {
            return;
        }
        if conn.get_mut().write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let (Some(port), Some(path)) = (arg("--tcp"), arg("--unix")) else {
        eprintln!("usage: instant_server --tcp PORT --unix PATH");
        std::process::exit(2);
    };
    let tcp = TcpListener::bind(("127.0.0.1", port.parse::<u16>().unwrap_or(0)))
        .unwrap_or_else(|e| panic!("bind 127.0.0.1:{port}: {e}"));
    let _ = std::fs::remove_file(&path);
    let unix = UnixListener::bind(&path).unwrap_or_else(|e| panic!("bind {path}: {e}"));
    std::thread::spawn(move || {
        for s in unix.incoming().flatten() {
            std::thread::spawn(move || serve(s));
        }
    });
    for s in tcp.incoming().flatten() {
        let _ = s.set_nodelay(true);
        std::thread::spawn(move || serve(s));
    }
}
