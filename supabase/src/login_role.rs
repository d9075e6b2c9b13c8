//! `POST /v1/projects/{ref}/cli/login-role`: temporary database credentials.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::Result;
use crate::projects::{check_ref, decode};
use crate::secret::Secret;
use crate::transport::{Call, RetryMode};

/// Body of `POST /v1/projects/{ref}/cli/login-role` (`CreateRoleBody`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CreateRoleBody {
    /// Read-only access (`true`) or the project owner's privileges (`false`).
    pub read_only: bool,
}

/// `CreateRoleResponse` as sent on the wire; converted at once so the password is wrapped.
#[derive(Deserialize)]
struct RawLoginRole {
    role: String,
    password: String,
    ttl_seconds: i64,
}

/// A temporary login role (`CreateRoleResponse`). `Debug` hides the password.
///
/// Through the shared pooler the user name is `<role>.<project ref>` (see [`LoginRole::pooler_user`]);
/// the pooler may take a moment to accept a new password, so callers retry the first connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRole {
    /// Role name, e.g. `cli_login_postgres`.
    pub role: String,
    /// Temporary password.
    pub password: Secret,
    /// How long the credentials stay valid, in seconds.
    pub ttl_seconds: i64,
}

impl LoginRole {
    /// The user name for the pooler entry whose user is `pooler_db_user`: Supavisor's users are
    /// `<role>.<ref>`, so when the listed user ends in `.<ref>` the role gets the same suffix
    /// (what the Supabase CLI does); a direct connection uses the role as is.
    pub fn pooler_user(&self, project_ref: &str, pooler_db_user: &str) -> String {
        let suffix = format!(".{project_ref}");
        if pooler_db_user.ends_with(&suffix) && !self.role.ends_with(&suffix) {
            format!("{}{suffix}", self.role)
        } else {
            self.role.clone()
        }
    }
}

impl Client {
    /// `POST /v1/projects/{ref}/cli/login-role {read_only}`: temporary credentials for the project's
    /// database. A POST, so retried only when refused (429) or never sent, like pause and restore.
    pub async fn create_login_role(&self, project_ref: &str, read_only: bool) -> Result<LoginRole> {
        check_ref(project_ref)?;
        let call = Call::new(
            Method::POST,
            &["v1", "projects", project_ref, "cli", "login-role"],
            RetryMode::RefusedOnly,
        )
        .project(project_ref)
        .json(&CreateRoleBody { read_only })?;
        let bytes = self.execute(&call).await?;
        let raw: RawLoginRole = decode(&call, &bytes)?;
        Ok(LoginRole {
            role: raw.role,
            password: Secret::from(raw.password),
            ttl_seconds: raw.ttl_seconds,
        })
    }
}
