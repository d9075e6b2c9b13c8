//! Reading Stripe events: the envelope every event must have, and what the handled types mean for a
//! tenant. Only the fields used are read, so events of any API version are understood.

use serde_json::Value;

use crate::store::StoredEvent;
use crate::tenant::TenantValues;

/// Parses a verified body into the stored form; the error says what makes it not a Stripe event.
pub fn parse_envelope(body: &[u8]) -> Result<StoredEvent, String> {
    let payload: Value =
        serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
    let id = payload
        .get("id")
        .and_then(Value::as_str)
        .ok_or("event has no string id")?;
    if !id.starts_with("evt_") || id.len() > 255 {
        return Err("event id must look like evt_…".into());
    }
    if payload.get("object").and_then(Value::as_str) != Some("event") {
        return Err("object is not \"event\"".into());
    }
    let event_type = payload
        .get("type")
        .and_then(Value::as_str)
        .ok_or("event has no type")?;
    let created = payload
        .get("created")
        .and_then(Value::as_i64)
        .ok_or("event has no numeric created time")?;
    if !payload
        .pointer("/data/object")
        .is_some_and(Value::is_object)
    {
        return Err("event has no data.object".into());
    }
    Ok(StoredEvent {
        id: id.to_owned(),
        event_type: event_type.to_owned(),
        created,
        payload,
    })
}

/// What an event says about tenants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Meaning {
    /// A paid checkout: provision (or update) the tenant.
    Provision {
        /// Values from the session, or why they are unusable.
        values: Result<TenantValues, String>,
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

/// Reads the meaning of an event.
pub fn meaning(event: &StoredEvent) -> Meaning {
    let Some(object) = event.payload.pointer("/data/object") else {
        return Meaning::Ignored;
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
            Meaning::Provision {
                values: TenantValues::from_stripe_object(object)
                    .and_then(|v| v.validate().map(|()| v)),
                customer: text(object, "customer"),
                subscription: text(object, "subscription"),
                session: text(object, "id"),
            }
        }
        "customer.subscription.updated" | "customer.subscription.deleted" => {
            let (Some(subscription), Some(status)) = (text(object, "id"), text(object, "status"))
            else {
                return Meaning::Ignored;
            };
            Meaning::SubscriptionStatus {
                subscription,
                customer: text(object, "customer"),
                status,
                subdomain: object
                    .pointer("/metadata/subdomain")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            }
        }
        _ => Meaning::Ignored,
    }
}
