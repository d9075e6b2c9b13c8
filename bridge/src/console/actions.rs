//! What the console does. Each action has a confirmation page (GET, a form) and is done by that
//! form's POST, which must carry the session's CSRF token; each outcome, refusals included, is audited.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::auth::Viewer;
use super::pages::find_tenant;
use super::{ConsoleState, Peer, audit, check_csrf, error_page, page, redirect, require_viewer};
use crate::adopt::{check_import_id, import_address};
use crate::error::Error;
use crate::store::{self, LinkOutcome};

/// The console's actions on a tenant, by their URL name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    RetryPublish,
    ResendWelcome,
    LinkOwner,
    MarkManual,
    ReleaseHeld,
    AssignHeld,
}

impl Action {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "retry-publish" => Self::RetryPublish,
            "resend-welcome" => Self::ResendWelcome,
            "link-owner" => Self::LinkOwner,
            "mark-manual" => Self::MarkManual,
            "release-held" => Self::ReleaseHeld,
            "assign-held" => Self::AssignHeld,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::RetryPublish => "retry-publish",
            Self::ResendWelcome => "resend-welcome",
            Self::LinkOwner => "link-owner",
            Self::MarkManual => "mark-manual",
            Self::ReleaseHeld => "release-held",
            Self::AssignHeld => "assign-held",
        }
    }

    fn needs_event(self) -> bool {
        matches!(self, Self::ReleaseHeld | Self::AssignHeld)
    }

    fn describe(self, subdomain: &str, event: &str) -> String {
        match self {
            Self::RetryPublish => format!(
                "Publish the tenant file of {subdomain} again now: its waiting or parked publish jobs \
                 start over with a fresh retry window (or a new one is queued)."
            ),
            Self::ResendWelcome => format!("Send the welcome email of {subdomain} again."),
            Self::LinkOwner => format!(
                "Link the guest tenant {subdomain} to a Stripe customer. This is done once: an owner \
                 is never replaced. The tenant file is republished with the customer id."
            ),
            Self::MarkManual => format!(
                "Record that the database of {subdomain} was made by hand. The tenant file is \
                 republished with an import block, so Terraform adopts the database instead of \
                 creating one."
            ),
            Self::ReleaseHeld => format!(
                "Release the held request {event}: {subdomain} stays with its owner and the request \
                 is closed."
            ),
            Self::AssignHeld => format!(
                "Give {subdomain} to the party of the held request {event}: it becomes the owner and \
                 its request is handled again as the owner's."
            ),
        }
    }
}

fn unknown_action(name: &str) -> Error {
    Error::NotFound(format!("there is no console action {name:?}"))
}

#[allow(clippy::too_many_arguments)]
fn confirm_page(
    status: StatusCode,
    viewer: &Viewer,
    subdomain: &str,
    action: Action,
    event: &str,
    value: &str,
    error: Option<&str>,
) -> Response {
    page(
        status,
        "confirm.html",
        json!({
            "title": format!("Confirm: {}", action.name().replace('-', " ")),
            "what": action.describe(subdomain, event),
            "subdomain": subdomain,
            "action": action.name(),
            "event": if action.needs_event() { Some(event) } else { None },
            "value": value,
            "error": error,
            "address": import_address(subdomain),
        }),
        Some(viewer),
    )
}

pub(super) async fn confirm(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    peer: Peer,
    Path((subdomain, name)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let viewer = match require_viewer(&state, &headers, peer, false).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(action) = Action::parse(&name) else {
        return error_page(&unknown_action(&name), Some(&viewer));
    };
    if let Err(e) = find_tenant(&state, &subdomain).await {
        return error_page(&e, Some(&viewer));
    }
    let event = params.get("event").map(String::as_str).unwrap_or("");
    if action.needs_event() && event.is_empty() {
        return error_page(
            &Error::BadRequest("say which held request (event=evt_…)".into()),
            Some(&viewer),
        );
    }
    confirm_page(StatusCode::OK, &viewer, &subdomain, action, event, "", None)
}

pub(super) async fn perform(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    peer: Peer,
    Path((subdomain, name)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let viewer = match require_viewer(&state, &headers, peer, true).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let field = |k: &str| form.get(k).map(|v| v.trim()).unwrap_or("");
    let audit_name = Action::parse(&name).map_or("unknown", Action::name);
    if let Err(r) = check_csrf(
        &state,
        &viewer,
        form.get("csrf").map(String::as_str),
        audit_name,
    )
    .await
    {
        return r;
    }
    let Some(action) = Action::parse(&name) else {
        return error_page(&unknown_action(&name), Some(&viewer));
    };
    let (event, value) = match action {
        Action::LinkOwner => ("", field("customer")),
        Action::MarkManual => ("", field("import_id")),
        _ => (field("event"), ""),
    };
    let details = match action {
        Action::LinkOwner => format!("customer={value}"),
        Action::MarkManual => format!("import_id={value}"),
        Action::ReleaseHeld | Action::AssignHeld => format!("event={event}"),
        _ => String::new(),
    };
    let result = match find_tenant(&state, &subdomain).await {
        Ok(_) => run(&state, &viewer, action, &subdomain, event, value).await,
        Err(e) => Err(e),
    };
    let outcome = match &result {
        Ok(done) => format!("ok: {done}"),
        Err(e) if e.is_client_error() => format!("refused: {e}"),
        Err(_) => "failed".to_owned(),
    };
    if let Err(e) = audit(
        &state,
        &viewer.username,
        action.name(),
        Some(&subdomain),
        &details,
        &outcome,
    )
    .await
    {
        return error_page(&e, Some(&viewer));
    }
    match result {
        Ok(done) => {
            state.wake.notify_waiters();
            let done: String = form_urlencoded::byte_serialize(done.as_bytes()).collect();
            redirect(&format!("/console/tenants/{subdomain}?done={done}"))
        }
        Err(e) if e.is_client_error() && !matches!(e, Error::NotFound(_)) => confirm_page(
            e.status(),
            &viewer,
            &subdomain,
            action,
            event,
            value,
            Some(&e.to_string()),
        ),
        Err(e) => error_page(&e, Some(&viewer)),
    }
}

async fn run(
    state: &ConsoleState,
    viewer: &Viewer,
    action: Action,
    subdomain: &str,
    event: &str,
    value: &str,
) -> Result<String, Error> {
    let store = &state.store;
    let by = format!("console:{}", viewer.username);
    match action {
        Action::RetryPublish => store::retry_publishing(store, subdomain).await,
        Action::ResendWelcome => {
            store::resend_welcome(store, subdomain).await?;
            Ok("the welcome email is queued".into())
        }
        Action::LinkOwner => match store::link_owner(store, subdomain, value, &by).await? {
            LinkOutcome::Linked { previous } => Ok(format!(
                "linked to {value} (was {previous}); the tenant file is being republished"
            )),
            LinkOutcome::AlreadyLinked => Ok(format!("already linked to {value}; nothing changed")),
        },
        Action::MarkManual => {
            let id = check_import_id(value).map_err(|e| Error::BadRequest(e.to_string()))?;
            store::mark_manually_provisioned(store, subdomain, &id, &by).await?;
            Ok(format!(
                "marked as manually provisioned: the tenant file is being republished to import {id}"
            ))
        }
        Action::ReleaseHeld => store::release_held(store, subdomain, event, &by).await,
        Action::AssignHeld => {
            let owner = store::assign_held(store, subdomain, event, &by).await?;
            Ok(format!(
                "{subdomain} now belongs to {owner}; its request is being handled"
            ))
        }
    }
}

pub(super) async fn find_missed(
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
        "find_missed",
    )
    .await
    {
        return r;
    }
    let result = super::stripe_api::find_missed(&state.store, &state.config).await;
    let outcome = match &result {
        Ok(report) => format!("ok: {report}"),
        Err(e) => format!("failed: {e}"),
    };
    if let Err(e) = audit(&state, &viewer.username, "find_missed", None, "", &outcome).await {
        return error_page(&e, Some(&viewer));
    }
    match result {
        Ok(report) => {
            if report.recorded > 0 {
                state.wake.notify_waiters();
            }
            let done: String =
                form_urlencoded::byte_serialize(report.to_string().as_bytes()).collect();
            redirect(&format!("/console/deliveries?done={done}"))
        }
        Err(e) => super::message_page(
            StatusCode::BAD_GATEWAY,
            "Cannot list missed events",
            &e.to_string(),
            Some(&viewer),
        ),
    }
}
