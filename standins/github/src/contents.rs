//! `GET /repos/{o}/{r}/contents/{path}` and `PUT /repos/{o}/{r}/contents/{path}`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use std::collections::HashMap;

use crate::Shared;
use crate::refs::known;
use crate::shapes::{error, wrote};

fn clean_path(path: &str) -> Option<String> {
    let path = path.trim_matches('/');
    let ok = !path.is_empty()
        && path
            .split('/')
            .all(|p| !p.is_empty() && p != "." && p != ".." && p != ".git");
    ok.then(|| path.to_owned())
}

pub(crate) async fn get_contents(
    State(state): State<Shared>,
    Path((owner, repo, path)): Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if !known(&state, &owner, &repo) {
        return error(404, "Not Found");
    }
    let Some(path) = clean_path(&path) else {
        return error(404, "Not Found");
    };
    let branch = query
        .get("ref")
        .cloned()
        .unwrap_or_else(|| state.config.default_branch.clone());
    let Some(tip) = state.repo.resolve(&format!("refs/heads/{branch}")).await else {
        return error(404, &format!("No commit found for the ref {branch}"));
    };
    match state.repo.entry(&tip, &path).await {
        Some((kind, sha)) if kind == "blob" => match state.repo.blob(&sha).await {
            Ok(bytes) => {
                Json(state.content(&path, &branch, &sha, bytes.len(), Some(&bytes))).into_response()
            }
            Err(e) => error(500, &e.0),
        },
        Some(_) => match state.repo.list(&tip, &path).await {
            Ok(entries) => {
                let items: Vec<Value> = entries
                    .iter()
                    .map(|(kind, sha, name)| {
                        let mut item =
                            state.content(&format!("{path}/{name}"), &branch, sha, 0, None);
                        item["type"] = json!(if kind == "tree" { "dir" } else { "file" });
                        item
                    })
                    .collect();
                Json(Value::Array(items)).into_response()
            }
            Err(e) => error(500, &e.0),
        },
        None => error(404, "Not Found"),
    }
}

pub(crate) async fn put_contents(
    State(state): State<Shared>,
    Path((owner, repo, path)): Path<(String, String, String)>,
    Json(body): Json<Value>,
) -> Response {
    if !known(&state, &owner, &repo) {
        return error(404, "Not Found");
    }
    let Some(path) = clean_path(&path) else {
        return error(422, "path is invalid");
    };
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_owned);
    let Some(message) = text("message") else {
        return error(422, "Invalid request.\n\n\"message\" wasn't supplied.");
    };
    let Some(encoded) = text("content") else {
        return error(422, "Invalid request.\n\n\"content\" wasn't supplied.");
    };
    let Ok(content) = STANDARD.decode(encoded.split_whitespace().collect::<String>()) else {
        return error(422, "content is not valid Base64");
    };
    let branch = text("branch").unwrap_or_else(|| state.config.default_branch.clone());
    let given_sha = text("sha");
    let author = body.get("author").or_else(|| body.get("committer"));
    let who = |key: &str, fallback: &str| {
        author
            .and_then(|a| a.get(key))
            .and_then(Value::as_str)
            .unwrap_or(fallback)
            .to_owned()
    };
    let (name, email) = (
        who("name", &state.config.owner),
        who("email", "stagesub@users.noreply.github.com"),
    );

    let _serial = state.write_lock.lock().await;
    let refname = format!("refs/heads/{branch}");
    let Some(tip) = state.repo.resolve(&refname).await else {
        return error(404, &format!("Branch {branch} not found"));
    };
    let existing = state.repo.entry(&tip, &path).await;
    match (&existing, &given_sha) {
        (Some((kind, _)), _) if kind != "blob" => {
            return error(422, &format!("{path} is a directory"));
        }
        (Some(_), None) => return error(422, "Invalid request.\n\n\"sha\" wasn't supplied."),
        (Some((_, current)), Some(given)) if current != given => {
            return error(409, &format!("{path} does not match {given}"));
        }
        (None, Some(given)) => return error(409, &format!("{path} does not match {given}")),
        _ => {}
    }
    let (commit, blob) = match state
        .repo
        .commit_file(&tip, &path, &content, &message, (&name, &email))
        .await
    {
        Ok(done) => done,
        Err(e) => return error(500, &e.0),
    };
    if state
        .repo
        .update_ref(&refname, &commit, &tip)
        .await
        .is_err()
    {
        return error(409, &format!("{branch} moved while writing {path}; retry"));
    }
    let info = match state.repo.commit_info(&commit).await {
        Ok(info) => info,
        Err(e) => return error(500, &e.0),
    };
    let status = if existing.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let body = json!({
        "content": state.content(&path, &branch, &blob, content.len(), None),
        "commit": state.commit(&info),
    });
    wrote(status, body)
}

#[cfg(test)]
mod tests {
    use super::clean_path;

    #[test]
    fn paths_stay_inside_the_repository() {
        assert_eq!(clean_path("tenants/a.tf").as_deref(), Some("tenants/a.tf"));
        assert_eq!(clean_path("../x"), None);
        assert_eq!(clean_path(".git/config"), None);
        assert_eq!(clean_path("a//b"), None);
    }
}
