//! A tenant and the rules its values follow, in one place so that the bridge (which refuses bad
//! Stripe metadata before it reaches Git), gitops (which refuses to publish a bad subdomain) and the
//! provider (which refuses bad configuration at plan) agree.
//!
//! - [`Tenant`]: subdomain, orchestra name, contact email, plan and region, with
//!   [`Tenant::validate`] (first failure) and [`Tenant::errors`] (all of them).
//! - [`Field`] names each value; [`Field::validate`] and the `validate_*` functions check one value,
//!   and every failure is a [`TenantError`] that names its field and says what to fix.
//! - [`chars`]: the characters no free-text value may contain (controls, bidi and other format
//!   characters, separators, private use, noncharacters, invisible fillers), as explicit ranges.
//! - The enumerations: [`RESERVED_SUBDOMAINS`], [`ALLOWED_PLANS`], [`SUPABASE_REGIONS`],
//!   [`SMART_REGION_GROUPS`] (the Supabase client uses these too).
//!
//! `modules/orchestra/variables.tf` repeats the rules as Terraform `validation` blocks;
//! `tests/module_rules.rs` runs one table of values through this crate and through real Terraform
//! (1.0 and the newest) and asserts the same verdicts.

pub mod chars;
mod error;
mod lists;
mod tenant;
mod text;

pub use error::{Field, TenantError};
pub use lists::{
    ALLOWED_PLANS, RESERVED_SUBDOMAINS, SMART_REGION_GROUPS, SUPABASE_REGIONS, validate_plan,
    validate_region,
};
pub use tenant::Tenant;
pub use text::{
    CONTACT_EMAIL_MAX_CHARS, ORCHESTRA_NAME_MAX_CHARS, char_count, validate_contact_email,
    validate_orchestra_name, validate_subdomain,
};

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
            let err = validate_subdomain(bad).unwrap_err();
            assert_eq!(err.field(), Field::Subdomain, "{bad}");
            assert!(err.message().starts_with("subdomain "), "{err}");
        }
    }

    #[test]
    fn names_plans_regions() {
        assert!(validate_orchestra_name("Berliner \"Phil\" ${x}").is_ok());
        assert!(validate_orchestra_name(&"é".repeat(256)).is_ok());
        assert!(validate_orchestra_name(&"é".repeat(257)).is_err());
        // Decomposed, as Terraform reads it: 256 characters after NFC.
        assert!(validate_orchestra_name(&"e\u{301}".repeat(256)).is_ok());
        assert!(validate_orchestra_name("a\nb").is_err());
        assert!(validate_orchestra_name("").is_err());
        assert!(validate_orchestra_name(" \u{3000} ").is_err());
        assert!(validate_plan("pro").is_ok() && validate_plan("gold").is_err());
        assert!(validate_region("emea").is_ok() && validate_region("eu-central-1").is_ok());
        assert!(validate_region("mars-1").is_err());
        assert!(
            validate_contact_email("a@b.co").is_ok() && validate_contact_email("a b@c.d").is_err()
        );
    }

    #[test]
    fn bidi_and_invisible_characters_are_refused_with_their_position() {
        let err = validate_orchestra_name("Bach \u{202E}muileggoC").unwrap_err();
        assert_eq!(err.field(), Field::OrchestraName);
        assert!(err.message().contains("U+202E at character 6"), "{err}");
        assert!(err.message().contains("format character"), "{err}");
        for bad in [
            "a\u{2066}b",
            "a\u{2028}b",
            "a\u{200B}b",
            "\u{FEFF}a",
            "a\u{3164}",
        ] {
            assert!(validate_orchestra_name(bad).is_err(), "{bad:?}");
            assert!(
                validate_contact_email(&format!("x{bad}@b.co")).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn emails() {
        for ok in [
            "a@b.co",
            "first.last+tag@sub.example.org",
            "jürgen@müller.de",
        ] {
            assert!(validate_contact_email(ok).is_ok(), "{ok}");
        }
        let long = format!("{}@example.org", "x".repeat(243));
        for bad in [
            "",
            "nope",
            "@b.co",
            "a@b",
            "a@@b.co",
            "a@b@c.co",
            "a@b.",
            "a@.b",
            "a@b..c",
            "a\t@b.co",
            "a\u{A0}b@c.de",
            &long,
        ] {
            let err = validate_contact_email(bad).unwrap_err();
            assert_eq!(err.field(), Field::ContactEmail, "{bad}");
        }
        assert!(validate_contact_email(&long[1..]).is_ok());
    }

    #[test]
    fn tenant_validates_every_set_value_and_names_the_field() {
        let mut tenant = Tenant::new("bach-collegium", "Bach Collegium");
        assert_eq!(tenant.validate(), Ok(()));
        tenant.plan = Some("gold".into());
        tenant.contact_email = Some("nope".into());
        let fields: Vec<Field> = tenant.errors().iter().map(TenantError::field).collect();
        assert_eq!(fields, [Field::ContactEmail, Field::Plan]);
        assert_eq!(tenant.validate().unwrap_err().field(), Field::ContactEmail);
        assert_eq!(
            Field::from_name("orchestra_name"),
            Some(Field::OrchestraName)
        );
        assert_eq!(Field::from_name("archived"), None);
        let message: String = Field::Region.validate("mars-1").unwrap_err().into();
        assert!(message.starts_with("region \"mars-1\""), "{message}");
    }
}
