//! The audit trail: `GET /v1/audit` and `GET /v1/audit/verify`.

use crate::{Client, Error};
use reqwest::Method;
use ward_api::{AuditList, AuditQuery, AuditVerifyResponse};

impl Client {
    /// `GET /v1/audit`: one page of matching events, newest first (pass the
    /// page's `next_cursor` as `query.cursor` for the next).
    pub async fn audit(&self, query: &AuditQuery) -> Result<AuditList, Error> {
        self.fetch(self.request(Method::GET, &["v1", "audit"]).query(query)).await
    }

    /// `GET /v1/audit/verify`: checks the hash chain; `ok` is false and
    /// `first_bad` names the event when it is broken.
    pub async fn verify_audit(&self) -> Result<AuditVerifyResponse, Error> {
        self.fetch(self.request(Method::GET, &["v1", "audit", "verify"])).await
    }
}
