//! The rules of the typed values: subdomain, orchestra name and contact email.

use unicode_normalization::UnicodeNormalization;

use crate::chars::first_refused;
use crate::error::{Field, TenantError};
use crate::lists::RESERVED_SUBDOMAINS;

/// Longest orchestra name, in characters (see [`char_count`]).
pub const ORCHESTRA_NAME_MAX_CHARS: usize = 256;

/// Longest contact email, in characters (see [`char_count`]).
pub const CONTACT_EMAIL_MAX_CHARS: usize = 254;

/// The length of `text` in characters as Terraform counts them: code points after normalising to
/// NFC, which Terraform applies to every string it reads (so `e` + U+0301 counts as one `é`).
pub fn char_count(text: &str) -> usize {
    text.nfc().count()
}

/// A DNS label of 3-63 characters `[a-z0-9-]`, no leading/trailing hyphen, no `--` at positions 3-4
/// (reserved for IDNA `xn--`), not one of [`RESERVED_SUBDOMAINS`].
pub fn validate_subdomain(subdomain: &str) -> Result<(), TenantError> {
    let fail = |what: String| Err(TenantError::new(Field::Subdomain, what));
    let bytes = subdomain.as_bytes();
    let allowed = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-';
    if bytes.len() < 3 || bytes.len() > 63 {
        return fail(format!(
            "subdomain {subdomain:?} must be 3 to 63 characters long (it has {})",
            subdomain.chars().count()
        ));
    }
    if !bytes.iter().all(allowed) {
        return fail(format!(
            "subdomain {subdomain:?} may only contain lowercase letters, digits and '-'"
        ));
    }
    if bytes[0] == b'-' || bytes[bytes.len() - 1] == b'-' {
        return fail(format!(
            "subdomain {subdomain:?} must start and end with a letter or digit"
        ));
    }
    if bytes.get(2..4) == Some(b"--".as_slice()) {
        return fail(format!(
            "subdomain {subdomain:?} must not have '--' at positions 3-4 (reserved for names such as \"xn--\")"
        ));
    }
    if RESERVED_SUBDOMAINS.contains(&subdomain) {
        return fail(format!(
            "subdomain {subdomain:?} is reserved; choose another"
        ));
    }
    Ok(())
}

/// Free text of 1-256 characters, not blank, without any refused character
/// ([`crate::chars::REFUSED`]: control, format, separator, private-use, noncharacters, fillers).
pub fn validate_orchestra_name(name: &str) -> Result<(), TenantError> {
    let count = char_count(name);
    if count == 0 || count > ORCHESTRA_NAME_MAX_CHARS {
        return Err(TenantError::new(
            Field::OrchestraName,
            format!(
                "orchestra_name must be 1 to {ORCHESTRA_NAME_MAX_CHARS} characters long (it has {count})"
            ),
        ));
    }
    refuse_characters(Field::OrchestraName, name)?;
    if name.trim().is_empty() {
        return Err(TenantError::new(
            Field::OrchestraName,
            "orchestra_name must not be blank".into(),
        ));
    }
    Ok(())
}

/// An address `local@domain`: at most 254 characters, exactly one `@`, a non-empty local part, a
/// domain of two or more non-empty dot-separated labels, no white space and no refused character.
pub fn validate_contact_email(email: &str) -> Result<(), TenantError> {
    let count = char_count(email);
    if count > CONTACT_EMAIL_MAX_CHARS {
        return Err(TenantError::new(
            Field::ContactEmail,
            format!(
                "contact_email must be at most {CONTACT_EMAIL_MAX_CHARS} characters long (it has {count})"
            ),
        ));
    }
    refuse_characters(Field::ContactEmail, email)?;
    let well_formed = !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.split('.').count() >= 2
                && domain.split('.').all(|label| !label.is_empty())
        });
    if well_formed {
        return Ok(());
    }
    Err(TenantError::new(
        Field::ContactEmail,
        format!(
            "contact_email {email:?} is not a valid email address: write it as name@example.org (one @, a domain with a dot, no spaces)"
        ),
    ))
}

fn refuse_characters(field: Field, text: &str) -> Result<(), TenantError> {
    match first_refused(text) {
        None => Ok(()),
        Some((at, c, class)) => Err(TenantError::new(
            field,
            format!(
                "{field} must not contain {class}: found U+{:04X} at character {}; remove it",
                c as u32,
                at + 1
            ),
        )),
    }
}
