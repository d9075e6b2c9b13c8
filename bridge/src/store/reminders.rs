//! Pending provisions and the claims that make their reminders go out once.
//!
//! A tenant is *pending* while it is paid for but has no database yet: state `publishing` (the
//! tenant file is not in the infra repository yet), `published` (committed; CI has not called
//! `ready`) or `failed` (CI reported a failure), and not archived. Its age counts from when the
//! bridge recorded it (`tenants.created_at`), on the database's clock, so that every replica agrees.
//! `ready` and archived tenants are not pending.

use tokio_postgres::GenericClient;

use super::TenantState;

/// The states of a pending tenant.
pub const PENDING_STATES: [TenantState; 3] = [
    TenantState::Publishing,
    TenantState::Published,
    TenantState::Failed,
];

/// Names of [`PENDING_STATES`], for `state = ANY($n)`.
pub(crate) fn pending_names() -> Vec<&'static str> {
    PENDING_STATES.iter().map(|s| s.as_str()).collect()
}

/// A tenant pending past the SLA, with what the admin needs to act on it.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingTenant {
    /// Subdomain.
    pub subdomain: String,
    /// Orchestra name as the customer typed it.
    pub orchestra_name: String,
    /// Where it is.
    pub state: TenantState,
    /// Seconds since the bridge recorded the paid tenant.
    pub age_seconds: f64,
    /// Contact email from the checkout.
    pub contact_email: Option<String>,
    /// Stripe customer id.
    pub customer: Option<String>,
    /// Stripe subscription id.
    pub subscription: Option<String>,
    /// Plan label.
    pub plan: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// Pull request of the tenant file, if any.
    pub pull_request_url: Option<String>,
    /// Commit of the tenant file, if published.
    pub commit: Option<String>,
    /// Why the tenant's open publish job failed or was parked, if it did.
    pub publish_error: Option<String>,
    /// The latest CI failure report (first 2000 characters), if any.
    pub failure: Option<String>,
}

/// Tenants pending for longer than `sla_seconds`, oldest first, at most `limit`.
pub async fn pending_past_sla(
    db: &impl GenericClient,
    sla_seconds: f64,
    limit: i64,
) -> Result<Vec<PendingTenant>, tokio_postgres::Error> {
    let rows = db
        .query(
            "SELECT t.subdomain, t.orchestra_name, t.state, EXTRACT(EPOCH FROM now() - t.created_at)::float8,
                    t.contact_email, coalesce(t.stripe_customer_id, t.owner_customer_id), t.stripe_subscription_id,
                    t.plan, t.region, t.pull_request_url, t.published_commit,
                    (SELECT coalesce(j.parked_reason, j.last_error) FROM jobs j
                      WHERE j.kind = 'publish' AND j.subject = t.subdomain AND j.done_at IS NULL
                      ORDER BY j.id DESC LIMIT 1),
                    (SELECT left(f.detail, 2000) FROM failure_reports f
                      WHERE f.subdomain = t.subdomain ORDER BY f.id DESC LIMIT 1)
             FROM tenants t
             WHERE t.state = ANY($1) AND NOT t.archived
               AND t.created_at <= now() - make_interval(secs => $2)
             ORDER BY t.created_at, t.subdomain LIMIT $3",
            &[&pending_names(), &sla_seconds, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| PendingTenant {
            subdomain: r.get(0),
            orchestra_name: r.get(1),
            state: r.get(2),
            age_seconds: r.get(3),
            contact_email: r.get(4),
            customer: r.get(5),
            subscription: r.get(6),
            plan: r.get(7),
            region: r.get(8),
            pull_request_url: r.get(9),
            commit: r.get(10),
            publish_error: r.get(11),
            failure: r.get(12),
        })
        .collect())
}

/// Claims reminder window `window` of `subdomain`: true when this transaction is the first to.
/// A replica claiming the same window at the same moment waits for this transaction: if it
/// commits (the email went out) the other gets false, if it rolls back the other may claim.
pub async fn claim_reminder(
    db: &impl GenericClient,
    tenant: &PendingTenant,
    window: i32,
) -> Result<bool, tokio_postgres::Error> {
    let n = db
        .execute(
            "INSERT INTO provision_reminders (subdomain, window_index, age_seconds, state)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            &[
                &tenant.subdomain,
                &window,
                &(tenant.age_seconds as i64),
                &tenant.state,
            ],
        )
        .await?;
    Ok(n == 1)
}

/// Claims the digest of UTC day `day` (days since 1970-01-01): true when this transaction is the
/// first to (see [`claim_reminder`] for concurrent claims).
pub async fn claim_digest(
    db: &impl GenericClient,
    day: i32,
    tenants: i32,
) -> Result<bool, tokio_postgres::Error> {
    let n = db
        .execute(
            "INSERT INTO reminder_digests (day, tenants) VALUES (DATE '1970-01-01' + $1::integer, $2)
             ON CONFLICT DO NOTHING",
            &[&day, &tenants],
        )
        .await?;
    Ok(n == 1)
}

/// Records how many tenants the claimed digest of `day` lists.
pub async fn set_digest_size(
    db: &impl GenericClient,
    day: i32,
    tenants: i32,
) -> Result<(), tokio_postgres::Error> {
    db.execute(
        "UPDATE reminder_digests SET tenants = $2 WHERE day = DATE '1970-01-01' + $1::integer",
        &[&day, &tenants],
    )
    .await?;
    Ok(())
}

/// The database's clock, in unix seconds: every replica reads the same time.
pub async fn database_now(db: &impl GenericClient) -> Result<f64, tokio_postgres::Error> {
    Ok(db
        .query_one("SELECT EXTRACT(EPOCH FROM now())::float8", &[])
        .await?
        .get(0))
}
