//! The tenant file renderer (`render::render_tenant`, `render::quote`): what it writes parses as HCL
//! (hcl-rs, on the hcl-edit parser) and every value reads back exactly.
//!
//! Input: the record's strings and flags, drawn with `arbitrary` (any Unicode, `${`, `%{`, quotes,
//! backslashes, control characters). Checks: the file parses; exactly one `module` block labelled
//! `orchestra-<subdomain>`; every attribute evaluates to the string (or null, or bool) it was made from.

#![no_main]

use std::collections::BTreeMap;

use hcl::eval::Evaluate;
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use stagesub_bridge::render::render_tenant;
use stagesub_bridge::tenant::{Tenant, TenantRecord};

fn record(u: &mut Unstructured<'_>) -> Result<(TenantRecord, String)> {
    let mut s = || -> Result<String> { u.arbitrary() };
    let subdomain = s()?;
    let orchestra_name = s()?;
    let module_source = s()?;
    let record = TenantRecord {
        values: Tenant {
            subdomain,
            orchestra_name,
            contact_email: u.arbitrary()?,
            plan: u.arbitrary()?,
            region: u.arbitrary()?,
        },
        archived: u.arbitrary()?,
        stripe_customer_id: u.arbitrary()?,
        stripe_subscription_id: u.arbitrary()?,
        source_event_id: u.arbitrary()?,
        checkout_session_id: u.arbitrary()?,
    };
    Ok((record, module_source))
}

fn text(value: Option<&str>) -> hcl::Value {
    value.map_or(hcl::Value::Null, |s| hcl::Value::String(s.to_owned()))
}

fuzz_target!(|data: &[u8]| {
    let Ok((tenant, module_source)) = record(&mut Unstructured::new(data)) else {
        return;
    };
    let file = render_tenant(&tenant, &module_source);
    let body = hcl::parse(&file).unwrap_or_else(|e| panic!("not HCL: {e}\n{file}"));
    assert_eq!(body.attributes().count(), 0, "{file}");
    let blocks: Vec<&hcl::Block> = body.blocks().collect();
    assert_eq!(blocks.len(), 1, "{file}");
    let block = blocks[0];
    assert_eq!(block.identifier(), "module");
    let labels: Vec<&str> = block.labels().iter().map(|l| l.as_str()).collect();
    let v = &tenant.values;
    assert_eq!(labels, [format!("orchestra-{}", v.subdomain)], "{file}");

    let ctx = hcl::eval::Context::new();
    let read: BTreeMap<String, hcl::Value> = block
        .body()
        .attributes()
        .map(|a| {
            let value = a
                .expr()
                .evaluate(&ctx)
                .unwrap_or_else(|e| panic!("{}: {e}\n{file}", a.key()));
            (a.key().to_owned(), value)
        })
        .collect();
    let expected: BTreeMap<String, hcl::Value> = [
        ("source", text(Some(&module_source))),
        ("subdomain", text(Some(&v.subdomain))),
        ("orchestra_name", text(Some(&v.orchestra_name))),
        ("contact_email", text(v.contact_email.as_deref())),
        ("plan", text(v.plan.as_deref())),
        ("region", text(v.region.as_deref())),
        ("archived", hcl::Value::Bool(tenant.archived)),
        (
            "stripe_customer_id",
            text(tenant.stripe_customer_id.as_deref()),
        ),
        (
            "stripe_subscription_id",
            text(tenant.stripe_subscription_id.as_deref()),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(read, expected, "{file}");
});
