//! Tenant rows and subscription facts.
//!
//! Writers of one tenant serialize on advisory locks (per subdomain, per subscription) taken inside
//! their transaction, in the order subscription then tenant, so that a cancellation and its checkout
//! handled at the same moment still see each other.

use tokio_postgres::GenericClient;

use super::TenantState;
use crate::tenant::{Identity, Tenant, TenantRecord};

/// Namespaces of the advisory locks (first key).
const LOCK_TENANT: i32 = 7412;
const LOCK_SUBSCRIPTION: i32 = 7413;

/// Serializes writers of one tenant until the transaction ends.
pub async fn lock_tenant(
    db: &impl GenericClient,
    subdomain: &str,
) -> Result<(), tokio_postgres::Error> {
    db.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
        &[&LOCK_TENANT, &subdomain],
    )
    .await?;
    Ok(())
}

/// Serializes writers of one subscription's facts until the transaction ends.
pub async fn lock_subscription(
    db: &impl GenericClient,
    subscription: &str,
) -> Result<(), tokio_postgres::Error> {
    db.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
        &[&LOCK_SUBSCRIPTION, &subscription],
    )
    .await?;
    Ok(())
}

/// A tenant as stored, with bookkeeping.
#[derive(Debug, Clone)]
pub struct StoredTenant {
    /// What the tenant file says.
    pub record: TenantRecord,
    /// Created time of the event that set the values.
    pub values_at: i64,
    /// Where the tenant is.
    pub state: TenantState,
    /// Who owns it (fixed by the first paid provisioning).
    pub owner: Identity,
    /// SHA-256 of the file last published.
    pub published_sha256: Option<String>,
    /// Welcome email already sent.
    pub welcome_sent: bool,
    /// A database made by hand that the tenant file adopts (`import {}`), set in the console.
    pub import_id: Option<String>,
}

/// Loads a tenant by subdomain.
pub async fn load_tenant(
    db: &impl GenericClient,
    subdomain: &str,
) -> Result<Option<StoredTenant>, tokio_postgres::Error> {
    let row = db
        .query_opt(
            "SELECT subdomain, orchestra_name, contact_email, plan, region, archived, stripe_customer_id,
                    stripe_subscription_id, source_event_id, checkout_session_id, values_at, state,
                    published_sha256, welcome_sent_at IS NOT NULL,
                    owner_customer_id, owner_email, owner_session_id, import_id
             FROM tenants WHERE subdomain = $1",
            &[&subdomain],
        )
        .await?;
    Ok(row.map(|r| StoredTenant {
        record: TenantRecord {
            values: Tenant {
                subdomain: r.get(0),
                orchestra_name: r.get(1),
                contact_email: r.get(2),
                plan: r.get(3),
                region: r.get(4),
            },
            archived: r.get(5),
            stripe_customer_id: r.get(6),
            stripe_subscription_id: r.get(7),
            source_event_id: r.get(8),
            checkout_session_id: r.get(9),
        },
        values_at: r.get(10),
        state: r.get(11),
        published_sha256: r.get(12),
        welcome_sent: r.get(13),
        import_id: r.get(17),
        owner: Identity {
            customer: r.get(14),
            email: r.get(15),
            session: r.get(16),
        },
    }))
}

/// Inserts or replaces a tenant's values (state back to `publishing` unless CI already called back).
/// `owner` is recorded only when the row is created: later saves never change it.
pub(crate) async fn save_tenant(
    db: &impl GenericClient,
    t: &TenantRecord,
    values_at: i64,
    owner: &Identity,
) -> Result<(), tokio_postgres::Error> {
    let v = &t.values;
    db.execute(
        "INSERT INTO tenants (subdomain, orchestra_name, contact_email, plan, region, archived, stripe_customer_id,
                              stripe_subscription_id, source_event_id, checkout_session_id, values_at, state,
                              owner_customer_id, owner_email, owner_session_id, owner_event_id, owner_since)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $9, $11)
         ON CONFLICT (subdomain) DO UPDATE SET
            orchestra_name = $2, contact_email = $3, plan = $4, region = $5, archived = $6,
            stripe_customer_id = $7, stripe_subscription_id = $8, source_event_id = $9,
            checkout_session_id = $10, values_at = $11, updated_at = now(),
            state = CASE WHEN tenants.state IN ($16, $17) THEN tenants.state ELSE $12 END",
        &[
            &v.subdomain, &v.orchestra_name, &v.contact_email, &v.plan, &v.region, &t.archived,
            &t.stripe_customer_id, &t.stripe_subscription_id, &t.source_event_id, &t.checkout_session_id, &values_at,
            &TenantState::Publishing, &owner.customer, &owner.email, &owner.session,
            &TenantState::Ready, &TenantState::Failed,
        ],
    )
    .await?;
    Ok(())
}

/// Subdomains of the tenants on a subscription.
pub(crate) async fn tenants_of_subscription(
    db: &impl GenericClient,
    subscription: &str,
) -> Result<Vec<String>, tokio_postgres::Error> {
    let rows = db
        .query(
            "SELECT subdomain FROM tenants WHERE stripe_subscription_id = $1",
            &[&subscription],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Sets a tenant's archived flag and the event that changed it.
pub(crate) async fn set_archived(
    db: &impl GenericClient,
    subdomain: &str,
    archived: bool,
    event_id: &str,
) -> Result<(), tokio_postgres::Error> {
    db.execute(
        "UPDATE tenants SET archived = $2, source_event_id = $3, updated_at = now() WHERE subdomain = $1",
        &[&subdomain, &archived, &event_id],
    )
    .await?;
    Ok(())
}
