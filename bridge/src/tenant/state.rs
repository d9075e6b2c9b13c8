//! The tenant's lifecycle rules, as pure functions of the facts (the worker applies their decisions).
//!
//! Events arrive in any order, so the store keeps, per subscription, the latest *decisive* fact ordered
//! by the event's `created` time; a tenant is archived when that fact says so, whichever of checkout and
//! cancellation arrived first. Values come from the newest checkout; a subdomain never changes owner.

use super::TenantRecord;

/// What to do with a paid checkout for a subdomain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckoutDecision {
    /// Record the values and publish the tenant file.
    Save,
    /// The file would not change (a repeated or equivalent delivery).
    Unchanged,
    /// A newer checkout already set the values; this late delivery changes nothing.
    Superseded,
    /// The subdomain belongs to another Stripe customer: hold the request and tell the admin.
    Hold,
}

/// Decides a checkout for `incoming` (event created at `created`) given the stored tenant, if any,
/// whose values were set by an event created at `existing_values_at`.
pub fn checkout_decision(
    existing: Option<(&TenantRecord, i64)>,
    incoming: &TenantRecord,
    created: i64,
) -> CheckoutDecision {
    let Some((current, values_at)) = existing else {
        return CheckoutDecision::Save;
    };
    let owner = current.stripe_customer_id.as_deref();
    if owner.is_some() && owner != incoming.stripe_customer_id.as_deref() {
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

/// The archived flag a tenant should get from its subscription's latest decisive fact, when that
/// changes it. A tenant found only through `metadata.subdomain` counts only if it is the customer's.
pub fn archive_change(
    tenant: &TenantRecord,
    subscription: &str,
    customer: Option<&str>,
    decided_archived: Option<bool>,
) -> Option<bool> {
    let ours = tenant.stripe_subscription_id.as_deref() == Some(subscription)
        || (tenant.stripe_customer_id.is_some()
            && tenant.stripe_customer_id.as_deref() == customer);
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
            values: crate::tenant::TenantValues {
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

    #[test]
    fn checkouts() {
        let a = record("cus_a", "A");
        assert_eq!(checkout_decision(None, &a, 10), CheckoutDecision::Save);
        assert_eq!(
            checkout_decision(Some((&a, 10)), &a, 10),
            CheckoutDecision::Unchanged
        );
        assert_eq!(
            checkout_decision(Some((&a, 10)), &record("cus_a", "A2"), 11),
            CheckoutDecision::Save
        );
        assert_eq!(
            checkout_decision(Some((&a, 10)), &record("cus_a", "A0"), 9),
            CheckoutDecision::Superseded
        );
        assert_eq!(
            checkout_decision(Some((&a, 10)), &record("cus_b", "B"), 99),
            CheckoutDecision::Hold
        );
    }

    #[test]
    fn archive_changes() {
        let a = record("cus_a", "A");
        assert_eq!(archive_change(&a, "sub_1", None, Some(true)), Some(true));
        assert_eq!(archive_change(&a, "sub_1", None, Some(false)), None);
        assert_eq!(archive_change(&a, "sub_1", None, None), None);
        assert_eq!(
            archive_change(&a, "sub_2", Some("cus_a"), Some(true)),
            Some(true)
        );
        assert_eq!(
            archive_change(&a, "sub_2", Some("cus_b"), Some(true)),
            None,
            "someone else's subscription"
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
