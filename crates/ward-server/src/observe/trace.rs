//! W3C Trace Context: the `traceparent` request header
//! (`00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`).
//!
//! A valid one lends its trace id to the request id (see
//! `crate::audit::context`) and to the request's log span, so ward's lines
//! join the caller's trace. An invalid one is ignored, as the spec asks: the
//! request gets a fresh id.

use axum::http::HeaderMap;

/// A `traceparent` that passed the format checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent<'a> {
    trace_id: &'a str,
    parent_id: &'a str,
}

impl<'a> TraceParent<'a> {
    /// The request's one `traceparent` header, if it is valid. Two or more
    /// such headers are ignored: which one counts would be a guess.
    pub fn from_headers(headers: &'a HeaderMap) -> Option<Self> {
        let mut all = headers.get_all("traceparent").iter();
        let value = all.next()?;
        if all.next().is_some() {
            return None;
        }
        Self::parse(value.to_str().ok()?)
    }

    /// Parses a header value: lowercase hex fields of the right lengths, a
    /// version other than `ff` (version `00` exactly 55 characters, a later
    /// one may append `-…`), neither id all zeros.
    pub fn parse(value: &'a str) -> Option<Self> {
        let value = value.trim();
        if value.len() < 55 || (value.len() > 55 && value.as_bytes()[55] != b'-') {
            return None;
        }
        let version = value.get(0..2)?;
        let trace_id = value.get(3..35)?;
        let parent_id = value.get(36..52)?;
        let flags = value.get(53..55)?;
        let dashes = [2, 35, 52].iter().all(|&i| value.as_bytes()[i] == b'-');
        let hex = |s: &str| s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        let zero = |s: &str| s.bytes().all(|b| b == b'0');
        let valid = dashes
            && [version, trace_id, parent_id, flags].into_iter().all(hex)
            && version != "ff"
            && (version != "00" || value.len() == 55)
            && !zero(trace_id)
            && !zero(parent_id);
        valid.then_some(Self { trace_id, parent_id })
    }

    pub fn trace_id(&self) -> &'a str {
        self.trace_id
    }

    /// The request id of a request in this trace: the trace id and the
    /// caller's span (parent) id, so it is unique per call and
    /// `grep TRACE_ID` finds every request of the trace.
    pub fn request_id(&self) -> String {
        format!("{}-{}", self.trace_id, self.parent_id)
    }
}

#[cfg(test)]
mod tests {
    use super::TraceParent;

    const GOOD: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_version_00_header_gives_its_trace_id() {
        let t = TraceParent::parse(GOOD).map(|t| (t.trace_id(), t.request_id()));
        assert_eq!(
            t,
            Some((
                "4bf92f3577b34da6a3ce929d0e0e4736",
                "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7".to_owned()
            ))
        );
    }

    #[test]
    fn malformed_headers_are_ignored() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0é736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_later_version_may_append_fields() {
        let later = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes";
        assert!(TraceParent::parse(later).is_some());
    }
}
