//! `POST /v1/projects/{ref}/cli/login-role`: a real temporary login role with a random password.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, parse_body, with_project};
use crate::service::Shared;
use crate::state::Status;

/// `CreateRoleBody`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRoleBody {
    read_only: bool,
}

/// Creates `cli_login_ro_<random>` (read-only) or `cli_login_postgres_<random>` (the project owner's
/// privileges). The real role is `<role>.<ref>`, the user name Supavisor expects, so connecting to the
/// session pooler entry with that user works here as there. It is dropped after `ttl_seconds`.
pub(crate) async fn create(
    State(shared): State<Arc<Shared>>,
    Path(project_ref): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let project = with_project(&shared, &project_ref, |project| project.clone())?;
    let body: CreateRoleBody = parse_body(&body)?;
    if project.status != Status::ActiveHealthy {
        return Err(ApiError::bad_request(format!(
            "Project is {}: login roles can only be created while it is ACTIVE_HEALTHY",
            project.status.as_str()
        )));
    }
    let ttl_seconds = shared.faults().login_role_ttl_seconds;
    let tag: String = std::iter::repeat_with(fastrand::lowercase)
        .take(8)
        .collect();
    let role = if body.read_only {
        format!("cli_login_ro_{tag}")
    } else {
        format!("cli_login_postgres_{tag}")
    };
    let password: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(32)
        .collect();
    if !project.metadata_only {
        let login = format!("{role}.{project_ref}");
        let database = project.database_name();
        shared
            .admin
            .create_login_role(
                &database,
                &login,
                &project.role_name(),
                &password,
                body.read_only,
                ttl_seconds,
            )
            .await
            .map_err(ApiError::internal)?;
        let admin = shared.admin.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(ttl_seconds)).await;
            if let Err(error) = admin.drop_login_role(&database, &login).await {
                eprintln!("supabase-standin: dropping expired login role {login}: {error}");
            }
        });
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({ "role": role, "password": password, "ttl_seconds": ttl_seconds })),
    ))
}
