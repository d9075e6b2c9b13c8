//! [`Tenant`]: the values that describe one orchestra's tenancy.

use crate::error::{Field, TenantError};
use crate::lists::{validate_plan, validate_region};
use crate::text::{validate_contact_email, validate_orchestra_name, validate_subdomain};

/// One tenant as the customer chose it: the values written into its tenant file, passed to the
/// module and the provider, and read by seed SQL as `current_setting('stagesub.<field>')`.
///
/// What the bridge tracks about a tenant (Stripe ids, archive state) and what the provider adds
/// (instance size, network rules) live with them and embed this type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Tenant {
    /// DNS label under the application's domain; the tenant's key.
    pub subdomain: String,
    /// The orchestra's display name, free text as the customer typed it.
    pub orchestra_name: String,
    /// Who receives the orchestra's mail.
    pub contact_email: Option<String>,
    /// Plan label (`free`, `pro`, `enterprise`).
    pub plan: Option<String>,
    /// Supabase region code or smart group; `None` means the provider's default.
    pub region: Option<String>,
}

impl Tenant {
    /// A tenant with the two required values and no optional ones.
    pub fn new(subdomain: impl Into<String>, orchestra_name: impl Into<String>) -> Self {
        Self {
            subdomain: subdomain.into(),
            orchestra_name: orchestra_name.into(),
            ..Self::default()
        }
    }

    /// The value of `field` (`None` for an unset optional value).
    pub fn value(&self, field: Field) -> Option<&str> {
        match field {
            Field::Subdomain => Some(&self.subdomain),
            Field::OrchestraName => Some(&self.orchestra_name),
            Field::ContactEmail => self.contact_email.as_deref(),
            Field::Plan => self.plan.as_deref(),
            Field::Region => self.region.as_deref(),
        }
    }

    /// Checks every value; the first failure names its field and says what to fix.
    pub fn validate(&self) -> Result<(), TenantError> {
        match self.errors().into_iter().next() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Every failing value, in field order (empty when the tenant is valid).
    pub fn errors(&self) -> Vec<TenantError> {
        Field::ALL
            .iter()
            .filter_map(|&field| self.value(field).map(|value| field.validate(value)))
            .filter_map(Result::err)
            .collect()
    }
}

impl Field {
    /// Checks `value` against this field's rule: what the provider calls for each attribute at plan.
    pub fn validate(self, value: &str) -> Result<(), TenantError> {
        match self {
            Field::Subdomain => validate_subdomain(value),
            Field::OrchestraName => validate_orchestra_name(value),
            Field::ContactEmail => validate_contact_email(value),
            Field::Plan => validate_plan(value),
            Field::Region => validate_region(value),
        }
    }

    /// The field an attribute or metadata key names (`"orchestra_name"` -> [`Field::OrchestraName`]).
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|field| field.name() == name)
    }
}
