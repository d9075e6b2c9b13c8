//! `POST/GET /v1/projects`, `GET/DELETE /v1/projects/{ref}`.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::create_body::{CreateBody, validate};
use super::{ApiError, parse_body, views};
use crate::clock::now_iso8601;
use crate::service::{Outcome, Shared, finish_coming_up, lock};
use crate::state::{Cidrs, NetworkRestrictions, Project, Status};

/// A new project's metadata, not yet stored.
pub(crate) fn new_project(
    numeric_id: i64,
    project_ref: String,
    name: String,
    organization_slug: String,
    region: String,
) -> Project {
    Project {
        numeric_id,
        project_ref,
        name,
        organization_slug,
        region,
        instance_size: None,
        created_at: now_iso8601(),
        status: Status::ComingUp,
        healthy_since: None,
        generation: 0,
        metadata_only: false,
        ssl_enforced: false,
        network: NetworkRestrictions {
            config: Cidrs::unrestricted(),
            old_config: None,
            updated_at: None,
        },
        other_addons: Default::default(),
    }
}

/// `POST /v1/projects`: a real role and database, then `COMING_UP` until the configured time has passed.
pub(crate) async fn create(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body: CreateBody = parse_body(&body)?;
    let region = validate(&body)?;
    let faults = shared.faults();
    let project = {
        let mut store = lock(&shared.store);
        if let Some(size) = &body.desired_instance_size
            && !faults.compute_size_allowed(size)
        {
            return Err(super::billing::size_refused(
                &body.organization_slug,
                size,
                &faults,
            ));
        }
        let limit = faults.max_active_projects as usize;
        if limit > 0 && store.active_in(&body.organization_slug) >= limit {
            return Err(super::quota_exceeded(&body.organization_slug));
        }
        if store.name_taken(&body.organization_slug, &body.name) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!(
                    "A project named {:?} already exists in organization {}",
                    body.name, body.organization_slug
                ),
            ));
        }
        let numeric_id = store.next_numeric_id();
        let mut project = new_project(
            numeric_id,
            store.new_ref(),
            body.name.clone(),
            body.organization_slug.clone(),
            region,
        );
        project.instance_size = body.desired_instance_size.clone();
        store
            .organizations
            .insert(project.organization_slug.clone());
        store
            .projects
            .insert(project.project_ref.clone(), project.clone());
        project
    };
    if let Err(error) = shared
        .admin
        .create_project(
            &project.database_name(),
            &project.role_name(),
            &body.db_pass,
        )
        .await
    {
        lock(&shared.store).projects.remove(&project.project_ref);
        return Err(ApiError::internal(error));
    }
    if !faults.never_healthy {
        let outcome = if faults.init_failed {
            Outcome::InitFailed
        } else {
            Outcome::Healthy
        };
        finish_coming_up(
            shared.clone(),
            project.project_ref.clone(),
            project.generation,
            Duration::from_millis(faults.healthy_after_ms),
            outcome,
        );
    }
    let (fail_after_commit, drop_after_commit) = {
        let mut faults = lock(&shared.faults);
        (
            std::mem::take(&mut faults.fail_next_create_after_commit),
            std::mem::take(&mut faults.drop_next_create_after_commit),
        )
    };
    if drop_after_commit {
        // Unwinding out of the handler ends hyper's connection task before a byte of the answer is written,
        // so the client sees the connection close. `resume_unwind` skips the panic hook: nothing is printed.
        std::panic::resume_unwind(Box::new(
            "supabase-standin: dropping the connection on purpose",
        ));
    }
    if fail_after_commit {
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal Server Error",
        ));
    }
    Ok((StatusCode::CREATED, Json(views::project(&project))))
}

/// `GET /v1/projects`: every project, unpaginated, oldest first.
pub(crate) async fn list(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let store = lock(&shared.store);
    let projects: Vec<Value> = store
        .in_creation_order()
        .into_iter()
        .map(|project| views::project_with_database(&shared, project))
        .collect();
    Json(Value::Array(projects))
}

/// `GET /v1/projects/{ref}`.
pub(crate) async fn get_one(
    State(shared): State<Arc<Shared>>,
    Path(project_ref): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let store = lock(&shared.store);
    let project = store
        .projects
        .get(&project_ref)
        .ok_or_else(ApiError::project_not_found)?;
    Ok(Json(views::project_with_database(&shared, project)))
}

/// `DELETE /v1/projects/{ref}`: drops the real database and role; the ref is unknown afterwards.
pub(crate) async fn delete(
    State(shared): State<Arc<Shared>>,
    Path(project_ref): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let project = super::with_project(&shared, &project_ref, |project| {
        let before = project.clone();
        project.set_status(Status::GoingDown);
        before
    })?;
    if !project.metadata_only
        && let Err(error) = shared
            .admin
            .drop_project(&project.database_name(), &project.role_name())
            .await
    {
        super::with_project(&shared, &project_ref, |stored| {
            stored.set_status(project.status)
        })?;
        return Err(ApiError::internal(error));
    }
    if !project.metadata_only
        && let Err(error) = shared.admin.drop_login_roles_of(&project_ref).await
    {
        // The project itself is gone; a leftover temporary role only logs (it expires anyway).
        eprintln!("supabase-standin: dropping the login roles of {project_ref}: {error}");
    }
    lock(&shared.store).projects.remove(&project_ref);
    Ok(Json(json!({
        "id": project.numeric_id,
        "ref": project.project_ref,
        "name": project.name,
    })))
}
