//! Checks on tenant values: the provider applies the same rules as the bridge (crate `stagesub-tenant`),
//! so a tenant file the bridge writes is never refused at plan, and a hand-written one is held to them.

pub use stagesub_tenant::RESERVED_SUBDOMAINS;

/// [`stagesub_tenant::validate_subdomain`], its error as the message.
pub fn subdomain(value: &str) -> Result<(), String> {
    Ok(stagesub_tenant::validate_subdomain(value)?)
}

/// [`stagesub_tenant::validate_orchestra_name`], its error as the message.
pub fn orchestra_name(value: &str) -> Result<(), String> {
    Ok(stagesub_tenant::validate_orchestra_name(value)?)
}
