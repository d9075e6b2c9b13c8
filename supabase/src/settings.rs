//! Bodies of the per-project settings endpoints: health, pooler, password, SSL, network.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::status::ServiceStatus;

/// One entry of `GET /v1/projects/{ref}/health` (`V1ServiceHealthResponse`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceHealth {
    /// Service name: `db`, `pooler`, `auth`, `rest`, …
    pub name: String,
    /// Deprecated boolean form of `status`.
    #[serde(default)]
    pub healthy: Option<bool>,
    /// Service status.
    pub status: ServiceStatus,
    /// Service-specific details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<serde_json::Value>,
    /// Error text (the pooler says `not found` for a while after creation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Pooler mode of a [`PoolerConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PoolMode {
    /// Transaction mode (port 6543): no prepared statements across transactions.
    Transaction,
    /// Session mode (port 5432 on the pooler host).
    Session,
}

/// One entry of `GET /v1/projects/{ref}/config/database/pooler` (`SupavisorConfigResponse`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoolerConfig {
    /// Database identifier.
    #[serde(default)]
    pub identifier: String,
    /// `PRIMARY` or `READ_REPLICA`.
    #[serde(default)]
    pub database_type: String,
    /// Whether SCRAM authentication is used.
    #[serde(default)]
    pub is_using_scram_auth: bool,
    /// User to connect as, `postgres.<ref>`.
    pub db_user: String,
    /// Pooler host.
    pub db_host: String,
    /// Pooler port (of `pool_mode`).
    pub db_port: u16,
    /// Database name.
    pub db_name: String,
    /// Connection string with a `[YOUR-PASSWORD]` placeholder.
    #[serde(default)]
    pub connection_string: String,
    /// Default pool size.
    #[serde(default)]
    pub default_pool_size: Option<i64>,
    /// Max client connections.
    #[serde(default)]
    pub max_client_conn: Option<i64>,
    /// Pool mode of `db_port`.
    pub pool_mode: PoolMode,
}

impl PoolerConfig {
    /// The primary database's entry among `configs` (falls back to the first one).
    pub fn primary(configs: &[PoolerConfig]) -> Option<&PoolerConfig> {
        configs
            .iter()
            .find(|c| c.database_type == "PRIMARY")
            .or(configs.first())
    }
}

/// Body of `PATCH /v1/projects/{ref}/database/password`.
#[derive(Clone, Serialize)]
pub(crate) struct UpdatePasswordBody<'a> {
    pub(crate) password: &'a str,
}

impl fmt::Debug for UpdatePasswordBody<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UpdatePasswordBody { password: *** }")
    }
}

/// `{database: bool}` of the SSL-enforcement bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SslEnforcementConfig {
    /// Database accepts only SSL connections.
    pub database: bool,
}

/// Body of `PUT /v1/projects/{ref}/ssl-enforcement`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SslEnforcementRequest {
    /// The wanted configuration.
    #[serde(rename = "requestedConfig")]
    pub requested_config: SslEnforcementConfig,
}

/// Answer of the SSL-enforcement endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SslEnforcement {
    /// The configuration in force.
    #[serde(rename = "currentConfig")]
    pub current_config: SslEnforcementConfig,
    /// Whether the last change was applied.
    #[serde(rename = "appliedSuccessfully")]
    pub applied_successfully: bool,
}

/// Allowed CIDRs (`NetworkRestrictionsRequest`, and `config` of the answer).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkRestrictionsConfig {
    /// IPv4 CIDRs allowed to reach the database.
    #[serde(rename = "dbAllowedCidrs", default)]
    pub db_allowed_cidrs: Vec<String>,
    /// IPv6 CIDRs allowed to reach the database.
    #[serde(rename = "dbAllowedCidrsV6", default)]
    pub db_allowed_cidrs_v6: Vec<String>,
}

impl NetworkRestrictionsConfig {
    /// No restriction: every IPv4 and IPv6 address may connect.
    pub fn unrestricted() -> Self {
        Self {
            db_allowed_cidrs: vec!["0.0.0.0/0".to_owned()],
            db_allowed_cidrs_v6: vec!["::/0".to_owned()],
        }
    }

    /// Splits a mixed list of CIDRs by address family (a `:` marks IPv6).
    pub fn from_cidrs<S: AsRef<str>>(cidrs: &[S]) -> Self {
        let (v6, v4): (Vec<String>, Vec<String>) = cidrs
            .iter()
            .map(|c| c.as_ref().trim().to_owned())
            .partition(|c| c.contains(':'));
        Self {
            db_allowed_cidrs: v4,
            db_allowed_cidrs_v6: v6,
        }
    }
}

/// Answer of the network-restrictions endpoints (`NetworkRestrictionsResponse`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkRestrictions {
    /// `allowed` or `disallowed` for the organization's plan.
    #[serde(default)]
    pub entitlement: String,
    /// The requested configuration.
    pub config: NetworkRestrictionsConfig,
    /// Previously applied configuration, while a new one is pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_config: Option<NetworkRestrictionsConfig>,
    /// `stored` or `applied`.
    #[serde(default)]
    pub status: String,
    /// Last update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Last application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_at: Option<String>,
}
