//! `terraform-provider-stagesub`: a dedicated, migrated and seeded database per orchestra.
//!
//! - [`config`]: provider settings (attributes or environment) and the backend they select.
//! - [`backend`]: where databases live: [`backend::supabase`] (Management API) or
//!   [`backend::postgres`] (a server the operator owns).
//! - [`orchestra`]: resource and data source `stagesub_orchestra_database`, with its typed model.
//! - [`directory`]: the tenant directory the app reads (crate `stagesub-directory`), kept row by row.
//! - [`archive`]: verified backups (crate `stagesub-backup`) in the store `backup_url` names, for
//!   `archive_mode = "backup"` and the data source `stagesub_orchestra_backups`.
//! - [`tenant_db`]: migrations, seed and history inside a tenant database (via `stagesub-migrate`).
//! - [`Secret`]: tokens, passwords and URLs with credentials, never printed.
//!
//! The protocol work is done by `stagesub-plugin`; this crate is resource logic only.

pub mod archive;
pub mod backend;
pub mod config;
pub mod directory;
pub mod orchestra;
pub mod tenant_db;

pub use stagesub_supabase::Secret;

use std::sync::Arc;

use stagesub_plugin::{DataSource, Diagnostics, Provider, Resource, Schema, Value};

/// The registry address Terraform knows the provider by.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/stagesub/stagesub";

/// The stagesub provider.
#[derive(Debug, Default)]
pub struct StagesubProvider {
    shared: Arc<config::Shared>,
}

#[async_trait::async_trait]
impl Provider for StagesubProvider {
    fn schema(&self) -> Schema {
        config::schema()
    }

    async fn configure(&self, config: &Value, _terraform_version: &str) -> Diagnostics {
        self.shared.configure(config)
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![Arc::new(orchestra::OrchestraDatabase::new(
            self.shared.clone(),
        ))]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![
            Arc::new(orchestra::data_source::OrchestraDatabaseData::new(
                self.shared.clone(),
            )),
            Arc::new(orchestra::backups_data::OrchestraBackupsData::new(
                self.shared.clone(),
            )),
        ]
    }
}
