//! Who owns a tenant, and whether an event speaks for the owner.
//!
//! The owner is fixed by the first paid provisioning: its Stripe customer when the checkout had one,
//! else the guest's normalised email together with the checkout session id. An email alone proves
//! nothing (anyone can type one at a guest checkout), so a guest is known by the session it paid in.
//! Later events of the same identity may change the tenant; any other identity is held. Only an admin
//! links a guest tenant to a customer ([`link_owner`](crate::store::link_owner)).

use std::fmt;

/// A party in Stripe: the owner of a tenant, or the party an event speaks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// Stripe customer (`cus_…`).
    pub customer: Option<String>,
    /// Normalised email (see [`normalise_email`]).
    pub email: Option<String>,
    /// Checkout Session (`cs_…`) the tenant was paid in.
    pub session: Option<String>,
}

/// Trimmed and lower-cased, so `Alice@Example.org ` and `alice@example.org` are one email.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

impl Identity {
    /// The party behind a checkout or subscription event.
    pub fn of_event(customer: Option<&str>, email: Option<&str>, session: Option<&str>) -> Self {
        Self {
            customer: customer.map(str::to_owned),
            email: email.map(normalise_email),
            session: session.map(str::to_owned),
        }
    }

    /// True when `requester` is this owner: the same customer, or the very checkout session that
    /// made the tenant (its later events may carry a customer Stripe created meanwhile).
    pub fn admits(&self, requester: &Identity) -> bool {
        let same_session = self.session.is_some() && self.session == requester.session;
        match &self.customer {
            Some(customer) => requester.customer.as_ref() == Some(customer) || same_session,
            None => {
                let emails_agree = match (&self.email, &requester.email) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                };
                same_session && emails_agree
            }
        }
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let session = self.session.as_deref().unwrap_or("-");
        match (&self.customer, &self.email) {
            (Some(c), _) => write!(f, "customer {c}"),
            (None, Some(e)) => write!(f, "guest {e} (checkout session {session})"),
            (None, None) => write!(f, "guest without email (checkout session {session})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(c: Option<&str>, e: Option<&str>, s: Option<&str>) -> Identity {
        Identity::of_event(c, e, s)
    }

    #[test]
    fn customers_are_known_by_id_guests_by_email_and_session() {
        let customer = id(Some("cus_a"), Some("a@x.org"), Some("cs_1"));
        assert!(customer.admits(&id(Some("cus_a"), Some("other@x.org"), Some("cs_9"))));
        assert!(
            customer.admits(&id(None, None, Some("cs_1"))),
            "its own checkout"
        );
        assert!(!customer.admits(&id(Some("cus_b"), Some("a@x.org"), Some("cs_2"))));
        assert!(!customer.admits(&id(None, Some("a@x.org"), Some("cs_2"))));

        let guest = id(None, Some(" Alice@X.org"), Some("cs_1"));
        assert_eq!(guest.email.as_deref(), Some("alice@x.org"));
        assert!(guest.admits(&id(None, Some("ALICE@x.org"), Some("cs_1"))));
        assert!(guest.admits(&id(Some("cus_new"), Some("alice@x.org"), Some("cs_1"))));
        assert!(
            !guest.admits(&id(None, Some("alice@x.org"), Some("cs_2"))),
            "same email, other session"
        );
        assert!(
            !guest.admits(&id(None, Some("bob@x.org"), Some("cs_1"))),
            "session reused by another email"
        );
        assert!(!guest.admits(&id(Some("cus_a"), Some("alice@x.org"), None)));
        assert!(
            !id(None, Some("a@x.org"), None).admits(&id(None, Some("a@x.org"), None)),
            "no session, no proof"
        );
        assert!(guest.to_string().contains("alice@x.org") && guest.to_string().contains("cs_1"));
        assert_eq!(customer.to_string(), "customer cus_a");
    }
}
