//! The enumerated values: reserved subdomains, plans, Supabase regions and smart region groups.

use crate::error::{Field, TenantError};

/// Subdomains that belong to the product itself and are never given to a tenant.
pub const RESERVED_SUBDOMAINS: &[&str] = &[
    "www",
    "api",
    "admin",
    "app",
    "mail",
    "static",
    "status",
    "supabase",
    "ftp",
    "smtp",
    "imap",
    "pop",
    "root",
    "dashboard",
    "auth",
    "login",
    "billing",
    "docs",
    "help",
    "support",
    "blog",
    "dev",
    "test",
    "staging",
    "ns1",
    "ns2",
    "localhost",
    "cdn",
    "assets",
    "webhooks",
    "bridge",
    "stagesub",
];

/// Plans a tenant may be on.
pub const ALLOWED_PLANS: &[&str] = &["free", "pro", "enterprise"];

/// Supabase region codes (the Management API's `region` enum).
pub const SUPABASE_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "sa-east-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-east-1",
];

/// Supabase smart region groups: Supabase picks a region inside the group.
pub const SMART_REGION_GROUPS: &[&str] = &["americas", "emea", "apac"];

/// One of [`ALLOWED_PLANS`].
pub fn validate_plan(plan: &str) -> Result<(), TenantError> {
    if ALLOWED_PLANS.contains(&plan) {
        return Ok(());
    }
    Err(TenantError::new(
        Field::Plan,
        format!("plan {plan:?} is not one of {}", ALLOWED_PLANS.join(", ")),
    ))
}

/// One of [`SUPABASE_REGIONS`] or [`SMART_REGION_GROUPS`].
pub fn validate_region(region: &str) -> Result<(), TenantError> {
    if SUPABASE_REGIONS.contains(&region) || SMART_REGION_GROUPS.contains(&region) {
        return Ok(());
    }
    Err(TenantError::new(
        Field::Region,
        format!(
            "region {region:?} is not a Supabase region ({}) or smart group ({})",
            SUPABASE_REGIONS.join(", "),
            SMART_REGION_GROUPS.join(", ")
        ),
    ))
}
