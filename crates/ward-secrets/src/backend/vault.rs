//! The Vault / OpenBao KV v2 backend.
//!
//! Entry `ns/name` is the secret `{mount}/data/{prefix}/ns/name` with the
//! fields `value` (and `refresh_token`, `client_secret` for OAuth), so other
//! Vault clients can read it too. Its non-secret metadata is the KV
//! *custom metadata* of the same path, which `list` reads without touching
//! any secret version. Delete removes every version and the metadata.

use crate::backend::{BackendKind, SecretBackend};
use crate::entry::{Entry, EntryId, EntryMeta, Kind, SecretValue};
use crate::error::{Error, Result};
use crate::http;
use crate::secret::SecretString;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Where and how to reach Vault.
#[derive(Debug, Clone)]
pub struct VaultSettings {
    /// e.g. `http://127.0.0.1:8200`, without a trailing slash.
    pub address: String,
    pub token: SecretString,
    pub mount: String,
    pub prefix: String,
}

#[derive(Debug)]
pub struct VaultBackend {
    settings: VaultSettings,
    agent: ureq::Agent,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<String>,
}

impl VaultBackend {
    pub fn new(settings: VaultSettings) -> Self {
        let agent = http::agent_for(&settings.address);
        Self { settings, agent }
    }

    fn url(&self, area: &str, rest: &str) -> String {
        let s = &self.settings;
        let prefix = s.prefix.trim_matches('/');
        let mut path = format!("{}/v1/{}/{area}", s.address, s.mount.trim_matches('/'));
        for part in [prefix, rest] {
            if !part.is_empty() {
                path.push('/');
                path.push_str(part);
            }
        }
        path
    }

    /// Sends a request; `Ok(None)` on 404, the JSON body (or null) on 2xx.
    fn send(&self, method: &str, url: &str, body: Option<Value>) -> Result<Option<Value>> {
        http::check_url(url)?;
        let token = self.settings.token.expose();
        let result = match (method, body) {
            ("GET", _) => self.agent.get(url).header("X-Vault-Token", token).call(),
            ("DELETE", _) => self.agent.delete(url).header("X-Vault-Token", token).call(),
            (_, body) => {
                self.agent.post(url).header("X-Vault-Token", token).send_json(body.unwrap_or(Value::Null))
            }
        };
        let mut response = result.map_err(|e| Error::Unavailable {
            backend: "vault",
            reason: format!("cannot reach {} ({e})", self.settings.address),
            fix: "start Vault/OpenBao, or set VAULT_ADDR (or `address` under [profiles.NAME.vault])".into(),
        })?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let path = url.split("/v1/").nth(1).unwrap_or(url).split('?').next().unwrap_or_default().to_owned();
        match status {
            404 => Ok(None),
            200..=299 if text.trim().is_empty() => Ok(Some(Value::Null)),
            200..=299 => serde_json::from_str(&text).map(Some).map_err(|_| Error::Vault {
                status,
                path,
                message: "the answer is not JSON".into(),
            }),
            _ => {
                let message = serde_json::from_str::<ErrorBody>(&text)
                    .map(|b| b.errors.join("; "))
                    .unwrap_or_else(|_| "no error message".into());
                Err(Error::Vault { status, path, message })
            }
        }
    }

    fn list_keys(&self, rest: &str) -> Result<Vec<String>> {
        let url = format!("{}?list=true", self.url("metadata", rest));
        let Some(body) = self.send("GET", &url, None)? else { return Ok(Vec::new()) };
        Ok(body["data"]["keys"]
            .as_array()
            .map(|keys| keys.iter().filter_map(|k| k.as_str().map(str::to_owned)).collect())
            .unwrap_or_default())
    }

    fn meta(&self, id: &EntryId) -> Result<Option<EntryMeta>> {
        let Some(body) = self.send("GET", &self.url("metadata", &id.to_string()), None)? else {
            return Ok(None);
        };
        let custom: BTreeMap<String, String> =
            serde_json::from_value(body["data"]["custom_metadata"].clone()).unwrap_or_default();
        Ok(meta_from_custom(id, &custom))
    }
}

impl SecretBackend for VaultBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Vault
    }

    fn location(&self) -> String {
        let s = &self.settings;
        format!("{} KV v2 mount `{}`, prefix `{}`", s.address, s.mount, s.prefix)
    }

    fn list(&self) -> Result<Vec<EntryMeta>> {
        let mut out = Vec::new();
        for ns in self.list_keys("")? {
            let Some(ns) = ns.strip_suffix('/') else { continue };
            for name in self.list_keys(ns)? {
                let Ok(id) = EntryId::new(ns, &name) else { continue };
                if let Some(meta) = self.meta(&id)? {
                    out.push(meta);
                }
            }
        }
        Ok(out)
    }

    fn get(&self, id: &EntryId) -> Result<Option<Entry>> {
        let Some(meta) = self.meta(id)? else { return Ok(None) };
        let Some(body) = self.send("GET", &self.url("data", &id.to_string()), None)? else {
            return Ok(None);
        };
        let data = &body["data"]["data"];
        let field = |k: &str| data[k].as_str().map(SecretString::new);
        let Some(value) = field("value") else { return Ok(None) };
        let secret = SecretValue {
            value,
            refresh_token: field("refresh_token"),
            client_secret: field("client_secret"),
        };
        Ok(Some(Entry { meta, secret }))
    }

    fn put(&self, entries: Vec<Entry>) -> Result<()> {
        for entry in entries {
            let path = entry.id().to_string();
            let mut data = serde_json::Map::new();
            data.insert("value".into(), entry.secret.value.expose().into());
            if let Some(t) = &entry.secret.refresh_token {
                data.insert("refresh_token".into(), t.expose().into());
            }
            if let Some(s) = &entry.secret.client_secret {
                data.insert("client_secret".into(), s.expose().into());
            }
            self.send("POST", &self.url("data", &path), Some(json!({ "data": data })))?;
            let custom = custom_from_meta(&entry.meta);
            self.send("POST", &self.url("metadata", &path), Some(json!({ "custom_metadata": custom })))?;
        }
        Ok(())
    }

    fn delete(&self, ids: &[EntryId]) -> Result<usize> {
        let mut removed = 0;
        for id in ids {
            if self.meta(id)?.is_some() {
                self.send("DELETE", &self.url("metadata", &id.to_string()), None)?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

const META_PREFIX: &str = "meta.";

fn custom_from_meta(meta: &EntryMeta) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    out.insert("type".into(), meta.kind.as_str().into());
    out.insert("created_at".into(), meta.created_at.to_rfc3339());
    out.insert("updated_at".into(), meta.updated_at.to_rfc3339());
    out.insert("refreshable".into(), meta.refreshable.to_string());
    let optional = [
        ("provider", meta.provider.clone()),
        ("expires_at", meta.expires_at.map(|t| t.to_rfc3339())),
        ("username", meta.username.clone()),
        ("token_url", meta.token_url.clone()),
        ("client_id", meta.client_id.clone()),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            out.insert(key.into(), value);
        }
    }
    for (key, value) in &meta.metadata {
        out.insert(format!("{META_PREFIX}{key}"), value.clone());
    }
    out
}

fn meta_from_custom(id: &EntryId, custom: &BTreeMap<String, String>) -> Option<EntryMeta> {
    let time = |k: &str| custom.get(k).and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.to_utc());
    let kind: Kind = custom.get("type")?.parse().ok()?;
    let created_at = time("created_at").unwrap_or_else(Utc::now);
    let mut meta = EntryMeta::new(id, kind, created_at);
    meta.updated_at = time("updated_at").unwrap_or(created_at);
    meta.expires_at = time("expires_at");
    meta.provider = custom.get("provider").cloned();
    meta.username = custom.get("username").cloned();
    meta.token_url = custom.get("token_url").cloned();
    meta.client_id = custom.get("client_id").cloned();
    meta.refreshable = custom.get("refreshable").is_some_and(|v| v == "true");
    meta.metadata = custom
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(META_PREFIX).map(|k| (k.to_owned(), v.clone())))
        .collect();
    Some(meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_round_trips_through_custom_metadata() {
        let id = EntryId::new("oauth", "gh").expect("valid");
        let mut meta = EntryMeta::new(&id, Kind::OAuth, Utc::now());
        meta.provider = Some("github".into());
        meta.expires_at = Some(Utc::now());
        meta.token_url = Some("http://127.0.0.1/t".into());
        meta.refreshable = true;
        meta.metadata.insert("team".into(), "infra".into());
        let back = meta_from_custom(&id, &custom_from_meta(&meta)).expect("parses");
        assert_eq!(back.provider, meta.provider);
        assert_eq!(back.metadata, meta.metadata);
        assert!(back.refreshable);
        assert_eq!(back.expires_at.map(|t| t.timestamp()), meta.expires_at.map(|t| t.timestamp()));
    }
}
