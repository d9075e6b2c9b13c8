//! `GET`/`PATCH /v1/projects/{ref}/billing/addons`, `DELETE .../billing/addons/{addon_variant}`: the
//! compute size (add-on `compute_instance`, variants `ci_<size>`) and the other add-ons.
//!
//! A compute change closes the project's database (open sessions end), keeps it `RESIZING` for the
//! `resize_ms` knob, then opens it again as `ACTIVE_HEALTHY`: the ref and the data stay. Sizes outside
//! the `allowed_compute_sizes` knob are refused with 403 (the spec's "Forbidden action"), the project
//! untouched; they are also left out of `available_addons`.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, parse_body, with_project};
use crate::config::{COMPUTE_SIZES, Faults};
use crate::service::{Outcome, Shared, finish_coming_up};
use crate::state::{Project, Status};

const COMPUTE: &str = "compute_instance";

/// `addon_type` values of the spec.
const ADDON_TYPES: [&str; 7] = [
    "custom_domain",
    "compute_instance",
    "pitr",
    "ipv4",
    "auth_mfa_phone",
    "auth_mfa_web_authn",
    "log_drain",
];

/// Variants of the other add-ons that `PATCH` accepts (`ApplyProjectAddonBody`), with their type,
/// display name and monthly price.
const OTHER_VARIANTS: [(&str, &str, &str, f64); 5] = [
    ("cd_default", "custom_domain", "Custom domain", 10.0),
    ("pitr_7", "pitr", "7 days", 100.0),
    ("pitr_14", "pitr", "14 days", 200.0),
    ("pitr_28", "pitr", "28 days", 400.0),
    ("ipv4_default", "ipv4", "Dedicated IPv4 address", 4.0),
];

/// Hourly list price (USD) of a compute size, roughly Supabase's.
fn hourly_price(size: &str) -> f64 {
    match size {
        "micro" => 0.01344,
        "small" => 0.0206,
        "medium" => 0.0822,
        "large" => 0.1517,
        "xlarge" => 0.2877,
        "2xlarge" => 0.562,
        "4xlarge" => 1.32,
        "8xlarge" => 2.562,
        "12xlarge" => 3.836,
        "16xlarge" => 5.12,
        s if s.starts_with("24xlarge") => 7.68,
        s if s.starts_with("48xlarge") => 15.36,
        _ => 0.0,
    }
}

fn display_name(size: &str) -> String {
    let mut chars = size.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect::<String>()
    })
}

fn compute_variant(size: &str) -> Value {
    let hourly = hourly_price(size);
    json!({
        "id": format!("ci_{size}"),
        "name": display_name(size),
        "price": {
            "description": format!("${hourly}/hour (~${:.0}/month)", hourly * 730.0),
            "type": "usage",
            "interval": "hourly",
            "amount": hourly,
        },
    })
}

fn other_variant(id: &str) -> Option<(&'static str, Value)> {
    let (variant, kind, name, monthly) = OTHER_VARIANTS.into_iter().find(|v| v.0 == id)?;
    Some((
        kind,
        json!({
            "id": variant,
            "name": name,
            "price": {"description": format!("${monthly}/month"), "type": "fixed", "interval": "monthly", "amount": monthly},
        }),
    ))
}

/// The size a project runs on: `nano` when it has no compute add-on.
fn size_of(project: &Project) -> &str {
    project.instance_size.as_deref().unwrap_or("nano")
}

/// `ListProjectAddonsResponse` of `project` for an organization with `faults`' allowed sizes.
fn listing(project: &Project, faults: &Faults) -> Value {
    let mut selected = Vec::new();
    let size = size_of(project);
    if size != "nano" {
        selected.push(json!({ "type": COMPUTE, "variant": compute_variant(size) }));
    }
    for variant in project.other_addons.values() {
        if let Some((kind, variant)) = other_variant(variant) {
            selected.push(json!({ "type": kind, "variant": variant }));
        }
    }
    let compute: Vec<Value> = COMPUTE_SIZES
        .iter()
        .filter(|size| **size != "nano" && faults.compute_size_allowed(size))
        .map(|size| compute_variant(size))
        .collect();
    let mut available =
        vec![json!({ "type": COMPUTE, "name": "Compute Instance", "variants": compute })];
    for (kind, name) in [
        ("pitr", "Point in time recovery"),
        ("custom_domain", "Custom domain"),
        ("ipv4", "Dedicated IPv4 address"),
    ] {
        let variants: Vec<Value> = OTHER_VARIANTS
            .iter()
            .filter(|v| v.1 == kind)
            .filter_map(|v| other_variant(v.0).map(|(_, value)| value))
            .collect();
        available.push(json!({ "type": kind, "name": name, "variants": variants }));
    }
    json!({ "selected_addons": selected, "available_addons": available })
}

/// `GET /v1/projects/{ref}/billing/addons`.
pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    Path(project_ref): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let faults = shared.faults();
    Ok(Json(with_project(&shared, &project_ref, |project| {
        listing(project, &faults)
    })?))
}

/// `ApplyProjectAddonBody`.
#[derive(Debug, Deserialize)]
struct ApplyBody {
    addon_variant: String,
    addon_type: String,
}

/// The 403 for a compute size the organization's plan does not include.
pub(crate) fn size_refused(organization: &str, size: &str, faults: &Faults) -> ApiError {
    let allowed: Vec<&str> = COMPUTE_SIZES
        .iter()
        .copied()
        .filter(|s| faults.compute_size_allowed(s))
        .collect();
    ApiError::new(
        StatusCode::FORBIDDEN,
        format!(
            "Compute size {size} is not available to organization {organization} on its current plan \
             (available: {}). Upgrade the organization's plan to use it.",
            allowed.join(", ")
        ),
    )
}

/// What a compute change needs after the store is updated.
struct Resize {
    database: String,
    metadata_only: bool,
    generation: u64,
}

/// Moves `project` to `size`: `RESIZING` now, connections closed by the caller. `None` when it is
/// already that size (nothing happens, as with Supabase).
fn start_resize(
    project: &mut Project,
    size: &str,
    faults: &Faults,
) -> Result<Option<Resize>, ApiError> {
    if !matches!(
        project.status,
        Status::ActiveHealthy | Status::ActiveUnhealthy
    ) {
        return Err(ApiError::bad_request(format!(
            "Project is {}: its compute size can be changed only while it is active",
            project.status.as_str()
        )));
    }
    if !faults.compute_size_allowed(size) {
        return Err(size_refused(&project.organization_slug, size, faults));
    }
    if size_of(project) == size {
        return Ok(None);
    }
    project.instance_size = (size != "nano").then(|| size.to_owned());
    project.set_status(Status::Resizing);
    Ok(Some(Resize {
        database: project.database_name(),
        metadata_only: project.metadata_only,
        generation: project.generation,
    }))
}

/// Closes the database (the restart), then after `resize_ms` opens it again as `ACTIVE_HEALTHY`.
async fn restart(
    shared: &Arc<Shared>,
    project_ref: String,
    resize: Resize,
    faults: &Faults,
) -> Result<(), ApiError> {
    if !resize.metadata_only
        && let Err(error) = shared.admin.set_connections(&resize.database, false).await
    {
        // Like a failed create: the database stays closed and the project unhealthy.
        with_project(shared, &project_ref, |p| {
            p.set_status(Status::ActiveUnhealthy)
        })?;
        return Err(ApiError::internal(error));
    }
    finish_coming_up(
        shared.clone(),
        project_ref,
        resize.generation,
        Duration::from_millis(faults.resize_ms),
        Outcome::Healthy,
    );
    Ok(())
}

/// `PATCH /v1/projects/{ref}/billing/addons {addon_variant, addon_type}`.
pub(crate) async fn apply(
    State(shared): State<Arc<Shared>>,
    Path(project_ref): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    with_project(&shared, &project_ref, |_| ())?;
    let body: ApplyBody = parse_body(&body)?;
    if !ADDON_TYPES.contains(&body.addon_type.as_str()) {
        return Err(ApiError::bad_request(format!(
            "addon_type must be one of: {}",
            ADDON_TYPES.join(", ")
        )));
    }
    let faults = shared.faults();
    if body.addon_type == COMPUTE {
        let size = body
            .addon_variant
            .strip_prefix("ci_")
            .filter(|size| *size != "nano" && COMPUTE_SIZES.contains(size))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "addon_variant {:?} is not a compute_instance variant (ci_micro, ci_small, ...)",
                    body.addon_variant
                ))
            })?;
        let resize = with_project(&shared, &project_ref, |project| {
            start_resize(project, size, &faults)
        })??;
        if let Some(resize) = resize {
            restart(&shared, project_ref, resize, &faults).await?;
        }
        return Ok(StatusCode::OK);
    }
    match other_variant(&body.addon_variant) {
        Some((kind, _)) if kind == body.addon_type => {
            with_project(&shared, &project_ref, |project| {
                project
                    .other_addons
                    .insert(body.addon_type.clone(), body.addon_variant.clone())
            })?;
            Ok(StatusCode::OK)
        }
        _ => Err(ApiError::bad_request(format!(
            "addon_variant {:?} is not a variant of addon_type {}",
            body.addon_variant, body.addon_type
        ))),
    }
}

/// `DELETE /v1/projects/{ref}/billing/addons/{addon_variant}`: removing the compute add-on in force
/// brings the project back to `nano` (with a restart); 404 when the project does not have it.
pub(crate) async fn remove(
    State(shared): State<Arc<Shared>>,
    Path((project_ref, variant)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let faults = shared.faults();
    let not_selected = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("Addon {variant} is not applied to this project"),
        )
    };
    let resize = with_project(&shared, &project_ref, |project| {
        if let Some(size) = variant.strip_prefix("ci_") {
            if size_of(project) != size {
                return Err(not_selected());
            }
            return start_resize(project, "nano", &faults);
        }
        let kind = project
            .other_addons
            .iter()
            .find(|(_, v)| **v == variant)
            .map(|(kind, _)| kind.clone())
            .ok_or_else(not_selected)?;
        project.other_addons.remove(&kind);
        Ok(None)
    })??;
    if let Some(resize) = resize {
        restart(&shared, project_ref, resize, &faults).await?;
    }
    Ok(StatusCode::OK)
}
