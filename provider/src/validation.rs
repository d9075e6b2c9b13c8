//! Checks on tenant values: the provider applies the same rules as the bridge (crate `stagesub-tenant`),
//! so a tenant file the bridge writes is never refused at plan, and a hand-written one is held to them.

pub use stagesub_tenant::{
    RESERVED_SUBDOMAINS, validate_contact_email as contact_email,
    validate_orchestra_name as orchestra_name, validate_plan as plan, validate_region as region,
    validate_subdomain as subdomain,
};
