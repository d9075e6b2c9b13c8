//! Reading Stripe events: the envelope every event must have ([`envelope`]), escapes that Postgres or
//! Rust cannot hold ([`json`]), and what the handled types mean for a tenant. Only the fields used are
//! read, so events of any API version are understood.

pub mod envelope;
pub mod json;

pub use envelope::{ReceivedEvent, parse_envelope, read_stored};

use serde_json::Value;

use crate::store::StoredEvent;
use crate::tenant::{InvalidValues, Tenant, values_from_stripe_object};

/// What an event says about tenants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Meaning {
    /// A paid checkout: provision (or update) the tenant.
    Provision {
        /// Values from the session, or why they are unusable.
        values: Result<Tenant, InvalidValues>,
        /// `cus_…`.
        customer: Option<String>,
        /// `sub_…`, when the checkout created a subscription.
        subscription: Option<String>,
        /// `cs_…`.
        session: Option<String>,
    },
    /// A checkout whose payment has not arrived yet (`payment_status: unpaid`).
    AwaitPayment,
    /// A subscription's status changed.
    SubscriptionStatus {
        /// `sub_…`.
        subscription: String,
        /// `cus_…`.
        customer: Option<String>,
        /// Stripe's status (`active`, `canceled`, …).
        status: String,
        /// `metadata.subdomain` on the subscription, if the checkout set `subscription_data.metadata`.
        subdomain: Option<String>,
    },
    /// A handled event that cannot be acted on (e.g. an id holding U+0000): recorded, the admin told.
    Invalid(String),
    /// Nothing for the bridge to do.
    Ignored,
}

fn text(object: &Value, key: &str) -> Option<String> {
    match object.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        // Expanded objects carry their id.
        Some(Value::Object(o)) => o.get("id").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

/// Stripe ids and statuses are short words; one with a control character (a NUL, or an unpaired
/// surrogate read as one) is not Stripe's and could not be stored. The error names the first such value.
fn stripe_words(values: &[(&str, Option<&str>)]) -> Result<(), InvalidValues> {
    for (key, value) in values {
        if let Some(v) = value
            && (v.len() > 255 || v.chars().any(|c| c.is_control() || c.is_whitespace()))
        {
            return Err(InvalidValues::NotStripeWord {
                key: (*key).to_owned(),
                value: (*v).to_owned(),
            });
        }
    }
    Ok(())
}

/// Reads the meaning of an event.
pub fn meaning(event: &StoredEvent) -> Meaning {
    let Some(object) = event.payload.pointer("/data/object") else {
        return if event.payload.is_null() {
            Meaning::Invalid("the stored body cannot be read as JSON".into())
        } else {
            Meaning::Ignored
        };
    };
    match event.event_type.as_str() {
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
            let status = object
                .get("payment_status")
                .and_then(Value::as_str)
                .unwrap_or("");
            if event.event_type == "checkout.session.completed"
                && !matches!(status, "paid" | "no_payment_required")
            {
                return Meaning::AwaitPayment;
            }
            let (customer, subscription, session) = (
                text(object, "customer"),
                text(object, "subscription"),
                text(object, "id"),
            );
            let ids = stripe_words(&[
                ("customer", customer.as_deref()),
                ("subscription", subscription.as_deref()),
                ("checkout session id", session.as_deref()),
            ]);
            Meaning::Provision {
                values: ids.and_then(|()| values_from_stripe_object(object)),
                customer,
                subscription,
                session,
            }
        }
        "customer.subscription.updated" | "customer.subscription.deleted" => {
            let (Some(subscription), Some(status)) = (text(object, "id"), text(object, "status"))
            else {
                return Meaning::Ignored;
            };
            let customer = text(object, "customer");
            if let Err(reason) = stripe_words(&[
                ("subscription", Some(&subscription)),
                ("customer", customer.as_deref()),
                ("status", Some(&status)),
            ]) {
                return Meaning::Invalid(reason.to_string());
            }
            Meaning::SubscriptionStatus {
                subscription,
                customer,
                status,
                // A subdomain with a NUL names no tenant (and could not be looked up).
                subdomain: object
                    .pointer("/metadata/subdomain")
                    .and_then(Value::as_str)
                    .filter(|s| !s.contains('\0'))
                    .map(str::to_owned),
            }
        }
        _ => Meaning::Ignored,
    }
}
