//! What every API request passes through: latency, authentication, injected 5xx, rate limits,
//! lost answers after writes, and the request log. Also the `/_standin/` control endpoints.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::faults::{Faults, RecordedRequest, epoch};
use crate::shapes::{Wrote, error};
use crate::{Shared, lock};

pub(crate) async fn guard(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let latency = lock(&state.faults).latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let credential = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("token "))
        })
        .map(str::to_owned);
    let is_app = path.starts_with("/app/");
    let authorized = match credential.as_deref() {
        Some(jwt) if is_app => crate::pulls::check_app_jwt(&state, jwt),
        Some(token) if token == state.config.token || installation_token_valid(&state, token) => {
            Ok(())
        }
        _ => Err("Bad credentials".to_owned()),
    };
    let authorized = if lock(&state.faults).faults.reject_credentials {
        Err("Bad credentials".to_owned())
    } else {
        authorized
    };
    let is_write = (method == Method::POST || method == Method::PUT) && !is_app;
    let response = if let Err(reason) = authorized {
        error(401, &reason)
    } else if let Some(code) = lock(&state.faults).roll_5xx() {
        error(
            code,
            if code == 502 {
                "Server Error"
            } else {
                "Service Unavailable"
            },
        )
    } else if let Some(limited) = is_write
        .then(|| lock(&state.faults).admit_write())
        .flatten()
    {
        let message = if limited.status == 403 {
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
        } else {
            "API rate limit exceeded for installation."
        };
        let mut response = error(limited.status, message);
        let headers = response.headers_mut();
        headers.insert("x-ratelimit-limit", HeaderValue::from_static("5000"));
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        headers.insert("x-ratelimit-used", HeaderValue::from_static("5000"));
        headers.insert("x-ratelimit-resource", HeaderValue::from_static("core"));
        headers.insert("x-ratelimit-reset", HeaderValue::from(limited.reset_epoch));
        if let Some(secs) = limited.retry_after {
            headers.insert("retry-after", HeaderValue::from(secs));
        }
        response
    } else {
        let response = next.run(request).await;
        if response.extensions().get::<Wrote>().is_some() && lock(&state.faults).lose_answer() {
            let mut lost = error(502, "Server Error");
            lost.extensions_mut().insert(Wrote);
            lost
        } else {
            response
        }
    };
    let wrote = response.extensions().get::<Wrote>().is_some();
    lock(&state.requests).push(RecordedRequest {
        method: method.to_string(),
        path,
        query,
        status: response.status().as_u16(),
        wrote,
    });
    response
}

fn installation_token_valid(state: &Shared, token: &str) -> bool {
    lock(&state.installation_tokens)
        .get(token)
        .is_some_and(|&expiry| expiry > epoch())
}

pub(crate) async fn list_requests(State(state): State<Shared>) -> Json<Vec<RecordedRequest>> {
    Json(lock(&state.requests).clone())
}

pub(crate) async fn clear_requests(State(state): State<Shared>) -> StatusCode {
    lock(&state.requests).clear();
    StatusCode::NO_CONTENT
}

pub(crate) async fn get_faults(State(state): State<Shared>) -> Json<Faults> {
    Json(lock(&state.faults).faults.clone())
}

pub(crate) async fn set_faults(State(state): State<Shared>, Json(body): Json<Value>) -> Response {
    match serde_json::from_value::<Faults>(body) {
        Ok(faults) if (0.0..=1.0).contains(&faults.error_rate_5xx) => {
            lock(&state.faults).set(faults.clone());
            Json(faults).into_response()
        }
        Ok(_) => error(422, "error_rate_5xx must be between 0 and 1"),
        Err(e) => error(422, &format!("bad faults: {e}")),
    }
}
