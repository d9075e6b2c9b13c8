//! `GET /v1/organizations`, `GET /v1/organizations/{slug}`, `GET /v1/organizations/{slug}/projects`.
//!
//! Organizations are implicit: any valid slug exists; the list shows those that projects were created in.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use serde_json::{Value, json};

use super::create_body::valid_slug;
use super::{ApiError, views};
use crate::service::{Shared, lock};
use crate::state::{Project, Status};

/// `GET /v1/organizations`.
pub(crate) async fn list(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let store = lock(&shared.store);
    let organizations = store
        .organizations
        .iter()
        .map(|slug| json!({ "id": slug, "slug": slug, "name": slug }))
        .collect();
    Json(Value::Array(organizations))
}

/// `GET /v1/organizations/{slug}`: the plan follows the `paid_org` knob.
pub(crate) async fn get_one(
    State(shared): State<Arc<Shared>>,
    Path(slug): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if !valid_slug(&slug) {
        return Err(ApiError::bad_request("slug must match ^[\\w-]+$"));
    }
    let plan = if shared.faults().paid_org {
        "pro"
    } else {
        "free"
    };
    Ok(Json(json!({
        "id": slug,
        "name": slug,
        "plan": plan,
        "opt_in_tags": [],
        "allowed_release_channels": ["ga"],
    })))
}

/// The query of the paginated listing.
#[derive(Debug)]
struct ListQuery {
    offset: usize,
    limit: usize,
    search: Option<String>,
    sort: String,
    statuses: Option<Vec<Status>>,
}

fn parse_query(query: &str) -> Result<ListQuery, ApiError> {
    let mut parsed = ListQuery {
        offset: 0,
        limit: 100,
        search: None,
        sort: "name_asc".into(),
        statuses: None,
    };
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "offset" => {
                parsed.offset = value
                    .parse()
                    .map_err(|_| ApiError::bad_request("offset must be an integer >= 0"))?;
            }
            "limit" => {
                parsed.limit = value
                    .parse()
                    .ok()
                    .filter(|limit| (1..=100).contains(limit))
                    .ok_or_else(|| {
                        ApiError::bad_request("limit must be an integer from 1 to 100")
                    })?;
            }
            "search" => parsed.search = Some(value.into_owned()),
            "sort" => {
                if !["name_asc", "name_desc", "created_asc", "created_desc"]
                    .contains(&value.as_ref())
                {
                    return Err(ApiError::bad_request(
                        "sort must be one of name_asc, name_desc, created_asc, created_desc",
                    ));
                }
                parsed.sort = value.into_owned();
            }
            "statuses" => {
                let statuses = value
                    .split(',')
                    .filter(|status| !status.trim().is_empty())
                    .map(|status| {
                        Status::parse(status.trim()).ok_or_else(|| {
                            ApiError::bad_request(format!("statuses: unknown status {status:?}"))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                parsed.statuses = Some(statuses);
            }
            _ => {}
        }
    }
    Ok(parsed)
}

/// `GET /v1/organizations/{slug}/projects?offset&limit&search&sort&statuses`.
pub(crate) async fn projects(
    State(shared): State<Arc<Shared>>,
    Path(slug): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    if !valid_slug(&slug) {
        return Err(ApiError::bad_request("slug must match ^[\\w-]+$"));
    }
    let query = parse_query(&query.unwrap_or_default())?;
    let store = lock(&shared.store);
    let search = query.search.as_deref().map(str::to_lowercase);
    let mut matching: Vec<&Project> = store
        .in_creation_order()
        .into_iter()
        .filter(|project| project.organization_slug == slug)
        .filter(|project| {
            search
                .as_ref()
                .is_none_or(|term| project.name.to_lowercase().contains(term))
        })
        .filter(|project| {
            query
                .statuses
                .as_ref()
                .is_none_or(|wanted| wanted.contains(&project.status))
        })
        .collect();
    match query.sort.as_str() {
        "name_asc" => matching.sort_by(|a, b| a.name.cmp(&b.name)),
        "name_desc" => matching.sort_by(|a, b| b.name.cmp(&a.name)),
        "created_desc" => matching.reverse(),
        _ => {}
    }
    let count = matching.len();
    let page: Vec<Value> = matching
        .into_iter()
        .skip(query.offset)
        .take(query.limit)
        .map(views::organization_project)
        .collect();
    Ok(Json(json!({
        "projects": page,
        "pagination": { "count": count, "limit": query.limit, "offset": query.offset },
    })))
}
