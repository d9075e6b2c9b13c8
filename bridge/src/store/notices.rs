//! What the worker's mail jobs read and record: the event behind an admin notice, CI's failure
//! reports, and that a welcome email went out.

use serde_json::Value;
use tokio_postgres::GenericClient;

/// A stored Stripe event as the admin notice shows it.
#[derive(Debug, Clone)]
pub struct EventForAdmin {
    /// Stripe's event type.
    pub event_type: String,
    /// What the bridge made of it (`held: …`, `invalid: …`).
    pub outcome: Option<String>,
    /// The event's JSON.
    pub payload: Value,
}

/// The event `event_id`, if it is stored.
pub async fn event_for_admin(
    db: &impl GenericClient,
    event_id: &str,
) -> Result<Option<EventForAdmin>, tokio_postgres::Error> {
    let row = db
        .query_opt(
            "SELECT type, outcome, payload FROM events WHERE id = $1",
            &[&event_id],
        )
        .await?;
    Ok(row.map(|r| EventForAdmin {
        event_type: r.get(0),
        outcome: r.get(1),
        payload: r.get(2),
    }))
}

/// A report from CI that provisioning failed: (subdomain, what failed).
pub async fn failure_report(
    db: &impl GenericClient,
    id: i64,
) -> Result<Option<(String, String)>, tokio_postgres::Error> {
    let row = db
        .query_opt(
            "SELECT subdomain, detail FROM failure_reports WHERE id = $1",
            &[&id],
        )
        .await?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

/// Records that the tenant's welcome email was sent.
pub async fn mark_welcome_sent(
    db: &impl GenericClient,
    subdomain: &str,
) -> Result<(), tokio_postgres::Error> {
    db.execute(
        "UPDATE tenants SET welcome_sent_at = now() WHERE subdomain = $1",
        &[&subdomain],
    )
    .await?;
    Ok(())
}
