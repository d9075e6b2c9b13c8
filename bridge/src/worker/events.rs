//! Handling a stored Stripe event: turning it into tenant facts and follow-up jobs.

use std::time::Duration;

use tokio_postgres::Transaction;

use super::{JobError, Outcome, WorkerContext};
use crate::event::{Meaning, meaning};
use crate::store::{self, JobKind, StoredEvent, grace};
use crate::tenant::{
    CheckoutDecision, GraceFacts, GraceStep, Identity, Tenant, TenantRecord, checkout_decision,
    grace_step, subscription_decision, subscription_is_owners,
};

/// Records `invalid: <reason>` as the event's outcome and tells the admin.
async fn park_invalid(
    db: &Transaction<'_>,
    event_id: &str,
    reason: &(dyn std::fmt::Display + Sync),
) -> Result<Outcome, JobError> {
    let outcome = format!("invalid: {reason}");
    store::set_outcome(db, event_id, &outcome).await?;
    store::enqueue(db, JobKind::AdminEvent, event_id).await?;
    Ok(Outcome::Parked(outcome))
}

pub(super) async fn handle_event(
    db: &Transaction<'_>,
    ctx: &WorkerContext,
    event_id: &str,
) -> Result<Outcome, JobError> {
    let grace = ctx.archive_grace;
    let Some(event) = store::load_event(db, event_id).await? else {
        return Ok(Outcome::Parked(format!(
            "event {event_id} is not in the store"
        )));
    };
    match meaning(&event) {
        Meaning::Ignored => {
            store::set_outcome(db, event_id, "ignored").await?;
            Ok(Outcome::Done)
        }
        Meaning::AwaitPayment => {
            // checkout.session.async_payment_succeeded will follow if the payment arrives.
            store::set_outcome(db, event_id, "waiting_for_payment").await?;
            Ok(Outcome::Done)
        }
        Meaning::Provision {
            values: Err(reason),
            ..
        } => park_invalid(db, event_id, &reason).await,
        Meaning::Invalid(reason) => park_invalid(db, event_id, &reason).await,
        Meaning::Provision {
            values: Ok(values),
            customer,
            subscription,
            session,
        } => {
            provision(
                db,
                Handling::of(&event, grace),
                values,
                customer,
                subscription,
                session,
            )
            .await
        }
        Meaning::SubscriptionStatus {
            subscription,
            customer,
            status,
            subdomain,
        } => {
            subscription_changed(
                db,
                Handling::of(&event, grace),
                &subscription,
                customer,
                &status,
                subdomain,
            )
            .await
        }
    }
}

/// The event being handled: its id, its `created` time, and `ARCHIVE_GRACE`.
#[derive(Clone, Copy)]
struct Handling<'a> {
    event_id: &'a str,
    created: i64,
    grace: Duration,
}

impl<'a> Handling<'a> {
    fn of(event: &'a StoredEvent, grace: Duration) -> Self {
        Self {
            event_id: &event.id,
            created: event.created,
            grace,
        }
    }
}

async fn provision(
    db: &Transaction<'_>,
    h: Handling<'_>,
    values: Tenant,
    customer: Option<String>,
    subscription: Option<String>,
    session: Option<String>,
) -> Result<Outcome, JobError> {
    let Handling {
        event_id,
        created,
        grace,
    } = h;
    // Lock order: subscription, then tenant (as in subscription_changed).
    // The end of this checkout's subscription, when it was recorded first (events arrive in any order).
    let mut ended_at = None;
    if let Some(sub) = &subscription {
        store::lock_subscription(db, sub).await?;
        if let Some(fact) = store::subscription_fact(db, sub).await?
            && fact.archived == Some(true)
        {
            ended_at = Some(fact.decided_at.unwrap_or(created));
        }
    }
    store::lock_tenant(db, &values.subdomain).await?;
    let existing = store::load_tenant(db, &values.subdomain).await?;
    // An ended subscription opens a grace period instead of archiving at once; a tenant already
    // archived stays so until a live subscription brings it back.
    let was_archived = existing.as_ref().is_some_and(|e| e.record.archived);
    let archived = was_archived && ended_at.is_some();
    let requester = Identity::of_event(
        customer.as_deref(),
        values.contact_email.as_deref(),
        session.as_deref(),
    );
    // An event of the owner's own checkout session without a customer keeps the customer the tenant
    // was linked to.
    let owner_customer = existing.as_ref().and_then(|e| e.owner.customer.clone());
    let record = TenantRecord {
        values,
        archived,
        stripe_customer_id: customer.or(owner_customer),
        stripe_subscription_id: subscription,
        source_event_id: Some(event_id.to_owned()),
        checkout_session_id: session,
    };
    let outcome = match checkout_decision(
        existing
            .as_ref()
            .map(|e| (&e.record, e.values_at, &e.owner)),
        &record,
        &requester,
        created,
    ) {
        CheckoutDecision::Hold => {
            // Never hand one party's subdomain to another: hold the request and tell the admin.
            store::enqueue(db, JobKind::AdminEvent, event_id).await?;
            let owner = existing
                .as_ref()
                .map(|e| e.owner.to_string())
                .unwrap_or_default();
            held(&record.values.subdomain, &owner, &requester.to_string())
        }
        CheckoutDecision::Superseded => "superseded".to_owned(),
        CheckoutDecision::Unchanged => "unchanged".to_owned(),
        CheckoutDecision::Save => {
            let subdomain = &record.values.subdomain;
            store::save_tenant(db, &record, created, &requester).await?;
            store::enqueue(db, JobKind::Publish, subdomain).await?;
            let sub = record.stripe_subscription_id.as_deref();
            match ended_at {
                // Its subscription ended already (that event came first): a grace period opens
                // (an open one is kept).
                Some(ended) if !archived => {
                    grace::schedule(db, subdomain, sub, event_id, ended, grace).await?;
                    "provisioned; grace period started (its subscription has ended)".to_owned()
                }
                Some(_) => "provisioned (stays archived: its subscription has ended)".to_owned(),
                // A paid checkout of the owner renews: it closes an open grace period, or brings
                // an archived tenant back (restore commit, then the welcome back on `ready`).
                None => {
                    grace::cancel(db, subdomain, event_id).await?;
                    if was_archived {
                        grace::mark_returning(db, subdomain).await?;
                        "restored".to_owned()
                    } else {
                        "provisioned".to_owned()
                    }
                }
            }
        }
    };
    store::set_outcome(db, event_id, &outcome).await?;
    Ok(Outcome::Done)
}

async fn subscription_changed(
    db: &Transaction<'_>,
    h: Handling<'_>,
    subscription: &str,
    customer: Option<String>,
    status: &str,
    subdomain: Option<String>,
) -> Result<Outcome, JobError> {
    let Handling {
        event_id,
        created,
        grace,
    } = h;
    store::lock_subscription(db, subscription).await?;
    let decision = subscription_decision(status).archived();
    let fact = store::record_subscription_fact(
        db,
        subscription,
        customer.as_deref(),
        status,
        decision,
        created,
        event_id,
    )
    .await?;
    let mut subdomains = store::tenants_of_subscription(db, subscription).await?;
    if let Some(sub) = subdomain.filter(|s| !subdomains.contains(s)) {
        subdomains.push(sub);
    }
    let (mut scheduled, mut renewals) = (Vec::new(), Vec::new());
    let mut held_for = None;
    for name in subdomains {
        store::lock_tenant(db, &name).await?;
        let Some(tenant) = store::load_tenant(db, &name).await? else {
            continue;
        };
        let (record, owner) = (&tenant.record, &tenant.owner);
        if !subscription_is_owners(record, owner, subscription, customer.as_deref()) {
            let requester = Identity::of_event(customer.as_deref(), None, None);
            let requester = format!("{requester} (subscription {subscription})");
            held_for = Some(held(&name, &owner.to_string(), &requester));
            continue;
        }
        let own = record.stripe_subscription_id.as_deref();
        let step = grace_step(GraceFacts {
            archived: record.archived,
            own_subscription: own == Some(subscription),
            has_subscription: own.is_some(),
            created,
            values_at: tenant.values_at,
            decided_archived: fact.archived,
        });
        let renewed = match step {
            GraceStep::Nothing => false,
            GraceStep::Schedule => {
                let ended = fact.decided_at.unwrap_or(created);
                if let Some((_, due)) =
                    grace::schedule(db, &name, Some(subscription), event_id, ended, grace).await?
                {
                    scheduled.push(format!("{name} (archive due {due})"));
                }
                false
            }
            GraceStep::Cancel => {
                let cancelled = grace::cancel(db, &name, event_id).await?;
                if cancelled {
                    renewals.push(format!("{name}: grace period cancelled"));
                }
                cancelled
            }
            GraceStep::Restore => {
                grace::cancel(db, &name, event_id).await?;
                store::set_archived(db, &name, false, event_id).await?;
                grace::mark_returning(db, &name).await?;
                store::enqueue(db, JobKind::Publish, &name).await?;
                renewals.push(format!("{name}: restored"));
                true
            }
        };
        // A live subscription of the owner that renewed the tenant becomes its subscription, so
        // that the end of the one it replaced no longer concerns it.
        if renewed && own != Some(subscription) {
            grace::adopt_subscription(db, &name, subscription).await?;
            store::enqueue(db, JobKind::Publish, &name).await?;
        }
    }
    let outcome = match held_for {
        Some(held) => {
            store::enqueue(db, JobKind::AdminEvent, event_id).await?;
            held
        }
        None if !scheduled.is_empty() => format!("grace period started: {}", scheduled.join(", ")),
        None if !renewals.is_empty() => renewals.join(", "),
        None => format!("recorded subscription status {status}"),
    };
    store::set_outcome(db, event_id, &outcome).await?;
    Ok(Outcome::Done)
}

/// The outcome of a held event; the admin's email quotes it, naming both parties.
fn held(subdomain: &str, owner: &str, requester: &str) -> String {
    format!("held: subdomain {subdomain} belongs to {owner}; requested by {requester}")
}
