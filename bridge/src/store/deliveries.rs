//! Webhook deliveries: one row per delivery (and per event fetched from Stripe's API), whatever became
//! of it, for the console's counts by type and outcome. Accepted deliveries are written by the intake
//! statement itself ([`record_event`](super::record_event)); rejected ones here.

use tokio_postgres::GenericClient;

/// Where an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliverySource {
    /// `POST /api/webhooks/stripe`, signature checked.
    Webhook,
    /// Stripe's List Events API, fetched with `STRIPE_API_KEY` ("find missed events").
    Api,
}

impl DeliverySource {
    /// The name stored in `webhook_deliveries.source`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Api => "api",
        }
    }
}

/// Records a rejected webhook delivery with the reason, and the event id and type it claimed when
/// they look like Stripe's (they are unverified: shown, never trusted). Rows older than 30 days are
/// pruned now and then, so a flood of rejects cannot grow the table without bound.
pub async fn record_rejected_delivery(
    db: &impl GenericClient,
    claimed_id: Option<&str>,
    claimed_type: Option<&str>,
    reason: &str,
) -> Result<(), tokio_postgres::Error> {
    let reason: String = reason.replace('\0', "\u{fffd}").chars().take(500).collect();
    db.execute(
        "INSERT INTO webhook_deliveries (source, event_id, type, outcome, reason)
         VALUES ('webhook', $1, $2, 'rejected', $3)",
        &[&claimed_id, &claimed_type, &reason],
    )
    .await?;
    if fastrand::u8(..) == 0 {
        db.execute(
            "DELETE FROM webhook_deliveries WHERE received_at < now() - interval '30 days'",
            &[],
        )
        .await?;
    }
    Ok(())
}

/// Deliveries of the last `days` days grouped by type, outcome and reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryCount {
    /// Event type (`-` when a rejected delivery claimed none).
    pub event_type: String,
    /// `webhook` or `api`.
    pub source: String,
    /// `recorded`, `duplicate` or `rejected`.
    pub outcome: String,
    /// Why it was rejected (rejected only).
    pub reason: Option<String>,
    /// How many.
    pub count: i64,
}

/// Counts of the last `days` days, by type, source, outcome and reason.
pub async fn delivery_counts(
    db: &impl GenericClient,
    days: i32,
) -> Result<Vec<DeliveryCount>, tokio_postgres::Error> {
    let rows = db
        .query(
            "SELECT coalesce(type, '-'), source, outcome, reason, count(*)
             FROM webhook_deliveries WHERE received_at > now() - make_interval(days => $1)
             GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
            &[&days],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| DeliveryCount {
            event_type: r.get(0),
            source: r.get(1),
            outcome: r.get(2),
            reason: r.get(3),
            count: r.get(4),
        })
        .collect())
}
