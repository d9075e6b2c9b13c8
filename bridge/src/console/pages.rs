//! What the console shows: sign-in, tenants, pending provisions, a tenant's timeline, webhook
//! deliveries, the audit.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::auth::{self, LOGIN_COOKIE, SESSION_COOKIE};
use super::{
    ConsoleState, Peer, audit, check_csrf, error_page, human_duration, message_page, page,
    redirect, require_viewer,
};
use crate::error::Error;
use crate::store::{self, TenantQuery, TenantRow, TenantState};

pub(super) async fn home() -> Response {
    redirect("/console/tenants")
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn login_page(
    state: &ConsoleState,
    status: StatusCode,
    token: &str,
    error: Option<&str>,
) -> Response {
    page(
        status,
        "login.html",
        json!({
            "title": "Sign in",
            "password_login": !state.config.users.is_empty(),
            "login_csrf": token,
            "error": error,
        }),
        None,
    )
}

pub(super) async fn login_form(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    peer: Peer,
) -> Response {
    match auth::viewer(
        &state.store,
        &state.config,
        state.secure_cookies,
        &headers,
        peer.0,
    )
    .await
    {
        Ok(Some(_)) => return redirect("/console/tenants"),
        Ok(None) => {}
        Err(e) => return error_page(&e, None),
    }
    let token = auth::random_token();
    let status = if state.config.users.is_empty() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    with_cookie(
        login_page(&state, status, &token, None),
        &auth::set_cookie(LOGIN_COOKIE, &token, 3600, state.secure_cookies),
    )
}

pub(super) async fn login(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    peer: Peer,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let username: String = field("username")
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    let expected = auth::cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if state.config.users.is_empty() || !auth::same(field("csrf"), &expected) {
        let _ = audit(
            &state,
            &username,
            "login",
            None,
            "",
            "refused: missing or wrong CSRF token",
        )
        .await;
        return message_page(
            StatusCode::FORBIDDEN,
            "Refused",
            "The sign-in form's security token is missing or stale: open the sign-in page again.",
            None,
        );
    }
    let ip = peer
        .0
        .map_or_else(|| "unknown".to_owned(), |p| p.ip().to_string());
    match try_login(&state, &username, field("password"), &ip).await {
        Ok(LoginResult::Limited) => login_page(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            &expected,
            Some(&format!(
                "Too many failed sign-ins for this user from your address: wait {} and try again.",
                human_duration(auth::LOGIN_WINDOW_SECS)
            )),
        ),
        Ok(LoginResult::Wrong) => login_page(
            &state,
            StatusCode::UNAUTHORIZED,
            &expected,
            Some("Wrong user name or password."),
        ),
        Ok(LoginResult::SignedIn(token)) => {
            let response = redirect("/console/tenants");
            let response = with_cookie(
                response,
                &auth::set_cookie(
                    SESSION_COOKIE,
                    &token,
                    auth::SESSION_SECS,
                    state.secure_cookies,
                ),
            );
            with_cookie(
                response,
                &auth::set_cookie(LOGIN_COOKIE, "", 0, state.secure_cookies),
            )
        }
        Err(e) => error_page(&e, None),
    }
}

enum LoginResult {
    SignedIn(String),
    Wrong,
    Limited,
}

async fn try_login(
    state: &ConsoleState,
    username: &str,
    password: &str,
    ip: &str,
) -> Result<LoginResult, Error> {
    let client = state.store.client().await?;
    let failures =
        store::recent_login_failures(&**client, username, ip, auth::LOGIN_WINDOW_SECS).await?;
    if failures >= auth::MAX_LOGIN_FAILURES {
        store::audit(
            &**client,
            username,
            "login",
            None,
            &format!("from {ip}"),
            "refused: rate limited",
        )
        .await?;
        return Ok(LoginResult::Limited);
    }
    let (config, name, pass) = (
        state.config.clone(),
        username.to_owned(),
        password.to_owned(),
    );
    // argon2 is deliberately slow: keep it off the async threads.
    let ok = tokio::task::spawn_blocking(move || auth::check_credentials(&config, &name, &pass))
        .await
        .map_err(|e| Error::Internal(format!("password check failed: {e}")))?;
    store::record_login_attempt(&**client, username, ip, ok).await?;
    if !ok {
        store::audit(
            &**client,
            username,
            "login",
            None,
            &format!("from {ip}"),
            "refused: wrong user name or password",
        )
        .await?;
        return Ok(LoginResult::Wrong);
    }
    let (token, session) = auth::new_session(username, "password");
    store::create_session(
        &**client,
        &auth::token_sha256(&token),
        &session,
        auth::SESSION_SECS,
    )
    .await?;
    store::audit(
        &**client,
        username,
        "login",
        None,
        &format!("from {ip}"),
        "ok",
    )
    .await?;
    Ok(LoginResult::SignedIn(token))
}

pub(super) async fn logout(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    peer: Peer,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let viewer = match require_viewer(&state, &headers, peer, true).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Err(r) = check_csrf(
        &state,
        &viewer,
        form.get("csrf").map(String::as_str),
        "logout",
    )
    .await
    {
        return r;
    }
    let result = async {
        let client = state.store.client().await?;
        if let Some(token) = auth::cookie(&headers, SESSION_COOKIE) {
            store::delete_session(&**client, &auth::token_sha256(&token)).await?;
        }
        store::audit(&**client, &viewer.username, "logout", None, "", "ok").await?;
        Ok::<_, Error>(())
    }
    .await;
    match result {
        Ok(()) => with_cookie(
            redirect("/console/login"),
            &auth::set_cookie(SESSION_COOKIE, "", 0, state.secure_cookies),
        ),
        Err(e) => error_page(&e, Some(&viewer)),
    }
}

/// A tenant row as the templates show it (durations in words).
pub(super) fn tenant_value(t: &TenantRow) -> Value {
    let mut v = serde_json::to_value(t).unwrap_or(Value::Null);
    v["age"] = json!(human_duration(t.age_secs));
    v["time_to_ready"] = json!(t.time_to_ready_secs.map(human_duration));
    v
}

fn state_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = TenantState::ALL.iter().map(|s| s.as_str()).collect();
    names.extend(["pending", "archived"]);
    names
}

async fn tenant_list(
    state: ConsoleState,
    headers: HeaderMap,
    peer: Peer,
    params: HashMap<String, String>,
    pending_only: bool,
) -> Response {
    let viewer = match require_viewer(&state, &headers, peer, false).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let wanted = params
        .get("state")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty());
    if let Some(s) = wanted
        && !state_names().contains(&s)
    {
        return error_page(
            &Error::BadRequest(format!(
                "unknown state {s:?}: use one of {}",
                state_names().join(", ")
            )),
            Some(&viewer),
        );
    }
    let query = TenantQuery {
        state: wanted.map(str::to_owned),
        search: params.get("q").cloned(),
        pending_only,
        subdomain: None,
    };
    let sla = state.config.provision_sla;
    let rows = async {
        let client = state.store.client().await?;
        let sla_secs = i64::try_from(sla.as_secs()).unwrap_or(i64::MAX);
        Ok::<_, Error>(store::list_tenants(&**client, &query, sla_secs).await?)
    }
    .await;
    match rows {
        Ok(rows) => page(
            StatusCode::OK,
            "tenants.html",
            json!({
                "title": if pending_only { "Pending provisions" } else { "Tenants" },
                "action": if pending_only { "/console/pending" } else { "/console/tenants" },
                "pending_page": pending_only,
                "sla": crate::config::format_duration(sla),
                "states": state_names(),
                "state": wanted.unwrap_or(""),
                "q": params.get("q").map(String::as_str).unwrap_or(""),
                "tenants": rows.iter().map(tenant_value).collect::<Vec<_>>(),
            }),
            Some(&viewer),
        ),
        Err(e) => error_page(&e, Some(&viewer)),
    }
}

pub(super) async fn tenants(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    peer: Peer,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    tenant_list(state, headers, peer, params, false).await
}

pub(super) async fn pending(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    peer: Peer,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    tenant_list(state, headers, peer, params, true).await
}

/// The tenant's row, or 404.
pub(super) async fn find_tenant(state: &ConsoleState, subdomain: &str) -> Result<TenantRow, Error> {
    let client = state.store.client().await?;
    let sla_secs = i64::try_from(state.config.provision_sla.as_secs()).unwrap_or(i64::MAX);
    let query = TenantQuery {
        subdomain: Some(subdomain.to_owned()),
        ..TenantQuery::default()
    };
    store::list_tenants(&**client, &query, sla_secs)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| Error::NotFound(format!("no tenant with subdomain {subdomain:?}")))
}

pub(super) async fn tenant(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    peer: Peer,
    Path(subdomain): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let viewer = match require_viewer(&state, &headers, peer, false).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let result = async {
        let row = find_tenant(&state, &subdomain).await?;
        let client = state.store.client().await?;
        let mut timeline = store::timeline(&**client, &subdomain).await?;
        for e in &mut timeline {
            // Only web links are links.
            e.link = e
                .link
                .take()
                .filter(|l| l.starts_with("https://") || l.starts_with("http://"));
        }
        let held = store::held_requests(&**client, &subdomain).await?;
        Ok::<_, Error>((row, timeline, held))
    }
    .await;
    match result {
        Ok((row, timeline, held)) => page(
            StatusCode::OK,
            "timeline.html",
            json!({
                "title": format!("Tenant {subdomain}"),
                "notice": params.get("done"),
                "t": tenant_value(&row),
                "timeline": timeline,
                "held": held,
            }),
            Some(&viewer),
        ),
        Err(e) => error_page(&e, Some(&viewer)),
    }
}

pub(super) async fn deliveries(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    peer: Peer,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let viewer = match require_viewer(&state, &headers, peer, false).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let counts = async {
        let client = state.store.client().await?;
        Ok::<_, Error>(store::delivery_counts(&**client, 7).await?)
    }
    .await;
    match counts {
        Ok(counts) => page(
            StatusCode::OK,
            "deliveries.html",
            json!({
                "title": "Webhook deliveries",
                "notice": params.get("done"),
                "counts": counts,
                "stripe_enabled": state.config.stripe_api_key.is_some(),
            }),
            Some(&viewer),
        ),
        Err(e) => error_page(&e, Some(&viewer)),
    }
}

pub(super) async fn audit_page(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    peer: Peer,
) -> Response {
    let viewer = match require_viewer(&state, &headers, peer, false).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let entries = async {
        let client = state.store.client().await?;
        Ok::<_, Error>(store::audit_entries(&**client, None, 500).await?)
    }
    .await;
    match entries {
        Ok(entries) => page(
            StatusCode::OK,
            "audit.html",
            json!({ "title": "Audit", "entries": entries }),
            Some(&viewer),
        ),
        Err(e) => error_page(&e, Some(&viewer)),
    }
}
