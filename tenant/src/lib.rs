//! The rules every tenant value follows, in one place so that the bridge (which refuses bad Stripe
//! metadata before it reaches Git) and the provider (which refuses bad configuration at plan) agree.
//! `modules/orchestra` repeats them as Terraform `validation` blocks; a test keeps its reserved list equal.

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

/// Supabase region codes.
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

/// Supabase smart region groups.
pub const SMART_REGION_GROUPS: &[&str] = &["americas", "emea", "apac"];

/// A DNS label of 3-63 characters `[a-z0-9-]`, no leading/trailing hyphen, no `--` at positions 3-4
/// (reserved for IDNA `xn--`), not reserved.
pub fn validate_subdomain(subdomain: &str) -> Result<(), String> {
    let bytes = subdomain.as_bytes();
    let allowed = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-';
    if bytes.len() < 3 || bytes.len() > 63 {
        return Err(format!(
            "subdomain {subdomain:?} must be 3 to 63 characters long (it has {})",
            subdomain.chars().count()
        ));
    }
    if !bytes.iter().all(allowed) {
        return Err(format!(
            "subdomain {subdomain:?} may only contain lowercase letters, digits and '-'"
        ));
    }
    if bytes[0] == b'-' || bytes[bytes.len() - 1] == b'-' {
        return Err(format!(
            "subdomain {subdomain:?} must start and end with a letter or digit"
        ));
    }
    if bytes.get(2..4) == Some(b"--".as_slice()) {
        return Err(format!(
            "subdomain {subdomain:?} must not have '--' at positions 3-4"
        ));
    }
    if RESERVED_SUBDOMAINS.contains(&subdomain) {
        return Err(format!(
            "subdomain {subdomain:?} is reserved; choose another"
        ));
    }
    Ok(())
}

/// Free text of 1-256 characters without control characters.
pub fn validate_orchestra_name(name: &str) -> Result<(), String> {
    let count = name.chars().count();
    if count == 0 || count > 256 {
        return Err(format!(
            "orchestra_name must be 1 to 256 characters long (it has {count})"
        ));
    }
    if name.trim().is_empty() {
        return Err("orchestra_name must not be blank".into());
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(format!(
            "orchestra_name must not contain control characters (found U+{:04X})",
            c as u32
        ));
    }
    Ok(())
}

/// A plausible address: `local@domain`, at most 254 characters, no spaces or control characters.
pub fn validate_contact_email(email: &str) -> Result<(), String> {
    let ok = email.len() <= 254
        && !email.chars().any(|c| c.is_control() || c.is_whitespace())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.contains('@')
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "contact email {email:?} is not a valid email address"
        ))
    }
}

/// One of [`ALLOWED_PLANS`].
pub fn validate_plan(plan: &str) -> Result<(), String> {
    if ALLOWED_PLANS.contains(&plan) {
        Ok(())
    } else {
        Err(format!(
            "plan {plan:?} is not one of {}",
            ALLOWED_PLANS.join(", ")
        ))
    }
}

/// A Supabase region code or smart group.
pub fn validate_region(region: &str) -> Result<(), String> {
    if SUPABASE_REGIONS.contains(&region) || SMART_REGION_GROUPS.contains(&region) {
        Ok(())
    } else {
        Err(format!(
            "region {region:?} is not a Supabase region ({}) or smart group ({})",
            SUPABASE_REGIONS.join(", "),
            SMART_REGION_GROUPS.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomains() {
        for ok in ["abc", "berlin-phil", "a1b", "x".repeat(63).as_str(), "ab-c"] {
            assert!(validate_subdomain(ok).is_ok(), "{ok}");
        }
        let long = "x".repeat(64);
        for bad in [
            "ab", "-abc", "abc-", "ABC", "a_b", "xn--abc", "ab--c", "www", "api", "", &long, "été",
        ] {
            assert!(validate_subdomain(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_plans_regions() {
        assert!(validate_orchestra_name("Berliner \"Phil\" ${x}").is_ok());
        assert!(validate_orchestra_name(&"é".repeat(256)).is_ok());
        assert!(validate_orchestra_name(&"é".repeat(257)).is_err());
        assert!(validate_orchestra_name("a\nb").is_err());
        assert!(validate_orchestra_name("").is_err());
        assert!(validate_plan("pro").is_ok() && validate_plan("gold").is_err());
        assert!(validate_region("emea").is_ok() && validate_region("eu-central-1").is_ok());
        assert!(validate_region("mars-1").is_err());
        assert!(
            validate_contact_email("a@b.co").is_ok() && validate_contact_email("a b@c.d").is_err()
        );
    }
}
