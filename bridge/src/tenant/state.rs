//! The tenant's lifecycle rules, as pure functions of the facts (the worker applies their decisions).
//!
//! Events arrive in any order, so the store keeps, per subscription, the latest *decisive* fact ordered
//! by the event's `created` time; a tenant is archived when that fact says so, whichever of checkout and
//! cancellation arrived first. Values come from the newest checkout of the owner; a subdomain never
//! changes owner through an event ([`Identity`]): another identity's request is held, whenever it was
//! created (a late, older event does not steal a tenant either).

use super::{Identity, TenantRecord};

/// What to do with a paid checkout for a subdomain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckoutDecision {
    /// Record the values and publish the tenant file.
    Save,
    /// The file would not change (a repeated or equivalent delivery).
    Unchanged,
    /// A newer checkout already set the values; this late delivery changes nothing.
    Superseded,
    /// The subdomain belongs to another identity: hold the request and tell the admin.
    Hold,
}

/// Decides a checkout for `incoming` from `requester` (event created at `created`) given the stored
/// tenant, if any: its record, the created time of the event that set its values, and its owner.
pub fn checkout_decision(
    existing: Option<(&TenantRecord, i64, &Identity)>,
    incoming: &TenantRecord,
    requester: &Identity,
    created: i64,
) -> CheckoutDecision {
    let Some((current, values_at, owner)) = existing else {
        return CheckoutDecision::Save;
    };
    if !owner.admits(requester) {
        return CheckoutDecision::Hold;
    }
    if values_at > created {
        return CheckoutDecision::Superseded;
    }
    let same_file = current.values == incoming.values
        && current.archived == incoming.archived
        && current.stripe_customer_id == incoming.stripe_customer_id
        && current.stripe_subscription_id == incoming.stripe_subscription_id;
    if same_file {
        CheckoutDecision::Unchanged
    } else {
        CheckoutDecision::Save
    }
}

/// True when a subscription event speaks for the tenant's owner: the tenant is on that subscription,
/// or the owner is that subscription's customer. Otherwise (a tenant found only through another
/// party's `metadata.subdomain`) the event is held.
pub fn subscription_is_owners(
    tenant: &TenantRecord,
    owner: &Identity,
    subscription: &str,
    customer: Option<&str>,
) -> bool {
    tenant.stripe_subscription_id.as_deref() == Some(subscription)
        || (owner.customer.is_some() && owner.customer.as_deref() == customer)
}

/// The archived flag a tenant should get from its subscription's latest decisive fact, when that
/// changes it; never for a subscription that is not the owner's ([`subscription_is_owners`]).
/// The worker goes through [`grace_step`](super::grace_step) instead, which puts a grace period
/// before an archive and lets a tenant follow its own subscription.
pub fn archive_change(
    tenant: &TenantRecord,
    owner: &Identity,
    subscription: &str,
    customer: Option<&str>,
    decided_archived: Option<bool>,
) -> Option<bool> {
    let ours = subscription_is_owners(tenant, owner, subscription, customer);
    decided_archived.filter(|a| ours && *a != tenant.archived)
}

/// What a subscription status says about the tenant's database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionDecision {
    /// Pause the database (data kept): the subscription ended or is not being paid.
    Archive,
    /// Serve the database: the subscription is live.
    Restore,
    /// Not decisive (e.g. `past_due` while Stripe retries the payment): keep whatever holds.
    Keep,
}

impl SubscriptionDecision {
    /// `Some(archived)` for decisive facts, `None` for [`SubscriptionDecision::Keep`].
    pub fn archived(self) -> Option<bool> {
        match self {
            Self::Archive => Some(true),
            Self::Restore => Some(false),
            Self::Keep => None,
        }
    }
}

/// Maps a Stripe subscription `status` to a decision.
pub fn subscription_decision(status: &str) -> SubscriptionDecision {
    match status {
        "canceled" | "unpaid" | "paused" | "incomplete_expired" => SubscriptionDecision::Archive,
        "active" | "trialing" => SubscriptionDecision::Restore,
        // past_due, incomplete, and statuses Stripe may add later.
        _ => SubscriptionDecision::Keep,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(customer: &str, name: &str) -> TenantRecord {
        TenantRecord {
            values: crate::tenant::Tenant {
                subdomain: "abc".into(),
                orchestra_name: name.into(),
                contact_email: None,
                plan: None,
                region: None,
            },
            archived: false,
            stripe_customer_id: Some(customer.into()),
            stripe_subscription_id: Some("sub_1".into()),
            source_event_id: None,
            checkout_session_id: None,
        }
    }

    fn customer(c: &str) -> Identity {
        Identity::of_event(Some(c), None, None)
    }

    #[test]
    fn checkouts() {
        let a = record("cus_a", "A");
        let owner = customer("cus_a");
        let existing = Some((&a, 10, &owner));
        let by_a = customer("cus_a");
        assert_eq!(
            checkout_decision(None, &a, &by_a, 10),
            CheckoutDecision::Save
        );
        assert_eq!(
            checkout_decision(existing, &a, &by_a, 10),
            CheckoutDecision::Unchanged
        );
        assert_eq!(
            checkout_decision(existing, &record("cus_a", "A2"), &by_a, 11),
            CheckoutDecision::Save
        );
        assert_eq!(
            checkout_decision(existing, &record("cus_a", "A0"), &by_a, 9),
            CheckoutDecision::Superseded
        );
        for created in [99, 1] {
            assert_eq!(
                checkout_decision(existing, &record("cus_b", "B"), &customer("cus_b"), created),
                CheckoutDecision::Hold,
                "newer or older, another identity is held"
            );
        }
        let guest = Identity::of_event(None, Some("g@x.org"), Some("cs_1"));
        let g = Some((&a, 10, &guest));
        let other_session = Identity::of_event(None, Some("g@x.org"), Some("cs_2"));
        assert_eq!(
            checkout_decision(g, &a, &other_session, 11),
            CheckoutDecision::Hold
        );
        assert_eq!(
            checkout_decision(g, &a, &customer("cus_a"), 11),
            CheckoutDecision::Hold
        );
    }

    #[test]
    fn archive_changes() {
        let a = record("cus_a", "A");
        let o = customer("cus_a");
        assert_eq!(
            archive_change(&a, &o, "sub_1", None, Some(true)),
            Some(true)
        );
        assert_eq!(archive_change(&a, &o, "sub_1", None, Some(false)), None);
        assert_eq!(archive_change(&a, &o, "sub_1", None, None), None);
        assert_eq!(
            archive_change(&a, &o, "sub_2", Some("cus_a"), Some(true)),
            Some(true)
        );
        assert_eq!(
            archive_change(&a, &o, "sub_2", Some("cus_b"), Some(true)),
            None,
            "someone else's subscription"
        );
        let guest = Identity::of_event(None, Some("g@x.org"), Some("cs_1"));
        let mut g = record("cus_a", "G");
        g.stripe_subscription_id = None;
        assert!(!subscription_is_owners(&g, &guest, "sub_9", Some("cus_a")));
        assert_eq!(
            archive_change(&g, &guest, "sub_9", Some("cus_a"), Some(true)),
            None
        );
    }

    #[test]
    fn statuses_map_to_decisions() {
        for s in ["canceled", "unpaid", "paused", "incomplete_expired"] {
            assert_eq!(
                subscription_decision(s),
                SubscriptionDecision::Archive,
                "{s}"
            );
        }
        for s in ["active", "trialing"] {
            assert_eq!(
                subscription_decision(s),
                SubscriptionDecision::Restore,
                "{s}"
            );
        }
        for s in ["past_due", "incomplete", "something_new"] {
            assert_eq!(subscription_decision(s), SubscriptionDecision::Keep, "{s}");
        }
    }
}
