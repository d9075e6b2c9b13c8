//! Recording Stripe events together with the job that handles them.
//!
//! Intake is one statement (insert the event, and its job only if the event was new) on a statement
//! prepared once per connection: one round trip per delivery, atomic without BEGIN/COMMIT. The body is
//! kept byte-exact (`body bytea`); `payload jsonb` is a queryable copy with what jsonb refuses replaced,
//! and left NULL when Postgres refuses the copy anyway (e.g. a number beyond `numeric`'s range).

use bytes::BufMut;
use serde_json::Value;
use tokio_postgres::GenericClient;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use super::{DeliverySource, JobKind, Store, StoreError};
use crate::event::{ReceivedEvent, read_stored};

/// An event as the worker reads it.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    /// Stripe's event id (`evt_…`).
    pub id: String,
    /// Event type, e.g. `checkout.session.completed`.
    pub event_type: String,
    /// Stripe's `created` time, unix seconds.
    pub created: i64,
    /// The event read from its stored body (`Null` if it cannot be read).
    pub payload: Value,
}

/// Also writes the delivery's row (`webhook_deliveries`, migration 6) in the same statement.
const RECORD: &str = "WITH event AS (
        INSERT INTO events (id, type, created, body, payload) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (id) DO NOTHING RETURNING id),
    job AS (INSERT INTO jobs (kind, subject) SELECT $6, id FROM event)
    INSERT INTO webhook_deliveries (source, event_id, type, outcome)
    SELECT $7, $1, $2, CASE WHEN EXISTS (SELECT 1 FROM event) THEN 'recorded' ELSE 'duplicate' END
    RETURNING outcome = 'recorded'";

/// JSON text sent as `json`/`jsonb` without re-encoding it.
#[derive(Debug)]
struct JsonText<'a>(&'a [u8]);

impl ToSql for JsonText<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        if *ty == Type::JSONB {
            out.put_u8(1); // jsonb binary format version
        }
        out.put_slice(self.0);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSON || *ty == Type::JSONB
    }

    to_sql_checked!();
}

/// True when Postgres refused a value (data exception, class 22, or a limit, class 54), as opposed to
/// being unreachable or broken.
fn refused_value(e: &tokio_postgres::Error) -> bool {
    e.code()
        .is_some_and(|c| c.code().starts_with("22") || c.code().starts_with("54"))
}

/// Stores the event and its job atomically. Returns false for a duplicate (same event id): then
/// nothing is written.
pub async fn record_event(store: &Store, event: &ReceivedEvent<'_>) -> Result<bool, StoreError> {
    record_event_from(store, event, DeliverySource::Webhook).await
}

/// [`record_event`] for an event that came from `source` (a webhook, or Stripe's API).
pub async fn record_event_from(
    store: &Store,
    event: &ReceivedEvent<'_>,
    source: DeliverySource,
) -> Result<bool, StoreError> {
    let source = source.as_str();
    let client = store.client().await?;
    let statement = client.prepare_cached(RECORD).await?;
    let kind = JobKind::Event.as_str();
    let (id, event_type, created, body) =
        (&event.id, &event.event_type, &event.created, &event.body);
    let copy = Some(JsonText(&event.storable));
    let first = client
        .query_one(
            &statement,
            &[id, event_type, created, body, &copy, &kind, &source],
        )
        .await;
    let inserted = match first {
        // The body is what must be kept; the jsonb copy is a convenience.
        Err(e) if refused_value(&e) => {
            tracing::warn!(event = %event.id, error = %e, "jsonb copy refused; keeping the raw body only");
            let no_copy: Option<JsonText<'_>> = None;
            client
                .query_one(
                    &statement,
                    &[id, event_type, created, body, &no_copy, &kind, &source],
                )
                .await?
        }
        other => other?,
    };
    Ok(inserted.get(0))
}

/// Loads a stored event, read from its raw body.
pub(crate) async fn load_event(
    db: &impl GenericClient,
    id: &str,
) -> Result<Option<StoredEvent>, tokio_postgres::Error> {
    Ok(load_event_with_outcome(db, id).await?.map(|(e, _)| e))
}

/// Loads a stored event and what handling it led to, if it was handled.
pub async fn load_event_with_outcome(
    db: &impl GenericClient,
    id: &str,
) -> Result<Option<(StoredEvent, Option<String>)>, tokio_postgres::Error> {
    let row = db
        .query_opt(
            "SELECT id, type, created, body, outcome FROM events WHERE id = $1",
            &[&id],
        )
        .await?;
    Ok(row.map(|r| {
        let body: &[u8] = r.get(3);
        (read_stored(r.get(0), r.get(1), r.get(2), body), r.get(4))
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
        &[&id, &outcome.replace('\0', "\u{fffd}")],
    )
    .await?;
    Ok(())
}
