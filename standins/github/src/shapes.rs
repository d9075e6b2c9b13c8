//! JSON bodies in the shapes GitHub's REST API documents (the fields octocrab's models require are
//! all present).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::AppState;
use crate::repo::CommitInfo;

/// Marks a response whose request changed state (for the request log and `fail_after_write`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Wrote;

/// GitHub's error body.
pub(crate) fn error(status: u16, message: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({
        "message": message,
        "documentation_url": "https://docs.github.com/rest",
        "status": status.to_string(),
    });
    (code, Json(body)).into_response()
}

/// A 422 "Validation Failed" with one custom error, as pulls and refs answer.
pub(crate) fn validation_failed(resource: &str, message: &str) -> Response {
    let body = json!({
        "message": "Validation Failed",
        "errors": [{ "resource": resource, "code": "custom", "message": message }],
        "documentation_url": "https://docs.github.com/rest",
        "status": "422",
    });
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

/// A success answer that changed state.
pub(crate) fn wrote(status: StatusCode, body: Value) -> Response {
    let mut response = (status, Json(body)).into_response();
    response.extensions_mut().insert(Wrote);
    response
}

impl AppState {
    pub(crate) fn repo_url(&self) -> String {
        format!(
            "{}/repos/{}/{}",
            self.base_url, self.config.owner, self.config.name
        )
    }

    pub(crate) fn html_url(&self) -> String {
        format!(
            "{}/{}/{}",
            self.base_url, self.config.owner, self.config.name
        )
    }

    /// A user (the owner, or the token's user) in GitHub's `simple-user` shape.
    pub(crate) fn user(&self, login: &str) -> Value {
        let api = format!("{}/users/{login}", self.base_url);
        json!({
            "login": login, "id": 1, "node_id": "MDQ6VXNlcjE=",
            "avatar_url": format!("{}/avatars/{login}", self.base_url), "gravatar_id": "",
            "url": api, "html_url": format!("{}/{login}", self.base_url),
            "followers_url": format!("{api}/followers"), "following_url": format!("{api}/following{{/other_user}}"),
            "gists_url": format!("{api}/gists{{/gist_id}}"), "starred_url": format!("{api}/starred{{/owner}}{{/repo}}"),
            "subscriptions_url": format!("{api}/subscriptions"), "organizations_url": format!("{api}/orgs"),
            "repos_url": format!("{api}/repos"), "events_url": format!("{api}/events{{/privacy}}"),
            "received_events_url": format!("{api}/received_events"), "type": "User", "site_admin": false,
        })
    }

    pub(crate) fn repository(&self) -> Value {
        let c = &self.config;
        json!({
            "id": 1296269, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
            "name": c.name, "full_name": format!("{}/{}", c.owner, c.name),
            "owner": self.user(&c.owner), "private": true, "fork": false, "archived": false, "disabled": false,
            "html_url": self.html_url(), "url": self.repo_url(),
            "default_branch": c.default_branch, "visibility": "private",
            "permissions": { "admin": false, "maintain": false, "push": true, "triage": true, "pull": true },
        })
    }

    pub(crate) fn git_ref(&self, name: &str, sha: &str) -> Value {
        json!({
            "ref": name,
            "node_id": format!("REF_{}", STANDARD.encode(name)),
            "url": format!("{}/git/{name}", self.repo_url()),
            "object": { "type": "commit", "sha": sha, "url": format!("{}/git/commits/{sha}", self.repo_url()) },
        })
    }

    /// A file in the contents API shape; `content` only for reads of the file itself.
    pub(crate) fn content(
        &self,
        path: &str,
        branch: &str,
        sha: &str,
        size: usize,
        content: Option<&[u8]>,
    ) -> Value {
        let name = path.rsplit('/').next().unwrap_or(path);
        let url = format!("{}/contents/{path}?ref={branch}", self.repo_url());
        let git_url = format!("{}/git/blobs/{sha}", self.repo_url());
        let html_url = format!("{}/blob/{branch}/{path}", self.html_url());
        let mut value = json!({
            "type": "file", "name": name, "path": path, "sha": sha, "size": size,
            "url": url, "git_url": git_url, "html_url": html_url,
            "download_url": format!("{}/raw/{branch}/{path}", self.html_url()),
            "_links": { "self": url, "git": git_url, "html": html_url },
        });
        if let Some(bytes) = content {
            // GitHub wraps the base64 at 60 characters per line.
            let encoded = STANDARD.encode(bytes);
            let wrapped: Vec<&str> = encoded
                .as_bytes()
                .chunks(60)
                .map(|c| std::str::from_utf8(c).unwrap_or_default())
                .collect();
            value["encoding"] = json!("base64");
            value["content"] = json!(format!("{}\n", wrapped.join("\n")));
        }
        value
    }

    /// A git commit in the `file-commit` shape of contents writes.
    pub(crate) fn commit(&self, info: &CommitInfo) -> Value {
        let person =
            |p: &(String, String, String)| json!({ "name": p.0, "email": p.1, "date": p.2 });
        json!({
            "sha": info.sha, "node_id": format!("C_{}", &info.sha[..10.min(info.sha.len())]),
            "url": format!("{}/git/commits/{}", self.repo_url(), info.sha),
            "html_url": format!("{}/commit/{}", self.html_url(), info.sha),
            "author": person(&info.author), "committer": person(&info.committer),
            "message": info.message,
            "tree": { "sha": info.tree, "url": format!("{}/git/trees/{}", self.repo_url(), info.tree) },
            "parents": info.parents.iter().map(|p| json!({
                "sha": p, "url": format!("{}/git/commits/{p}", self.repo_url()),
                "html_url": format!("{}/commit/{p}", self.html_url()),
            })).collect::<Vec<_>>(),
            "verification": { "verified": false, "reason": "unsigned", "signature": null, "payload": null },
        })
    }
}
