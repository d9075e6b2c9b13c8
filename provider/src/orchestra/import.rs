//! `terraform import` (and `import {}` blocks): the state of an existing orchestra database, with the
//! tenant values it recorded and its migration history.

use stagesub_plugin::{Diagnostic, Outcome};

use super::model::OrchestraModel;
use super::{OrchestraDatabase, diag};

impl OrchestraDatabase {
    /// The state of database `id` (Supabase project ref, or database name).
    pub(super) async fn import_state(&self, id: &str) -> Outcome {
        let backend = match self.shared.backend() {
            Ok(b) => b,
            Err(e) => return Outcome::failed(None, diag(e)),
        };
        // Full details: later reads keep connection details from state, so import must fill them.
        let db = match backend.read_details(id).await {
            Ok(Some(db)) => db,
            Ok(None) => {
                return Outcome::failed(
                    None,
                    Diagnostic::error(
                        "Cannot import: not found",
                        format!(
                            "The {} backend has no orchestra database with id {id:?}. Use the Supabase project ref or, for the postgres backend, the database name (orchestra_<subdomain>).",
                            backend.kind()
                        ),
                    ),
                );
            }
            Err(e) => return Outcome::failed(None, diag(e)),
        };
        let mut state = OrchestraModel {
            subdomain: db.subdomain.clone(),
            region: Some(
                db.region
                    .clone()
                    .unwrap_or_else(|| self.shared.default_region()),
            ),
            archived: db.archived,
            deletion_protection: true,
            enforce_ssl: true,
            ..OrchestraModel::default()
        };
        if let Some(tenant) = backend.recorded_tenant(&db, &self.shared.tls()).await {
            state.set_tenant(tenant);
        }
        state.fill(&db, None);
        state.applied_migrations = Some(
            self.migration_history(&db, None, None)
                .await
                .map(|h| h.names)
                .unwrap_or_default(),
        );
        match self.directory_settle(&*backend, &mut state, None).await {
            Ok(()) => Outcome::ok(state.to_value()),
            Err(e) => Outcome::failed(Some(state.to_value()), diag(e)),
        }
    }
}
