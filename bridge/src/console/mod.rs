//! The operator console at `/console`: server-rendered HTML (minijinja templates, auto-escaped),
//! usable without JavaScript.
//!
//! Pages: tenants (state, age, plan, region, owner, last event, time to ready; filter by state, search),
//! pending provisions against `PROVISION_SLA` (late ones first and marked), a tenant's timeline, webhook
//! deliveries of the last 7 days, the audit. Actions, each behind a confirmation page: retry publishing,
//! release a held request or assign the subdomain to its requester, link a guest tenant to a Stripe
//! customer, resend the welcome, mark as manually provisioned (the tenant file adopts the database with
//! an `import {}` block, see [`crate::adopt`]), find missed events ([`stripe_api`]).
//!
//! Modules: [`config`] (settings), [`auth`] (sessions, CSRF, rate limit, proxy header), `pages` (what is
//! shown), `actions` (what is done), [`stripe_api`] (Stripe's List Events API). Every action and login
//! is written to `console_audit`. Without `CONSOLE_USERS` or `CONSOLE_TRUST_PROXY_HEADER`, every
//! `/console` URL answers 404 saying how to turn it on. Responses forbid scripts and framing (CSP), and
//! are never cached.

mod actions;
pub mod auth;
pub mod config;
mod pages;
pub mod stripe_api;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::Environment;
use serde_json::{Value, json};
use tokio::sync::Notify;

pub use config::ConsoleConfig;

use crate::error::Error;
use crate::store::Store;
use auth::Viewer;

/// What the console's handlers share.
#[derive(Debug, Clone)]
pub struct ConsoleState {
    /// The bridge's database.
    pub store: Store,
    /// The console's settings.
    pub config: Arc<ConsoleConfig>,
    /// Cookies carry `Secure` (false only when the bridge listens on a loopback address).
    pub secure_cookies: bool,
    /// Wakes the worker after an action queued work.
    pub wake: Arc<Notify>,
}

impl ConsoleState {
    /// The state for `config`; cookies are `Secure` unless `bind_addr` is a loopback address.
    pub fn new(
        store: Store,
        config: ConsoleConfig,
        bind_addr: SocketAddr,
        wake: Arc<Notify>,
    ) -> Self {
        Self {
            store,
            config: Arc::new(config),
            secure_cookies: !bind_addr.ip().is_loopback(),
            wake,
        }
    }
}

/// The console's routes (all under `/console`).
pub fn router(state: ConsoleState) -> Router {
    let routes = if state.config.enabled() {
        Router::new()
            .route("/console", get(pages::home))
            .route("/console/", get(pages::home))
            .route("/console/static/console.css", get(stylesheet))
            .route("/console/login", get(pages::login_form).post(pages::login))
            .route("/console/logout", post(pages::logout))
            .route("/console/tenants", get(pages::tenants))
            .route("/console/pending", get(pages::pending))
            .route("/console/tenants/{subdomain}", get(pages::tenant))
            .route(
                "/console/tenants/{subdomain}/confirm/{action}",
                get(actions::confirm),
            )
            .route(
                "/console/tenants/{subdomain}/{action}",
                post(actions::perform),
            )
            .route("/console/deliveries", get(pages::deliveries))
            .route(
                "/console/deliveries/find-missed",
                post(actions::find_missed),
            )
            .route("/console/audit", get(pages::audit_page))
            .fallback(not_found)
    } else {
        Router::new()
            .route("/console", get(disabled))
            .route("/console/{*rest}", get(disabled).post(disabled))
    };
    routes
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

async fn disabled() -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        "Console disabled",
        "The operator console is disabled: set CONSOLE_USERS (names with argon2 hashes made by \
         `stagesub-bridge console hash-password`) or CONSOLE_TRUST_PROXY_HEADER with \
         CONSOLE_TRUSTED_PROXIES, and restart the bridge.",
        None,
    )
}

async fn not_found() -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is no such console page.",
        None,
    )
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("templates/console.css"),
    )
        .into_response()
}

/// The templates, parsed once. Names end in `.html`, so every `{{ }}` is HTML-escaped.
fn templates() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in [
            ("base.html", include_str!("templates/base.html")),
            ("message.html", include_str!("templates/message.html")),
            ("login.html", include_str!("templates/login.html")),
            ("tenants.html", include_str!("templates/tenants.html")),
            ("timeline.html", include_str!("templates/timeline.html")),
            ("confirm.html", include_str!("templates/confirm.html")),
            ("deliveries.html", include_str!("templates/deliveries.html")),
            ("audit.html", include_str!("templates/audit.html")),
        ] {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("console template {name}: {e}"));
        }
        env
    })
}

/// Renders `template` with `context` (plus the viewer's name and CSRF token) as an HTML response.
fn page(
    status: StatusCode,
    template: &str,
    mut context: Value,
    viewer: Option<&Viewer>,
) -> Response {
    if let Some(v) = viewer {
        context["viewer"] = json!(v.username);
        context["csrf"] = json!(v.csrf_token);
    }
    let rendered = templates()
        .get_template(template)
        .and_then(|t| t.render(&context));
    let mut response = match rendered {
        Ok(html) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, template, "console template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    };
    if let Some(cookie) = viewer.and_then(|v| v.new_cookie.as_deref())
        && let Ok(value) = HeaderValue::from_str(cookie)
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// A page that only says something (an error, a refusal).
fn message_page(
    status: StatusCode,
    title: &str,
    message: &str,
    viewer: Option<&Viewer>,
) -> Response {
    let kind = if status.is_success() { "info" } else { "error" };
    page(
        status,
        "message.html",
        json!({ "title": title, "message": message, "kind": kind }),
        viewer,
    )
}

/// An error as a console page: the client's mistakes say what to fix, ours say nothing inside.
fn error_page(error: &Error, viewer: Option<&Viewer>) -> Response {
    let message = if error.is_client_error() {
        error.to_string()
    } else {
        tracing::error!(error = %error, "console request failed");
        "The bridge could not do this right now (see its log); nothing was changed.".to_owned()
    };
    message_page(error.status(), "Cannot do that", &message, viewer)
}

/// 303 to `location`.
fn redirect(location: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_owned())],
    )
        .into_response()
}

/// The peer's address, when the server recorded it (the console's server does).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}

/// The viewer, or a response sending them to sign in (303 for pages, 403 for posts).
async fn require_viewer(
    state: &ConsoleState,
    headers: &HeaderMap,
    peer: Peer,
    is_post: bool,
) -> Result<Viewer, Response> {
    match auth::viewer(
        &state.store,
        &state.config,
        state.secure_cookies,
        headers,
        peer.0,
    )
    .await
    {
        Ok(Some(v)) => Ok(v),
        Ok(None) if is_post => Err(message_page(
            StatusCode::FORBIDDEN,
            "Sign in first",
            "This needs a signed-in console user.",
            None,
        )),
        Ok(None) => Err(redirect("/console/login")),
        Err(e) => Err(error_page(&e, None)),
    }
}

/// Refuses a form whose CSRF token is missing or not the session's (403, audited).
async fn check_csrf(
    state: &ConsoleState,
    viewer: &Viewer,
    given: Option<&str>,
    action: &str,
) -> Result<(), Response> {
    if auth::same(given.unwrap_or(""), &viewer.csrf_token) {
        return Ok(());
    }
    let _ = audit(
        state,
        &viewer.username,
        action,
        None,
        "",
        "refused: missing or wrong CSRF token",
    )
    .await;
    Err(message_page(
        StatusCode::FORBIDDEN,
        "Refused",
        "This form's security token is missing or stale: reload the page and try again.",
        Some(viewer),
    ))
}

/// Writes an audit entry.
async fn audit(
    state: &ConsoleState,
    actor: &str,
    action: &str,
    target: Option<&str>,
    details: &str,
    outcome: &str,
) -> Result<(), Error> {
    let client = state.store.client().await?;
    crate::store::audit(&**client, actor, action, target, details, outcome).await?;
    Ok(())
}

/// `3d 4h`, `5h 12m`, `42m`, `17s`.
pub fn human_duration(secs: i64) -> String {
    let secs = secs.max(0);
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(17), "17s");
        assert_eq!(human_duration(42 * 60 + 5), "42m");
        assert_eq!(human_duration(5 * 3600 + 12 * 60), "5h 12m");
        assert_eq!(human_duration(3 * 86_400 + 4 * 3600 + 59), "3d 4h");
        assert_eq!(human_duration(-5), "0s");
    }

    #[test]
    fn templates_escape_customer_text() {
        let html = templates()
            .get_template("message.html")
            .unwrap()
            .render(json!({ "title": "<script>x</script>", "message": "\"><img src=x onerror=alert(1)>" }))
            .unwrap();
        assert!(!html.contains("<script>x"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }
}
