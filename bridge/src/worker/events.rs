//! Handling a stored Stripe event: turning it into tenant facts and follow-up jobs.

use tokio_postgres::Transaction;

use super::{JobError, Outcome};
use crate::event::{Meaning, meaning};
use crate::store::{self, JobKind};
use crate::tenant::{
    CheckoutDecision, Identity, Tenant, TenantRecord, archive_change, checkout_decision,
    subscription_decision, subscription_is_owners,
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
    event_id: &str,
) -> Result<Outcome, JobError> {
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
                &event.id,
                event.created,
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
                &event.id,
                event.created,
                &subscription,
                customer,
                &status,
                subdomain,
            )
            .await
        }
    }
}

async fn provision(
    db: &Transaction<'_>,
    event_id: &str,
    created: i64,
    values: Tenant,
    customer: Option<String>,
    subscription: Option<String>,
    session: Option<String>,
) -> Result<Outcome, JobError> {
    // Lock order: subscription, then tenant (as in subscription_changed).
    let mut archived = false;
    if let Some(sub) = &subscription {
        store::lock_subscription(db, sub).await?;
        if let Some(fact) = store::subscription_fact(db, sub).await? {
            archived = fact.archived.unwrap_or(false);
        }
    }
    store::lock_tenant(db, &values.subdomain).await?;
    let existing = store::load_tenant(db, &values.subdomain).await?;
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
            store::save_tenant(db, &record, created, &requester).await?;
            store::enqueue(db, JobKind::Publish, &record.values.subdomain).await?;
            "provisioned".to_owned()
        }
    };
    store::set_outcome(db, event_id, &outcome).await?;
    Ok(Outcome::Done)
}

async fn subscription_changed(
    db: &Transaction<'_>,
    event_id: &str,
    created: i64,
    subscription: &str,
    customer: Option<String>,
    status: &str,
    subdomain: Option<String>,
) -> Result<Outcome, JobError> {
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
    let mut changed = 0;
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
        let change = archive_change(
            record,
            owner,
            subscription,
            customer.as_deref(),
            fact.archived,
        );
        let Some(archived) = change else {
            continue;
        };
        store::set_archived(db, &name, archived, event_id).await?;
        store::enqueue(db, JobKind::Publish, &name).await?;
        changed += 1;
    }
    let outcome = match (held_for, decision, changed) {
        (Some(held), ..) => {
            store::enqueue(db, JobKind::AdminEvent, event_id).await?;
            held
        }
        (None, _, 0) => format!("recorded subscription status {status}"),
        (None, Some(true), _) => "archived".to_owned(),
        _ => "restored".to_owned(),
    };
    store::set_outcome(db, event_id, &outcome).await?;
    Ok(Outcome::Done)
}

/// The outcome of a held event; the admin's email quotes it, naming both parties.
fn held(subdomain: &str, owner: &str, requester: &str) -> String {
    format!("held: subdomain {subdomain} belongs to {owner}; requested by {requester}")
}
