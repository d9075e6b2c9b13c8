//! Sending one API call: rate limiting, retries with backoff, error mapping.

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use tokio::time::Instant;

use crate::client::Client;
use crate::error::{Error, Result, TransportKind};

/// Which failures of a call may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryMode {
    /// Repeating the call has the same effect: retry on 5xx, 429 and transport errors.
    Idempotent,
    /// Retry only when the server certainly did nothing: 429, or a failure to connect.
    RefusedOnly,
    /// Never retry (`POST /v1/projects`: there is no idempotency key).
    Never,
}

/// One API call to make.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    pub(crate) segments: Vec<&'a str>,
    pub(crate) query: Vec<(&'static str, String)>,
    pub(crate) body: Option<Vec<u8>>,
    pub(crate) retry: RetryMode,
    pub(crate) project_ref: Option<&'a str>,
}

impl<'a> Call<'a> {
    pub(crate) fn new(method: Method, segments: &[&'a str], retry: RetryMode) -> Self {
        Self {
            method,
            segments: segments.to_vec(),
            query: Vec::new(),
            body: None,
            retry,
            project_ref: None,
        }
    }

    pub(crate) fn project(mut self, project_ref: &'a str) -> Self {
        self.project_ref = Some(project_ref);
        self
    }

    pub(crate) fn query(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.query.push((key, value.into()));
        self
    }

    pub(crate) fn json<T: serde::Serialize>(mut self, body: &T) -> Result<Self> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::InvalidInput(format!("could not encode the request body: {e}")))?;
        self.body = Some(bytes);
        Ok(self)
    }

    pub(crate) fn path(&self) -> String {
        let mut p = String::new();
        for s in &self.segments {
            p.push('/');
            p.push_str(s);
        }
        p
    }
}

impl Client {
    /// Sends `call` and returns the body of a 2xx answer.
    pub(crate) async fn execute(&self, call: &Call<'_>) -> Result<Vec<u8>> {
        let inner = &*self.inner;
        let mut url = inner.base.clone();
        url.path_segments_mut()
            .map_err(|_| Error::InvalidInput("the Supabase API URL cannot take a path".into()))?
            .pop_if_empty()
            .extend(&call.segments);
        if !call.query.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in &call.query {
                q.append_pair(k, v);
            }
        }
        let path = call.path();
        let method = call.method.as_str().to_owned();
        let project_ref = call.project_ref.map(str::to_owned);
        let mut auth =
            HeaderValue::from_str(&format!("Bearer {}", inner.token.expose())).map_err(|_| {
                Error::InvalidInput("the access token is not a valid header value".into())
            })?;
        auth.set_sensitive(true);

        let started = Instant::now();
        let deadline = started + inner.retry.max_elapsed;
        let max_attempts = inner.retry.max_attempts.max(1);
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            inner.limiter.acquire().await;
            let mut req = inner
                .http
                .request(call.method.clone(), url.clone())
                .header(AUTHORIZATION, auth.clone())
                .timeout(inner.request_timeout);
            if let Some(body) = &call.body {
                req = req
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let sent_at = Instant::now();
            let outcome = match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    resp.bytes().await.map(|b| (status, headers, b.to_vec()))
                }
                Err(e) => Err(e),
            };
            let (sleep, error) = match outcome {
                Ok((status, headers, body)) => {
                    tracing::debug!(%method, %path, status = status.as_u16(), attempt, elapsed_ms = sent_at.elapsed().as_millis() as u64, "Supabase API call");
                    self.observe_rate_headers(&headers);
                    if status.is_success() {
                        return Ok(body);
                    }
                    let retry_after = server_wait(&headers, status)
                        .map(|w| w.min(inner.retry.max_rate_limit_wait));
                    let error = Error::Api {
                        method: method.clone(),
                        path: path.clone(),
                        status: status.as_u16(),
                        message: inner.token.redact_in(&error_message(status, &body)),
                        project_ref: project_ref.clone(),
                        retry_after,
                    };
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        // Everyone on this client waits, not only this call.
                        let wait =
                            retry_after.unwrap_or_else(|| inner.retry.backoff.ceiling(attempt - 1));
                        inner.limiter.pause_for(wait);
                        if call.retry == RetryMode::Never {
                            return Err(error);
                        }
                        (wait, error)
                    } else if status.is_server_error() && call.retry == RetryMode::Idempotent {
                        (inner.retry.backoff.delay(attempt - 1), error)
                    } else {
                        return Err(error);
                    }
                }
                Err(e) => {
                    let kind = transport_kind(&e);
                    let error = Error::Transport {
                        method: method.clone(),
                        path: path.clone(),
                        kind,
                        message: inner.token.redact_in(&error_chain(e)),
                        project_ref: project_ref.clone(),
                        attempts: attempt,
                    };
                    tracing::debug!(%method, %path, attempt, %error, "Supabase API call failed");
                    let retryable = match call.retry {
                        RetryMode::Idempotent => true,
                        RetryMode::RefusedOnly => kind == TransportKind::Connect,
                        RetryMode::Never => false,
                    };
                    if !retryable {
                        return Err(error);
                    }
                    (inner.retry.backoff.delay(attempt - 1), error)
                }
            };
            if attempt >= max_attempts || Instant::now() + sleep > deadline {
                tracing::warn!(%method, %path, attempt, "Supabase API call: giving up after retries");
                return Err(error);
            }
            tracing::warn!(%method, %path, attempt, wait_ms = sleep.as_millis() as u64, %error, "Supabase API call: retrying");
            if !matches!(error, Error::Api { status: 429, .. }) {
                tokio::time::sleep(sleep).await;
            }
        }
    }

    /// Pauses the whole client when the server says the window is used up.
    fn observe_rate_headers(&self, headers: &HeaderMap) {
        if header_number(headers, "x-ratelimit-remaining") != Some(0.0) {
            return;
        }
        if let Some(reset) = header_number(headers, "x-ratelimit-reset").map(seconds_from_now) {
            let wait = reset.min(self.inner.retry.max_rate_limit_wait);
            tracing::info!(
                wait_ms = wait.as_millis() as u64,
                "Supabase rate limit used up: pausing requests until it resets"
            );
            self.inner.limiter.pause_for(wait);
        }
    }
}

/// The wait a 429 answer asks for: `Retry-After`, else `X-RateLimit-Reset` (seconds).
fn server_wait(headers: &HeaderMap, status: StatusCode) -> Option<Duration> {
    if status != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    header_number(headers, "retry-after")
        .or_else(|| header_number(headers, "x-ratelimit-reset"))
        .map(seconds_from_now)
}

fn header_number(headers: &HeaderMap, name: &str) -> Option<f64> {
    headers
        .get(name)?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
}

/// Seconds to wait; a value that looks like a Unix time (after 2001) is turned into a delay.
fn seconds_from_now(value: f64) -> Duration {
    if value > 1_000_000_000.0 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        return Duration::from_secs_f64((value - now).max(0.0));
    }
    Duration::from_secs_f64(value)
}

fn transport_kind(e: &reqwest::Error) -> TransportKind {
    if e.is_connect() {
        TransportKind::Connect
    } else if e.is_timeout() {
        TransportKind::Timeout
    } else {
        TransportKind::Other
    }
}

fn error_chain(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut out = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Supabase's `message` from an error body, else the start of the body, else the reason phrase.
fn error_message(status: StatusCode, body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        for key in ["message", "error", "msg"] {
            if let Some(m) = v.get(key).and_then(|m| m.as_str()) {
                return m.to_owned();
            }
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return status.canonical_reason().unwrap_or("no message").to_owned();
    }
    let mut short: String = text.chars().take(300).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}
