//! The bridge's one error type, for the HTTP handlers, the store's operations and the commands alike.
//!
//! Each variant says whose mistake it is. At the HTTP edge ([`IntoResponse`]) a client's mistake becomes
//! a 4xx whose JSON body says what to fix; ours is logged and answered with a bare 5xx that tells
//! nothing about our internals. Commands print [`Error`]'s `Display`, which never contains a secret
//! (store errors come through [`StoreError`], which leaves the password out).
//!
//! New kinds of failure get a new variant here rather than a `String` error of their own.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Result with the bridge's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is wrong; the message says how (400).
    #[error("{0}")]
    BadRequest(String),
    /// Missing or wrong bearer token (401).
    #[error("missing or invalid bearer token")]
    Unauthorized,
    /// The named thing does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The request contradicts what is recorded, e.g. linking a tenant that another customer owns (409).
    #[error("{0}")]
    Conflict(String),
    /// A feature is switched off by configuration (503, with the reason).
    #[error("{0}")]
    Disabled(&'static str),
    /// The configuration is unusable; the message names the variable (start-up only).
    #[error("{0}")]
    Config(String),
    /// The store could not be used; nothing was recorded (503: Stripe and CI retry).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The tenant directory (`DIRECTORY_URL`) could not be asked; nothing was recorded (503: CI
    /// retries). The reason names the directory with its password replaced by `***`.
    #[error("{0}")]
    DirectoryUnavailable(String),
    /// Our own failure that is not the store's (500, logged).
    #[error("{0}")]
    Internal(String),
}

/// A failure to reach or use the store. `Display` includes the causes (e.g. why a TLS handshake
/// failed: `invalid peer certificate: UnknownIssuer`), never the password.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No connection could be had from the pool.
    #[error("database unavailable: {}", with_causes(.0))]
    Pool(#[from] deadpool_postgres::PoolError),
    /// A query failed.
    #[error("database error: {}", with_causes(.0))]
    Query(#[from] tokio_postgres::Error),
}

/// `error` followed by each cause its `Display` does not already show.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let part = inner.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = inner.source();
    }
    text
}

impl Error {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Unauthorized => StatusCode::UNAUTHORIZED,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::Disabled(_) | Error::Store(_) | Error::DirectoryUnavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Error::Config(_) | Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// True when the client caused it (a 4xx).
    pub fn is_client_error(&self) -> bool {
        self.status().is_client_error()
    }
}

impl From<tokio_postgres::Error> for Error {
    fn from(e: tokio_postgres::Error) -> Self {
        Error::Store(StoreError::Query(e))
    }
}

impl From<deadpool_postgres::PoolError> for Error {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        Error::Store(StoreError::Pool(e))
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            Error::BadRequest(_)
            | Error::Unauthorized
            | Error::NotFound(_)
            | Error::Conflict(_)
            | Error::Disabled(_) => self.to_string(),
            Error::Store(e) => {
                tracing::error!(error = %e, "store failure while answering a request");
                // Stripe retries on 5xx; the body says nothing about our internals.
                "temporarily unable to record; retry later".to_owned()
            }
            Error::DirectoryUnavailable(e) => {
                tracing::error!(error = %e, "tenant directory unavailable while answering a request");
                "the tenant directory is unavailable; retry later".to_owned()
            }
            Error::Config(e) | Error::Internal(e) => {
                tracing::error!(error = %e, "internal failure while answering a request");
                "internal error".to_owned()
            }
        };
        (status, Json(serde_json::json!({ "error": message }))).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_mistakes_are_4xx_with_reason_ours_are_bare_5xx() {
        let cases = [
            (Error::BadRequest("fix x".into()), 400, Some("fix x")),
            (Error::Unauthorized, 401, Some("bearer")),
            (Error::NotFound("no tenant".into()), 404, Some("no tenant")),
            (Error::Conflict("owned".into()), 409, Some("owned")),
            (Error::Internal("secret detail".into()), 500, None),
            (
                Error::DirectoryUnavailable("detail of ***".into()),
                503,
                None,
            ),
            (Error::Config("DATABASE_URL: x".into()), 500, None),
        ];
        for (error, status, reason) in cases {
            assert_eq!(error.is_client_error(), status < 500);
            let response = error.into_response();
            assert_eq!(response.status().as_u16(), status);
            let body = futures_body(response);
            match reason {
                Some(r) => assert!(body.contains(r), "{body}"),
                None => assert!(!body.contains("detail") && !body.contains("DATABASE_URL")),
            }
        }
    }

    fn futures_body(response: Response) -> String {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let bytes = rt
            .block_on(axum::body::to_bytes(response.into_body(), 1 << 16))
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }
}
