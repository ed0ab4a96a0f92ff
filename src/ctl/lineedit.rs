//! A small line editor on termios for the interactive shell: the keys
//! readline users reach for (arrows, Home/End, Ctrl-A/E/K/U/W, history,
//! Tab completion), a history file in readline's plain format, and
//! `getpass`. It is a few hundred lines instead of a readline crate to
//! keep the binary small.

use super::fg::Interrupted;
use super::sigint::{self, Wake};
use nix::sys::termios::{self, InputFlags, LocalFlags, SetArg, SpecialCharacterIndices, Termios};
use std::io::Write;
use std::os::fd::AsFd;
use std::path::PathBuf;

/// Python's readline word delimiters minus ':', '*' and '-', so that
/// `group:name`, `group:*` and names with dashes complete as one word.
const DELIMS: &str = " \t\n`~!@#$%^&()=+[{]}\\|;'\",<>/?";

/// Lines typed in this and earlier sessions.
pub struct History {
    entries: Vec<String>,
    file: Option<PathBuf>,
}

impl History {
    /// Reads the history file if there is one (a missing file is fine).
    pub fn load(file: Option<PathBuf>) -> History {
        let entries = file
            .as_ref()
            .and_then(|f| std::fs::read(f).ok())
            .map(|b| {
                String::from_utf8_lossy(&b)
                    .lines()
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        History { entries, file }
    }

    /// Records a typed line, as readline does: not empty lines, and not
    /// the same line twice in a row.
    pub fn add(&mut self, line: &str) {
        if !line.is_empty() && self.entries.last().map(String::as_str) != Some(line) {
            self.entries.push(line.to_string());
        }
    }

    /// Writes the history file (errors are ignored, as Python does).
    pub fn save(&self) {
        if let Some(f) = &self.file {
            let mut text = self.entries.join("\n");
            if !text.is_empty() {
                text.push('\n');
            }
            let _ = std::fs::write(f, text);
        }
    }
}

/// Puts the terminal back when dropped.
struct RawMode {
    saved: Termios,
}

impl RawMode {
    fn enter() -> Option<RawMode> {
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(stdin.as_fd()).ok()?;
        let mut raw = saved.clone();
        raw.local_flags &=
            !(LocalFlags::ICANON | LocalFlags::ECHO | LocalFlags::ISIG | LocalFlags::IEXTEN);
        raw.input_flags &= !(InputFlags::IXON | InputFlags::ICRNL | InputFlags::INLCR);
        raw.control_chars[SpecialCharacterIndices::VMIN as usize] = 1;
        raw.control_chars[SpecialCharacterIndices::VTIME as usize] = 0;
        termios::tcsetattr(stdin.as_fd(), SetArg::TCSADRAIN, &raw).ok()?;
        Some(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSADRAIN, &self.saved);
    }
}

fn term_write(s: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(s.as_bytes());
    let _ = out.flush();
}

/// Reads one byte from the terminal; None at end of input.
fn read_byte() -> Result<Option<u8>, Interrupted> {
    let stdin = std::io::stdin();
    loop {
        if sigint::wait_readable(stdin.as_fd(), -1) == Wake::Interrupted {
            return Err(Interrupted);
        }
        let mut b = [0u8; 1];
        match nix::unistd::read(stdin.as_fd(), &mut b) {
            Ok(1) => return Ok(Some(b[0])),
            Err(nix::errno::Errno::EINTR) | Err(nix::errno::Errno::EAGAIN) => continue,
            _ => return Ok(None),
        }
    }
}

/// The line being edited.
struct Line {
    chars: Vec<char>,
    cursor: usize,
}

impl Line {
    fn text(&self) -> String {
        self.chars.iter().collect()
    }

    fn redraw(&self, prompt: &str) {
        let mut s = format!("\r{}{}\x1b[K", prompt, self.text());
        let back = self.chars.len() - self.cursor;
        if back > 0 {
            s.push_str(&format!("\x1b[{}D", back));
        }
        term_write(&s);
    }

    fn insert(&mut self, s: &str) {
        for c in s.chars() {
            self.chars.insert(self.cursor, c);
            self.cursor += 1;
        }
    }

    fn set(&mut self, s: &str) {
        self.chars = s.chars().collect();
        self.cursor = self.chars.len();
    }

    /// Start of the word before the cursor (for completion).
    fn word_start(&self) -> usize {
        let mut i = self.cursor;
        while i > 0 && !DELIMS.contains(self.chars[i - 1]) {
            i -= 1;
        }
        i
    }
}

/// Longest common prefix of the candidates.
fn common_prefix(items: &[String]) -> String {
    let Some(first) = items.first() else {
        return String::new();
    };
    let mut n = first.chars().count();
    for it in &items[1..] {
        n = n.min(
            first
                .chars()
                .zip(it.chars())
                .take_while(|(a, b)| a == b)
                .count(),
        );
    }
    first.chars().take(n).collect()
}

/// Edits one line after `prompt`. Ok(None) is end of input (Ctrl-D on an
/// empty line); Ctrl-C gives Interrupted. `complete(line, word)` lists the
/// completions of the word before the cursor.
pub fn read_line(
    prompt: &str,
    history: &History,
    complete: &mut dyn FnMut(&str, &str) -> Vec<String>,
) -> Result<Option<String>, Interrupted> {
    let Some(_raw) = RawMode::enter() else {
        term_write(prompt);
        return super::fg::read_stdin_line();
    };
    term_write(prompt);
    let mut line = Line {
        chars: Vec::new(),
        cursor: 0,
    };
    // Position in history while browsing (entries.len() = the new line).
    let mut hpos = history.entries.len();
    let mut draft = String::new();
    let mut last_was_tab = false;
    let mut utf8: Vec<u8> = Vec::new();
    loop {
        let Some(b) = read_byte()? else {
            return Ok(None);
        };
        let tab = b == b'\t';
        match b {
            b'\r' | b'\n' => {
                term_write("\r\n");
                return Ok(Some(line.text()));
            }
            3 => {
                term_write("^C");
                return Err(Interrupted);
            }
            4 => {
                if line.chars.is_empty() {
                    return Ok(None);
                }
                if line.cursor < line.chars.len() {
                    line.chars.remove(line.cursor);
                }
            }
            127 | 8 if line.cursor > 0 => {
                line.cursor -= 1;
                line.chars.remove(line.cursor);
            }
            // Backspace at the start of the line: nothing to delete.
            127 | 8 => {}
            1 => line.cursor = 0,
            5 => line.cursor = line.chars.len(),
            2 => line.cursor = line.cursor.saturating_sub(1),
            6 => line.cursor = (line.cursor + 1).min(line.chars.len()),
            11 => line.chars.truncate(line.cursor),
            21 => {
                line.chars.drain(..line.cursor);
                line.cursor = 0;
            }
            23 => {
                let mut i = line.cursor;
                while i > 0 && line.chars[i - 1] == ' ' {
                    i -= 1;
                }
                while i > 0 && line.chars[i - 1] != ' ' {
                    i -= 1;
                }
                line.chars.drain(i..line.cursor);
                line.cursor = i;
            }
            12 => term_write("\x1b[H\x1b[2J"),
            16 | 14 => history_step(history, &mut line, &mut hpos, &mut draft, b == 16),
            b'\t' => {
                let start = line.word_start();
                let word: String = line.chars[start..line.cursor].iter().collect();
                let mut matches = complete(&line.text(), &word);
                matches.dedup();
                let mut uniq: Vec<String> = Vec::new();
                for m in matches {
                    if !uniq.contains(&m) {
                        uniq.push(m);
                    }
                }
                if uniq.is_empty() {
                    term_write("\x07");
                } else {
                    let prefix = if uniq.len() == 1 {
                        uniq[0].clone()
                    } else {
                        common_prefix(&uniq)
                    };
                    if prefix.chars().count() > word.chars().count() {
                        line.chars.drain(start..line.cursor);
                        line.cursor = start;
                        line.insert(&prefix);
                    } else if last_was_tab {
                        uniq.sort();
                        let refs: Vec<&str> = uniq.iter().map(|s| s.trim_end()).collect();
                        let mut s = String::from("\r\n");
                        for l in super::help::columnize(&refs, 79) {
                            s.push_str(l.trim_end());
                            s.push_str("\r\n");
                        }
                        term_write(&s);
                    } else {
                        term_write("\x07");
                    }
                }
            }
            27 => {
                let Some(b1) = read_byte()? else {
                    return Ok(None);
                };
                if b1 != b'[' && b1 != b'O' {
                    continue;
                }
                let mut seq = Vec::new();
                loop {
                    let Some(c) = read_byte()? else {
                        return Ok(None);
                    };
                    seq.push(c);
                    if c.is_ascii_alphabetic() || c == b'~' || seq.len() > 8 {
                        break;
                    }
                }
                match seq.as_slice() {
                    b"A" => history_step(history, &mut line, &mut hpos, &mut draft, true),
                    b"B" => history_step(history, &mut line, &mut hpos, &mut draft, false),
                    b"C" => line.cursor = (line.cursor + 1).min(line.chars.len()),
                    b"D" => line.cursor = line.cursor.saturating_sub(1),
                    b"H" | b"1~" | b"7~" => line.cursor = 0,
                    b"F" | b"4~" | b"8~" => line.cursor = line.chars.len(),
                    b"3~" if line.cursor < line.chars.len() => {
                        line.chars.remove(line.cursor);
                    }
                    _ => {}
                }
            }
            b if b >= 0x20 => {
                utf8.push(b);
                match std::str::from_utf8(&utf8) {
                    Ok(s) => {
                        let s = s.to_string();
                        utf8.clear();
                        line.insert(&s);
                    }
                    Err(e) if e.error_len().is_some() || utf8.len() >= 4 => utf8.clear(),
                    Err(_) => continue,
                }
            }
            _ => {}
        }
        last_was_tab = tab;
        line.redraw(prompt);
    }
}

/// Up (older) or down (newer) in the history; the line being typed is
/// kept as a draft below the newest entry.
fn history_step(h: &History, line: &mut Line, pos: &mut usize, draft: &mut String, up: bool) {
    let n = h.entries.len();
    if up {
        if *pos == 0 {
            return;
        }
        if *pos == n {
            *draft = line.text();
        }
        *pos -= 1;
        line.set(&h.entries[*pos]);
    } else {
        if *pos >= n {
            return;
        }
        *pos += 1;
        if *pos == n {
            line.set(&draft.clone());
        } else {
            line.set(&h.entries[*pos]);
        }
    }
}

/// Python's `getpass`: the prompt on the terminal and the answer read
/// without echo; without a terminal, a warning and a plain read of stdin.
pub fn getpass(prompt: &str) -> Result<Option<String>, Interrupted> {
    use std::io::{BufRead, BufReader};
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty");
    if let Ok(mut tty) = tty {
        if let Ok(saved) = termios::tcgetattr(tty.as_fd()) {
            let mut quiet = saved.clone();
            quiet.local_flags &= !LocalFlags::ECHO;
            let _ = termios::tcsetattr(tty.as_fd(), SetArg::TCSAFLUSH, &quiet);
            let _ = tty.write_all(prompt.as_bytes());
            let _ = tty.flush();
            let mut answer = String::new();
            let read = match tty.try_clone() {
                Ok(t) => BufReader::new(t).read_line(&mut answer).ok(),
                Err(_) => None,
            };
            let _ = termios::tcsetattr(tty.as_fd(), SetArg::TCSAFLUSH, &saved);
            let _ = tty.write_all(b"\n");
            return Ok(read
                .filter(|n| *n > 0)
                .map(|_| answer.strip_suffix('\n').unwrap_or(&answer).to_string()));
        }
    }
    let mut err = std::io::stderr();
    let _ = write!(err, "Warning: Password input may be echoed.\n{}", prompt);
    let _ = err.flush();
    super::fg::read_stdin_line()
}
