//! The console's actions on a tenant, each one transaction: publish again, release a held request
//! or give the subdomain to its requester, send the welcome again, adopt a database made by hand.
//! (Linking a guest to a customer is [`link_owner`](super::link_owner).) The console writes the audit.

use super::{JobKind, Store, TenantState, enqueue, load_event, load_tenant, lock_tenant};
use crate::error::Error;
use crate::event::{Meaning, meaning};
use crate::tenant::Identity;

fn not_found(subdomain: &str) -> Error {
    Error::NotFound(format!("no tenant with subdomain {subdomain:?}"))
}

/// Makes the tenant's open publish jobs due now with a fresh retry window (parked ones included), or
/// queues a new publish when none is open. Returns what was done.
pub async fn retry_publishing(store: &Store, subdomain: &str) -> Result<String, Error> {
    let mut client = store.client().await?;
    let tx = client.transaction().await?;
    lock_tenant(&*tx, subdomain).await?;
    load_tenant(&*tx, subdomain)
        .await?
        .ok_or_else(|| not_found(subdomain))?;
    let ids: Vec<i64> = tx
        .query(
            "UPDATE jobs SET parked_reason = NULL, parked_at = NULL, failing_since = NULL,
                    alerted_at = NULL, attempts = 0, run_at = now()
             WHERE kind = $1 AND subject = $2 AND done_at IS NULL RETURNING id",
            &[&JobKind::Publish.as_str(), &subdomain],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let done = if ids.is_empty() {
        // Force a fresh commit even if the file looks published.
        tx.execute(
            "UPDATE tenants SET published_sha256 = NULL WHERE subdomain = $1",
            &[&subdomain],
        )
        .await?;
        enqueue(&*tx, JobKind::Publish, subdomain).await?;
        "queued a new publish job".to_owned()
    } else {
        format!("re-queued publish job(s) {ids:?}")
    };
    tx.commit().await?;
    Ok(done)
}

/// Loads a held request of `subdomain`: the event, its recorded outcome.
async fn held_event(
    db: &impl tokio_postgres::GenericClient,
    subdomain: &str,
    event_id: &str,
) -> Result<(crate::store::StoredEvent, String), Error> {
    if event_id.contains('\0') {
        return Err(Error::NotFound(format!(
            "event {event_id:?} is not a held request for {subdomain}"
        )));
    }
    let prefix = format!("held: subdomain {subdomain} belongs to ");
    let row = db
        .query_opt(
            "SELECT outcome FROM events WHERE id = $1 AND starts_with(outcome, $2) FOR UPDATE",
            &[&event_id, &prefix],
        )
        .await?;
    let Some(row) = row else {
        return Err(Error::NotFound(format!(
            "event {event_id:?} is not a held request for {subdomain}"
        )));
    };
    let event = load_event(db, event_id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no event {event_id:?}")))?;
    Ok((event, row.get(0)))
}

/// Releases a held request: the subdomain stays with its owner, and the request is closed
/// (`released by <who>: <the held outcome>`).
pub async fn release_held(
    store: &Store,
    subdomain: &str,
    event_id: &str,
    by: &str,
) -> Result<String, Error> {
    let mut client = store.client().await?;
    let tx = client.transaction().await?;
    lock_tenant(&*tx, subdomain).await?;
    let (_, outcome) = held_event(&*tx, subdomain, event_id).await?;
    tx.execute(
        "UPDATE events SET outcome = $2 WHERE id = $1",
        &[&event_id, &format!("released by {by}: {outcome}")],
    )
    .await?;
    tx.commit().await?;
    Ok(format!(
        "released held request {event_id}; the owner keeps {subdomain}"
    ))
}

/// Gives the subdomain to the party of a held request: it becomes the owner, and its request is
/// handled again, now as the owner's (its values win over the previous owner's, whatever their
/// times). Returns the new owner as the admin's email would name it.
pub async fn assign_held(
    store: &Store,
    subdomain: &str,
    event_id: &str,
    by: &str,
) -> Result<String, Error> {
    let mut client = store.client().await?;
    let tx = client.transaction().await?;
    lock_tenant(&*tx, subdomain).await?;
    let (event, _) = held_event(&*tx, subdomain, event_id).await?;
    let requester = match meaning(&event) {
        Meaning::Provision {
            values: Ok(values),
            customer,
            session,
            ..
        } => Identity::of_event(
            customer.as_deref(),
            values.contact_email.as_deref(),
            session.as_deref(),
        ),
        Meaning::SubscriptionStatus { customer, .. } => {
            Identity::of_event(customer.as_deref(), None, None)
        }
        _ => {
            return Err(Error::Conflict(format!(
                "event {event_id} names no party that could own {subdomain}"
            )));
        }
    };
    tx.execute(
        "UPDATE tenants SET owner_customer_id = $2, owner_email = $3, owner_session_id = $4,
                owner_event_id = $5, owner_since = $6, values_at = 0,
                stripe_customer_id = coalesce($2, stripe_customer_id), updated_at = now()
         WHERE subdomain = $1",
        &[
            &subdomain,
            &requester.customer,
            &requester.email,
            &requester.session,
            &event_id,
            &event.created,
        ],
    )
    .await?;
    tx.execute(
        "UPDATE events SET outcome = $2 WHERE id = $1",
        &[&event_id, &format!("assigned to the requester by {by}")],
    )
    .await?;
    enqueue(&*tx, JobKind::Event, event_id).await?;
    tx.commit().await?;
    Ok(requester.to_string())
}

/// Sends the welcome email again (the tenant must be ready).
pub async fn resend_welcome(store: &Store, subdomain: &str) -> Result<(), Error> {
    let mut client = store.client().await?;
    let tx = client.transaction().await?;
    lock_tenant(&*tx, subdomain).await?;
    let tenant = load_tenant(&*tx, subdomain)
        .await?
        .ok_or_else(|| not_found(subdomain))?;
    if tenant.state != TenantState::Ready {
        return Err(Error::Conflict(format!(
            "tenant {subdomain} is {}, not ready: its welcome goes out when CI reports it ready",
            tenant.state
        )));
    }
    tx.execute(
        "UPDATE tenants SET welcome_sent_at = NULL WHERE subdomain = $1",
        &[&subdomain],
    )
    .await?;
    enqueue(&*tx, JobKind::Welcome, subdomain).await?;
    tx.commit().await?;
    Ok(())
}

/// Records that the tenant's database was made by hand (`import_id`: a checked Supabase project ref
/// or database name) and republishes its file with an `import {}` block, so that Terraform adopts
/// the database. A tenant that is not ready goes back to `publishing`.
pub async fn mark_manually_provisioned(
    store: &Store,
    subdomain: &str,
    import_id: &str,
    by: &str,
) -> Result<(), Error> {
    let mut client = store.client().await?;
    let tx = client.transaction().await?;
    lock_tenant(&*tx, subdomain).await?;
    load_tenant(&*tx, subdomain)
        .await?
        .ok_or_else(|| not_found(subdomain))?;
    tx.execute(
        "UPDATE tenants SET import_id = $2, import_by = $3, import_at = now(), updated_at = now(),
                state = CASE WHEN state = $4 THEN state ELSE $5 END
         WHERE subdomain = $1",
        &[
            &subdomain,
            &import_id,
            &by,
            &TenantState::Ready,
            &TenantState::Publishing,
        ],
    )
    .await?;
    enqueue(&*tx, JobKind::Publish, subdomain).await?;
    tx.commit().await?;
    Ok(())
}
