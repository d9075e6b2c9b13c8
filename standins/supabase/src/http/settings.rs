//! Per-project settings: pooler config, database password, SSL enforcement, network restrictions.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, parse_body, views, with_project};
use crate::clock::now_iso8601;
use crate::service::{Shared, lock};
use crate::state::{Cidrs, Project};

/// `GET /v1/projects/{ref}/config/database/pooler`: a session and a transaction entry.
pub(crate) async fn pooler(
    State(shared): State<Arc<Shared>>,
    Path(project_ref): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let store = lock(&shared.store);
    let project = store
        .projects
        .get(&project_ref)
        .ok_or_else(ApiError::project_not_found)?;
    Ok(Json(json!([
        views::pooler_entry(&shared, project, "transaction"),
        views::pooler_entry(&shared, project, "session"),
    ])))
}

/// `V1UpdatePasswordBody`.
#[derive(Debug, Deserialize)]
struct PasswordBody {
    password: String,
}

/// `PATCH /v1/projects/{ref}/database/password`: `ALTER ROLE ... PASSWORD` on the project's real role.
pub(crate) async fn password(
    State(shared): State<Arc<Shared>>,
    Path(project_ref): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let project = with_project(&shared, &project_ref, |project| project.clone())?;
    let body: PasswordBody = parse_body(&body)?;
    if body.password.chars().count() < 4 || body.password.contains('\0') {
        return Err(ApiError::bad_request(
            "password must be at least 4 characters long (and contain no NUL character)",
        ));
    }
    if !project.metadata_only {
        shared
            .admin
            .set_password(&project.role_name(), &body.password)
            .await
            .map_err(ApiError::internal)?;
    }
    Ok(Json(
        json!({ "message": "Successfully updated the database password" }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SslEnforcementBody {
    requested_config: SslDatabase,
}

#[derive(Debug, Deserialize)]
struct SslDatabase {
    database: bool,
}

fn ssl_view(project: &Project) -> Value {
    json!({ "currentConfig": { "database": project.ssl_enforced }, "appliedSuccessfully": true })
}

/// `GET /v1/projects/{ref}/ssl-enforcement`: the stored setting (the local server's TLS is not changed).
pub(crate) async fn ssl_enforcement(
    State(shared): State<Arc<Shared>>,
    Path(project_ref): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(with_project(&shared, &project_ref, |project| {
        ssl_view(project)
    })?))
}

/// `PUT /v1/projects/{ref}/ssl-enforcement`: stores and echoes the setting.
pub(crate) async fn set_ssl_enforcement(
    State(shared): State<Arc<Shared>>,
    Path(project_ref): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    with_project(&shared, &project_ref, |_| ())?;
    let body: SslEnforcementBody = parse_body(&body)?;
    Ok(Json(with_project(&shared, &project_ref, |project| {
        project.ssl_enforced = body.requested_config.database;
        ssl_view(project)
    })?))
}

/// `NetworkRestrictionsRequest`: a missing list means "none of that family".
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NetworkBody {
    #[serde(default)]
    db_allowed_cidrs: Vec<String>,
    #[serde(default, rename = "dbAllowedCidrsV6")]
    db_allowed_cidrs_v6: Vec<String>,
}

fn network_view(project: &Project) -> Value {
    let network = &project.network;
    let mut value =
        json!({ "entitlement": "allowed", "config": network.config, "status": "applied" });
    if let Some(old) = &network.old_config {
        value["old_config"] = json!(old);
    }
    if let Some(at) = &network.updated_at {
        value["updated_at"] = json!(at);
        value["applied_at"] = json!(at);
    }
    value
}

/// `GET /v1/projects/{ref}/network-restrictions`: stored, not enforced by the local server.
pub(crate) async fn network_restrictions(
    State(shared): State<Arc<Shared>>,
    Path(project_ref): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(with_project(&shared, &project_ref, |project| {
        network_view(project)
    })?))
}

/// `POST /v1/projects/{ref}/network-restrictions/apply` (201): validates, stores and echoes the CIDRs.
pub(crate) async fn apply_network_restrictions(
    State(shared): State<Arc<Shared>>,
    Path(project_ref): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    with_project(&shared, &project_ref, |_| ())?;
    let body: NetworkBody = parse_body(&body)?;
    for cidr in &body.db_allowed_cidrs {
        check_cidr::<Ipv4Addr>(cidr, 32, "dbAllowedCidrs")?;
    }
    for cidr in &body.db_allowed_cidrs_v6 {
        check_cidr::<Ipv6Addr>(cidr, 128, "dbAllowedCidrsV6")?;
    }
    let view = with_project(&shared, &project_ref, |project| {
        let config = Cidrs {
            v4: body.db_allowed_cidrs,
            v6: body.db_allowed_cidrs_v6,
        };
        let previous = std::mem::replace(&mut project.network.config, config);
        project.network.old_config = Some(previous);
        project.network.updated_at = Some(now_iso8601());
        network_view(project)
    })?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Accepts `address/prefix` of the address family `A`.
fn check_cidr<A: std::str::FromStr>(
    cidr: &str,
    max_prefix: u8,
    field: &str,
) -> Result<(), ApiError> {
    let valid = cidr.split_once('/').is_some_and(|(address, prefix)| {
        address.parse::<A>().is_ok()
            && prefix
                .parse::<u8>()
                .is_ok_and(|prefix| prefix <= max_prefix)
    });
    if valid {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "{field}: {cidr:?} is not a CIDR like {}",
            if max_prefix == 32 {
                "203.0.113.0/24"
            } else {
                "2001:db8::/32"
            }
        )))
    }
}
