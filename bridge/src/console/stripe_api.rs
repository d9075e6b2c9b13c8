//! "Find missed events": lists the events Stripe could not deliver (`GET /v1/events` with
//! `delivery_success=false` and the types the bridge handles, page by page with `starting_after`) and
//! records each exactly as a webhook delivery would be ([`record_event_from`]: same dedupe on the event
//! id, same job, same worker).
//!
//! Why such an event is authentic without a signature: the bridge fetched it itself, over TLS from
//! `STRIPE_API_BASE` (default `https://api.stripe.com`, whose certificate is verified), authenticated
//! with `STRIPE_API_KEY`; nobody but Stripe can answer that request. (A webhook needs its signature
//! because anyone can POST to the bridge.) Use a restricted key that may only read events. The key is
//! sent only as the bearer token and never appears in errors or logs.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::config::ConsoleConfig;
use crate::event::parse_envelope;
use crate::store::{DeliverySource, Store, record_event_from};

/// The event types the bridge acts on (see the README's Events).
pub const HANDLED_TYPES: [&str; 4] = [
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "customer.subscription.updated",
    "customer.subscription.deleted",
];
/// At most this many pages (of 100) per search.
const MAX_PAGES: usize = 50;
/// Attempts per page when Stripe answers 429 or 5xx, or cannot be reached.
const ATTEMPTS: u32 = 3;

/// What a search found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MissedReport {
    /// Events Stripe listed.
    pub listed: usize,
    /// Of those, new to the bridge (recorded and queued).
    pub recorded: usize,
    /// Already known (delivered after all, or found by an earlier search).
    pub duplicates: usize,
    /// Not readable as events (skipped, with the reason logged).
    pub unreadable: usize,
}

impl fmt::Display for MissedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Stripe listed {} undelivered event(s): {} new, recorded and queued; {} already known",
            self.listed, self.recorded, self.duplicates
        )?;
        if self.unreadable > 0 {
            write!(f, "; {} unreadable, skipped", self.unreadable)?;
        }
        Ok(())
    }
}

/// Why a search failed (never contains the key).
#[derive(Debug, thiserror::Error)]
pub enum StripeApiError {
    /// `STRIPE_API_KEY` is not set.
    #[error("STRIPE_API_KEY is not set")]
    NotConfigured,
    /// Stripe answered with an error.
    #[error("Stripe answered {status}: {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// Stripe's `error.message`, or the body's start.
        message: String,
    },
    /// Stripe could not be reached.
    #[error("cannot reach Stripe's API at {base}: {message}")]
    Unreachable {
        /// `STRIPE_API_BASE`.
        base: String,
        /// What failed.
        message: String,
    },
    /// The answer is not a list object.
    #[error("Stripe's answer is not a list of events: {0}")]
    BadAnswer(String),
    /// The events could not be recorded.
    #[error("cannot record the events: {0}")]
    Store(#[from] crate::error::StoreError),
}

#[derive(Deserialize)]
struct Page {
    data: Vec<Box<RawValue>>,
    has_more: bool,
}

#[derive(Deserialize)]
struct IdOnly {
    id: String,
}

/// Lists the undelivered events and records each; see the module's doc.
pub async fn find_missed(
    store: &Store,
    config: &ConsoleConfig,
) -> Result<MissedReport, StripeApiError> {
    let key = config
        .stripe_api_key
        .as_ref()
        .ok_or(StripeApiError::NotConfigured)?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let base = config.stripe_api_base.clone();
    let unreachable = |e: &dyn fmt::Display| StripeApiError::Unreachable {
        base: base.clone(),
        message: e.to_string(),
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| unreachable(&e))?;
    let mut report = MissedReport::default();
    let mut after: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut query: Vec<(&str, &str)> = vec![("delivery_success", "false"), ("limit", "100")];
        query.extend(HANDLED_TYPES.iter().map(|t| ("types[]", *t)));
        if let Some(id) = &after {
            query.push(("starting_after", id));
        }
        let url = format!(
            "{base}/v1/events?{}",
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&query)
                .finish()
        );
        let mut attempt = 0;
        let body = loop {
            attempt += 1;
            let sent = http.get(&url).bearer_auth(key.expose()).send().await;
            let response = match sent {
                Ok(r) => r,
                Err(e) if attempt < ATTEMPTS => {
                    tracing::warn!(error = %e.without_url(), "Stripe's API unreachable; retrying");
                    tokio::time::sleep(Duration::from_secs(u64::from(attempt))).await;
                    continue;
                }
                Err(e) => return Err(unreachable(&e.without_url())),
            };
            let status = response.status();
            let wait = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(u64::from(attempt))
                .min(10);
            let text = response
                .bytes()
                .await
                .map_err(|e| unreachable(&e.without_url()))?;
            if status.is_success() {
                break text;
            }
            if (status.as_u16() == 429 || status.is_server_error()) && attempt < ATTEMPTS {
                tokio::time::sleep(Duration::from_secs(wait)).await;
                continue;
            }
            let message = serde_json::from_slice::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.pointer("/error/message")?.as_str().map(str::to_owned))
                .unwrap_or_else(|| String::from_utf8_lossy(&text).chars().take(200).collect());
            return Err(StripeApiError::Refused {
                status: status.as_u16(),
                message,
            });
        };
        let page: Page =
            serde_json::from_slice(&body).map_err(|e| StripeApiError::BadAnswer(e.to_string()))?;
        for raw in &page.data {
            report.listed += 1;
            let bytes = raw.get().as_bytes();
            match parse_envelope(bytes) {
                Ok(event) => {
                    if record_event_from(store, &event, DeliverySource::Api).await? {
                        report.recorded += 1;
                        tracing::info!(event = %event.id, r#type = %event.event_type, "missed event recorded from Stripe's API");
                    } else {
                        report.duplicates += 1;
                    }
                }
                Err(e) => {
                    report.unreadable += 1;
                    tracing::warn!(error = %e, "an event listed by Stripe's API is unreadable; skipped");
                }
            }
        }
        let last = page
            .data
            .last()
            .and_then(|raw| serde_json::from_str::<IdOnly>(raw.get()).ok())
            .map(|e| e.id);
        match (page.has_more, last) {
            (true, Some(id)) => after = Some(id),
            _ => return Ok(report),
        }
    }
    tracing::warn!(
        pages = MAX_PAGES,
        "find missed events stopped after its page limit; run it again"
    );
    Ok(report)
}
