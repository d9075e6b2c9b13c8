//! Tenants: the values a customer chose at checkout, their validation, who owns a tenant ([`Identity`]),
//! and the lifecycle rules that decide whether a tenant is archived.

mod grace;
mod owner;
mod state;

pub use grace::{GraceFacts, GraceStep, grace_step};
pub use owner::{Identity, normalise_email};
pub use stagesub_tenant::{Field, Tenant, TenantError};
pub use state::{
    CheckoutDecision, SubscriptionDecision, archive_change, checkout_decision,
    subscription_decision, subscription_is_owners,
};

use serde_json::Value;

/// Why an event's tenant values cannot be used. Its `Display` is the reason recorded in the event's
/// outcome (`invalid: <reason>`) and mailed to the admin, so it names what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidValues {
    /// A metadata key the checkout must set is missing or empty (`metadata.<key> is missing`).
    #[error("metadata.{0} is missing")]
    MissingMetadata(&'static str),
    /// A value breaks the shared tenant rules.
    #[error(transparent)]
    Tenant(#[from] TenantError),
    /// A Stripe id or status holds a control character or space, or is too long.
    #[error("{key} {value:?} is not a Stripe value (control characters, spaces or too long)")]
    NotStripeWord {
        /// What the value is (`customer`, `subscription`, …).
        key: String,
        /// The value as received.
        value: String,
    },
}

/// Reads the values from a Checkout Session or Subscription object (`metadata`, customer details) and
/// checks them; the error names the missing metadata key or the value that breaks its rule.
pub fn values_from_stripe_object(object: &Value) -> Result<Tenant, InvalidValues> {
    let metadata = object.get("metadata").and_then(Value::as_object);
    let meta = |key: &str| {
        metadata
            .and_then(|m| m.get(key))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let subdomain = meta("subdomain").ok_or(InvalidValues::MissingMetadata("subdomain"))?;
    let orchestra_name = meta("orchestra_name")
        .or_else(|| meta("orchestraName"))
        .ok_or(InvalidValues::MissingMetadata("orchestra_name"))?;
    let contact_email = object
        .pointer("/customer_details/email")
        .and_then(Value::as_str)
        .or_else(|| object.get("customer_email").and_then(Value::as_str))
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let values = Tenant {
        subdomain,
        orchestra_name,
        contact_email,
        plan: meta("plan"),
        region: meta("region"),
    };
    values.validate()?;
    Ok(values)
}

/// Everything a tenant file says: the customer's values plus what the bridge tracks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRecord {
    /// The customer's values.
    pub values: Tenant,
    /// True when the subscription ended or is unpaid: the database is paused, data kept.
    pub archived: bool,
    /// Stripe customer (`cus_…`) that owns the subdomain.
    pub stripe_customer_id: Option<String>,
    /// Stripe subscription (`sub_…`), when the checkout created one.
    pub stripe_subscription_id: Option<String>,
    /// Stripe event that last changed the tenant (named in the file's header comment).
    pub source_event_id: Option<String>,
    /// Checkout Session that created the tenant.
    pub checkout_session_id: Option<String>,
}
