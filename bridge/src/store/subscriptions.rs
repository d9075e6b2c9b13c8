//! Subscription facts: the latest status of each subscription, and its latest decisive one, ordered by
//! the events' `created` time (Stripe does not guarantee delivery order).

use tokio_postgres::GenericClient;

/// The latest facts about one subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionFact {
    /// Latest decisive fact: archived (`Some(true)`), live (`Some(false)`), none yet (`None`).
    pub archived: Option<bool>,
    /// Created time (unix seconds) of the event that made the latest decisive fact.
    pub decided_at: Option<i64>,
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
    subscription_fact(db, subscription).await.map(|f| {
        f.unwrap_or(SubscriptionFact {
            archived: None,
            decided_at: None,
        })
    })
}

/// The facts known about a subscription, if any.
pub(crate) async fn subscription_fact(
    db: &impl GenericClient,
    subscription: &str,
) -> Result<Option<SubscriptionFact>, tokio_postgres::Error> {
    let row = db
        .query_opt(
            "SELECT archived, decided_at FROM subscriptions WHERE id = $1",
            &[&subscription],
        )
        .await?;
    Ok(row.map(|r| SubscriptionFact {
        archived: r.get(0),
        decided_at: r.get(1),
    }))
}
