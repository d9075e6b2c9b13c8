//! Where a project runs: a specific region code or a smart region group.

use std::fmt;

use crate::error::Error;

/// Smart region groups: Supabase picks a region inside the group.
pub const SMART_GROUPS: [&str; 3] = ["americas", "emea", "apac"];

/// Region input of [`crate::CreateProjectBody`].
///
/// A specific region is sent as `region` (accepted by every API version, the spec's own
/// example); a smart group as `region_selection: {type: "smartGroup", code}`. Never both.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Region {
    /// A region code such as `eu-central-1`.
    Specific(String),
    /// One of [`SMART_GROUPS`].
    SmartGroup(String),
}

impl Region {
    /// Parses a region code (`eu-central-1`) or smart group (`americas`, `emea`, `apac`).
    pub fn parse(input: &str) -> Result<Self, Error> {
        let s = input.trim();
        if SMART_GROUPS.contains(&s) {
            return Ok(Region::SmartGroup(s.to_owned()));
        }
        if is_region_code(s) {
            return Ok(Region::Specific(s.to_owned()));
        }
        Err(Error::InvalidInput(format!(
            "invalid Supabase region {input:?}: use a region code such as \"eu-central-1\" or \"us-east-1\", or a smart group: {}",
            SMART_GROUPS.join(", ")
        )))
    }

    /// The code as written (`eu-central-1`, `emea`).
    pub fn code(&self) -> &str {
        match self {
            Region::Specific(c) | Region::SmartGroup(c) => c,
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// `<area>-<direction>-<digit>`, lower case: `ap-southeast-2`, `eu-central-1`.
fn is_region_code(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 3
        && parts[..2]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && !parts[2].is_empty()
        && parts[2].bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_codes_and_groups() {
        assert_eq!(
            Region::parse("eu-central-1").unwrap(),
            Region::Specific("eu-central-1".into())
        );
        assert_eq!(
            Region::parse("emea").unwrap(),
            Region::SmartGroup("emea".into())
        );
        for bad in [
            "",
            "EU-CENTRAL-1",
            "europe",
            "eu-central",
            "eu--1",
            "eu-central-x",
        ] {
            let err = Region::parse(bad).unwrap_err().to_string();
            assert!(err.contains("smart group"), "{bad}: {err}");
        }
    }
}
