//! Pull requests (kept in memory), the repository endpoint, and GitHub App installation tokens.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::faults::{epoch, rfc3339};
use crate::refs::known;
use crate::shapes::{error, validation_failed, wrote};
use crate::{AppState, Shared, lock};

/// A pull request as the stand-in stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequestRecord {
    /// Number, from 1.
    pub number: u64,
    /// Title.
    pub title: String,
    /// Body text.
    pub body: String,
    /// Head branch name (without owner).
    pub head: String,
    /// Base branch name.
    pub base: String,
    /// `open` or `closed`.
    pub state: String,
    /// Creation time, seconds since the epoch.
    pub created_at: u64,
}

impl AppState {
    async fn pull_json(&self, pr: &PullRequestRecord) -> Value {
        let owner = &self.config.owner;
        let sha_of = |b: &str| format!("refs/heads/{b}");
        let head_sha = self
            .repo
            .resolve(&sha_of(&pr.head))
            .await
            .unwrap_or_default();
        let base_sha = self
            .repo
            .resolve(&sha_of(&pr.base))
            .await
            .unwrap_or_default();
        let url = format!("{}/pulls/{}", self.repo_url(), pr.number);
        let html = format!("{}/pull/{}", self.html_url(), pr.number);
        let issue = format!("{}/issues/{}", self.repo_url(), pr.number);
        let side = |branch: &str, sha: &str| {
            json!({ "label": format!("{owner}:{branch}"), "ref": branch, "sha": sha,
                    "user": self.user(owner), "repo": self.repository() })
        };
        let statuses = format!("{}/statuses/{head_sha}", self.repo_url());
        let links = json!({
            "self": { "href": url }, "html": { "href": html }, "issue": { "href": issue },
            "comments": { "href": format!("{issue}/comments") },
            "review_comments": { "href": format!("{url}/comments") },
            "commits": { "href": format!("{url}/commits") },
            "statuses": { "href": statuses },
        });
        let mut value = json!({
            "id": 1_000_000 + pr.number, "node_id": format!("PR_{}", pr.number), "number": pr.number,
            "url": url, "html_url": html, "diff_url": format!("{html}.diff"), "patch_url": format!("{html}.patch"),
            "issue_url": issue, "commits_url": format!("{url}/commits"),
            "review_comments_url": format!("{url}/comments"),
            "review_comment_url": format!("{}/pulls/comments{{/number}}", self.repo_url()),
            "comments_url": format!("{issue}/comments"), "statuses_url": statuses,
            "state": pr.state, "locked": false, "title": pr.title, "user": self.user(owner), "body": pr.body,
            "labels": [], "milestone": null, "active_lock_reason": null,
            "created_at": rfc3339(pr.created_at), "updated_at": rfc3339(pr.created_at),
        });
        let rest = json!({
            "closed_at": null, "merged_at": null, "merge_commit_sha": null,
            "assignee": null, "assignees": [], "requested_reviewers": [], "requested_teams": [],
            "head": side(&pr.head, &head_sha), "base": side(&pr.base, &base_sha), "_links": links,
            "author_association": "OWNER", "auto_merge": null, "draft": false,
        });
        if let (Some(map), Value::Object(more)) = (value.as_object_mut(), rest) {
            map.extend(more);
        }
        value
    }
}

pub(crate) async fn get_repository(
    State(state): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
) -> Response {
    if !known(&state, &owner, &repo) {
        return error(404, "Not Found");
    }
    Json(state.repository()).into_response()
}

pub(crate) async fn list_pulls(
    State(state): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if !known(&state, &owner, &repo) {
        return error(404, "Not Found");
    }
    let wanted_state = query
        .get("state")
        .map(String::as_str)
        .unwrap_or("open")
        .to_owned();
    // `head` filters by `user:ref-name`.
    let head = query
        .get("head")
        .and_then(|h| h.split_once(':'))
        .map(|(u, b)| (u.to_owned(), b.to_owned()));
    let base = query.get("base").cloned();
    let pulls: Vec<PullRequestRecord> = lock(&state.pulls)
        .iter()
        .filter(|p| wanted_state == "all" || p.state == wanted_state)
        .filter(|p| {
            head.as_ref()
                .is_none_or(|(u, b)| u.eq_ignore_ascii_case(&state.config.owner) && *b == p.head)
        })
        .filter(|p| base.as_ref().is_none_or(|b| *b == p.base))
        .cloned()
        .collect();
    let mut items = Vec::with_capacity(pulls.len());
    for pr in pulls.iter().rev() {
        items.push(state.pull_json(pr).await);
    }
    Json(Value::Array(items)).into_response()
}

pub(crate) async fn create_pull(
    State(state): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    if !known(&state, &owner, &repo) {
        return error(404, "Not Found");
    }
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_owned);
    let (Some(title), Some(head), Some(base)) = (text("title"), text("head"), text("base")) else {
        return error(
            422,
            "Invalid request.\n\n\"title\", \"head\" and \"base\" are required.",
        );
    };
    let head = match head.split_once(':') {
        Some((user, branch)) if user.eq_ignore_ascii_case(&state.config.owner) => branch.to_owned(),
        Some(_) => return validation_failed("PullRequest", "head is invalid"),
        None => head,
    };
    let _serial = state.write_lock.lock().await;
    let Some(head_sha) = state.repo.resolve(&format!("refs/heads/{head}")).await else {
        return validation_failed("PullRequest", "head is invalid");
    };
    let Some(base_sha) = state.repo.resolve(&format!("refs/heads/{base}")).await else {
        return validation_failed("PullRequest", "base is invalid");
    };
    if lock(&state.pulls)
        .iter()
        .any(|p| p.state == "open" && p.head == head && p.base == base)
    {
        let owner = &state.config.owner;
        return validation_failed(
            "PullRequest",
            &format!("A pull request already exists for {owner}:{head}."),
        );
    }
    if state.repo.is_ancestor(&head_sha, &base_sha).await {
        return validation_failed(
            "PullRequest",
            &format!("No commits between {base} and {head}"),
        );
    }
    let record = {
        let mut pulls = lock(&state.pulls);
        let record = PullRequestRecord {
            number: pulls.len() as u64 + 1,
            title,
            body: text("body").unwrap_or_default(),
            head,
            base,
            state: "open".into(),
            created_at: epoch(),
        };
        pulls.push(record.clone());
        record
    };
    wrote(StatusCode::CREATED, state.pull_json(&record).await)
}

pub(crate) async fn all_pulls(State(state): State<Shared>) -> Json<Vec<PullRequestRecord>> {
    Json(lock(&state.pulls).clone())
}

/// Checks that `jwt` is an RS256 token of the configured App (signature, `iss`, `exp`); the error
/// says what is wrong, as GitHub's 401 does.
pub(crate) fn check_app_jwt(state: &Shared, jwt: &str) -> Result<(), String> {
    let app = state
        .config
        .app
        .as_ref()
        .ok_or("this stand-in has no GitHub App configured")?;
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(app.public_key_pem.as_bytes())
        .map_err(|e| format!("stand-in App public key unusable: {e}"))?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    // octocrab (like GitHub) puts the App id in `iss` as a number, which the library does not count
    // as an issuer: it is checked below.
    validation.set_required_spec_claims(&["exp"]);
    let data = jsonwebtoken::decode::<Value>(jwt, &key, &validation)
        .map_err(|e| format!("A JSON web token could not be decoded: {e}"))?;
    let iss = &data.claims["iss"];
    if iss.as_u64() == Some(app.app_id) || iss.as_str() == Some(app.app_id.to_string().as_str()) {
        Ok(())
    } else {
        Err("'Issuer' claim ('iss') does not name this App".into())
    }
}

pub(crate) async fn installation_token(
    State(state): State<Shared>,
    Path(id): Path<String>,
) -> Response {
    let Some(app) = &state.config.app else {
        return error(404, "Not Found");
    };
    if id != app.installation_id.to_string() {
        return error(404, "Not Found");
    }
    let hasher = std::collections::hash_map::RandomState::new();
    let mut token = String::from("ghs_");
    for round in 0..3u64 {
        let mut h = hasher.build_hasher();
        h.write_u64(round ^ epoch());
        token.push_str(&format!("{:016x}", h.finish()));
    }
    let expires = epoch() + 3600;
    lock(&state.installation_tokens).insert(token.clone(), expires);
    let body = json!({
        "token": token, "expires_at": rfc3339(expires),
        "permissions": { "contents": "write", "pull_requests": "write", "metadata": "read" },
        "repository_selection": "selected",
    });
    (StatusCode::CREATED, Json(body)).into_response()
}
