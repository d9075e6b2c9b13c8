//! `POST /api/webhooks/stripe`: verify, record durably, acknowledge.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

use super::AppState;
use crate::error::Error;
use crate::event::{ReceivedEvent, parse_envelope};
use crate::metrics::WebhookOutcome;
use crate::signature::verify;
use crate::store::record_event;

/// Largest accepted webhook body (Stripe's events are far smaller).
pub const MAX_BODY_BYTES: usize = 512 * 1024;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/webhooks/stripe", post(receive))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// A raw body whose Stripe signature was checked before anything parsed it.
#[derive(Debug)]
pub struct VerifiedBody(pub Bytes);

impl FromRequest<AppState> for VerifiedBody {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = req
            .headers()
            .get("stripe-signature")
            .map(|v| v.to_str().map(str::to_owned).unwrap_or_default());
        let body = Bytes::from_request(req, state).await.map_err(|e| {
            crate::metrics::global().webhook_event(None, WebhookOutcome::Rejected);
            e.into_response()
        })?;
        verify(header.as_deref(), &body, &state.webhook_secrets).map_err(|e| {
            crate::metrics::global().signature_failure(&e);
            Error::BadRequest(e.to_string()).into_response()
        })?;
        Ok(VerifiedBody(body))
    }
}

async fn receive(
    State(state): State<AppState>,
    VerifiedBody(body): VerifiedBody,
) -> Result<Response, Error> {
    // One parse of the envelope; the worker reads the rest from the stored body.
    let metrics = crate::metrics::global();
    let event: ReceivedEvent<'_> = parse_envelope(&body)
        .inspect_err(|_| metrics.webhook_event(None, WebhookOutcome::Rejected))?;
    let recorded = record_event(&state.store, &event).await;
    let outcome = match recorded {
        Ok(true) => WebhookOutcome::Verified,
        Ok(false) => WebhookOutcome::Duplicate,
        Err(_) => WebhookOutcome::Unrecorded,
    };
    metrics.webhook_event(Some(&event.event_type), outcome);
    let inserted = recorded?;
    if inserted {
        state.wake.notify_waiters();
        tracing::info!(event = %event.id, r#type = %event.event_type, "event recorded");
    } else {
        tracing::info!(event = %event.id, "duplicate delivery ignored");
    }
    Ok(Json(json!({ "received": true, "duplicate": !inserted })).into_response())
}
