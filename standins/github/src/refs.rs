//! `GET /repos/{o}/{r}/git/ref/{ref}` and `POST /repos/{o}/{r}/git/refs`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::Shared;
use crate::repo::ZERO_OID;
use crate::shapes::{error, wrote};

/// Checks that `{owner}/{repo}` is the repository this stand-in serves.
pub(crate) fn known(state: &Shared, owner: &str, repo: &str) -> bool {
    owner.eq_ignore_ascii_case(&state.config.owner) && repo.eq_ignore_ascii_case(&state.config.name)
}

/// A ref name git accepts (what `git check-ref-format` would say, for the names used here).
pub(crate) fn valid_ref(name: &str) -> bool {
    name.starts_with("refs/")
        && name.matches('/').count() >= 2
        && !name.contains("..")
        && !name.ends_with('/')
        && !name.ends_with(".lock")
        && !name.contains("@{")
        && !name.contains("//")
        && name
            .chars()
            .all(|c| !c.is_control() && !" ~^:?*[\\".contains(c))
}

pub(crate) async fn get_ref(
    State(state): State<Shared>,
    Path((owner, repo, name)): Path<(String, String, String)>,
) -> Response {
    if !known(&state, &owner, &repo) {
        return error(404, "Not Found");
    }
    let full = format!("refs/{name}");
    if !valid_ref(&full) {
        return error(404, "Not Found");
    }
    match state.repo.resolve(&full).await {
        Some(sha) => Json(state.git_ref(&full, &sha)).into_response(),
        None => error(404, "Not Found"),
    }
}

pub(crate) async fn create_ref(
    State(state): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    if !known(&state, &owner, &repo) {
        return error(404, "Not Found");
    }
    let (Some(name), Some(sha)) = (
        body.get("ref").and_then(Value::as_str),
        body.get("sha").and_then(Value::as_str),
    ) else {
        return error(422, "Invalid request.\n\n\"ref\" and \"sha\" are required.");
    };
    if !valid_ref(name) {
        return error(422, "Reference name is invalid");
    }
    let _serial = state.write_lock.lock().await;
    if !state.repo.is_commit(sha).await {
        return error(422, "Object does not exist");
    }
    if state.repo.resolve(name).await.is_some() {
        return error(422, "Reference already exists");
    }
    match state.repo.update_ref(name, sha, ZERO_OID).await {
        Ok(()) => wrote(StatusCode::CREATED, state.git_ref(name, sha)),
        // Lost a race with a concurrent creation (another process writing the same repository).
        Err(_) => error(422, "Reference already exists"),
    }
}
