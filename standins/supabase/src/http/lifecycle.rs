//! `GET /v1/projects/{ref}/health`, `POST .../pause`, `POST .../restore`.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{ApiError, with_project};
use crate::service::{Outcome, Shared, finish_coming_up, finish_pausing, lock};
use crate::state::{Project, Status};

const SERVICES: [&str; 8] = [
    "auth",
    "db",
    "db_postgres_user",
    "pooler",
    "realtime",
    "rest",
    "storage",
    "pg_bouncer",
];

/// `GET /v1/projects/{ref}/health?services=db&services=pooler` (repeated `services`, required).
pub(crate) async fn health(
    State(shared): State<Arc<Shared>>,
    Path(project_ref): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let mut services = Vec::new();
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "services" | "services[]" => {
                if !SERVICES.contains(&value.as_ref()) {
                    return Err(ApiError::bad_request(format!(
                        "services: {value:?} is not one of {}",
                        SERVICES.join(", ")
                    )));
                }
                services.push(value.into_owned());
            }
            "timeout_ms" if !value.parse::<u32>().is_ok_and(|ms| ms <= 10_000) => {
                return Err(ApiError::bad_request(
                    "timeout_ms must be an integer from 0 to 10000",
                ));
            }
            _ => {}
        }
    }
    if services.is_empty() {
        return Err(ApiError::bad_request(
            "services is required: repeat it for each service, e.g. ?services=db&services=pooler",
        ));
    }
    let pooler_lag = Duration::from_millis(shared.faults().pooler_lag_ms);
    let store = lock(&shared.store);
    let project = store
        .projects
        .get(&project_ref)
        .ok_or_else(ApiError::project_not_found)?;
    let answers = services
        .iter()
        .map(|service| service_health(project, service, pooler_lag))
        .collect();
    Ok(Json(Value::Array(answers)))
}

/// One `V1ServiceHealthResponse`, derived from the project's status.
fn service_health(project: &Project, service: &str, pooler_lag: Duration) -> Value {
    match project.status {
        Status::ActiveHealthy => {
            let pooler_ready = project
                .healthy_since
                .is_some_and(|since| since.elapsed() >= pooler_lag);
            if service == "pooler" && !pooler_ready {
                // Supavisor learns about a new project some time after it is up (provider issue #239).
                json!({"name": service, "healthy": false, "status": "UNHEALTHY", "error": "not found"})
            } else {
                json!({"name": service, "healthy": true, "status": "ACTIVE_HEALTHY"})
            }
        }
        Status::ComingUp | Status::Restoring | Status::Unknown => {
            json!({"name": service, "healthy": false, "status": "COMING_UP"})
        }
        other => json!({
            "name": service,
            "healthy": false,
            "status": "UNHEALTHY",
            "error": format!("project is {}", other.as_str()),
        }),
    }
}

/// `POST /v1/projects/{ref}/pause`: blocks new connections, ends open ones, then `PAUSING` -> `INACTIVE`.
pub(crate) async fn pause(
    State(shared): State<Arc<Shared>>,
    Path(project_ref): Path<String>,
) -> Result<StatusCode, ApiError> {
    let faults = shared.faults();
    if faults.paid_org {
        return Err(ApiError::bad_request(
            "Projects of organizations on a paid plan cannot be paused",
        ));
    }
    let project = with_project(&shared, &project_ref, |project| match project.status {
        Status::ActiveHealthy | Status::ActiveUnhealthy => {
            project.set_status(Status::Pausing);
            Ok(project.clone())
        }
        other => Err(ApiError::bad_request(format!(
            "Project cannot be paused while it is {}",
            other.as_str()
        ))),
    })??;
    if !project.metadata_only
        && let Err(error) = shared
            .admin
            .set_connections(&project.database_name(), false)
            .await
    {
        with_project(&shared, &project_ref, |stored| {
            stored.set_status(Status::PauseFailed)
        })?;
        return Err(ApiError::internal(error));
    }
    finish_pausing(
        shared.clone(),
        project_ref,
        project.generation,
        Duration::from_millis(faults.pause_ms),
    );
    Ok(StatusCode::OK)
}

/// `POST /v1/projects/{ref}/restore`: `RESTORING`, then the database opens and the project is `ACTIVE_HEALTHY`.
pub(crate) async fn restore(
    State(shared): State<Arc<Shared>>,
    Path(project_ref): Path<String>,
) -> Result<StatusCode, ApiError> {
    let limit = shared.faults().max_active_projects as usize;
    let generation = {
        let mut store = lock(&shared.store);
        let active = store
            .projects
            .get(&project_ref)
            .map(|project| store.active_in(&project.organization_slug))
            .ok_or_else(ApiError::project_not_found)?;
        let project = store
            .projects
            .get_mut(&project_ref)
            .ok_or_else(ApiError::project_not_found)?;
        match project.status {
            Status::Inactive if limit > 0 && active >= limit => {
                return Err(super::quota_exceeded(&project.organization_slug));
            }
            Status::Inactive => {
                project.set_status(Status::Restoring);
                project.generation
            }
            Status::Pausing => {
                return Err(ApiError::bad_request(
                    "Project is still pausing: wait until its status is INACTIVE, then restore",
                ));
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "Only paused (INACTIVE) projects can be restored; this one is {}",
                    other.as_str()
                )));
            }
        }
    };
    finish_coming_up(
        shared.clone(),
        project_ref,
        generation,
        Duration::from_millis(shared.faults().healthy_after_ms),
        Outcome::Healthy,
    );
    Ok(StatusCode::OK)
}
