//! Plain-text tables and key/value blocks whose columns line up.
//!
//! Widths are counted in terminal columns (`unicode-width`), not bytes, so
//! `✓`, `…` or a name in another script do not push later columns out of
//! line. Columns are separated by two spaces; lines carry no trailing spaces.

use unicode_width::UnicodeWidthStr;

/// Rows under a header, left-aligned.
#[derive(Debug, Clone)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<const N: usize>(header: [&str; N]) -> Self {
        Self { header: header.iter().map(|h| (*h).to_owned()).collect(), rows: Vec::new() }
    }

    /// Adds a row; a missing cell is blank, an extra one is dropped.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as lines, each ending in a newline.
    pub fn render(&self) -> String {
        let columns = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| width(h)).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(cell));
            }
        }
        let mut out = String::new();
        for line in std::iter::once(&self.header).chain(&self.rows) {
            let cells = (0..columns).map(|i| line.get(i).map_or("", |c| clean(c)));
            push_line(&mut out, cells.zip(&widths));
        }
        out
    }
}

/// `Key: value` lines with the values aligned.
pub fn key_values(pairs: &[(&str, String)]) -> String {
    let key_width = pairs.iter().map(|(k, _)| width(k) + 1).max().unwrap_or(0);
    let mut out = String::new();
    for (key, value) in pairs {
        let pad = key_width.saturating_sub(width(key) + 1);
        let line = format!("{key}:{} {}", " ".repeat(pad), clean(value));
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn push_line<'a>(out: &mut String, cells: impl Iterator<Item = (&'a str, &'a usize)>) {
    let mut line = String::new();
    for (i, (cell, w)) in cells.enumerate() {
        if i > 0 {
            line.push_str("  ");
        }
        line.push_str(cell);
        line.extend(std::iter::repeat_n(' ', w.saturating_sub(width(cell))));
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

/// Display width in terminal columns.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// A cell cannot break the table: the first line only of a multi-line value.
fn clean(s: &str) -> &str {
    s.split(['\n', '\r']).next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The display column where each occurrence of `needle` starts.
    fn columns_of(text: &str, needle: &str) -> Vec<usize> {
        text.lines().filter_map(|line| line.find(needle).map(|at| width(&line[..at]))).collect()
    }

    #[test]
    fn columns_line_up_across_rows() {
        let mut t = Table::new(["ID", "Name", "Status"]);
        t.row(vec!["tok_1".into(), "ci".into(), "active".into()]);
        t.row(vec!["tok_22".into(), "deploy bot".into(), "revoked".into()]);
        let text = t.render();
        assert_eq!(
            text,
            "ID      Name        Status\ntok_1   ci          active\ntok_22  deploy bot  revoked\n"
        );
    }

    #[test]
    fn multibyte_characters_count_as_one_column() {
        let mut t = Table::new(["Name", "Status"]);
        t.row(vec!["✓ ok…".into(), "active".into()]);
        t.row(vec!["plain".into(), "revoked".into()]);
        let text = t.render();
        let starts: Vec<usize> = text
            .lines()
            .map(|l| {
                let at = l.find("Status").or_else(|| l.find("active")).or_else(|| l.find("revoked"));
                width(&l[..at.expect("column present")])
            })
            .collect();
        assert_eq!(starts, vec![7, 7, 7], "{text}");
    }

    #[test]
    fn wide_characters_count_as_two_columns() {
        let mut t = Table::new(["Name", "Type"]);
        t.row(vec!["日本".into(), "personal".into()]);
        t.row(vec!["abcde".into(), "pipeline".into()]);
        let text = t.render();
        assert_eq!(columns_of(&text, "personal"), vec![7]);
        assert_eq!(columns_of(&text, "pipeline"), vec![7]);
    }

    #[test]
    fn lines_have_no_trailing_spaces_and_short_rows_are_padded() {
        let mut t = Table::new(["A", "B", "C"]);
        t.row(vec!["x".into()]);
        let text = t.render();
        assert!(text.lines().all(|l| !l.ends_with(' ')), "{text:?}");
        assert_eq!(text.lines().count(), 2);
    }

    #[test]
    fn a_newline_in_a_cell_cannot_add_a_row() {
        let mut t = Table::new(["Name"]);
        t.row(vec!["evil\nfake row".into()]);
        assert_eq!(t.render(), "Name\nevil\n");
    }

    #[test]
    fn key_values_align_the_values() {
        let text = key_values(&[("Token ID", "tok_1".into()), ("✓ Name", "ci".into())]);
        assert_eq!(text, "Token ID: tok_1\n✓ Name:   ci\n");
    }
}
