//! Raw REST calls through octocrab, and GitHub's answers sorted into outcomes.
//!
//! octocrab supplies authentication (token, or App JWT -> installation token), the base URI and the
//! HTTP client; status codes, rate-limit headers and bodies are read here because publishing must tell
//! "already exists" (success), "stale" (re-read) and "limited" (wait this long) apart.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use octocrab::Octocrab;
use serde_json::Value;

use crate::PublishError;
use crate::redact::scrub;

/// Wait when GitHub signals a secondary rate limit without saying how long.
const SECONDARY_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// An HTTP answer from the API.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<String>,
    pub(crate) remaining: Option<String>,
    pub(crate) reset: Option<String>,
    pub(crate) body: String,
}

impl Reply {
    /// The body as JSON (Null when it is not JSON).
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// GitHub's `message`, plus the messages of any validation `errors`.
    pub(crate) fn message(&self) -> String {
        let json = self.json();
        let mut text = json
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if let Some(errors) = json.get("errors").and_then(Value::as_array) {
            for e in errors {
                if let Some(m) = e.get("message").and_then(Value::as_str) {
                    text.push_str("; ");
                    text.push_str(m);
                }
            }
        }
        if text.is_empty() {
            text = self.body.chars().take(200).collect();
        }
        text
    }
}

/// A client for one repository.
#[derive(Clone)]
pub(crate) struct Api {
    pub(crate) crab: Octocrab,
    /// `/repos/{owner}/{repo}`, already percent-encoded.
    pub(crate) repo_path: String,
    /// Secrets to scrub from any text that could reach an error.
    pub(crate) secrets: Vec<String>,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
    Patch,
}

impl Api {
    /// Sends one request; `path` is relative to the API base (e.g. `/repos/o/r/pulls`).
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, PublishError> {
        let sent = match method {
            Method::Get => self.crab._get(path).await,
            Method::Post => self.crab._post(path, body).await,
            Method::Put => self.crab._put(path, body).await,
            Method::Patch => self.crab._patch(path, body).await,
        };
        let response = match sent {
            Ok(response) => response,
            // octocrab itself got an error answer: fetching the App installation token failed.
            Err(octocrab::Error::GitHub { source, .. }) => {
                let header = |name: &str| {
                    source
                        .headers
                        .as_ref()?
                        .get(name)?
                        .to_str()
                        .ok()
                        .map(str::to_owned)
                };
                let reply = Reply {
                    status: source.status_code.as_u16(),
                    retry_after: header("retry-after"),
                    remaining: header("x-ratelimit-remaining"),
                    reset: header("x-ratelimit-reset")
                        .or(source.rate_limit_reset.map(|r| r.to_string())),
                    body: serde_json::json!({ "message": source.message }).to_string(),
                };
                let what = "(GitHub App installation token)";
                return Err(match self.failure(Method::Post, what, &reply) {
                    PublishError::Permanent(m) => PublishError::Permanent(format!(
                        "{m}; check GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_INSTALLATION_ID"
                    )),
                    transient => transient,
                });
            }
            Err(e) => {
                return Err(PublishError::Transient {
                    message: self.scrub(&format!(
                        "{method:?} {path}: cannot reach the GitHub API: {}",
                        error_chain(&e)
                    )),
                    retry_after: None,
                });
            }
        };
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (retry_after, remaining, reset) = (
            header("retry-after"),
            header("x-ratelimit-remaining"),
            header("x-ratelimit-reset"),
        );
        let body =
            self.crab
                .body_to_string(response)
                .await
                .map_err(|e| PublishError::Transient {
                    message: self.scrub(&format!(
                        "{method:?} {path}: reading the answer failed: {}",
                        error_chain(&e)
                    )),
                    retry_after: None,
                })?;
        tracing::debug!(?method, path, status, "github api call");
        Ok(Reply {
            status,
            retry_after,
            remaining,
            reset,
            body,
        })
    }

    /// The error for an answer the flow did not expect.
    pub(crate) fn failure(&self, method: Method, path: &str, reply: &Reply) -> PublishError {
        let message = self.scrub(&format!(
            "GitHub answered {} to {method:?} {path}: {}",
            reply.status,
            reply.message()
        ));
        if let Some(wait) = rate_limit_wait(reply) {
            return PublishError::Transient {
                message,
                retry_after: Some(wait),
            };
        }
        match reply.status {
            401 => PublishError::Permanent(format!(
                "{message} (check GITHUB_TOKEN, or the GitHub App id, key and installation)"
            )),
            403 => PublishError::Permanent(format!(
                "{message} (the token or App installation lacks access to the repository)"
            )),
            404 => PublishError::Permanent(format!(
                "{message} (check GITHUB_REPOSITORY and that the token or App installation can see it)"
            )),
            408 | 409 | 425 | 500..=599 => PublishError::Transient {
                message,
                retry_after: None,
            },
            _ => PublishError::Permanent(message),
        }
    }

    pub(crate) fn scrub(&self, text: &str) -> String {
        let secrets: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
        scrub(text, &secrets)
    }
}

/// How long GitHub asked us to wait, when the answer is a (primary or secondary) rate limit.
pub(crate) fn rate_limit_wait(reply: &Reply) -> Option<Duration> {
    if reply.status != 403 && reply.status != 429 {
        return None;
    }
    if let Some(secs) = reply
        .retry_after
        .as_deref()
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        return Some(Duration::from_secs(secs.max(1)));
    }
    if reply.remaining.as_deref().map(str::trim) == Some("0") {
        if let Some(reset) = reply
            .reset
            .as_deref()
            .and_then(|v| v.trim().parse::<u64>().ok())
        {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            return Some(Duration::from_secs(reset.saturating_sub(now).max(1)));
        }
        return Some(SECONDARY_LIMIT_WAIT);
    }
    if reply.status == 429 || reply.body.to_ascii_lowercase().contains("rate limit") {
        return Some(SECONDARY_LIMIT_WAIT);
    }
    None
}

/// An error with its sources, which name the actual network problem.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Everything but RFC 3986's unreserved characters gets encoded.
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes one path segment or query value.
pub(crate) fn enc(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, UNRESERVED).to_string()
}

/// Percent-encodes a repository path, keeping its slashes.
pub(crate) fn enc_path(path: &str) -> String {
    path.split('/').map(enc).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(
        status: u16,
        retry_after: Option<&str>,
        remaining: Option<&str>,
        reset: Option<&str>,
        body: &str,
    ) -> Reply {
        Reply {
            status,
            retry_after: retry_after.map(str::to_owned),
            remaining: remaining.map(str::to_owned),
            reset: reset.map(str::to_owned),
            body: body.to_owned(),
        }
    }

    #[test]
    fn rate_limits_follow_githubs_rules() {
        assert_eq!(
            rate_limit_wait(&reply(429, Some("7"), None, None, "")),
            Some(Duration::from_secs(7))
        );
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let reset = (now + 30).to_string();
        let wait = rate_limit_wait(&reply(403, None, Some("0"), Some(&reset), "")).unwrap();
        assert!(
            wait <= Duration::from_secs(30) && wait >= Duration::from_secs(28),
            "{wait:?}"
        );
        let secondary = r#"{"message":"You have exceeded a secondary rate limit"}"#;
        assert_eq!(
            rate_limit_wait(&reply(403, None, Some("12"), None, secondary)),
            Some(SECONDARY_LIMIT_WAIT)
        );
        assert_eq!(
            rate_limit_wait(&reply(
                403,
                None,
                Some("12"),
                None,
                r#"{"message":"Resource not accessible"}"#
            )),
            None
        );
        assert_eq!(
            rate_limit_wait(&reply(500, Some("3"), None, None, "")),
            None
        );
    }

    #[test]
    fn encodes_paths() {
        assert_eq!(enc_path("tenants/a b.tf"), "tenants/a%20b.tf");
        assert_eq!(enc("o:stagesub/x"), "o%3Astagesub%2Fx");
    }
}
