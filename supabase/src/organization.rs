//! `GET /v1/organizations/{slug}`: the organization and its billing plan (projects of organizations
//! on a paid plan cannot be paused).

use reqwest::Method;
use serde::Deserialize;

use crate::client::Client;
use crate::error::Result;
use crate::projects::{check_slug, decode};
use crate::transport::{Call, RetryMode};

/// An organization (`V1OrganizationSlugResponse`, the fields stagesub reads).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Organization {
    /// Organization id (the slug).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Billing plan: `free`, `pro`, `team`, `enterprise` or `platform`.
    #[serde(default)]
    pub plan: Option<String>,
}

impl Organization {
    /// Whether the organization is on a paid plan (anything but `free`); its projects cannot be
    /// paused. An organization that reports no plan counts as free.
    pub fn is_paid(&self) -> bool {
        self.plan.as_deref().is_some_and(|p| p != "free")
    }
}

impl Client {
    /// `GET /v1/organizations/{slug}`.
    pub async fn get_organization(&self, slug: &str) -> Result<Organization> {
        check_slug(slug)?;
        let call = Call::new(
            Method::GET,
            &["v1", "organizations", slug],
            RetryMode::Idempotent,
        );
        let bytes = self.execute(&call).await?;
        decode(&call, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_and_missing_plans_are_not_paid() {
        let org = |plan: Option<&str>| Organization {
            id: "o".into(),
            name: "o".into(),
            plan: plan.map(str::to_string),
        };
        assert!(!org(Some("free")).is_paid());
        assert!(!org(None).is_paid());
        assert!(org(Some("pro")).is_paid());
        assert!(org(Some("team")).is_paid());
    }
}
