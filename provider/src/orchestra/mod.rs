//! `stagesub_orchestra_database`, the resource and the data source: one dedicated, migrated and
//! seeded database per orchestra.
//!
//! - [`schema`]: the resource's attributes, and the pieces the data source shares with it.
//! - [`model`]: the typed model ([`OrchestraModel`]), read from and written to protocol values.
//! - `plan`: configuration checks, plan refinements (pending migrations, stable connection
//!   details), warnings about edited or deleted applied migrations, deletion protection.
//! - `lifecycle`: create, update (as named steps), delete.
//! - `archive_plan`, `archive`: archiving by backup (verified dump, then delete) and restoring from
//!   it: what the plan shows and checks, and the apply's steps.
//! - `state`: refresh (drift, migration history) and the note it leaves for the plan.
//! - `import`: `terraform import`.
//! - `directory_row`: the resource's row in the tenant directory, written and checked.
//! - [`data_source`]: the data source that looks a database up by subdomain or id.
//! - [`backups_data`]: the data source `stagesub_orchestra_backups` listing a tenant's backups.

mod archive;
mod archive_plan;
pub mod backups_data;
pub mod data_source;
mod directory_row;
mod import;
mod lifecycle;
pub mod model;
mod plan;
mod schema;
mod state;

pub use lifecycle::generate_password;
pub use model::OrchestraModel;
pub use schema::schema;

use std::sync::Arc;

use stagesub_plugin::{Context, Diagnostic, Diagnostics, Outcome, Plan, Resource, Schema, Value};

use crate::backend::BackendError;
use crate::config::Shared;

/// The type name of the resource and the data source.
pub const TYPE_NAME: &str = "stagesub_orchestra_database";

/// `stagesub_orchestra_database`.
#[derive(Debug)]
pub struct OrchestraDatabase {
    shared: Arc<Shared>,
}

impl OrchestraDatabase {
    /// The resource, reading the provider's configuration from `shared`.
    pub fn new(shared: Arc<Shared>) -> Self {
        OrchestraDatabase { shared }
    }
}

fn diag(e: BackendError) -> Diagnostics {
    Diagnostic::error(e.summary, e.detail).into()
}

#[async_trait::async_trait]
impl Resource for OrchestraDatabase {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        plan::validate(config)
    }

    async fn modify_plan(&self, _ctx: &Context, plan: &mut Plan) -> Diagnostics {
        let mut d = plan::modify(
            plan,
            || self.shared.default_region(),
            self.shared.directory().is_some(),
        );
        if let Ok(backend) = self.shared.backend() {
            d.extend(plan::size_without_effect(plan, backend.kind()));
        }
        d.extend(self.plan_archive(plan).await);
        d
    }

    async fn plan_destroy(&self, prior: &Value) -> Diagnostics {
        plan::destroy(&OrchestraModel::from_value(prior))
    }

    async fn create(
        &self,
        ctx: &Context,
        planned: &Value,
        config: &Value,
        _private: &[u8],
    ) -> Outcome {
        let (planned, config) = (
            OrchestraModel::from_value(planned),
            OrchestraModel::from_value(config),
        );
        self.create_database(ctx, planned, &config).await
    }

    async fn read(&self, _ctx: &Context, state: &Value, private: &[u8]) -> Outcome {
        self.refresh(&OrchestraModel::from_value(state), private)
            .await
    }

    async fn update(
        &self,
        ctx: &Context,
        prior: &Value,
        planned: &Value,
        config: &Value,
        _private: &[u8],
    ) -> Outcome {
        let prior = OrchestraModel::from_value(prior);
        let config = OrchestraModel::from_value(config);
        self.update_database(ctx, &prior, OrchestraModel::from_value(planned), &config)
            .await
    }

    async fn delete(&self, ctx: &Context, prior: &Value, _private: &[u8]) -> Diagnostics {
        self.delete_database(ctx, &OrchestraModel::from_value(prior))
            .await
    }

    async fn import(&self, _ctx: &Context, id: &str) -> Outcome {
        self.import_state(id).await
    }
}
