//! The HTTP surface: `/v1` (the Management API subset) behind auth, rate limit and fault injection, and
//! `/_standin` (test controls, no auth).

mod api_keys;
mod billing;
mod create_body;
mod gate;
mod lifecycle;
mod login_role;
mod organizations;
mod projects;
mod settings;
mod standin;
mod views;

pub(crate) use standin::apply_faults;

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router, middleware};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::service::Shared;
use crate::state::Project;

/// The whole application, without a socket (tests and [`crate::start`] serve it).
pub(crate) fn app(shared: Arc<Shared>) -> Router {
    let v1 = Router::new()
        .route("/v1/projects", get(projects::list).post(projects::create))
        .route(
            "/v1/projects/{ref}",
            get(projects::get_one).delete(projects::delete),
        )
        .route("/v1/projects/{ref}/health", get(lifecycle::health))
        .route("/v1/projects/{ref}/api-keys", get(api_keys::list))
        .route("/v1/projects/{ref}/pause", post(lifecycle::pause))
        .route("/v1/projects/{ref}/restore", post(lifecycle::restore))
        .route(
            "/v1/projects/{ref}/config/database/pooler",
            get(settings::pooler),
        )
        .route(
            "/v1/projects/{ref}/database/password",
            patch(settings::password),
        )
        .route(
            "/v1/projects/{ref}/cli/login-role",
            post(login_role::create),
        )
        .route(
            "/v1/projects/{ref}/ssl-enforcement",
            get(settings::ssl_enforcement).put(settings::set_ssl_enforcement),
        )
        .route(
            "/v1/projects/{ref}/network-restrictions",
            get(settings::network_restrictions),
        )
        .route(
            "/v1/projects/{ref}/network-restrictions/apply",
            post(settings::apply_network_restrictions),
        )
        .route(
            "/v1/projects/{ref}/billing/addons",
            get(billing::list).patch(billing::apply),
        )
        .route(
            "/v1/projects/{ref}/billing/addons/{addon_variant}",
            delete(billing::remove),
        )
        .route("/v1/organizations", get(organizations::list))
        .route("/v1/organizations/{slug}", get(organizations::get_one))
        .route(
            "/v1/organizations/{slug}/projects",
            get(organizations::projects),
        )
        .route_layer(middleware::from_fn_with_state(shared.clone(), gate::gate));
    let controls = Router::new()
        .route(
            "/_standin/faults",
            get(standin::faults).post(standin::set_faults),
        )
        .route("/_standin/stats", get(standin::stats))
        .route("/_standin/reset-stats", post(standin::reset_stats))
        .route("/_standin/bulk-projects", post(standin::bulk_projects));
    v1.merge(controls)
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "Not Found") })
        .with_state(shared)
}

/// An error answer: `{"message": ...}` with a status code.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// 400 with a reason the client can act on.
    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404 for an unknown or deleted project ref.
    pub(crate) fn project_not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "Project not found")
    }

    /// A failure on our side: the reason goes to stderr, the client sees a bare 500.
    pub(crate) fn internal(reason: impl std::fmt::Display) -> ApiError {
        eprintln!("supabase-standin: internal error: {reason}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "message": self.message }))).into_response()
    }
}

/// 400 for the free-plan quota of active projects (the `max_active_projects` knob).
pub(crate) fn quota_exceeded(organization: &str) -> ApiError {
    ApiError::bad_request(format!(
        "Organization {organization} has reached its maximum number of active free projects: \
         pause or delete one first"
    ))
}

/// Parses a JSON body, turning serde's complaint (unknown field, missing field, wrong type) into a 400.
pub(crate) fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad_request("a JSON request body is required"));
    }
    serde_json::from_slice(body)
        .map_err(|error| ApiError::bad_request(format!("invalid request body: {error}")))
}

/// Runs `f` on the project `project_ref` under the store lock, or answers 404.
pub(crate) fn with_project<T>(
    shared: &Shared,
    project_ref: &str,
    f: impl FnOnce(&mut Project) -> T,
) -> Result<T, ApiError> {
    let mut store = crate::service::lock(&shared.store);
    let project = store
        .projects
        .get_mut(project_ref)
        .ok_or_else(ApiError::project_not_found)?;
    Ok(f(project))
}
