//! Per-project settings endpoints: health, pooler, password, SSL enforcement, network restrictions.

use reqwest::Method;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::projects::{check_ref, decode};
use crate::secret::Secret;
use crate::settings::{
    NetworkRestrictions, NetworkRestrictionsConfig, PoolerConfig, ServiceHealth, SslEnforcement,
    SslEnforcementConfig, SslEnforcementRequest, UpdatePasswordBody,
};
use crate::transport::{Call, RetryMode};

impl Client {
    /// `GET /v1/projects/{ref}/health?services=…` for the named services (`db`, `pooler`, …).
    pub async fn project_health(
        &self,
        project_ref: &str,
        services: &[&str],
    ) -> Result<Vec<ServiceHealth>> {
        check_ref(project_ref)?;
        if services.is_empty() {
            return Err(Error::InvalidInput(
                "project_health needs at least one service name, e.g. \"db\"".into(),
            ));
        }
        let mut call = Call::new(
            Method::GET,
            &["v1", "projects", project_ref, "health"],
            RetryMode::Idempotent,
        )
        .project(project_ref);
        for s in services {
            call = call.query("services", *s);
        }
        let bytes = self.execute(&call).await?;
        decode(&call, &bytes)
    }

    /// `GET /v1/projects/{ref}/config/database/pooler`: the shared pooler's connection details.
    pub async fn pooler_config(&self, project_ref: &str) -> Result<Vec<PoolerConfig>> {
        self.get_json(project_ref, &["config", "database", "pooler"])
            .await
    }

    /// `PATCH /v1/projects/{ref}/database/password`: sets the `postgres` user's password.
    pub async fn update_database_password(
        &self,
        project_ref: &str,
        password: &Secret,
    ) -> Result<()> {
        check_ref(project_ref)?;
        if password.expose().chars().count() < 4 {
            return Err(Error::InvalidInput(
                "the database password is too short: Supabase needs at least 4 characters".into(),
            ));
        }
        let call = Call::new(
            Method::PATCH,
            &["v1", "projects", project_ref, "database", "password"],
            RetryMode::Idempotent,
        )
        .project(project_ref)
        .json(&UpdatePasswordBody {
            password: password.expose(),
        })?;
        self.execute(&call).await.map(drop)
    }

    /// `GET /v1/projects/{ref}/ssl-enforcement`.
    pub async fn get_ssl_enforcement(&self, project_ref: &str) -> Result<SslEnforcement> {
        self.get_json(project_ref, &["ssl-enforcement"]).await
    }

    /// `PUT /v1/projects/{ref}/ssl-enforcement`: whether the database accepts only SSL.
    pub async fn put_ssl_enforcement(
        &self,
        project_ref: &str,
        database: bool,
    ) -> Result<SslEnforcement> {
        check_ref(project_ref)?;
        let call = Call::new(
            Method::PUT,
            &["v1", "projects", project_ref, "ssl-enforcement"],
            RetryMode::Idempotent,
        )
        .project(project_ref)
        .json(&SslEnforcementRequest {
            requested_config: SslEnforcementConfig { database },
        })?;
        let bytes = self.execute(&call).await?;
        decode(&call, &bytes)
    }

    /// `GET /v1/projects/{ref}/network-restrictions`.
    pub async fn get_network_restrictions(&self, project_ref: &str) -> Result<NetworkRestrictions> {
        self.get_json(project_ref, &["network-restrictions"]).await
    }

    /// `POST /v1/projects/{ref}/network-restrictions/apply`: replaces the allowed CIDRs.
    ///
    /// Retried like an idempotent call: applying the same list twice leaves the same state.
    pub async fn apply_network_restrictions(
        &self,
        project_ref: &str,
        config: &NetworkRestrictionsConfig,
    ) -> Result<NetworkRestrictions> {
        check_ref(project_ref)?;
        let call = Call::new(
            Method::POST,
            &[
                "v1",
                "projects",
                project_ref,
                "network-restrictions",
                "apply",
            ],
            RetryMode::Idempotent,
        )
        .project(project_ref)
        .json(config)?;
        let bytes = self.execute(&call).await?;
        decode(&call, &bytes)
    }

    pub(crate) async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        project_ref: &str,
        tail: &[&str],
    ) -> Result<T> {
        check_ref(project_ref)?;
        let mut segments = vec!["v1", "projects", project_ref];
        segments.extend_from_slice(tail);
        let call = Call::new(Method::GET, &segments, RetryMode::Idempotent).project(project_ref);
        let bytes = self.execute(&call).await?;
        decode(&call, &bytes)
    }
}
