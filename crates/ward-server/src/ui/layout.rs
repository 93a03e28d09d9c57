//! The frame every page shares: head (the compiled-in stylesheet and
//! script, no inline either), header and main (a signed-in page adds its
//! navigation through `Session::page`), and the small pieces tables repeat: times as
//! `<time datetime>` in UTC (the script shows them in local time, with
//! UTC in `title`), status badges, pagination links.

use axum::response::Html;
use chrono::{DateTime, SecondsFormat, Utc};
use maud::{DOCTYPE, Markup, html};

/// The whole HTML document: head, header (with `nav` when signed in), main.
pub fn document(title: &str, nav: Option<Markup>, body: Markup) -> Html<String> {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · ward" }
                link rel="stylesheet" href="/ui/assets/ward.css";
                script src="/ui/assets/ward.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header {
                    a.brand href="/ui/tokens" { "ward" }
                    @if let Some(nav) = nav { (nav) }
                }
                main id="main" tabindex="-1" { (body) }
            }
        }
    };
    Html(markup.into_string())
}

/// A time in UTC; the script rewrites the text to the viewer's zone.
pub fn time(at: DateTime<Utc>) -> Markup {
    let iso = at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let shown = at.format("%Y-%m-%d %H:%M UTC").to_string();
    html! { time datetime=(iso) title=(iso) { (shown) } }
}

/// A time that may be absent (`never`, or what `none` says).
pub fn maybe_time(at: Option<DateTime<Utc>>, none: &str) -> Markup {
    match at {
        Some(at) => time(at),
        None => html! { span.muted { (none) } },
    }
}

/// A status word with a class the stylesheet colours.
pub fn badge(text: &str) -> Markup {
    html! { span class={ "badge badge-" (text) } { (text) } }
}

/// A short notice at the top of a page (`role=status`, read out once).
pub fn notice(text: &str) -> Markup {
    html! { p.notice role="status" { (text) } }
}

/// A refusal shown on the page it came from (`role=alert`).
pub fn alert(text: &str) -> Markup {
    html! { p.alert role="alert" { (text) } }
}

/// Previous/next links for page `page` (from 1) of `pages`, keeping the
/// rest of the query (`base` ends in `?` or `&`).
pub fn pagination(base: &str, page: usize, pages: usize) -> Markup {
    html! {
        @if pages > 1 {
            nav.pages aria-label="Pages" {
                @if page > 1 { a rel="prev" href={ (base) "page=" (page - 1) } { "← Previous" } }
                span { "Page " (page) " of " (pages) }
                @if page < pages { a rel="next" href={ (base) "page=" (page + 1) } { "Next →" } }
            }
        }
    }
}

/// Rows per page of every paginated table.
pub const PAGE_SIZE: usize = 25;

/// The slice of `items` on page `page` (from 1; clamped) and how many
/// pages there are.
pub fn paginate<T>(items: &[T], page: Option<usize>) -> (&[T], usize, usize) {
    let pages = items.len().div_ceil(PAGE_SIZE).max(1);
    let page = page.unwrap_or(1).clamp(1, pages);
    let start = (page - 1) * PAGE_SIZE;
    let end = (start + PAGE_SIZE).min(items.len());
    (&items[start..end], page, pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_clamped_and_the_last_is_short() {
        let items: Vec<u32> = (0..60).collect();
        let (rows, page, pages) = paginate(&items, Some(9));
        assert_eq!((rows.len(), page, pages), (10, 3, 3));
        let (rows, page, _) = paginate(&items, Some(0));
        assert_eq!((rows[0], page), (0, 1));
        let empty: [u8; 0] = [];
        assert_eq!(paginate(&empty, None).2, 1);
    }

    #[test]
    fn a_time_carries_utc_for_the_script_and_the_hover() {
        let at = DateTime::parse_from_rfc3339("2026-12-02T08:30:00Z").expect("present").with_timezone(&Utc);
        let s = time(at).into_string();
        assert!(s.contains(r#"datetime="2026-12-02T08:30:00Z""#), "{s}");
        assert!(s.contains("2026-12-02 08:30 UTC"), "{s}");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(notice("<b>").into_string(), r#"<p class="notice" role="status">&lt;b&gt;</p>"#);
    }
}
