//! `/_standin/*`: test controls (fault knobs, call counts, bulk metadata-only projects). No auth.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::create_body::{REGIONS, valid_slug};
use super::projects::new_project;
use super::{ApiError, parse_body};
use crate::config::{Faults, FaultsPatch};
use crate::metering::Stats;
use crate::service::{Shared, lock};
use crate::state::Status;

/// Applies a partial update of the knobs; clears rate-limit windows when the limit changes.
pub(crate) fn apply_faults(shared: &Shared, patch: &FaultsPatch) -> Result<Faults, String> {
    let mut faults = lock(&shared.faults);
    faults.apply(patch)?;
    if patch.rate_limit_per_minute.is_some() {
        lock(&shared.limiter).clear();
    }
    Ok(faults.clone())
}

/// `GET /_standin/faults`.
pub(crate) async fn faults(State(shared): State<Arc<Shared>>) -> Json<Faults> {
    Json(shared.faults())
}

/// `POST /_standin/faults` with any subset of the knobs; answers with all of them.
pub(crate) async fn set_faults(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<Json<Faults>, ApiError> {
    let patch: FaultsPatch = parse_body(&body)?;
    apply_faults(&shared, &patch)
        .map(Json)
        .map_err(ApiError::bad_request)
}

/// `GET /_standin/stats`.
pub(crate) async fn stats(State(shared): State<Arc<Shared>>) -> Json<Stats> {
    Json(lock(&shared.stats).clone())
}

/// `POST /_standin/reset-stats`.
pub(crate) async fn reset_stats(State(shared): State<Arc<Shared>>) -> StatusCode {
    *lock(&shared.stats) = Stats::default();
    StatusCode::NO_CONTENT
}

/// Body of `POST /_standin/bulk-projects`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkBody {
    count: usize,
    #[serde(default = "default_prefix")]
    name_prefix: String,
    #[serde(default = "default_organization")]
    organization_slug: String,
    #[serde(default = "default_region")]
    region: String,
}

fn default_prefix() -> String {
    "bulk-".into()
}

fn default_organization() -> String {
    "standin-org".into()
}

fn default_region() -> String {
    "us-east-1".into()
}

/// Largest batch `bulk-projects` accepts.
const MAX_BULK: usize = 100_000;

/// `POST /_standin/bulk-projects {count, name_prefix, organization_slug, region}`: `ACTIVE_HEALTHY` projects
/// named `<prefix><n>` (n from 1) with metadata only, no database or role, for plan-scale tests.
pub(crate) async fn bulk_projects(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body: BulkBody = parse_body(&body)?;
    if !(1..=MAX_BULK).contains(&body.count) {
        return Err(ApiError::bad_request(format!(
            "count must be from 1 to {MAX_BULK}"
        )));
    }
    if !valid_slug(&body.organization_slug) || !REGIONS.contains(&body.region.as_str()) {
        return Err(ApiError::bad_request(
            "organization_slug must match ^[\\w-]+$ and region must be a Supabase region code",
        ));
    }
    let names: Vec<String> = (1..=body.count)
        .map(|n| format!("{}{n}", body.name_prefix))
        .collect();
    if let Some(name) = names
        .iter()
        .find(|name| name.contains('.') || name.chars().count() > 256)
    {
        return Err(ApiError::bad_request(format!(
            "project name {name:?} would contain a dot or exceed 256 characters"
        )));
    }
    let mut store = lock(&shared.store);
    let taken: std::collections::HashSet<&str> = store
        .projects
        .values()
        .filter(|project| project.organization_slug == body.organization_slug)
        .map(|project| project.name.as_str())
        .collect();
    if let Some(name) = names.iter().find(|name| taken.contains(name.as_str())) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "a project named {name:?} already exists in {}",
                body.organization_slug
            ),
        ));
    }
    let mut refs = Vec::with_capacity(names.len());
    for name in names {
        let numeric_id = store.next_numeric_id();
        let mut project = new_project(
            numeric_id,
            store.new_ref(),
            name,
            body.organization_slug.clone(),
            body.region.clone(),
        );
        project.metadata_only = true;
        project.set_status(Status::ActiveHealthy);
        refs.push(project.project_ref.clone());
        store.projects.insert(project.project_ref.clone(), project);
    }
    store.organizations.insert(body.organization_slug);
    Ok((
        StatusCode::CREATED,
        Json(json!({ "created": refs.len(), "refs": refs })),
    ))
}
