//! The git data endpoints a multi-file commit needs: `GET /repos/{o}/{r}/git/commits/{sha}`,
//! `POST /repos/{o}/{r}/git/trees`, `POST /repos/{o}/{r}/git/commits` and
//! `PATCH /repos/{o}/{r}/git/refs/{ref}` (a fast-forward unless `force`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::Shared;
use crate::refs::{known, valid_ref};
use crate::shapes::{error, wrote};

pub(crate) async fn get_commit(
    State(state): State<Shared>,
    Path((owner, repo, sha)): Path<(String, String, String)>,
) -> Response {
    if !known(&state, &owner, &repo) || !state.repo.is_commit(&sha).await {
        return error(404, "Not Found");
    }
    match state.repo.commit_info(&sha).await {
        Ok(info) => Json(state.commit(&info)).into_response(),
        Err(e) => error(500, &e.0),
    }
}

pub(crate) async fn create_tree(
    State(state): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    if !known(&state, &owner, &repo) {
        return error(404, "Not Found");
    }
    let base = body.get("base_tree").and_then(Value::as_str);
    if let Some(base) = base
        && !state.repo.is_a(base, "tree").await
    {
        return error(422, "base_tree is not a valid tree oid");
    }
    let Some(items) = body.get("tree").and_then(Value::as_array) else {
        return error(422, "Invalid request.\n\n\"tree\" wasn't supplied.");
    };
    let mut entries = Vec::new();
    for item in items {
        let Some(path) = item.get("path").and_then(Value::as_str) else {
            return error(422, "Invalid request.\n\n\"path\" wasn't supplied.");
        };
        let path_ok = !path.is_empty()
            && path
                .split('/')
                .all(|p| !p.is_empty() && p != "." && p != ".." && p != ".git");
        if !path_ok || item.get("mode").and_then(Value::as_str) != Some("100644") {
            return error(
                422,
                &format!("tree entry {path:?} is invalid (only mode 100644 blobs)"),
            );
        }
        match (item.get("content"), item.get("sha")) {
            (Some(Value::String(text)), None) => {
                entries.push((path.to_owned(), Some(text.as_bytes().to_vec())))
            }
            // GitHub: `"sha": null` deletes the file from the base tree.
            (None, Some(Value::Null)) => entries.push((path.to_owned(), None)),
            _ => {
                return error(
                    422,
                    "tree entries need either content or \"sha\": null (blob shas are not supported here)",
                );
            }
        }
    }
    match state.repo.build_tree(base, &entries).await {
        Ok(sha) => wrote(
            StatusCode::CREATED,
            json!({ "sha": sha, "url": format!("{}/git/trees/{sha}", state.repo_url()), "truncated": false, "tree": [] }),
        ),
        Err(e) => error(422, &e.0),
    }
}

pub(crate) async fn create_commit(
    State(state): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    if !known(&state, &owner, &repo) {
        return error(404, "Not Found");
    }
    let (Some(message), Some(tree)) = (
        body.get("message").and_then(Value::as_str),
        body.get("tree").and_then(Value::as_str),
    ) else {
        return error(
            422,
            "Invalid request.\n\n\"message\" and \"tree\" are required.",
        );
    };
    if !state.repo.is_a(tree, "tree").await {
        return error(422, "Tree SHA does not exist");
    }
    let parents: Vec<String> = body
        .get("parents")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    for p in &parents {
        if !state.repo.is_commit(p).await {
            return error(422, "Parent SHA does not exist or is not a commit object");
        }
    }
    let author = (
        state.config.owner.clone(),
        "stagesub@users.noreply.github.com",
    );
    let sha = match state
        .repo
        .commit_tree(tree, &parents, message, (&author.0, author.1))
        .await
    {
        Ok(sha) => sha,
        Err(e) => return error(500, &e.0),
    };
    match state.repo.commit_info(&sha).await {
        Ok(info) => wrote(StatusCode::CREATED, state.commit(&info)),
        Err(e) => error(500, &e.0),
    }
}

pub(crate) async fn update_ref(
    State(state): State<Shared>,
    Path((owner, repo, name)): Path<(String, String, String)>,
    Json(body): Json<Value>,
) -> Response {
    if !known(&state, &owner, &repo) {
        return error(404, "Not Found");
    }
    let full = format!("refs/{name}");
    if !valid_ref(&full) {
        return error(422, "Reference name is invalid");
    }
    let Some(sha) = body.get("sha").and_then(Value::as_str) else {
        return error(422, "Invalid request.\n\n\"sha\" wasn't supplied.");
    };
    let force = body.get("force").and_then(Value::as_bool).unwrap_or(false);
    let _serial = state.write_lock.lock().await;
    let Some(current) = state.repo.resolve(&full).await else {
        return error(422, "Reference does not exist");
    };
    if !state.repo.is_commit(sha).await {
        return error(422, "Object does not exist");
    }
    if !force && !state.repo.is_ancestor(&current, sha).await {
        return error(422, "Update is not a fast forward");
    }
    match state.repo.update_ref(&full, sha, &current).await {
        Ok(()) => wrote(StatusCode::OK, state.git_ref(&full, sha)),
        Err(_) => error(422, "Update is not a fast forward"),
    }
}
