//! Reading a verified body: the envelope (`event::parse_envelope`), what it means (`event::meaning`)
//! and the tenant values of its object (`TenantValues::from_stripe_object` + `validate`).
//!
//! Input: the raw request body. Checks: never a panic; an accepted envelope has the fields it promises;
//! tenant values that pass validation obey the shared rules and are exactly the body's own strings.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use stagesub_bridge::event::{Meaning, meaning, parse_envelope};
use stagesub_bridge::tenant::TenantValues;

fn check_values(values: &TenantValues, object: &Value) {
    let v = values;
    let sub = &v.subdomain;
    assert!((3..=63).contains(&sub.len()), "subdomain {sub:?}");
    assert!(
        sub.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
        "subdomain {sub:?}"
    );
    assert!(
        !sub.starts_with('-') && !sub.ends_with('-'),
        "subdomain {sub:?}"
    );
    let name = &v.orchestra_name;
    assert!((1..=256).contains(&name.chars().count()), "name {name:?}");
    assert!(
        !name.trim().is_empty() && !name.chars().any(char::is_control),
        "name {name:?}"
    );
    if let Some(email) = &v.contact_email {
        assert!(email.len() <= 254 && email.contains('@'), "email {email:?}");
        assert!(
            !email.chars().any(|c| c.is_control() || c.is_whitespace()),
            "email {email:?}"
        );
    }
    // Values are the body's strings, unchanged.
    assert_eq!(
        object
            .pointer("/metadata/subdomain")
            .and_then(Value::as_str),
        Some(sub.as_str())
    );
    if let Some(plan) = &v.plan {
        assert_eq!(
            object.pointer("/metadata/plan").and_then(Value::as_str),
            Some(plan.as_str())
        );
    }
    if let Some(region) = &v.region {
        assert_eq!(
            object.pointer("/metadata/region").and_then(Value::as_str),
            Some(region.as_str())
        );
    }
}

fuzz_target!(|body: &[u8]| {
    let Ok(event) = parse_envelope(body) else {
        return;
    };
    assert!(
        event.id.starts_with("evt_") && event.id.len() <= 255,
        "id {:?}",
        event.id
    );
    assert_eq!(
        event.payload.get("type").and_then(Value::as_str),
        Some(event.event_type.as_str())
    );
    assert_eq!(
        event.payload.get("created").and_then(Value::as_i64),
        Some(event.created)
    );
    let object = event.payload.pointer("/data/object").expect("data.object");
    assert!(object.is_object());

    if let Ok(values) = TenantValues::from_stripe_object(object)
        && values.validate().is_ok()
    {
        check_values(&values, object);
    }

    match meaning(&event) {
        Meaning::Provision {
            values,
            customer,
            subscription,
            session,
        } => {
            assert!(event.event_type.starts_with("checkout.session."));
            if let Ok(values) = values {
                assert_eq!(values.validate(), Ok(()));
                check_values(&values, object);
            }
            for id in [customer, subscription, session].into_iter().flatten() {
                assert!(!id.is_empty());
            }
        }
        Meaning::AwaitPayment => {
            assert_eq!(event.event_type, "checkout.session.completed");
        }
        Meaning::SubscriptionStatus {
            subscription,
            status,
            ..
        } => {
            assert!(event.event_type.starts_with("customer.subscription."));
            assert!(!subscription.is_empty() && !status.is_empty());
        }
        Meaning::Ignored => {}
    }
});
