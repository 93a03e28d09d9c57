//! W3C Trace Context: the `traceparent` request header
//! (`00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`).
//!
//! A valid one lends its trace id to the request's log span and access line
//! (`trace_id`), so ward's lines join the caller's trace, and the response
//! carries it back in a `traceresponse` header (Trace Context Level 2) whose
//! span id is ward's own. It never becomes the request id: any client may
//! send any trace id, so two requests (or a hostile client copying someone
//! else's) would share one id in the audit trail; the request id stays the
//! server's own (`crate::audit::context`). An invalid header is ignored, as
//! the spec asks.

use axum::http::HeaderMap;

/// A `traceparent` that passed the format checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent<'a> {
    trace_id: &'a str,
    flags: &'a str,
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
        valid.then_some(Self { trace_id, flags })
    }

    pub fn trace_id(&self) -> &'a str {
        self.trace_id
    }

    /// The `traceresponse` header of ward's answer: this trace, ward's own
    /// span id (16 lowercase hex digits, not all zeros), the caller's flags.
    pub fn response(&self, span_id: u64) -> String {
        format!("00-{}-{:016x}-{}", self.trace_id, span_id.max(1), self.flags)
    }
}

#[cfg(test)]
mod tests {
    use super::TraceParent;

    const GOOD: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_version_00_header_gives_its_trace_id_and_a_response_with_wards_span() {
        let t = TraceParent::parse(GOOD).map(|t| (t.trace_id(), t.response(0xab)));
        assert_eq!(
            t,
            Some((
                "4bf92f3577b34da6a3ce929d0e0e4736",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00000000000000ab-01".to_owned()
            ))
        );
        let zero = TraceParent::parse(GOOD).map(|t| t.response(0)).unwrap_or_default();
        assert!(zero.ends_with("-0000000000000001-01"), "an all-zero span id is invalid: {zero}");
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
