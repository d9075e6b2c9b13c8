//! `GET /v1/projects/{ref}/api-keys`: the project's API keys, and the `anon` key an app uses.

use serde::Deserialize;

use crate::client::Client;
use crate::error::Result;
use crate::secret::Secret;

/// One entry of `GET /v1/projects/{ref}/api-keys` (`ApiKeyResponse`); the key itself is a
/// [`Secret`], so `Debug` never shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Key name: `anon` and `service_role` for the legacy JWT keys.
    pub name: String,
    /// `legacy`, `publishable` or `secret` (absent on older projects).
    pub key_type: Option<String>,
    /// The key; `None` when the API withholds it.
    pub api_key: Option<Secret>,
}

#[derive(Deserialize)]
struct RawApiKey {
    name: String,
    #[serde(default, rename = "type")]
    key_type: Option<String>,
    #[serde(default)]
    api_key: Option<String>,
}

impl From<RawApiKey> for ApiKey {
    fn from(raw: RawApiKey) -> Self {
        ApiKey {
            name: raw.name,
            key_type: raw.key_type,
            api_key: raw.api_key.map(Secret::new),
        }
    }
}

impl Client {
    /// `GET /v1/projects/{ref}/api-keys`: the project's API keys (secret keys masked).
    pub async fn api_keys(&self, project_ref: &str) -> Result<Vec<ApiKey>> {
        let raw: Vec<RawApiKey> = self.get_json(project_ref, &["api-keys"]).await?;
        Ok(raw.into_iter().map(ApiKey::from).collect())
    }

    /// The project's `anon` key (the legacy JWT key named `anon`), else its first `publishable`
    /// key; `None` when it has neither.
    pub async fn anon_key(&self, project_ref: &str) -> Result<Option<Secret>> {
        Ok(pick_anon_key(self.api_keys(project_ref).await?))
    }
}

fn pick_anon_key(keys: Vec<ApiKey>) -> Option<Secret> {
    let (anon, others): (Vec<_>, Vec<_>) = keys.into_iter().partition(|k| k.name == "anon");
    anon.into_iter()
        .chain(
            others
                .into_iter()
                .filter(|k| k.key_type.as_deref() == Some("publishable")),
        )
        .find_map(|k| k.api_key.filter(|s| !s.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_anon_key_is_preferred_then_a_publishable_key() {
        let raw: Vec<RawApiKey> = serde_json::from_str(
            r#"[{"name":"service_role","type":"legacy","api_key":"svc"},
                {"name":"default","type":"publishable","api_key":"sb_publishable_x"},
                {"name":"anon","type":"legacy","api_key":"eyJanon"}]"#,
        )
        .unwrap();
        let keys: Vec<ApiKey> = raw.into_iter().map(ApiKey::from).collect();
        assert!(!format!("{keys:?}").contains("eyJanon"));
        assert_eq!(pick_anon_key(keys.clone()).unwrap().expose(), "eyJanon");
        let without_anon: Vec<ApiKey> = keys.into_iter().filter(|k| k.name != "anon").collect();
        assert_eq!(
            pick_anon_key(without_anon).unwrap().expose(),
            "sb_publishable_x"
        );
        assert!(pick_anon_key(Vec::new()).is_none());
    }
}
