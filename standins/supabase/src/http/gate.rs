//! What every `/v1` call goes through: counting, bearer auth, the rate limit, injected latency and 5xx.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;
use crate::metering::RateDecision;
use crate::service::{Shared, lock};

/// The middleware on every `/v1` route.
pub(crate) async fn gate(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let endpoint = format!(
        "{} {}",
        request.method(),
        request
            .extensions()
            .get::<MatchedPath>()
            .map_or_else(|| request.uri().path(), MatchedPath::as_str)
    );
    lock(&shared.stats).record_call(endpoint);
    let response = guarded(&shared, request, next).await;
    lock(&shared.stats).record_response(response.status().as_u16());
    response
}

async fn guarded(shared: &Shared, request: Request, next: Next) -> Response {
    let Some(token) = bearer_token(request.headers()).filter(|token| token_accepted(shared, token))
    else {
        return ApiError::new(StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
    };
    let faults = shared.faults();
    let decision = lock(&shared.limiter).check(&token, faults.rate_limit_per_minute);
    if let Some(decision) = decision
        && !decision.allowed
    {
        let mut response =
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, "Too many requests").into_response();
        add_rate_headers(response.headers_mut(), decision);
        return response;
    }
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    let mut response = if faults.error_rate_5xx > 0.0 && fastrand::f64() < faults.error_rate_5xx {
        let status = [
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::BAD_GATEWAY,
            StatusCode::SERVICE_UNAVAILABLE,
        ][fastrand::usize(..3)];
        ApiError::new(status, status.canonical_reason().unwrap_or("Server Error")).into_response()
    } else {
        next.run(request).await
    };
    if let Some(decision) = decision {
        add_rate_headers(response.headers_mut(), decision);
    }
    response
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}

/// The configured token, or else any personal-access-token shape: `sbp_` and 40 hex digits.
fn token_accepted(shared: &Shared, token: &str) -> bool {
    match &shared.token {
        Some(expected) => expected == token,
        None => token
            .strip_prefix("sbp_")
            .is_some_and(|hex| hex.len() == 40 && hex.bytes().all(|byte| byte.is_ascii_hexdigit())),
    }
}

fn add_rate_headers(headers: &mut HeaderMap, decision: RateDecision) {
    headers.insert("x-ratelimit-limit", HeaderValue::from(decision.limit));
    headers.insert(
        "x-ratelimit-remaining",
        HeaderValue::from(decision.remaining),
    );
    headers.insert("x-ratelimit-reset", HeaderValue::from(decision.reset_secs));
}
