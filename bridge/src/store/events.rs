//! Recording Stripe events together with the job that handles them.

use serde_json::Value;
use tokio_postgres::GenericClient;

use super::{Store, StoreError};

/// An event as stored.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    /// Stripe's event id (`evt_…`).
    pub id: String,
    /// Event type, e.g. `checkout.session.completed`.
    pub event_type: String,
    /// Stripe's `created` time, unix seconds.
    pub created: i64,
    /// The event as received.
    pub payload: Value,
}

/// Stores the event and its job in one transaction. Returns false for a duplicate (same event id):
/// then nothing is written.
pub async fn record_event(store: &Store, event: &StoredEvent) -> Result<bool, StoreError> {
    let mut client = store.client().await?;
    let tx = client.transaction().await?;
    let inserted = tx
        .execute(
            "INSERT INTO events (id, type, created, payload) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
            &[&event.id, &event.event_type, &event.created, &event.payload],
        )
        .await?;
    if inserted == 0 {
        return Ok(false); // dropped transaction rolls back (nothing was written anyway)
    }
    super::enqueue(&*tx, super::JobKind::Event, &event.id).await?;
    tx.commit().await?;
    Ok(true)
}

/// Loads a stored event.
pub(crate) async fn load_event(
    db: &impl GenericClient,
    id: &str,
) -> Result<Option<StoredEvent>, tokio_postgres::Error> {
    let row = db
        .query_opt(
            "SELECT id, type, created, payload FROM events WHERE id = $1",
            &[&id],
        )
        .await?;
    Ok(row.map(|r| StoredEvent {
        id: r.get(0),
        event_type: r.get(1),
        created: r.get(2),
        payload: r.get(3),
    }))
}

/// Records what handling the event led to.
pub(crate) async fn set_outcome(
    db: &impl GenericClient,
    id: &str,
    outcome: &str,
) -> Result<(), tokio_postgres::Error> {
    db.execute(
        "UPDATE events SET processed_at = now(), outcome = $2 WHERE id = $1",
        &[&id, &outcome],
    )
    .await?;
    Ok(())
}
