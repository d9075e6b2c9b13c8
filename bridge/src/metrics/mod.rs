//! Prometheus metrics of this process, served at `GET /metrics` ([`http`]).
//!
//! Counters and histograms live in one registry per process ([`global`]): a scrape target is a
//! process, and Prometheus adds up replicas (`sum by (...)`). What the database knows (tenants by
//! state, pending and past-SLA tenants, open jobs) is read at scrape time by [`scrape`], under a
//! timeout, so every replica reports the same numbers for those and a database outage shows as
//! `stagesub_metrics_database_up 0` instead of a hanging scrape.
//!
//! Every name starts with `stagesub_`; counters end in `_total`, durations in `_seconds`. A scraper
//! that asks for OpenMetrics (Prometheus does) gets OpenMetrics text; any other gets the classic
//! Prometheus text format 0.0.4 ([`classic`]).

pub mod classic;
pub mod http;
pub mod scrape;

use std::sync::OnceLock;
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::signature::SignatureError;

/// One label.
type Label = [(&'static str, &'static str); 1];
/// Two labels.
type Labels2 = [(&'static str, &'static str); 2];

/// Event types the bridge acts on; any other type is counted as `other` (the label's values stay
/// a short, known list whatever Stripe sends).
pub const EVENT_TYPES: [&str; 4] = [
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "customer.subscription.updated",
    "customer.subscription.deleted",
];

/// Values of the `reason` label of `stagesub_webhook_signature_failures_total`.
pub const SIGNATURE_REASONS: [&str; 5] = ["missing", "malformed", "not_text", "mismatch", "stale"];

/// What became of a webhook delivery (label `outcome` of `stagesub_webhook_events_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// Genuine and new: recorded with its job.
    Verified,
    /// Genuine, already recorded (same event id).
    Duplicate,
    /// Answered 400: bad signature, or not a Stripe event (nothing stored).
    Rejected,
    /// Genuine but could not be recorded (answered 5xx: Stripe retries).
    Unrecorded,
}

impl WebhookOutcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Verified => "verified",
            Self::Duplicate => "duplicate",
            Self::Rejected => "rejected",
            Self::Unrecorded => "unrecorded",
        }
    }
}

/// The process's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    webhook_events: Family<Labels2, Counter>,
    signature_failures: Family<Label, Counter>,
    publish_attempts: Counter,
    publish_failures: Counter,
    publish_duration: Histogram,
    payment_to_commit: Histogram,
    payment_to_ready: Histogram,
    emails_sent: Family<Label, Counter>,
    emails_failed: Family<Label, Counter>,
    reminders_sent: Family<Label, Counter>,
    pub(crate) db: scrape::DatabaseGauges,
}

/// Buckets from one minute to a week, for the time a customer waits.
fn wait_buckets() -> Vec<f64> {
    [1, 5, 15, 30, 60, 120, 240, 480, 720, 1440, 2880, 10_080]
        .iter()
        .map(|m| f64::from(*m) * 60.0)
        .collect()
}

impl Metrics {
    fn new() -> Self {
        let mut m = Self {
            registry: Registry::with_prefix("stagesub"),
            webhook_events: Family::default(),
            signature_failures: Family::default(),
            publish_attempts: Counter::default(),
            publish_failures: Counter::default(),
            publish_duration: Histogram::new([
                0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
            ]),
            payment_to_commit: Histogram::new(wait_buckets()),
            payment_to_ready: Histogram::new(wait_buckets()),
            emails_sent: Family::default(),
            emails_failed: Family::default(),
            reminders_sent: Family::default(),
            db: scrape::DatabaseGauges::default(),
        };
        m.register();
        m.create_known_series();
        m
    }

    fn register(&mut self) {
        let r = &mut self.registry;
        r.register(
            "webhook_events",
            "Stripe webhook deliveries by event type and outcome (verified, duplicate, rejected, unrecorded)",
            self.webhook_events.clone(),
        );
        r.register(
            "webhook_signature_failures",
            "Webhook deliveries refused for their Stripe-Signature, by reason",
            self.signature_failures.clone(),
        );
        r.register(
            "publish_attempts",
            "Attempts to publish a tenant file to the infra repository",
            self.publish_attempts.clone(),
        );
        r.register(
            "publish_failures",
            "Publish attempts that failed (retried or parked)",
            self.publish_failures.clone(),
        );
        r.register(
            "publish_duration_seconds",
            "Time one publish attempt took",
            self.publish_duration.clone(),
        );
        r.register(
            "payment_to_commit_seconds",
            "Time from the paid Stripe event to the tenant file's first commit",
            self.payment_to_commit.clone(),
        );
        r.register(
            "payment_to_ready_seconds",
            "Time from the paid Stripe event to CI reporting the database ready",
            self.payment_to_ready.clone(),
        );
        r.register(
            "emails_sent",
            "Emails accepted by the SMTP server, by recipient (customer, admin)",
            self.emails_sent.clone(),
        );
        r.register(
            "emails_failed",
            "Emails the SMTP server refused or could not be reached for, by recipient",
            self.emails_failed.clone(),
        );
        r.register(
            "reminders_sent",
            "Reminders about provisions past PROVISION_SLA, by mode (reminder, digest)",
            self.reminders_sent.clone(),
        );
        self.db.register(r);
    }

    /// Creates every known label combination at 0, so that each series exists from the first
    /// scrape (`increase()` and alerts then see the first event, not a series appearing).
    fn create_known_series(&self) {
        let outcomes = [
            WebhookOutcome::Verified,
            WebhookOutcome::Duplicate,
            WebhookOutcome::Unrecorded,
        ];
        for event_type in EVENT_TYPES.iter().copied().chain(["other"]) {
            for outcome in outcomes {
                let labels = [("type", event_type), ("outcome", outcome.as_str())];
                drop(self.webhook_events.get_or_create(&labels));
            }
        }
        let rejected = [("type", "unknown"), ("outcome", "rejected")];
        drop(self.webhook_events.get_or_create(&rejected));
        for reason in SIGNATURE_REASONS {
            drop(self.signature_failures.get_or_create(&[("reason", reason)]));
        }
        for recipient in ["admin", "customer"] {
            drop(self.emails_sent.get_or_create(&[("recipient", recipient)]));
            drop(
                self.emails_failed
                    .get_or_create(&[("recipient", recipient)]),
            );
        }
        for mode in ["reminder", "digest"] {
            drop(self.reminders_sent.get_or_create(&[("mode", mode)]));
        }
    }

    /// Counts a webhook delivery; `event_type` is folded into [`EVENT_TYPES`] or `other`.
    pub fn webhook_event(&self, event_type: Option<&str>, outcome: WebhookOutcome) {
        let event_type = match event_type {
            None => "unknown",
            Some(t) => EVENT_TYPES
                .iter()
                .find(|known| **known == t)
                .copied()
                .unwrap_or("other"),
        };
        self.webhook_events
            .get_or_create(&[("type", event_type), ("outcome", outcome.as_str())])
            .inc();
    }

    /// Counts a delivery refused for its signature.
    pub fn signature_failure(&self, error: &SignatureError) {
        let reason = match error {
            SignatureError::Missing => SIGNATURE_REASONS[0],
            SignatureError::Malformed => SIGNATURE_REASONS[1],
            SignatureError::NotText => SIGNATURE_REASONS[2],
            SignatureError::Mismatch => SIGNATURE_REASONS[3],
            SignatureError::Stale => SIGNATURE_REASONS[4],
        };
        self.signature_failures
            .get_or_create(&[("reason", reason)])
            .inc();
        self.webhook_event(None, WebhookOutcome::Rejected);
    }

    /// Counts a publish attempt that took `took` and succeeded or not.
    pub fn publish_attempt(&self, took: Duration, ok: bool) {
        self.publish_attempts.inc();
        if !ok {
            self.publish_failures.inc();
        }
        self.publish_duration.observe(took.as_secs_f64());
    }

    /// Records the time from payment to the tenant file's first commit.
    pub fn payment_to_commit(&self, seconds: f64) {
        self.payment_to_commit.observe(seconds);
    }

    /// Records the time from payment to ready.
    pub fn payment_to_ready(&self, seconds: f64) {
        self.payment_to_ready.observe(seconds);
    }

    /// Counts an email to the admin (`admin`) or a customer (`customer`), sent or not.
    pub fn email(&self, to_admin: bool, sent: bool) {
        let label = [("recipient", if to_admin { "admin" } else { "customer" })];
        if sent {
            self.emails_sent.get_or_create(&label).inc();
        } else {
            self.emails_failed.get_or_create(&label).inc();
        }
    }

    /// Counts a reminder (`digest`: a daily digest) that went out.
    pub fn reminder_sent(&self, digest: bool) {
        let mode = if digest { "digest" } else { "reminder" };
        self.reminders_sent.get_or_create(&[("mode", mode)]).inc();
    }

    /// The exposition of every metric (OpenMetrics text, ending in `# EOF`).
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// Observes `stagesub_payment_to_ready_seconds` for a tenant just marked ready for the first time
/// (a failed read only loses the sample).
pub async fn observe_ready(store: &crate::store::Store, subdomain: &str) {
    let age = match store.client().await {
        Ok(client) => crate::store::metrics::payment_to_ready(&**client, subdomain).await,
        Err(e) => {
            tracing::debug!(error = %e, "metrics: cannot read the time to ready");
            return;
        }
    };
    match age {
        Ok(Some(seconds)) => global().payment_to_ready(seconds),
        Ok(None) => {}
        Err(e) => tracing::debug!(error = %e, "metrics: cannot read the time to ready"),
    }
}

/// The process's metrics, created on first use.
pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_prefix_units_and_total() {
        let m = Metrics::new();
        m.webhook_event(Some("checkout.session.completed"), WebhookOutcome::Verified);
        m.webhook_event(Some("invoice.paid\"}\n"), WebhookOutcome::Duplicate);
        m.signature_failure(&SignatureError::Mismatch);
        m.publish_attempt(Duration::from_millis(300), false);
        m.email(true, true);
        let text = m.encode();
        for line in [
            "stagesub_webhook_events_total{type=\"checkout.session.completed\",outcome=\"verified\"} 1",
            "stagesub_webhook_events_total{type=\"other\",outcome=\"duplicate\"} 1",
            "stagesub_webhook_events_total{type=\"unknown\",outcome=\"rejected\"} 1",
            "stagesub_webhook_signature_failures_total{reason=\"mismatch\"} 1",
            "stagesub_publish_attempts_total 1",
            "stagesub_publish_failures_total 1",
            "stagesub_publish_duration_seconds_bucket{le=\"0.5\"} 1",
            "stagesub_emails_sent_total{recipient=\"admin\"} 1",
            "stagesub_metrics_database_up 0",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
        assert!(!text.contains("invoice.paid"));
    }
}
