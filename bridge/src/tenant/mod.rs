//! Tenants: the values a customer chose at checkout, their validation, who owns a tenant ([`Identity`]),
//! and the lifecycle rules that decide whether a tenant is archived.

mod owner;
mod state;
mod validate;

pub use owner::{Identity, normalise_email};
pub use state::{
    CheckoutDecision, SubscriptionDecision, archive_change, checkout_decision,
    subscription_decision, subscription_is_owners,
};
pub use validate::{
    ALLOWED_PLANS, RESERVED_SUBDOMAINS, SMART_REGION_GROUPS, SUPABASE_REGIONS,
    validate_contact_email, validate_orchestra_name, validate_plan, validate_region,
    validate_subdomain,
};

use serde_json::Value;

/// The values written into a tenant file, as the customer typed them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantValues {
    /// DNS label under the application's domain; the tenant's key.
    pub subdomain: String,
    /// The orchestra's display name (free text).
    pub orchestra_name: String,
    /// Who receives the welcome email.
    pub contact_email: Option<String>,
    /// Plan label (`free`, `pro`, `enterprise`).
    pub plan: Option<String>,
    /// Supabase region code or smart group.
    pub region: Option<String>,
}

impl TenantValues {
    /// Checks every value; the error names the field and says what is allowed.
    pub fn validate(&self) -> Result<(), String> {
        validate_subdomain(&self.subdomain)?;
        validate_orchestra_name(&self.orchestra_name)?;
        if let Some(email) = &self.contact_email {
            validate_contact_email(email)?;
        }
        if let Some(plan) = &self.plan {
            validate_plan(plan)?;
        }
        if let Some(region) = &self.region {
            validate_region(region)?;
        }
        Ok(())
    }

    /// Reads the values from a Checkout Session or Subscription object (`metadata`, customer details).
    ///
    /// Fails with a message naming the missing metadata key.
    pub fn from_stripe_object(object: &Value) -> Result<Self, String> {
        let metadata = object.get("metadata").and_then(Value::as_object);
        let meta = |key: &str| {
            metadata
                .and_then(|m| m.get(key))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let subdomain = meta("subdomain").ok_or("metadata.subdomain is missing")?;
        let orchestra_name = meta("orchestra_name")
            .or_else(|| meta("orchestraName"))
            .ok_or("metadata.orchestra_name is missing")?;
        let contact_email = object
            .pointer("/customer_details/email")
            .and_then(Value::as_str)
            .or_else(|| object.get("customer_email").and_then(Value::as_str))
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        Ok(Self {
            subdomain,
            orchestra_name,
            contact_email,
            plan: meta("plan"),
            region: meta("region"),
        })
    }
}

/// Everything a tenant file says: the customer's values plus what the bridge tracks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRecord {
    /// The customer's values.
    pub values: TenantValues,
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
