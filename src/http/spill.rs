//! An answer sent whole while it is small, and in parts once it is big.
//!
//! Python's daemon builds every answer whole and sends it with a
//! `Content-Length`; so do we, byte for byte, up to a limit. An answer
//! that grows past it (a `system.multicall` of many large log reads) is
//! sent as it is made instead: chunked to an HTTP/1.1 client, or ended by
//! closing the connection for HTTP/1.0 (RFC 9112 6.3). Memory then stays
//! near the limit however large the answer, where building it whole took
//! the answer's size twice over (its values and their encoding).

use super::wire::{self, Version};
use std::io::Write;

/// How an answer ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Finished {
    /// It stayed under the limit: nothing is sent yet, the caller sends
    /// this text whole, as every other answer.
    Whole(String),
    /// It was sent in parts; true when the connection can carry another
    /// request (chunked, kept alive, and no write failed).
    Streamed(bool),
}

enum State {
    Gathering,
    Chunked,
    ToClose,
    /// A write failed: the client has gone. What is still written is
    /// dropped (the calls behind it still run, as they would in Python).
    Failed,
}

/// The body of one answer; the caller appends to [`SpillingBody::text`]
/// and calls [`SpillingBody::spill`] between the pieces it makes.
pub struct SpillingBody<W: Write> {
    out: W,
    version: Version,
    keep: bool,
    content_type: &'static str,
    text: String,
    limit: usize,
    state: State,
}

impl<W: Write> SpillingBody<W> {
    pub fn new(
        out: W,
        version: Version,
        keep: bool,
        content_type: &'static str,
        limit: usize,
    ) -> SpillingBody<W> {
        SpillingBody {
            out,
            version,
            keep,
            content_type,
            text: String::new(),
            limit,
            state: State::Gathering,
        }
    }

    /// What is gathered and not sent yet; append the answer's next piece.
    pub fn text(&mut self) -> &mut String {
        &mut self.text
    }

    /// Sends what has gathered once it is past the limit (the head first,
    /// the first time).
    pub fn spill(&mut self) {
        if self.text.len() < self.limit {
            return;
        }
        if let State::Gathering = self.state {
            self.state = match self.start() {
                Ok(state) => state,
                Err(_) => State::Failed,
            };
        }
        self.send_text();
    }

    /// Ends the answer.
    pub fn finish(mut self) -> Finished {
        if let State::Gathering = self.state {
            return Finished::Whole(self.text);
        }
        self.send_text();
        let ended = match self.state {
            State::Chunked => self
                .out
                .write_all(b"0\r\n\r\n")
                .and_then(|()| self.out.flush())
                .is_ok(),
            State::ToClose => {
                let _ = self.out.flush();
                false
            }
            _ => false,
        };
        Finished::Streamed(ended && self.keep)
    }

    fn start(&mut self) -> std::io::Result<State> {
        let mut headers = vec![("Content-Type", self.content_type)];
        let state = if self.version >= Version::Http11 {
            headers.push(("Transfer-Encoding", "chunked"));
            if !self.keep {
                headers.push(("Connection", "close"));
            }
            State::Chunked
        } else {
            headers.push(("Connection", "close"));
            State::ToClose
        };
        wire::write_head(&mut self.out, self.version, 200, &headers)?;
        Ok(state)
    }

    fn send_text(&mut self) {
        if self.text.is_empty() {
            return;
        }
        let sent = match self.state {
            State::Chunked => write!(self.out, "{:x}\r\n", self.text.len())
                .and_then(|()| self.out.write_all(self.text.as_bytes()))
                .and_then(|()| self.out.write_all(b"\r\n")),
            State::ToClose => self.out.write_all(self.text.as_bytes()),
            State::Gathering | State::Failed => Ok(()),
        };
        if sent.is_err() {
            self.state = State::Failed;
        }
        self.text.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(out: &mut Vec<u8>, version: Version, keep: bool) -> SpillingBody<&mut Vec<u8>> {
        SpillingBody::new(out, version, keep, "text/xml", 10)
    }

    /// Head and body of what was written.
    fn split(raw: &[u8]) -> (String, String) {
        let text = String::from_utf8_lossy(raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").expect("a head");
        (head.to_string(), body.to_string())
    }

    #[test]
    fn a_small_answer_is_left_to_be_sent_whole() {
        let mut out = Vec::new();
        let mut b = body(&mut out, Version::Http11, true);
        b.text().push_str("short");
        b.spill();
        assert_eq!(b.finish(), Finished::Whole("short".to_string()));
        assert!(out.is_empty());
    }

    #[test]
    fn a_big_answer_is_chunked_to_http_11() {
        let mut out = Vec::new();
        let mut b = body(&mut out, Version::Http11, true);
        b.text().push_str("0123456789ab");
        b.spill();
        b.text().push_str("tail");
        b.spill(); // under the limit: kept for the end
        assert_eq!(b.finish(), Finished::Streamed(true));
        let (head, body) = split(&out);
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(head.contains("\r\nTransfer-Encoding: chunked"), "{head}");
        assert!(head.contains("\r\nContent-Type: text/xml"), "{head}");
        assert!(!head.contains("Content-Length"), "{head}");
        assert!(!head.contains("Connection"), "{head}");
        assert_eq!(body, "c\r\n0123456789ab\r\n4\r\ntail\r\n0\r\n\r\n");
    }

    #[test]
    fn a_chunked_answer_says_close_when_the_connection_ends() {
        let mut out = Vec::new();
        let mut b = body(&mut out, Version::Http11, false);
        b.text().push_str("0123456789ab");
        b.spill();
        assert_eq!(b.finish(), Finished::Streamed(false));
        assert!(split(&out).0.contains("\r\nConnection: close"));
    }

    #[test]
    fn http_10_gets_the_body_up_to_the_close() {
        let mut out = Vec::new();
        let mut b = body(&mut out, Version::Http10, true);
        b.text().push_str("0123456789ab");
        b.spill();
        b.text().push_str("tail");
        assert_eq!(b.finish(), Finished::Streamed(false));
        let (head, body) = split(&out);
        assert!(head.starts_with("HTTP/1.0 200 OK\r\n"), "{head}");
        assert!(head.contains("\r\nConnection: close"), "{head}");
        assert!(!head.contains("chunked"), "{head}");
        assert_eq!(body, "0123456789abtail");
    }

    /// Takes `left` bytes, then fails.
    struct Gone {
        left: usize,
    }

    impl Write for Gone {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            if self.left == 0 {
                return Err(std::io::ErrorKind::BrokenPipe.into());
            }
            let n = data.len().min(self.left);
            self.left -= n;
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_client_that_went_away_is_not_written_to_again() {
        let mut b = SpillingBody::new(Gone { left: 200 }, Version::Http11, true, "text/xml", 10);
        for _ in 0..100 {
            b.text().push_str("0123456789ab");
            b.spill();
            // What was gathered is dropped either way: memory stays bounded.
            assert!(b.text().is_empty());
        }
        assert_eq!(b.finish(), Finished::Streamed(false));
    }
}
