//! The bridge's one error type for HTTP handlers, mapped to a response at the edge: a reason for client
//! mistakes, a logged error and a bare status for ours.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::store::StoreError;

/// What went wrong while answering a request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is wrong; the message says how.
    #[error("{0}")]
    BadRequest(String),
    /// Missing or wrong bearer token.
    #[error("missing or invalid bearer token")]
    Unauthorized,
    /// The named thing does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A feature is switched off by configuration.
    #[error("{0}")]
    Disabled(&'static str),
    /// The store could not be used; nothing was recorded.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<tokio_postgres::Error> for Error {
    fn from(e: tokio_postgres::Error) -> Self {
        Error::Store(StoreError::Query(e))
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, message) = match &self {
            Error::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone()),
            Error::Unauthorized => (StatusCode::UNAUTHORIZED, self.to_string()),
            Error::NotFound(m) => (StatusCode::NOT_FOUND, m.clone()),
            Error::Disabled(m) => (StatusCode::SERVICE_UNAVAILABLE, (*m).to_owned()),
            Error::Store(e) => {
                tracing::error!(error = %e, "store failure while answering a request");
                // Stripe retries on 5xx; the body says nothing about our internals.
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily unable to record; retry later".to_owned(),
                )
            }
        };
        (status, Json(serde_json::json!({ "error": message }))).into_response()
    }
}
