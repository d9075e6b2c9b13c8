//! Checks on tenant values, shared by the resource, the data source and the tests.

/// Subdomains that belong to the product itself.
pub const RESERVED_SUBDOMAINS: &[&str] = &[
    "www",
    "api",
    "admin",
    "app",
    "mail",
    "static",
    "status",
    "supabase",
    "auth",
    "billing",
    "blog",
    "dashboard",
    "dev",
    "docs",
    "ftp",
    "help",
    "localhost",
    "ns1",
    "ns2",
    "root",
    "smtp",
    "staging",
    "support",
    "test",
];

/// Checks a subdomain: a DNS label of 3-63 characters, lowercase letters, digits and inner hyphens,
/// no `--` at positions 3-4 (reserved for IDNA), and not reserved.
pub fn subdomain(s: &str) -> Result<(), String> {
    let ok_chars = s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let edges_ok = !s.starts_with('-') && !s.ends_with('-');
    if !(3..=63).contains(&s.len()) || !ok_chars || !edges_ok {
        return Err(format!(
            "{s:?} is not a valid subdomain: use 3 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit"
        ));
    }
    if s.get(2..4) == Some("--") {
        return Err(format!(
            "{s:?} is not a valid subdomain: \"--\" at positions 3-4 is reserved for internationalized names"
        ));
    }
    if RESERVED_SUBDOMAINS.contains(&s) {
        return Err(format!(
            "{s:?} is reserved for stagesub itself; choose another subdomain"
        ));
    }
    Ok(())
}

/// Checks an orchestra name: 1-256 characters, no control characters.
pub fn orchestra_name(s: &str) -> Result<(), String> {
    let n = s.chars().count();
    if n == 0 || n > 256 {
        return Err(format!(
            "orchestra_name must have 1 to 256 characters (it has {n})"
        ));
    }
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(format!(
            "orchestra_name must not contain control characters (found U+{:04X})",
            c as u32
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomains() {
        for good in ["abc", "berlin-phil", "a1b", &"a".repeat(63)] {
            assert!(subdomain(good).is_ok(), "{good}");
        }
        for bad in [
            "ab",
            "-abc",
            "abc-",
            "ABC",
            "a_b",
            "xn--abc",
            "www",
            "admin",
            &"a".repeat(64),
            "a.b",
        ] {
            assert!(subdomain(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names() {
        assert!(orchestra_name("Wiener Philharmoniker ♪ '); DROP TABLE x; --").is_ok());
        assert!(orchestra_name("").is_err());
        assert!(orchestra_name("a\nb").is_err());
        assert!(orchestra_name(&"é".repeat(256)).is_ok());
        assert!(orchestra_name(&"é".repeat(257)).is_err());
    }
}
