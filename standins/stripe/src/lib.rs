//! A local stand-in for Stripe's List Events API (`GET /v1/events`), for the bridge's "find missed
//! events" tests.
//!
//! It serves the documented shapes: a list object `{"object": "list", "url": "/v1/events", "has_more",
//! "data": [...]}` with events newest first (by `created`, then by insertion), the `limit` (1-100,
//! default 10), `starting_after` and `ending_before` cursors, `types[]` (repeated) and `type` filters,
//! and `delivery_success` (`true`/`false`: whether the event reached every webhook endpoint). Requests
//! need `Authorization: Bearer <key>`; a wrong or missing key answers 401 with Stripe's error object, an
//! unknown cursor 404 (`resource_missing`), a bad parameter 400. Fault knobs: [`StripeStandin::fail_next`]
//! answers the next requests with a given status (500, 429 with `Retry-After`, ...).
//!
//! The data is what the test gives it ([`StripeStandin::add_event`]): nothing is invented.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

/// One stored event and whether Stripe managed to deliver it.
#[derive(Debug, Clone)]
struct Stored {
    event: Value,
    delivered: bool,
}

#[derive(Debug, Default)]
struct Inner {
    key: String,
    events: Vec<Stored>,
    fail: Vec<u16>,
    requests: Vec<String>,
}

/// A running stand-in on `127.0.0.1:<free port>`; stops when dropped.
#[derive(Debug)]
pub struct StripeStandin {
    inner: Arc<Mutex<Inner>>,
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for StripeStandin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl StripeStandin {
    /// Starts the stand-in; requests must carry `Authorization: Bearer <api_key>`.
    pub async fn start(api_key: &str) -> std::io::Result<Self> {
        let inner = Arc::new(Mutex::new(Inner {
            key: api_key.to_owned(),
            ..Inner::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = Router::new()
            .route("/v1/events", get(list_events))
            .with_state(inner.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { inner, addr, task })
    }

    /// The base URL to configure as `STRIPE_API_BASE` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Adds an event (a full Stripe event object with `id`, `type`, `created`); `delivered` says
    /// whether Stripe delivered it successfully (`delivery_success`).
    pub fn add_event(&self, event: Value, delivered: bool) {
        self.inner
            .lock()
            .unwrap()
            .events
            .push(Stored { event, delivered });
    }

    /// Answers the next `statuses.len()` requests with these statuses, in order.
    pub fn fail_next(&self, statuses: &[u16]) {
        self.inner.lock().unwrap().fail.extend_from_slice(statuses);
    }

    /// The query strings of every request received so far (authorized or not), in order.
    pub fn requests(&self) -> Vec<String> {
        self.inner.lock().unwrap().requests.clone()
    }
}

fn error(status: StatusCode, kind: &str, message: &str, param: Option<&str>) -> Response {
    let mut body = json!({ "error": { "type": kind, "message": message } });
    if let Some(p) = param {
        body["error"]["param"] = json!(p);
    }
    (status, axum::Json(body)).into_response()
}

fn bad_param(param: &str, message: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
        message,
        Some(param),
    )
}

async fn list_events(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let mut inner = inner.lock().unwrap();
    let query = query.unwrap_or_default();
    inner.requests.push(query.clone());
    if !inner.fail.is_empty() {
        let status = inner.fail.remove(0);
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = error(status, "api_error", "injected failure", None);
        if status == StatusCode::TOO_MANY_REQUESTS {
            response
                .headers_mut()
                .insert("retry-after", "1".parse().unwrap());
        }
        return response;
    }
    let expected = format!("Bearer {}", inner.key);
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "Invalid API Key provided",
            None,
        );
    }
    let mut limit = 10usize;
    let (mut types, mut delivery, mut after, mut before) = (Vec::new(), None, None, None);
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "limit" => match value.parse::<usize>() {
                Ok(n) if (1..=100).contains(&n) => limit = n,
                _ => return bad_param("limit", "limit must be an integer from 1 to 100"),
            },
            "types[]" | "type" => types.push(value.into_owned()),
            "delivery_success" => match value.as_ref() {
                "true" => delivery = Some(true),
                "false" => delivery = Some(false),
                _ => return bad_param("delivery_success", "must be true or false"),
            },
            "starting_after" => after = Some(value.into_owned()),
            "ending_before" => before = Some(value.into_owned()),
            other => {
                return bad_param(other, &format!("Received unknown parameter: {other}"));
            }
        }
    }
    // Newest first: by created descending, later insertions first among equals.
    let mut all: Vec<(usize, &Stored)> = inner.events.iter().enumerate().collect();
    all.sort_by(|(ia, a), (ib, b)| {
        let created = |s: &Stored| s.event["created"].as_i64().unwrap_or(0);
        created(b).cmp(&created(a)).then(ib.cmp(ia))
    });
    let matching: Vec<&Stored> = all
        .into_iter()
        .map(|(_, s)| s)
        .filter(|s| delivery.is_none_or(|d| s.delivered == d))
        .filter(|s| {
            types.is_empty()
                || types
                    .iter()
                    .any(|t| s.event["type"].as_str() == Some(t.as_str()))
        })
        .collect();
    let position = |id: &str| {
        matching
            .iter()
            .position(|s| s.event["id"].as_str() == Some(id))
    };
    let window: Vec<&Stored> = match (&after, &before) {
        (Some(id), _) => match position(id) {
            Some(i) => matching[i + 1..].to_vec(),
            None => return missing(id),
        },
        (None, Some(id)) => match position(id) {
            Some(i) => matching[..i].iter().rev().copied().collect(),
            None => return missing(id),
        },
        (None, None) => matching,
    };
    let has_more = window.len() > limit;
    let mut page: Vec<Value> = window
        .into_iter()
        .take(limit)
        .map(|s| s.event.clone())
        .collect();
    if before.is_some() && after.is_none() {
        page.reverse();
    }
    axum::Json(json!({
        "object": "list",
        "url": "/v1/events",
        "has_more": has_more,
        "data": page,
    }))
    .into_response()
}

fn missing(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        &format!("No such event: '{id}'"),
        Some("starting_after"),
    )
}
