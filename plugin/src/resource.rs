//! The traits that providers, resources and data sources implement.
//!
//! Resource code receives decoded [`Value`]s and returns new ones; the framework does the protocol work
//! around it: decoding, config validation, computed/unknown planning, requires-replace, write-only
//! nulling, state upgrades and encoding.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::diag::{AttributePath, Diagnostics};
use crate::schema::Schema;
use crate::value::Value;

/// What every operation gets: a token cancelled when Terraform calls `StopProvider` (Ctrl-C).
#[derive(Debug, Clone)]
pub struct Context {
    /// Cancelled on `StopProvider`; long waits must select on it.
    pub cancel: CancellationToken,
}

/// A plan under construction, passed to [`Resource::modify_plan`].
#[derive(Debug, Clone)]
pub struct Plan {
    /// State before the change; null on create.
    pub prior: Value,
    /// The configuration as written (unknowns possible).
    pub config: Value,
    /// The planned state, already filled by the framework; the resource may refine it.
    pub planned: Value,
    /// Attributes whose change forces replacement.
    pub requires_replace: Vec<AttributePath>,
    /// Private bytes carried from plan to apply.
    pub private: Vec<u8>,
}

impl Plan {
    /// Whether this plan creates the object.
    pub fn is_create(&self) -> bool {
        self.prior.is_null()
    }
}

/// The outcome of create, update or read.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The new state; `None` means the object does not exist (read) or was not created.
    pub state: Option<Value>,
    /// Private bytes to store with the state.
    pub private: Vec<u8>,
    /// Errors and warnings. An error with `state` set records the object as tainted.
    pub diagnostics: Diagnostics,
}

impl Outcome {
    /// A successful outcome with this state.
    pub fn ok(state: Value) -> Self {
        Outcome {
            state: Some(state),
            ..Default::default()
        }
    }

    /// A failed outcome; `state` keeps a partly created object in Terraform's state.
    pub fn failed(state: Option<Value>, diagnostics: impl Into<Diagnostics>) -> Self {
        Outcome {
            state,
            private: Vec::new(),
            diagnostics: diagnostics.into(),
        }
    }
}

/// A managed resource type.
#[async_trait::async_trait]
pub trait Resource: Send + Sync + 'static {
    /// Full type name, e.g. `stagesub_orchestra_database`.
    fn type_name(&self) -> &'static str;

    /// The schema.
    fn schema(&self) -> Schema;

    /// Checks beyond the schema's own (which the framework runs first).
    async fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::default()
    }

    /// Refines the framework's plan (e.g. shows pending work in a computed attribute).
    async fn modify_plan(&self, _ctx: &Context, _plan: &mut Plan) -> Diagnostics {
        Diagnostics::default()
    }

    /// Called when Terraform plans to destroy the object: the place to refuse early.
    async fn plan_destroy(&self, _prior: &Value) -> Diagnostics {
        Diagnostics::default()
    }

    /// Creates the object.
    async fn create(
        &self,
        ctx: &Context,
        planned: &Value,
        config: &Value,
        private: &[u8],
    ) -> Outcome;

    /// Reads the object; `state: None` removes it from Terraform's state.
    async fn read(&self, ctx: &Context, state: &Value, private: &[u8]) -> Outcome;

    /// Updates the object in place.
    async fn update(
        &self,
        ctx: &Context,
        prior: &Value,
        planned: &Value,
        config: &Value,
        private: &[u8],
    ) -> Outcome;

    /// Deletes the object.
    async fn delete(&self, ctx: &Context, prior: &Value, private: &[u8]) -> Diagnostics;

    /// Imports an existing object by id; Terraform then calls `read`.
    async fn import(&self, ctx: &Context, id: &str) -> Outcome;
}

/// A data source type.
#[async_trait::async_trait]
pub trait DataSource: Send + Sync + 'static {
    /// Full type name.
    fn type_name(&self) -> &'static str;

    /// The schema.
    fn schema(&self) -> Schema;

    /// Reads the data.
    async fn read(&self, ctx: &Context, config: &Value) -> Outcome;
}

/// A provider: its configuration and the types it serves.
#[async_trait::async_trait]
pub trait Provider: Send + Sync + 'static {
    /// Provider configuration schema.
    fn schema(&self) -> Schema;

    /// Checks the provider configuration (values may be unknown).
    async fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::default()
    }

    /// Configures the provider; called once before resources are used.
    async fn configure(&self, config: &Value, terraform_version: &str) -> Diagnostics;

    /// The resource types.
    fn resources(&self) -> Vec<Arc<dyn Resource>>;

    /// The data source types.
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>>;
}
