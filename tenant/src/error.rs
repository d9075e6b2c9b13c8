//! The error every tenant rule returns: which field is wrong and what to do about it.

use std::fmt;

/// A tenant value, named as it is in the tenant file, the module and the provider's resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    /// `subdomain`.
    Subdomain,
    /// `orchestra_name`.
    OrchestraName,
    /// `contact_email`.
    ContactEmail,
    /// `plan`.
    Plan,
    /// `region`.
    Region,
}

impl Field {
    /// Every field, in the order a tenant file lists them.
    pub const ALL: [Field; 5] = [
        Field::Subdomain,
        Field::OrchestraName,
        Field::ContactEmail,
        Field::Plan,
        Field::Region,
    ];

    /// The attribute name: `subdomain`, `orchestra_name`, `contact_email`, `plan`, `region`.
    pub fn name(self) -> &'static str {
        match self {
            Field::Subdomain => "subdomain",
            Field::OrchestraName => "orchestra_name",
            Field::ContactEmail => "contact_email",
            Field::Plan => "plan",
            Field::Region => "region",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A tenant value that breaks its rule. The message names the field, quotes the value (escaped, so
/// invisible characters show) and says what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantError {
    field: Field,
    message: String,
}

impl TenantError {
    pub(crate) fn new(field: Field, message: String) -> Self {
        Self { field, message }
    }

    /// The field whose value is wrong.
    pub fn field(&self) -> Field {
        self.field
    }

    /// What is wrong and what is allowed, starting with the field's name.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for TenantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TenantError {}

/// Lets callers whose errors are still plain messages use `?` on the rules.
impl From<TenantError> for String {
    fn from(error: TenantError) -> Self {
        error.message
    }
}
