//! A tenant's status in the directory.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// Where a tenant is in its life; the `status` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Creation has started; the app cannot use the database yet.
    Provisioning,
    /// Migrations and seed succeeded: the app may route to it.
    Ready,
    /// Archived after a cancelled subscription.
    Archived,
    /// Being restored from an archive.
    Restoring,
    /// Destroyed: the row stays as a tombstone without a secret.
    Deleted,
}

impl Status {
    /// Every status, in the order of the `CHECK` constraint.
    pub const ALL: [Status; 5] = [
        Status::Provisioning,
        Status::Ready,
        Status::Archived,
        Status::Restoring,
        Status::Deleted,
    ];

    /// The value stored in the `status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Provisioning => "provisioning",
            Status::Ready => "ready",
            Status::Archived => "archived",
            Status::Restoring => "restoring",
            Status::Deleted => "deleted",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = Error;

    fn from_str(value: &str) -> Result<Self, Error> {
        Status::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "unknown status {value:?}; expected provisioning, ready, archived, restoring \
                     or deleted"
                ))
            })
    }
}

/// `subdomain`'s status as [`crate::LOOKUP_FUNCTION`] returns it (`None` when there is no row).
/// Needs only EXECUTE on the function (the reader role), no keys: the secret is not read.
pub async fn status(
    client: &tokio_postgres::Client,
    subdomain: &str,
) -> crate::Result<Option<Status>> {
    let row = client
        .query_opt(
            "SELECT status FROM stagesub_directory.lookup($1)",
            &[&subdomain],
        )
        .await
        .map_err(Error::db(format!("looking up the status of {subdomain}")))?;
    row.map(|r| r.get::<_, String>(0).parse()).transpose()
}
