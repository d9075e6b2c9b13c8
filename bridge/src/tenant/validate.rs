//! Validation of customer-supplied tenant values: the shared rules of crate `stagesub-tenant`, so the
//! bridge refuses exactly what the provider and `modules/orchestra` would refuse.

pub use stagesub_tenant::{
    ALLOWED_PLANS, RESERVED_SUBDOMAINS, SMART_REGION_GROUPS, SUPABASE_REGIONS,
    validate_contact_email, validate_orchestra_name, validate_plan, validate_region,
    validate_subdomain,
};
