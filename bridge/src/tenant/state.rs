//! What a subscription status means for the tenant.
//!
//! Events arrive in any order, so the store keeps, per subscription, the latest *decisive* fact ordered
//! by the event's `created` time; a tenant is archived when that fact says so, whichever of checkout and
//! cancellation arrived first.

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
