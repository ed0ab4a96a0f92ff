//! RawConfigParser-compatible INI reader (temporary minimal version; the
//! full reader with its differential test replaces this file).
use std::path::{Path, PathBuf};

#[derive(Debug, Default)]
pub struct Ini {
    sections: Vec<Section>,
    defaults: Vec<Entry>,
}
#[derive(Debug)]
pub struct Section {
    pub name: String,
    pub file: PathBuf,
    pub line: usize,
    entries: Vec<Entry>,
}
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: String,
    pub value: String,
    pub file: PathBuf,
    pub line: usize,
}
#[derive(Debug)]
pub struct IniError {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}
impl std::fmt::Display for IniError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (file: '{}', line {})",
            self.message,
            self.file.display(),
            self.line
        )
    }
}
impl Ini {
    pub fn new() -> Ini {
        Ini::default()
    }
    pub fn read_str(&mut self, text: &str, file: &Path) -> Result<(), IniError> {
        let mut cur: Option<String> = None;
        for (n, line) in text.lines().enumerate() {
            let t = line.trim();
            if t.is_empty() || t.starts_with(';') || t.starts_with('#') {
                continue;
            }
            if t.starts_with('[') && t.ends_with(']') {
                let name = t[1..t.len() - 1].to_string();
                if name != "DEFAULT" && !self.has_section(&name) {
                    self.sections.push(Section {
                        name: name.clone(),
                        file: file.to_path_buf(),
                        line: n + 1,
                        entries: vec![],
                    });
                }
                cur = Some(name);
                continue;
            }
            let Some(sec) = cur.clone() else {
                return Err(IniError {
                    file: file.into(),
                    line: n + 1,
                    message: "File contains no section headers.".into(),
                });
            };
            let Some(i) = t.find(['=', ':']) else {
                return Err(IniError {
                    file: file.into(),
                    line: n + 1,
                    message: "Source contains parsing errors".into(),
                });
            };
            let mut v = t[i + 1..].to_string();
            for p in [" ;", " #", "\t;", "\t#"] {
                if let Some(j) = v.find(p) {
                    v.truncate(j);
                }
            }
            let e = Entry {
                key: t[..i].trim().to_lowercase(),
                value: v.trim().to_string(),
                file: file.into(),
                line: n + 1,
            };
            let list = if sec == "DEFAULT" {
                &mut self.defaults
            } else {
                &mut self
                    .sections
                    .iter_mut()
                    .find(|s| s.name == sec)
                    .unwrap()
                    .entries
            };
            list.retain(|x| x.key != e.key);
            list.push(e);
        }
        Ok(())
    }
    pub fn section_names(&self) -> impl Iterator<Item = &str> {
        self.sections.iter().map(|s| s.name.as_str())
    }
    pub fn has_section(&self, name: &str) -> bool {
        self.sections.iter().any(|s| s.name == name)
    }
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }
    pub fn get(&self, section: &str, key: &str) -> Option<&Entry> {
        let key = key.to_lowercase();
        self.section(section)?
            .entries
            .iter()
            .find(|e| e.key == key)
            .or_else(|| self.defaults.iter().find(|e| e.key == key))
    }
    pub fn keys(&self, section: &str) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .section(section)
            .map(|s| s.entries.iter().map(|e| e.key.as_str()).collect())
            .unwrap_or_default();
        for d in &self.defaults {
            if !v.contains(&d.key.as_str()) {
                v.push(&d.key);
            }
        }
        v
    }
}
