//! Tenant rows and subscription facts.
//!
//! Writers of one tenant serialize on advisory locks (per subdomain, per subscription) taken inside
//! their transaction, in the order subscription then tenant, so that a cancellation and its checkout
//! handled at the same moment still see each other.

use tokio_postgres::GenericClient;

use crate::tenant::{TenantRecord, TenantValues};

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
    /// `publishing`, `published`, `ready`, `failed`.
    pub state: String,
    /// SHA-256 of the file last published.
    pub published_sha256: Option<String>,
    /// Welcome email already sent.
    pub welcome_sent: bool,
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
                    published_sha256, welcome_sent_at IS NOT NULL
             FROM tenants WHERE subdomain = $1",
            &[&subdomain],
        )
        .await?;
    Ok(row.map(|r| StoredTenant {
        record: TenantRecord {
            values: TenantValues {
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
    }))
}

/// Inserts or replaces a tenant's values (state back to `publishing`).
pub(crate) async fn save_tenant(
    db: &impl GenericClient,
    t: &TenantRecord,
    values_at: i64,
) -> Result<(), tokio_postgres::Error> {
    let v = &t.values;
    db.execute(
        "INSERT INTO tenants (subdomain, orchestra_name, contact_email, plan, region, archived, stripe_customer_id,
                              stripe_subscription_id, source_event_id, checkout_session_id, values_at, state)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'publishing')
         ON CONFLICT (subdomain) DO UPDATE SET
            orchestra_name = $2, contact_email = $3, plan = $4, region = $5, archived = $6,
            stripe_customer_id = $7, stripe_subscription_id = $8, source_event_id = $9,
            checkout_session_id = $10, values_at = $11, updated_at = now(),
            state = CASE WHEN tenants.state IN ('ready', 'failed') THEN tenants.state ELSE 'publishing' END",
        &[
            &v.subdomain, &v.orchestra_name, &v.contact_email, &v.plan, &v.region, &t.archived,
            &t.stripe_customer_id, &t.stripe_subscription_id, &t.source_event_id, &t.checkout_session_id, &values_at,
        ],
    )
    .await?;
    Ok(())
}

/// The latest facts about one subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionFact {
    /// Latest decisive fact: archived (`Some(true)`), live (`Some(false)`), none yet (`None`).
    pub archived: Option<bool>,
}

/// Records a subscription status seen in an event created at `at`, keeping only newer facts. Returns the
/// resulting state.
pub async fn record_subscription_fact(
    db: &impl GenericClient,
    subscription: &str,
    customer: Option<&str>,
    status: &str,
    archived: Option<bool>,
    at: i64,
    event_id: &str,
) -> Result<SubscriptionFact, tokio_postgres::Error> {
    let decided_at = archived.map(|_| at);
    db.execute(
        "INSERT INTO subscriptions (id, stripe_customer_id, status, status_at, archived, decided_at, event_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET
            status = CASE WHEN excluded.status_at >= subscriptions.status_at THEN excluded.status ELSE subscriptions.status END,
            status_at = greatest(subscriptions.status_at, excluded.status_at),
            archived = CASE WHEN excluded.decided_at IS NOT NULL
                             AND (subscriptions.decided_at IS NULL OR excluded.decided_at >= subscriptions.decided_at)
                            THEN excluded.archived ELSE subscriptions.archived END,
            decided_at = CASE WHEN excluded.decided_at IS NOT NULL
                             AND (subscriptions.decided_at IS NULL OR excluded.decided_at >= subscriptions.decided_at)
                            THEN excluded.decided_at ELSE subscriptions.decided_at END,
            event_id = CASE WHEN excluded.status_at >= subscriptions.status_at THEN excluded.event_id ELSE subscriptions.event_id END,
            stripe_customer_id = coalesce(subscriptions.stripe_customer_id, excluded.stripe_customer_id)",
        &[&subscription, &customer, &status, &at, &archived, &decided_at, &event_id],
    )
    .await?;
    subscription_fact(db, subscription)
        .await
        .map(|f| f.unwrap_or(SubscriptionFact { archived: None }))
}

/// The facts known about a subscription, if any.
pub(crate) async fn subscription_fact(
    db: &impl GenericClient,
    subscription: &str,
) -> Result<Option<SubscriptionFact>, tokio_postgres::Error> {
    let row = db
        .query_opt(
            "SELECT archived FROM subscriptions WHERE id = $1",
            &[&subscription],
        )
        .await?;
    Ok(row.map(|r| SubscriptionFact { archived: r.get(0) }))
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
