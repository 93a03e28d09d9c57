//! Sorting a table by one of its date columns, both ways, with links
//! (no JavaScript): a column heading is a link that sorts by it, and
//! following it again turns the order round. The query value is the
//! column's key, `{key}_asc` or `{key}_desc`; the bare key (or nothing)
//! means the column's natural order (newest first for "created", soonest
//! first for "expires"). Rows without a date (never used, never expires)
//! stay last either way.

use chrono::{DateTime, Utc};
use maud::{Markup, html};
use std::cmp::Ordering;

/// A sortable date column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub key: &'static str,
    pub label: &'static str,
    /// The order a first click gives.
    pub ascending_first: bool,
}

impl Column {
    pub const fn newest_first(key: &'static str, label: &'static str) -> Self {
        Self { key, label, ascending_first: false }
    }

    pub const fn soonest_first(key: &'static str, label: &'static str) -> Self {
        Self { key, label, ascending_first: true }
    }
}

/// The order a table is shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub column: Column,
    pub ascending: bool,
}

impl Sort {
    /// The order `value` asks for among `columns`; anything unknown (or
    /// nothing) is the first column in its natural order.
    pub fn parse(value: Option<&str>, columns: &[Column]) -> Self {
        let first = columns[0];
        let fallback = Sort { column: first, ascending: first.ascending_first };
        let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else { return fallback };
        let (key, ascending) = match value.rsplit_once('_') {
            Some((key, "asc")) => (key, Some(true)),
            Some((key, "desc")) => (key, Some(false)),
            _ => (value, None),
        };
        match columns.iter().find(|c| c.key == key) {
            Some(&column) => Sort { column, ascending: ascending.unwrap_or(column.ascending_first) },
            None => fallback,
        }
    }

    /// The query value of this order.
    pub fn value(&self) -> String {
        format!("{}_{}", self.column.key, if self.ascending { "asc" } else { "desc" })
    }

    /// Sorts `rows` by the date `date` reads for this order's column
    /// (`None` last), stable.
    pub fn apply<T>(&self, rows: &mut [T], date: impl Fn(&T, &str) -> Option<DateTime<Utc>>) {
        let key = self.column.key;
        rows.sort_by(|a, b| match (date(a, key), date(b, key)) {
            (Some(x), Some(y)) if self.ascending => x.cmp(&y),
            (Some(x), Some(y)) => y.cmp(&x),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        });
    }

    /// The heading of `column`: a link that sorts by it (turning the
    /// order round when it is already the sorted column), `aria-sort` on
    /// the sorted one. `base` is the page's link without `sort`, ending
    /// in `?` or `&`.
    pub fn heading(&self, base: &str, column: Column) -> Markup {
        self.heading_as(base, column, "sort")
    }

    /// [`Sort::heading`] for a table whose order is the query's `param`
    /// (a page with two sorted tables).
    pub fn heading_as(&self, base: &str, column: Column, param: &str) -> Markup {
        let current = self.column == column;
        let next = if current {
            Sort { column, ascending: !self.ascending }
        } else {
            Sort { column, ascending: column.ascending_first }
        };
        let mark = current.then_some(if self.ascending { "ascending" } else { "descending" });
        let href = format!("{base}{param}={}", next.value());
        html! {
            th scope="col" aria-sort=[mark] data-column=(column.key) {
                a href=(href) data-sort=(next.value()) {
                    (column.label)
                    @if let Some(m) = mark { span.muted aria-hidden="true" { @if m == "ascending" { " ▲" } @else { " ▼" } } }
                    span.sr { @if current { ", sorted " (mark.unwrap_or_default()) "; sort the other way" } @else { ", sort by this column" } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: [Column; 2] =
        [Column::newest_first("created", "Created"), Column::soonest_first("expires", "Expires")];

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap_or_default()
    }

    #[test]
    fn a_bare_key_is_the_columns_natural_order_and_garbage_the_default() {
        assert_eq!(Sort::parse(None, &COLUMNS).value(), "created_desc");
        assert_eq!(Sort::parse(Some("expires"), &COLUMNS).value(), "expires_asc");
        assert_eq!(Sort::parse(Some("expires_desc"), &COLUMNS).value(), "expires_desc");
        assert_eq!(Sort::parse(Some("created_asc"), &COLUMNS).value(), "created_asc");
        assert_eq!(Sort::parse(Some("bogus_asc"), &COLUMNS).value(), "created_desc");
    }

    #[test]
    fn rows_sort_both_ways_with_missing_dates_last() {
        let mut rows = vec![Some(at(2)), None, Some(at(1)), Some(at(3))];
        Sort::parse(Some("expires_asc"), &COLUMNS).apply(&mut rows, |r, _| *r);
        assert_eq!(rows, [Some(at(1)), Some(at(2)), Some(at(3)), None]);
        Sort::parse(Some("expires_desc"), &COLUMNS).apply(&mut rows, |r, _| *r);
        assert_eq!(rows, [Some(at(3)), Some(at(2)), Some(at(1)), None]);
    }

    #[test]
    fn the_sorted_heading_links_to_the_other_way_and_says_which_way_it_is() {
        let sort = Sort::parse(Some("created"), &COLUMNS);
        let h = sort.heading("/ui/users?", COLUMNS[0]).into_string();
        assert!(h.contains(r#"aria-sort="descending""#), "{h}");
        assert!(h.contains(r#"href="/ui/users?sort=created_asc""#), "{h}");
        let other = sort.heading("/ui/users?", COLUMNS[1]).into_string();
        assert!(!other.contains("aria-sort"), "{other}");
        assert!(other.contains("sort=expires_asc"), "{other}");
    }
}
