//! The JSON-lines mirror (`ward server --audit-log FILE`): every event the
//! writer stores, appended as one JSON object per line and fsynced per
//! batch, for grep, jq and shipping off the host.
//!
//! A line is an [`ward_api::AuditRecord`] with a space after each `:` and
//! `,`, so that a key and its value read as they do in the docs:
//!
//! ```text
//! {"seq": 7, "id": "evt_…", "time": "2025-06-15T10:00:00.123Z", "action": "token.create", "subject": "alice", …, "hash": "…"}
//! ```
//!
//! `grep '"subject": "alice"'` finds alice's events; `jq
//! 'select(.risk_level == "critical")'` filters them. Every field is present
//! (`null` when absent). The file is created with mode 0600 and only ever
//! appended to. Lines that fail to write are kept and written with the
//! next batch; the database stays the record of truth.

use serde::Serialize;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use ward_api::AuditRecord;
use ward_core::audit::ChainedEntry;

/// An open mirror file.
#[derive(Debug)]
pub struct Mirror {
    path: PathBuf,
    file: Option<File>,
    /// Lines not yet written (a failed write is retried with the next batch).
    backlog: Vec<u8>,
}

impl Mirror {
    /// Opens `path` for appending, creating it with mode 0600.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let mut options = std::fs::OpenOptions::new();
        options.append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path)?;
        Ok(Self { path: path.to_owned(), file: Some(file), backlog: Vec::new() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `events` as lines and fsyncs, off the async runtime.
    pub async fn append(&mut self, events: &[ChainedEntry]) {
        for event in events {
            self.backlog.extend(line(&record(event)));
        }
        let Some(mut file) = self.file.take() else { return };
        let bytes = std::mem::take(&mut self.backlog);
        let written = tokio::task::spawn_blocking(move || {
            let result = file.write_all(&bytes).and_then(|()| file.sync_data());
            (file, result.map_err(|e| (e, bytes)))
        })
        .await;
        match written {
            Ok((file, result)) => {
                self.file = Some(file);
                if let Err((e, bytes)) = result {
                    tracing::warn!(error = %e, audit.mirror = %self.path.display(),
                        "could not write the audit mirror; will retry with the next batch");
                    self.backlog = bytes;
                }
            }
            Err(e) => tracing::error!(error = %e, audit.mirror = %self.path.display(),
                "the audit mirror writer failed; mirroring stops"),
        }
    }
}

/// One line: the record as JSON with `": "` and `", "` separators, then `\n`.
pub fn line<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, Spaced);
    if value.serialize(&mut serializer).is_err() {
        out.clear();
    }
    out.push(b'\n');
    out
}

/// Compact JSON with a space after each `:` and `,`.
struct Spaced;

impl serde_json::ser::Formatter for Spaced {
    fn begin_array_value<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> std::io::Result<()> {
        if first { Ok(()) } else { writer.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> std::io::Result<()> {
        if first { Ok(()) } else { writer.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        writer.write_all(b": ")
    }
}

/// A stored event as the API (and the mirror) shows it.
pub fn record(event: &ChainedEntry) -> AuditRecord {
    let e = &event.entry;
    AuditRecord {
        seq: event.seq,
        id: e.id.clone(),
        time: e.time,
        action: e.action.clone(),
        subject: e.subject.clone(),
        token_id: e.token_id.clone(),
        scopes: e.scopes.clone(),
        operation: e.operation.clone(),
        decision: e.decision.clone(),
        risk_level: e.risk_level.clone(),
        error: e.error.clone(),
        request_id: e.request_id.clone(),
        client_ip: e.client_ip.clone(),
        count: e.count.unwrap_or(1),
        prev_hash: event.prev_hash.to_hex(),
        hash: event.hash.to_hex(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_core::audit::{AuditEntry, EventHash};

    fn stored(subject: Option<&str>) -> ChainedEntry {
        AuditEntry {
            id: "evt_1".into(),
            time: chrono::DateTime::from_timestamp_millis(1_750_000_000_123).unwrap_or_default(),
            action: "token.create".into(),
            subject: subject.map(str::to_owned),
            token_id: Some("tok_1".into()),
            scopes: vec!["a:read".into(), "b:write".into()],
            operation: None,
            decision: None,
            risk_level: Some("critical".into()),
            error: None,
            request_id: Some("req_1".into()),
            client_ip: None,
            count: None,
        }
        .chain(&ward_core::audit::ChainKey::new([1; 32]), 1, EventHash::GENESIS)
    }

    #[test]
    fn a_line_is_one_json_object_with_spaced_separators() {
        let text = String::from_utf8(line(&record(&stored(Some("grafana-datasource"))))).unwrap_or_default();
        assert!(text.ends_with("}\n") && text.matches('\n').count() == 1, "{text}");
        assert!(
            text.starts_with(r#"{"seq": 1, "id": "evt_1", "time": "2025-06-15T15:06:40.123Z", "#),
            "{text}"
        );
        assert!(text.contains(r#""subject": "grafana-datasource""#), "{text}");
        assert!(text.contains(r#""scopes": ["a:read", "b:write"]"#), "{text}");
        assert!(text.contains(r#""operation": null"#), "{text}");
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(parsed["risk_level"], "critical");
    }

    #[tokio::test]
    async fn the_file_is_created_private_and_appended_to() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.jsonl");
        let mut mirror = Mirror::open(&path).expect("open");
        mirror.append(&[stored(Some("a"))]).await;
        let mut again = Mirror::open(&path).expect("reopen");
        again.append(&[stored(Some("b")), stored(None)]).await;
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text.lines().count(), 3);
        assert!(text.lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("metadata").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
