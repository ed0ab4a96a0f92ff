//! `help` and `help <action>` as supervisorctl 4.3.0 prints them, read
//! from the action table, and the column layout of the list (which the
//! line editor also uses to show completions).

use super::error::Error;
use super::table;
use super::{stdout_write, Ctl};

/// The title of the list; Python's Cmd underlines it with `=`.
const HEADER: &str = "default commands (type help <topic>):";

/// Python's `print_topics` asks for 80 columns and fills at most 79.
const WIDTH: usize = 79;

/// What `help` prints: the listed actions under a title, in columns,
/// between blank lines.
pub fn listing() -> String {
    let names: Vec<&str> = table::listed().map(|a| a.name).collect();
    let mut s = format!("\n{}\n{}\n", HEADER, "=".repeat(HEADER.len()));
    for line in columnize(&names, WIDTH) {
        s.push_str(&line);
        s.push('\n');
    }
    s.push('\n');
    s
}

impl Ctl {
    pub(super) fn do_help(&mut self, arg: &str) -> Result<(), Error> {
        let arg = arg.trim();
        if arg.is_empty() {
            stdout_write(listing().as_bytes());
            return Ok(());
        }
        match table::topic(arg) {
            Some(text) => self.output(&text),
            None => self.output(&format!("*** No help on {}", arg)),
        }
        Ok(())
    }

    /// An action's help text, which misused actions print after their error.
    pub(super) fn help_for(&mut self, action: &str) {
        if let Some(text) = table::misuse_help(action) {
            self.output(text);
        }
    }
}

/// Lays words out in columns no wider than `width` in total, filling
/// column by column with as few rows as fit (Python's `Cmd.columnize`).
pub fn columnize(list: &[&str], width: usize) -> Vec<String> {
    let size = list.len();
    match size {
        0 => return vec!["<empty>".to_string()],
        1 => return vec![list[0].to_string()],
        _ => {}
    }
    let len = |s: &str| s.chars().count();
    let mut layout = None;
    for nrows in 1..size {
        let ncols = size.div_ceil(nrows);
        let mut widths = Vec::new();
        let mut total: isize = -2;
        for col in 0..ncols {
            let w = (0..nrows)
                .map(|row| row + nrows * col)
                .take_while(|&i| i < size)
                .map(|i| len(list[i]))
                .max()
                .unwrap_or(0);
            widths.push(w);
            total += w as isize + 2;
            if total > width as isize {
                break;
            }
        }
        if total <= width as isize {
            layout = Some((nrows, ncols, widths));
            break;
        }
    }
    let (nrows, ncols, widths) = layout.unwrap_or((size, 1, vec![0]));
    let mut lines = Vec::with_capacity(nrows);
    for row in 0..nrows {
        let mut texts: Vec<&str> = (0..ncols)
            .map(|col| list.get(row + nrows * col).copied().unwrap_or(""))
            .collect();
        while texts.last().is_some_and(|t| t.is_empty()) {
            texts.pop();
        }
        let cells: Vec<String> = texts
            .iter()
            .enumerate()
            .map(|(c, t)| format!("{:<w$}", t, w = widths.get(c).copied().unwrap_or(0)))
            .collect();
        lines.push(cells.join("  "));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Byte for byte what supervisorctl 4.3.0 prints for `help`.
    #[test]
    fn listing_matches_python() {
        assert_eq!(
            listing(),
            "\n\
             default commands (type help <topic>):\n\
             =====================================\n\
             add    exit      open  reload  restart   start   tail   \n\
             avail  fg        pid   remove  shutdown  status  update \n\
             clear  maintail  quit  reread  signal    stop    version\n\
             \n"
        );
    }

    #[test]
    fn columns_fill_down_first() {
        assert_eq!(columnize(&[], 79), ["<empty>"]);
        assert_eq!(columnize(&["one"], 79), ["one"]);
        assert_eq!(columnize(&["a", "b", "c"], 4), ["a  c", "b"]);
    }
}
