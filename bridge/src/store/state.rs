//! Tenant states as a Rust enum, stored as text that a CHECK constraint limits to the same names.

use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

/// Where a tenant is between Stripe and a ready database (`tenants.state`, checked by the database).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantState {
    /// Values recorded; the tenant file is (re)being published.
    Publishing,
    /// The tenant file is in the infra repository; CI has not called back yet.
    Published,
    /// CI reported the database ready.
    Ready,
    /// CI reported that provisioning failed.
    Failed,
}

impl TenantState {
    /// Every state, in lifecycle order.
    pub const ALL: [TenantState; 4] = [
        TenantState::Publishing,
        TenantState::Published,
        TenantState::Ready,
        TenantState::Failed,
    ];

    /// The name stored in `tenants.state`.
    pub fn as_str(self) -> &'static str {
        match self {
            TenantState::Publishing => "publishing",
            TenantState::Published => "published",
            TenantState::Ready => "ready",
            TenantState::Failed => "failed",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl std::fmt::Display for TenantState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ToSql for TenantState {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        self.as_str().to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        <&str as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for TenantState {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let name = <&str as FromSql>::from_sql(ty, raw)?;
        Self::parse(name).ok_or_else(|| format!("unknown tenant state {name:?}").into())
    }

    fn accepts(ty: &Type) -> bool {
        <&str as FromSql>::accepts(ty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_the_check_constraint() {
        for s in TenantState::ALL {
            assert_eq!(TenantState::parse(s.as_str()), Some(s));
            assert!(
                include_str!("schema_v2.sql").contains(&format!("'{s}'")),
                "{s} missing from tenants_state_check"
            );
        }
        assert_eq!(TenantState::parse("archived"), None);
    }
}
