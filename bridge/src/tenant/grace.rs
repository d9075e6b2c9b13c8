//! The grace period between a subscription's end and the archive commit, as a pure function of the
//! facts (the worker applies the step; `store::grace` keeps the schedule).
//!
//! A decisive "ended" fact does not archive at once: it opens a grace period of `ARCHIVE_GRACE`
//! counted from the event's `created` time. A "live" fact of the owner (a renewal) closes it, or
//! restores a tenant that was archived meanwhile. Facts are the latest decisive status per
//! subscription by event time (see [`state`](super::state)), so an older `active` delivered after a
//! newer `canceled` changes nothing. A tenant follows its own subscription: the end of another of the
//! owner's subscriptions (one the owner replaced by a new checkout) does not start a grace period,
//! nor does an end older than the checkout that last set the tenant's values.

/// What a subscription's latest decisive fact does to a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraceStep {
    /// Open a grace period (kept as it is when one is already open).
    Schedule,
    /// Close an open grace period, if any: the subscription is live again.
    Cancel,
    /// The tenant is archived and the owner is back: restore it (archived = false).
    Restore,
    /// Nothing changes.
    Nothing,
}

/// Where the tenant and the event stand, for [`grace_step`]. Ownership is checked before: the event
/// is the owner's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraceFacts {
    /// The tenant's file says `archived = true`.
    pub archived: bool,
    /// The tenant's subscription, if it has one, is the event's subscription.
    pub own_subscription: bool,
    /// The tenant has a subscription at all.
    pub has_subscription: bool,
    /// The event's `created` time.
    pub created: i64,
    /// Created time of the checkout that last set the tenant's values.
    pub values_at: i64,
    /// The subscription's latest decisive fact: ended (`Some(true)`), live (`Some(false)`).
    pub decided_archived: Option<bool>,
}

/// The step a subscription event leads to.
pub fn grace_step(f: GraceFacts) -> GraceStep {
    match f.decided_archived {
        None => GraceStep::Nothing,
        Some(true) => {
            let replaced = !f.own_subscription && (f.has_subscription || f.created < f.values_at);
            if f.archived || replaced {
                GraceStep::Nothing
            } else {
                GraceStep::Schedule
            }
        }
        Some(false) if f.archived => GraceStep::Restore,
        Some(false) => GraceStep::Cancel,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(decided: Option<bool>) -> GraceFacts {
        GraceFacts {
            archived: false,
            own_subscription: true,
            has_subscription: true,
            created: 100,
            values_at: 10,
            decided_archived: decided,
        }
    }

    #[test]
    fn ends_schedule_renewals_cancel_returns_restore() {
        assert_eq!(grace_step(facts(Some(true))), GraceStep::Schedule);
        assert_eq!(grace_step(facts(Some(false))), GraceStep::Cancel);
        assert_eq!(grace_step(facts(None)), GraceStep::Nothing);
        let archived = GraceFacts {
            archived: true,
            ..facts(Some(false))
        };
        assert_eq!(grace_step(archived), GraceStep::Restore);
        assert_eq!(
            grace_step(GraceFacts {
                decided_archived: Some(true),
                ..archived
            }),
            GraceStep::Nothing,
            "already archived"
        );
    }

    #[test]
    fn a_replaced_subscription_ending_does_not_start_a_grace_period() {
        let other = GraceFacts {
            own_subscription: false,
            ..facts(Some(true))
        };
        assert_eq!(
            grace_step(other),
            GraceStep::Nothing,
            "tenant on another subscription"
        );
        let no_sub = GraceFacts {
            has_subscription: false,
            ..other
        };
        assert_eq!(
            grace_step(no_sub),
            GraceStep::Schedule,
            "newer than its checkout"
        );
        assert_eq!(
            grace_step(GraceFacts {
                created: 5,
                ..no_sub
            }),
            GraceStep::Nothing,
            "older than the checkout that renewed the tenant"
        );
        // A live subscription of the owner still brings an archived tenant back.
        assert_eq!(
            grace_step(GraceFacts {
                archived: true,
                decided_archived: Some(false),
                ..other
            }),
            GraceStep::Restore
        );
    }
}
