//! The INI reader: turns the text of `supervisord.conf` (and the files its
//! `[include]` section pulls in) into sections of raw string options, with
//! the exact rules of Python's `configparser.RawConfigParser` as Supervisor
//! 4.3.0 sets it up: `inline_comment_prefixes=(';', '#')`, `strict=False`,
//! everything else default (Python 3.11).
//!
//! This module owns only the syntax: sections, keys, values, continuation
//! lines, comments, `[DEFAULT]` inheritance, merging of further files, and
//! the error texts configparser produces. It knows nothing about what any
//! section or key means and does no `%(name)s` expansion; the config model
//! above it does that.
//!
//! Rules worth knowing (all verified against Python by
//! `tests/integration/ini_differential.rs`):
//! - Lines end at `\n`, `\r\n` or a lone `\r` (Python opens the file in
//!   universal-newline mode). Line numbers count those lines from 1.
//! - A line whose stripped text starts with `;` or `#` is a comment. Within a
//!   line, `;` or `#` starts a comment only at column 0 or right after a
//!   whitespace character; the scan goes in rounds (see
//!   `inline_comment_start`).
//! - `[name]` (after stripping and comment removal) is a section header; the
//!   name runs to the *last* `]` and anything after it is ignored. `[]` is
//!   not a header. Names are case-sensitive and kept unstripped.
//! - Otherwise the first `=` or `:` splits key from value; keys are
//!   right-stripped and lowercased, values stripped, quotes kept.
//! - A non-blank line indented deeper than the line that started the
//!   current key continues its value (joined with `\n`); blank lines inside
//!   a value are kept, trailing ones dropped; comment lines are skipped
//!   without ending the value.
//! - A repeated section is merged into the first; a repeated key keeps its
//!   position and takes the last value.
//! - `[DEFAULT]` is not a section: its keys are inherited by every section.
//! - Errors: text before the first header is fatal at once
//!   (`MissingSectionHeaderError`); lines that are neither header, key nor
//!   continuation are collected and reported together at the end of the file
//!   (`ParsingError`). Invalid UTF-8 gives Python's `UnicodeDecodeError`
//!   text.
//!
//! Supervisor turns all three into its usage error: `supervisord` prints
//! `Error: ` followed by exactly this [`IniError`] Display text, then the
//! `For help, use ... -h` line, and exits 2 (files pulled in by `[include]`
//! alike). `supervisorctl` 4.3.0 does not catch the two configparser errors
//! and dies with a traceback (exit 1); the decode error it reports like
//! supervisord.
//!
//! Python's "whitespace" (`str.isspace`, `str.strip`, regex `\s`) is Rust's
//! `char::is_whitespace` plus U+001C..U+001F, so all stripping here goes
//! through [`py_isspace`] rather than `str::trim`.

use crate::pycompat::repr::{py_repr, py_repr_path};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Name of the section whose keys every other section inherits.
pub const DEFAULT_SECTION: &str = "DEFAULT";

/// One parsed (and possibly merged from several files) INI document.
#[derive(Debug, Clone)]
pub struct Ini {
    /// Real sections, in order of first appearance.
    sections: Vec<Section>,
    /// Section name -> index into `sections`.
    index: HashMap<String, usize>,
    /// The `[DEFAULT]` section, kept apart because it is not listed by
    /// `sections()` and is consulted as a fallback by every lookup.
    defaults: Section,
}

/// One section: its options in configparser's order (first insertion).
#[derive(Debug, Clone)]
pub struct Section {
    pub name: String,
    /// File of the section's first appearance.
    pub file: PathBuf,
    /// 1-based line of the section's first header (0 for a `[DEFAULT]` that
    /// never appeared).
    pub line: usize,
    entries: Vec<Entry>,
    /// Lowercased key -> index into `entries`.
    index: HashMap<String, usize>,
}

/// One option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key, lowercased as configparser's `optionxform` does.
    pub key: String,
    /// The raw value (no interpolation), continuation lines joined with `\n`.
    pub value: String,
    /// File the (last) definition of this key came from.
    pub file: PathBuf,
    /// 1-based line of the key in `file`.
    pub line: usize,
}

/// A file configparser (or Python's decoder) would have refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniError {
    /// The file as it was named to the reader; Python prints it that way.
    pub file: PathBuf,
    /// 1-based line of the (first) offending line.
    pub line: usize,
    pub kind: IniErrorKind,
}

/// What went wrong, with everything needed to print Python's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IniErrorKind {
    /// `MissingSectionHeaderError`: content before the first `[section]`.
    /// `text` is the offending line as Python read it (newline included).
    MissingSectionHeader { text: String },
    /// `ParsingError`: every bad line of the file, as `(line, text)` with the
    /// text as Python read it (newline included).
    Parsing { lines: Vec<(usize, String)> },
    /// `UnicodeDecodeError`: the file is not valid UTF-8. Positions are
    /// relative to the chunk Python's decoder was fed, as Python reports them.
    Decode {
        byte: u8,
        start: usize,
        end: usize,
        reason: &'static str,
    },
}

impl IniError {
    /// Python's exception class name for this error.
    pub fn python_name(&self) -> &'static str {
        match self.kind {
            IniErrorKind::MissingSectionHeader { .. } => "MissingSectionHeaderError",
            IniErrorKind::Parsing { .. } => "ParsingError",
            IniErrorKind::Decode { .. } => "UnicodeDecodeError",
        }
    }
}

/// Same text as Python's `str(exception)`, which Supervisor prints after
/// `Error: ` (e.g. `File contains no section headers.\nfile: 'a.conf', line:
/// 1\n'foo=bar\n'`).
impl fmt::Display for IniError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            IniErrorKind::MissingSectionHeader { text } => write!(
                f,
                "File contains no section headers.\nfile: {}, line: {}\n{}",
                py_repr_path(&self.file),
                self.line,
                py_repr(text)
            ),
            IniErrorKind::Parsing { lines } => {
                write!(
                    f,
                    "Source contains parsing errors: {}",
                    py_repr_path(&self.file)
                )?;
                for (line, text) in lines {
                    write!(f, "\n\t[line {:2}]: {}", line, py_repr(text))?;
                }
                Ok(())
            }
            IniErrorKind::Decode {
                byte,
                start,
                end,
                reason,
            } => {
                if start == end {
                    write!(
                        f,
                        "'utf-8' codec can't decode byte 0x{byte:02x} in position {start}: {reason}"
                    )
                } else {
                    write!(
                        f,
                        "'utf-8' codec can't decode bytes in position {start}-{end}: {reason}"
                    )
                }
            }
        }
    }
}

impl std::error::Error for IniError {}

impl Section {
    fn new(name: &str, file: &Path, line: usize) -> Section {
        Section {
            name: name.to_string(),
            file: file.to_path_buf(),
            line,
            entries: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// This section's own entries (no DEFAULT fallback), in key order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// This section's own entry for `key` (matched lowercased), without the
    /// DEFAULT fallback.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.index
            .get(&optionxform(key))
            .and_then(|&i| self.entries.get(i))
    }

    /// Sets `key` (already lowercased) like a dict assignment: an existing
    /// key keeps its position. Returns the entry's index.
    fn put(&mut self, entry: Entry) -> usize {
        match self.index.get(&entry.key) {
            Some(&i) => {
                if let Some(slot) = self.entries.get_mut(i) {
                    *slot = entry;
                }
                i
            }
            None => {
                let i = self.entries.len();
                self.index.insert(entry.key.clone(), i);
                self.entries.push(entry);
                i
            }
        }
    }
}

impl Default for Ini {
    fn default() -> Self {
        Ini::new()
    }
}

/// Which section the parser is currently filling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Defaults,
    Section(usize),
}

/// The option whose value continuation lines currently extend; the lines
/// are joined when the option ends, as configparser joins them at the end.
struct Pending {
    target: Target,
    entry: usize,
    lines: Vec<String>,
}

impl Ini {
    pub fn new() -> Ini {
        Ini {
            sections: Vec::new(),
            index: HashMap::new(),
            defaults: Section::new(DEFAULT_SECTION, Path::new(""), 0),
        }
    }

    /// Parses `text` (from `file`, used for messages and line info) into this
    /// document, merging sections like configparser.read() of a further file
    /// does. On error the document is left as it was.
    pub fn read_str(&mut self, text: &str, file: &Path) -> Result<(), IniError> {
        let mut work = self.clone();
        work.parse(text, file)?;
        *self = work;
        Ok(())
    }

    /// Like [`Ini::read_str`] for the raw bytes of a file: decodes them as
    /// UTF-8 the way Python's text-mode `open()` does (a BOM is kept as
    /// U+FEFF, so a file starting with one has no section header — as in
    /// Python), reporting bad bytes with Python's `UnicodeDecodeError` text.
    pub fn read_bytes(&mut self, bytes: &[u8], file: &Path) -> Result<(), IniError> {
        match decode_like_python(bytes) {
            Ok(text) => self.read_str(text, file),
            Err(bad) => {
                // Python decodes lazily, chunk by chunk, while it parses lines,
                // so text before the first header is reported instead when
                // that line was fully decoded before the bad chunk was read.
                let decoded = bytes.get(..bad.decoded_upto).unwrap_or_default();
                if let Ok(prefix) = std::str::from_utf8(decoded) {
                    let complete = &prefix[..complete_lines_len(prefix)];
                    let mut probe = self.clone();
                    if let Err(e) = probe.parse(complete, file) {
                        if matches!(e.kind, IniErrorKind::MissingSectionHeader { .. }) {
                            return Err(e);
                        }
                    }
                }
                let line = 1 + count_line_breaks(bytes.get(..bad.offset).unwrap_or_default());
                Err(IniError {
                    file: file.to_path_buf(),
                    line,
                    kind: IniErrorKind::Decode {
                        byte: bad.byte,
                        start: bad.start,
                        end: bad.end,
                        reason: bad.reason,
                    },
                })
            }
        }
    }

    /// Section names in order, excluding DEFAULT (configparser.sections()).
    pub fn section_names(&self) -> impl Iterator<Item = &str> {
        self.sections.iter().map(|s| s.name.as_str())
    }

    /// configparser.has_section(): false for DEFAULT.
    pub fn has_section(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// The section called `name` (case-sensitive); `None` for DEFAULT, see
    /// [`Ini::defaults`].
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.index.get(name).and_then(|&i| self.sections.get(i))
    }

    /// The `[DEFAULT]` section (empty, line 0, if no file had one).
    pub fn defaults(&self) -> &Section {
        &self.defaults
    }

    /// configparser.get(section, key): the section's entry, else DEFAULT's.
    /// `key` is matched lowercased. `section` may be `DEFAULT` itself, as in
    /// Python; an unknown section gives `None`.
    pub fn get(&self, section: &str, key: &str) -> Option<&Entry> {
        let own = match self.section(section) {
            Some(s) => s.get(key),
            None if section == DEFAULT_SECTION => None,
            None => return None,
        };
        own.or_else(|| self.defaults.get(key))
    }

    /// configparser.options(section): the section's keys then DEFAULT's keys
    /// not overridden, in configparser's order. Empty for an unknown section
    /// and for DEFAULT (Python raises NoSectionError for both).
    pub fn keys(&self, section: &str) -> Vec<&str> {
        let Some(sect) = self.section(section) else {
            return Vec::new();
        };
        let mut keys: Vec<&str> = sect.entries.iter().map(|e| e.key.as_str()).collect();
        keys.extend(
            self.defaults
                .entries
                .iter()
                .filter(|e| !sect.index.contains_key(&e.key))
                .map(|e| e.key.as_str()),
        );
        keys
    }

    /// configparser.items(section): the entries for [`Ini::keys`], each as
    /// [`Ini::get`] resolves it.
    pub fn items(&self, section: &str) -> Vec<&Entry> {
        self.keys(section)
            .into_iter()
            .filter_map(|k| self.get(section, k))
            .collect()
    }

    /// configparser.set(section, key, value): stores `value` in the section
    /// itself (DEFAULT for `DEFAULT`), keeping an existing key's position.
    /// A key that was only inherited becomes the section's own, as in Python
    /// (Supervisor's `%(here)s` expansion relies on that). The entry keeps
    /// the file and line of the definition it replaces. Returns false for an
    /// unknown section.
    pub fn set(&mut self, section: &str, key: &str, value: &str) -> bool {
        let key = optionxform(key);
        let target = if section == DEFAULT_SECTION {
            Target::Defaults
        } else {
            match self.index.get(section) {
                Some(&i) => Target::Section(i),
                None => return false,
            }
        };
        let origin = self
            .target(target)
            .and_then(|s| s.get(&key))
            .or_else(|| self.defaults.get(&key))
            .map(|e| (e.file.clone(), e.line));
        let Some(sect) = self.target_mut(target) else {
            return false;
        };
        let (file, line) = origin.unwrap_or_else(|| (sect.file.clone(), sect.line));
        sect.put(Entry {
            key,
            value: value.to_string(),
            file,
            line,
        });
        true
    }

    fn target(&self, target: Target) -> Option<&Section> {
        match target {
            Target::Defaults => Some(&self.defaults),
            Target::Section(i) => self.sections.get(i),
        }
    }

    fn target_mut(&mut self, target: Target) -> Option<&mut Section> {
        match target {
            Target::Defaults => Some(&mut self.defaults),
            Target::Section(i) => self.sections.get_mut(i),
        }
    }

    /// Ends the option being continued: joins its lines as configparser does
    /// at the end of a file (`'\n'.join(lines).rstrip()`).
    fn finish(&mut self, pending: Option<Pending>) {
        let Some(p) = pending else { return };
        let joined = p.lines.join("\n");
        let value = joined.trim_end_matches(py_isspace).to_string();
        if let Some(entry) = self
            .target_mut(p.target)
            .and_then(|s| s.entries.get_mut(p.entry))
        {
            entry.value = value;
        }
    }

    /// The line-by-line state machine of configparser's `_read`, mutating
    /// `self` as it goes (callers work on a copy).
    fn parse(&mut self, text: &str, file: &Path) -> Result<(), IniError> {
        let mut cursect: Option<Target> = None;
        // The option continuation lines go to; `None` both when there is no
        // option yet and when Python's `optname` is empty or unset.
        let mut pending: Option<Pending> = None;
        let mut indent_level = 0usize;
        let mut bad: Vec<(usize, String)> = Vec::new();

        for (idx, (raw, ended)) in Lines::new(text).enumerate() {
            let lineno = idx + 1;
            let mut comment_start = inline_comment_start(raw);
            let stripped = py_strip(raw);
            if stripped.starts_with(';') || stripped.starts_with('#') {
                comment_start = Some(0);
            }
            let value = py_strip(raw.get(..comment_start.unwrap_or(raw.len())).unwrap_or(""));
            if value.is_empty() {
                // A blank line belongs to the value being continued (kept as
                // an empty line); a comment-only line is dropped but does not
                // end the value either.
                if comment_start.is_none() {
                    if let Some(p) = pending.as_mut() {
                        p.lines.push(String::new());
                    }
                }
                continue;
            }
            let cur_indent = raw.chars().take_while(|&c| py_isspace(c)).count();
            if let (Some(p), true) = (pending.as_mut(), cur_indent > indent_level) {
                p.lines.push(value.to_string());
                continue;
            }
            indent_level = cur_indent;
            if let Some(name) = section_header(value) {
                self.finish(pending.take());
                let target = if let Some(&i) = self.index.get(name) {
                    Target::Section(i)
                } else if name == DEFAULT_SECTION {
                    if self.defaults.line == 0 {
                        self.defaults.file = file.to_path_buf();
                        self.defaults.line = lineno;
                    }
                    Target::Defaults
                } else {
                    let i = self.sections.len();
                    self.sections.push(Section::new(name, file, lineno));
                    self.index.insert(name.to_string(), i);
                    Target::Section(i)
                };
                cursect = Some(target);
                continue;
            }
            let Some(target) = cursect else {
                return Err(IniError {
                    file: file.to_path_buf(),
                    line: lineno,
                    kind: IniErrorKind::MissingSectionHeader {
                        text: python_line(raw, ended),
                    },
                });
            };
            let Some(delim) = value.find(['=', ':']) else {
                // Not fatal yet: Python lists every such line, and keeps the
                // current option open for continuation lines.
                bad.push((lineno, python_line(raw, ended)));
                continue;
            };
            let key = optionxform(value[..delim].trim_end_matches(py_isspace));
            let val = py_strip(&value[delim + 1..]);
            self.finish(pending.take());
            if key.is_empty() {
                // Python records the error and still stores the option under
                // the empty name; an empty name cannot be continued.
                bad.push((lineno, python_line(raw, ended)));
            }
            let continuable = !key.is_empty();
            let entry = Entry {
                key,
                value: val.to_string(),
                file: file.to_path_buf(),
                line: lineno,
            };
            let Some(sect) = self.target_mut(target) else {
                continue;
            };
            let at = sect.put(entry);
            if continuable {
                pending = Some(Pending {
                    target,
                    entry: at,
                    lines: vec![val.to_string()],
                });
            }
        }
        self.finish(pending.take());
        if let Some(&(line, _)) = bad.first() {
            return Err(IniError {
                file: file.to_path_buf(),
                line,
                kind: IniErrorKind::Parsing { lines: bad },
            });
        }
        Ok(())
    }
}

/// configparser's default `optionxform`: Python's `str.lower()`.
fn optionxform(key: &str) -> String {
    key.to_lowercase()
}

/// Python's `str.isspace()` (also what `str.strip()` and regex `\s` use).
pub fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.strip()` with no argument.
fn py_strip(s: &str) -> &str {
    s.trim_matches(py_isspace)
}

/// The header name if `value` (stripped, comment removed) is a section
/// header: configparser's `\[(?P<header>.+)\]` matched at the start, where
/// the greedy `.+` runs to the last `]` and needs at least one character.
fn section_header(value: &str) -> Option<&str> {
    let rest = value.strip_prefix('[')?;
    let close = rest.rfind(']')?;
    if close == 0 {
        return None;
    }
    rest.get(..close)
}

/// Where an inline comment starts in `line`, emulating configparser's scan:
/// in each round every prefix (`;`, `#`) advances to its next occurrence,
/// and the round's qualifying hits (at column 0 or after whitespace) decide.
/// The rounds matter: `k=v;## #a ;b` cuts at ` ;b`, not at ` #a`, because
/// `;` reaches its second occurrence in round 2 while `#` is still on its
/// second.
fn inline_comment_start(line: &str) -> Option<usize> {
    const PREFIXES: [char; 2] = [';', '#'];
    // Byte index of each prefix's last occurrence; `None` once exhausted.
    // Both prefixes are ASCII, so `found + 1` is always a char boundary.
    let mut last: [Option<usize>; 2] = [Some(0), Some(0)];
    let mut first_round = true;
    loop {
        let mut best: Option<usize> = None;
        let mut any = false;
        for (slot, prefix) in last.iter_mut().zip(PREFIXES) {
            let Some(prev) = *slot else { continue };
            let from = if first_round { 0 } else { prev + 1 };
            let found = line.get(from..).and_then(|s| s.find(prefix));
            let Some(found) = found.map(|f| f + from) else {
                *slot = None;
                continue;
            };
            any = true;
            *slot = Some(found);
            let qualifies = found == 0
                || line
                    .get(..found)
                    .and_then(|s| s.chars().next_back())
                    .is_some_and(py_isspace);
            if qualifies {
                best = Some(best.map_or(found, |b| b.min(found)));
            }
        }
        if best.is_some() || !any {
            return best;
        }
        first_round = false;
    }
}

/// Lines as Python's universal-newline reading yields them: split at
/// `\r\n`, `\r` or `\n`; each item is the text without its ending and
/// whether it had one.
struct Lines<'a> {
    rest: &'a str,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Lines<'a> {
        Lines { rest: text }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = (&'a str, bool);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match self.rest.find(['\r', '\n']) {
            None => {
                let line = self.rest;
                self.rest = "";
                Some((line, false))
            }
            Some(at) => {
                let line = &self.rest[..at];
                let after = &self.rest[at..];
                let skip = if after.starts_with("\r\n") { 2 } else { 1 };
                self.rest = &after[skip..];
                Some((line, true))
            }
        }
    }
}

/// The line as Python saw it: its ending translated to `\n`.
fn python_line(raw: &str, ended: bool) -> String {
    let mut s = raw.to_string();
    if ended {
        s.push('\n');
    }
    s
}

/// Length of the part of `text` made of complete lines, the way Python's
/// line reader sees a partly decoded file: a line is complete once its `\n`
/// is in, or its `\r` is followed by another character (a trailing `\r`
/// might still become `\r\n`).
fn complete_lines_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut cut = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' || (b == b'\r' && i + 1 < bytes.len()) {
            cut = i + 1;
        }
    }
    cut
}

/// Number of line breaks (`\r\n`, `\r`, `\n`) in `bytes`.
fn count_line_breaks(bytes: &[u8]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => n += 1,
            b'\r' => {
                n += 1;
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    n
}

/// A decoding failure as Python's incremental UTF-8 decoder reports it.
struct BadBytes {
    byte: u8,
    /// Positions relative to the input of the failing decode call.
    start: usize,
    end: usize,
    reason: &'static str,
    /// Absolute offset of the first bad byte.
    offset: usize,
    /// Bytes fully decoded before the failing call (text Python had parsed).
    decoded_upto: usize,
}

/// Python's text files decode 8 KiB chunks at a time (`TextIOWrapper`'s
/// chunk size), carrying an incomplete sequence at a chunk's end over to
/// the next; the error positions it reports are relative to that input.
const PY_CHUNK: usize = 8192;

fn decode_like_python(bytes: &[u8]) -> Result<&str, BadBytes> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text);
    }
    // Start of the bytes not yet decoded (the carried-over tail).
    let mut carried = 0usize;
    let mut pos = 0usize;
    while pos < bytes.len() {
        let end = (pos + PY_CHUNK).min(bytes.len());
        let input = bytes.get(carried..end).unwrap_or_default();
        match std::str::from_utf8(input) {
            Ok(_) => carried = end,
            Err(e) => match e.error_len() {
                Some(n) => {
                    let at = e.valid_up_to();
                    let byte = input.get(at).copied().unwrap_or(0);
                    // A byte that can start a sequence failed on what follows.
                    let reason = if n == 1 && !matches!(byte, 0xc2..=0xf4) {
                        "invalid start byte"
                    } else {
                        "invalid continuation byte"
                    };
                    return Err(BadBytes {
                        byte,
                        start: at,
                        end: at + n - 1,
                        reason,
                        offset: carried + at,
                        decoded_upto: carried,
                    });
                }
                None => carried += e.valid_up_to(),
            },
        }
        pos = end;
    }
    // Only an incomplete sequence at the very end is left: Python's final
    // decode call sees just those bytes.
    let tail = bytes.get(carried..).unwrap_or_default();
    Err(BadBytes {
        byte: tail.first().copied().unwrap_or(0),
        start: 0,
        end: tail.len().saturating_sub(1),
        reason: "unexpected end of data",
        offset: carried,
        decoded_upto: carried,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Ini {
        let mut ini = Ini::new();
        match ini.read_str(text, Path::new("t.conf")) {
            Ok(()) => ini,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }

    fn value<'a>(ini: &'a Ini, section: &str, key: &str) -> Option<&'a str> {
        ini.get(section, key).map(|e| e.value.as_str())
    }

    #[test]
    fn merging_two_files() {
        let mut ini = Ini::new();
        let a = Path::new("/etc/a.conf");
        let b = Path::new("/etc/conf.d/b.conf");
        assert!(ini
            .read_str(
                "[supervisord]\nlogfile=a.log\n[program:x]\ncommand=/bin/x\n",
                a
            )
            .is_ok());
        assert!(ini
            .read_str(
                "[program:y]\ncommand=/bin/y\n\n[supervisord]\nLOGFILE = b.log\npidfile=p\n",
                b
            )
            .is_ok());
        let names: Vec<&str> = ini.section_names().collect();
        assert_eq!(names, ["supervisord", "program:x", "program:y"]);
        // The section keeps the file of its first appearance; the key the
        // file of its last definition, in its first position.
        let sup = ini.section("supervisord").map(|s| (s.file.clone(), s.line));
        assert_eq!(sup, Some((a.to_path_buf(), 1)));
        let logfile = ini.get("supervisord", "logfile");
        assert_eq!(logfile.map(|e| e.value.as_str()), Some("b.log"));
        assert_eq!(logfile.map(|e| (e.file.as_path(), e.line)), Some((b, 5)));
        assert_eq!(ini.keys("supervisord"), ["logfile", "pidfile"]);
        let y = ini.section("program:y").map(|s| (s.file.clone(), s.line));
        assert_eq!(y, Some((b.to_path_buf(), 1)));
    }

    #[test]
    fn failed_read_leaves_document_unchanged() {
        let mut ini = parse("[a]\nx=1\n");
        let err = ini.read_str("[a]\nx=2\n[b]\nbad line\n", Path::new("b.conf"));
        assert!(err.is_err());
        assert_eq!(value(&ini, "a", "x"), Some("1"));
        assert!(!ini.has_section("b"));
    }

    #[test]
    fn default_fallback_and_order() {
        let ini = parse("[DEFAULT]\nb=db\nc=dc\n[s]\nc=sc\na=sa\n[DEFAULT]\nd=dd\n");
        assert_eq!(ini.keys("s"), ["c", "a", "b", "d"]);
        assert_eq!(value(&ini, "s", "C"), Some("sc"));
        assert_eq!(value(&ini, "s", "b"), Some("db"));
        assert_eq!(value(&ini, "s", "d"), Some("dd"));
        assert_eq!(value(&ini, "DEFAULT", "b"), Some("db"));
        assert_eq!(value(&ini, "nosuch", "b"), None);
        assert!(!ini.has_section("DEFAULT"));
        assert!(ini.keys("DEFAULT").is_empty());
        assert_eq!(ini.section_names().collect::<Vec<_>>(), ["s"]);
        assert_eq!(ini.defaults().line, 1);
        let items: Vec<(&str, &str)> = ini
            .items("s")
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str()))
            .collect();
        assert_eq!(items, [("c", "sc"), ("a", "sa"), ("b", "db"), ("d", "dd")]);
    }

    #[test]
    fn set_like_configparser() {
        let mut ini = parse("[DEFAULT]\nh=%(here)s\nz=1\n[s]\na=1\n");
        assert!(ini.set("s", "H", "/x"));
        // The inherited key became the section's own, after its keys.
        assert_eq!(ini.keys("s"), ["a", "h", "z"]);
        assert_eq!(ini.get("s", "h").map(|e| e.line), Some(2));
        assert_eq!(value(&ini, "DEFAULT", "h"), Some("%(here)s"));
        assert!(!ini.set("nosuch", "a", "b"));
        assert!(ini.set("DEFAULT", "n", "v"));
        assert_eq!(value(&ini, "s", "n"), Some("v"));
    }

    #[test]
    fn line_numbers() {
        let ini = parse("; c\r\n\r\n[s]\r\na = 1\r\n  more\r\n\r\n# x\rb: 2\n");
        assert_eq!(ini.section("s").map(|s| s.line), Some(3));
        assert_eq!(ini.get("s", "a").map(|e| e.line), Some(4));
        assert_eq!(value(&ini, "s", "a"), Some("1\nmore"));
        assert_eq!(ini.get("s", "b").map(|e| e.line), Some(8));
    }

    #[test]
    fn continuation_and_blank_lines() {
        let ini = parse("[s]\nk=\n\n  a\n  ; c\n\n   b\n\n\nn = 1\n");
        // The empty first line and the blank after it both count.
        assert_eq!(value(&ini, "s", "k"), Some("\n\na\n\nb"));
        assert_eq!(value(&ini, "s", "n"), Some("1"));
    }

    #[test]
    fn inline_comment_rounds() {
        assert_eq!(inline_comment_start("k=v;## #a ;b"), Some(10));
        assert_eq!(inline_comment_start("k=v #a ;b"), Some(4));
        assert_eq!(inline_comment_start("k=v;a#b"), None);
        assert_eq!(inline_comment_start(";x"), Some(0));
        assert_eq!(inline_comment_start("é\u{3000}#x"), Some(5));
    }

    #[test]
    fn error_messages() {
        let mut ini = Ini::new();
        let e = ini.read_str("foo=bar\n[s]\n", Path::new("a.conf"));
        let e = e.err().map(|e| (e.line, e.to_string()));
        assert_eq!(
            e,
            Some((
                1,
                "File contains no section headers.\nfile: 'a.conf', line: 1\n'foo=bar\\n'"
                    .to_string()
            ))
        );
        let e = ini.read_str("[s]\nfoo\n  x\nbar", Path::new("b.conf"));
        let e = e.err().map(|e| (e.line, e.to_string()));
        let want = "Source contains parsing errors: 'b.conf'\n\t[line  2]: 'foo\\n'\n\t[line  3]: '  x\\n'\n\t[line  4]: 'bar'";
        assert_eq!(e, Some((2, want.to_string())));
        let e = ini.read_bytes(b"[s]\nx=\xff\n", Path::new("c.conf"));
        let e = e.err().map(|e| (e.line, e.to_string()));
        let want = "'utf-8' codec can't decode byte 0xff in position 6: invalid start byte";
        assert_eq!(e, Some((2, want.to_string())));
    }

    #[test]
    fn python_whitespace() {
        for c in ['\u{1c}', '\u{1f}', '\u{85}', '\u{a0}', '\u{3000}', '\u{b}'] {
            assert!(py_isspace(c), "{c:?}");
        }
        for c in ['\u{200b}', '\u{feff}', '\u{180e}', 'a'] {
            assert!(!py_isspace(c), "{c:?}");
        }
    }

    #[test]
    fn hostile_input_never_panics() {
        let mut huge = String::from("[s]\nk=");
        huge.push_str(&"é;#[]=:\t ".repeat(200_000));
        let inputs: Vec<Vec<u8>> = vec![
            b"[".to_vec(),
            b"]".to_vec(),
            b"[]".to_vec(),
            b"[\0]\n\0=\0\n".to_vec(),
            b"  indented continuation at start\n[s]\n".to_vec(),
            b"\n\n   \t\n".to_vec(),
            b"[s]\n=\n:\n  \n ;\n#\n".to_vec(),
            b"\r\r\r[s\r]\r\n".to_vec(),
            b"\xef\xbb\xbf[s]\n".to_vec(),
            b"[s]\nk=\xe2\x82".to_vec(),
            b"[s]\nk=\xf0\x9f\x98\x80\xc3".to_vec(),
            vec![0xff; 20_000],
            huge.into_bytes(),
            "[s]\n"
                .bytes()
                .chain(std::iter::repeat_n(b'=', 100_000))
                .collect(),
        ];
        for input in inputs {
            let mut ini = Ini::new();
            let r = ini.read_bytes(&input, Path::new("h.conf"));
            if let Err(e) = r {
                assert!(!e.to_string().is_empty());
            }
            if let Ok(text) = std::str::from_utf8(&input) {
                let _ = Ini::new().read_str(text, Path::new("h.conf"));
            }
        }
    }

    #[test]
    fn decode_chunks_like_python() {
        // Bad byte at absolute offset 20006: Python reports it relative to
        // its 8 KiB chunk.
        let mut bytes = b"[s]\na=".to_vec();
        bytes.extend(std::iter::repeat_n(b'x', 20_000));
        bytes.extend(b"\xff\n");
        let e = Ini::new().read_bytes(&bytes, Path::new("d.conf"));
        let want = "'utf-8' codec can't decode byte 0xff in position 3622: invalid start byte";
        assert_eq!(e.err().map(|e| e.to_string()), Some(want.to_string()));
        // Incomplete sequence at the end: reported relative to itself.
        let e = Ini::new().read_bytes(b"[s]\na=\xf0\x9f\x98", Path::new("d.conf"));
        let want = "'utf-8' codec can't decode bytes in position 0-2: unexpected end of data";
        assert_eq!(e.err().map(|e| e.to_string()), Some(want.to_string()));
        // Text before any header wins when its line was decoded first.
        let mut bytes = b"oops\n".to_vec();
        bytes.extend(std::iter::repeat_n(b'x', 9000));
        bytes.push(0xff);
        let e = Ini::new().read_bytes(&bytes, Path::new("d.conf"));
        assert_eq!(
            e.err().map(|e| e.python_name()),
            Some("MissingSectionHeaderError")
        );
    }
}
