//! Reading a verified body: the envelope at intake (`event::parse_envelope`), the whole event as the
//! worker reads it from the stored body (`event::read_stored`), what it means (`event::meaning`) and the
//! tenant values of its object (`tenant::values_from_stripe_object` + `validate`).
//!
//! Input: the raw request body. Checks: never a panic; an accepted envelope has the fields it promises;
//! tenant values that pass validation obey the shared rules and are exactly the body's own strings.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use stagesub_bridge::event::{Meaning, meaning, parse_envelope, read_stored};
use stagesub_bridge::tenant::{Tenant, values_from_stripe_object};

fn check_values(values: &Tenant, object: &Value) {
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
    assert!(event.body == body, "the raw body is kept byte-exact");
    // What the worker later reads from the stored body: the same envelope.
    let event = read_stored(
        event.id.clone(),
        event.event_type.clone(),
        event.created,
        event.body,
    );
    if event.payload.is_null() {
        // Intake accepted a body the worker cannot read as a tree (e.g. a number beyond f64):
        // it must be reported, never acted on.
        assert!(matches!(meaning(&event), Meaning::Invalid(_)));
        return;
    }
    if !event.event_type.contains('\u{fffd}') {
        assert_eq!(
            event.payload.get("type").and_then(Value::as_str),
            Some(event.event_type.as_str())
        );
    }
    assert_eq!(
        event.payload.get("created").and_then(Value::as_i64),
        Some(event.created)
    );
    let object = event.payload.pointer("/data/object").expect("data.object");
    assert!(object.is_object());

    if let Ok(values) = values_from_stripe_object(object)
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
                assert!(values.validate().is_ok());
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
        Meaning::Invalid(reason) => assert!(!reason.is_empty()),
        Meaning::Ignored => {}
    }
});
