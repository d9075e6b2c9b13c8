//! Where a project runs: a specific region code or a smart region group.

use std::fmt;

use stagesub_tenant::{SMART_REGION_GROUPS, validate_region};

use crate::error::Error;

/// Region input of [`crate::CreateProjectBody`].
///
/// A specific region is sent as `region` (accepted by every API version, the spec's own
/// example); a smart group as `region_selection: {type: "smartGroup", code}`. Never both.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Region {
    /// A region code such as `eu-central-1`.
    Specific(String),
    /// One of [`stagesub_tenant::SMART_REGION_GROUPS`].
    SmartGroup(String),
}

impl Region {
    /// Parses a region code (`eu-central-1`) or smart group (`americas`, `emea`, `apac`): the
    /// tenant rule of [`stagesub_tenant::validate_region`], so a region the bridge and the module
    /// accept is one the client sends.
    pub fn parse(input: &str) -> Result<Self, Error> {
        let s = input.trim();
        validate_region(s).map_err(|e| Error::InvalidInput(format!("invalid Supabase {e}")))?;
        if SMART_REGION_GROUPS.contains(&s) {
            Ok(Region::SmartGroup(s.to_owned()))
        } else {
            Ok(Region::Specific(s.to_owned()))
        }
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
            "eu-mars-9",
        ] {
            let err = Region::parse(bad).unwrap_err().to_string();
            assert!(err.contains("smart group"), "{bad}: {err}");
        }
    }
}
