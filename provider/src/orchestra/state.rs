//! Refresh: the state as the backend and the database's migration history see it, and the note
//! (private state) refresh leaves for the plan about applied migrations whose files were edited or
//! deleted.

use stagesub_plugin::{AttributePath, Diagnostic, Diagnostics, Outcome};

use super::OrchestraDatabase;
use super::diag;
use super::model::{OrchestraModel, STATUS_ARCHIVED, STATUS_RESTORE_FAILED, attr};
use crate::Secret;
use crate::backend::Database;
use crate::tenant_db::{self, History};

/// What refresh found wrong with the files of applied migrations, kept in private state for the plan
/// that follows (JSON; empty when nothing).
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct HistoryNote {
    /// Why an applied migration's file no longer matches its history row.
    modified: Option<String>,
    /// Applied migrations whose files are gone.
    missing: Vec<String>,
}

const MODIFIED_MIGRATION: &str = "modified_migration";
const MISSING_MIGRATIONS: &str = "missing_migrations";

impl HistoryNote {
    /// The note in `private` (none when it holds no note).
    pub(super) fn read(private: &[u8]) -> Self {
        let note: serde_json::Value = serde_json::from_slice(private).unwrap_or_default();
        HistoryNote {
            modified: note[MODIFIED_MIGRATION].as_str().map(str::to_string),
            missing: note[MISSING_MIGRATIONS]
                .as_array()
                .map(|names| {
                    names
                        .iter()
                        .filter_map(|n| n.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    fn from_history(history: &History) -> Self {
        HistoryNote {
            modified: history.modified.clone(),
            missing: history.missing.clone(),
        }
    }

    fn to_private(&self) -> Vec<u8> {
        let mut note = serde_json::Map::new();
        if let Some(m) = &self.modified {
            note.insert(MODIFIED_MIGRATION.into(), m.clone().into());
        }
        if !self.missing.is_empty() {
            note.insert(MISSING_MIGRATIONS.into(), self.missing.clone().into());
        }
        if note.is_empty() {
            Vec::new()
        } else {
            serde_json::Value::Object(note).to_string().into_bytes()
        }
    }

    /// Warnings, not errors: `terraform destroy` plans too and must not be blocked. Applying
    /// pending migrations refuses an edited file or a gap with an error.
    pub(super) fn warnings(&self, migrations_dir: Option<&str>) -> Diagnostics {
        let mut d = Diagnostics::default();
        if let Some(why) = &self.modified {
            d.push(
                Diagnostic::warning(
                    "An applied migration was changed",
                    format!("{why}\n\nApplied migrations must not be edited: restore the file as it was applied and put the change in a new migration."),
                )
                .at(AttributePath::root(attr::MIGRATIONS_DIR)),
            );
        }
        if !self.missing.is_empty() {
            d.push(
                Diagnostic::warning(
                    "An applied migration was deleted",
                    format!(
                        "{} no longer in migrations_dir {}. {}",
                        tenant_db::missing_list(&self.missing),
                        migrations_dir.map(|d| format!("{d:?}")).unwrap_or_default(),
                        tenant_db::MISSING_ADVICE
                    ),
                )
                .at(AttributePath::root(attr::MIGRATIONS_DIR)),
            );
        }
        d
    }
}

impl OrchestraDatabase {
    /// The migration history of `db`, checked against the files of `migrations_dir`; `None` when
    /// refresh of migrations is off, the database is archived, or the history cannot be read.
    pub(super) async fn migration_history(
        &self,
        db: &Database,
        password: Option<&Secret>,
        migrations_dir: Option<&str>,
    ) -> Option<History> {
        if !self.shared.refresh_migrations() || db.archived {
            return None;
        }
        let backend = self.shared.backend().ok()?;
        let target = backend
            .session_target(db, password.map(Secret::expose))
            .ok()?;
        match tenant_db::applied(&target, &self.shared.tls(), migrations_dir).await {
            Ok(history) => Some(history),
            Err(e) => {
                tracing::warn!("reading the migration history of {}: {}", db.id, e.detail);
                None
            }
        }
    }

    /// Refresh: `None` state when the database is gone.
    pub(super) async fn refresh(&self, state: &OrchestraModel, private: &[u8]) -> Outcome {
        let failed = |d| Outcome::failed(Some(state.to_value()), d);
        let backend = match self.shared.backend() {
            Ok(b) => b,
            Err(e) => return failed(diag(e)),
        };
        let Some(id) = &state.id else {
            return Outcome::ok(state.to_value());
        };
        if state.held_in_backup() {
            // No database to read: the orchestra is its backup.
            let mut new = state.clone();
            if let Err(e) = self.directory_check(&*backend, &mut new).await {
                return failed(diag(e));
            }
            return Outcome::ok(new.to_value());
        }
        let restore_failed = state.status.as_deref() == Some(STATUS_RESTORE_FAILED);
        let db = match backend.read(id).await {
            Ok(Some(db)) => db,
            // The database of a failed restore is gone: held in the backup again.
            Ok(None) if restore_failed => {
                let mut new = state.clone();
                new.archived = true;
                new.status = Some(STATUS_ARCHIVED.into());
                new.database_url = None;
                new.pooler_url = None;
                return Outcome::ok(new.to_value());
            }
            Ok(None) => return Outcome::default(),
            Err(e) => return failed(diag(e)),
        };
        let mut new = state.clone();
        new.fill(&db, state.database_password.as_ref());
        new.archived = db.archived;
        // A managed compute size is read back, so a change made outside Terraform shows as drift.
        if state.instance_size.is_some() {
            match backend.compute_size(id).await {
                Ok(Some(size)) => new.instance_size = Some(size),
                Ok(None) => {}
                Err(e) => return failed(diag(e)),
            }
        }
        if restore_failed {
            // Kept until an apply restores again (or gives up): the data is not all there.
            new.status = Some(STATUS_RESTORE_FAILED.into());
            return Outcome::ok(new.to_value());
        }
        let mut private = private.to_vec();
        let nothing_to_compare = state.migrations_dir.is_none()
            && state.applied_migrations.as_ref().is_some_and(Vec::is_empty);
        if !nothing_to_compare
            && let Some(history) = self
                .migration_history(
                    &state.with_recorded_connection(&db),
                    state.database_password.as_ref(),
                    state.migrations_dir.as_deref(),
                )
                .await
        {
            private = HistoryNote::from_history(&history).to_private();
            new.applied_migrations = Some(history.names);
        }
        if let Err(e) = self.directory_check(&*backend, &mut new).await {
            return failed(diag(e));
        }
        Outcome {
            state: Some(new.to_value()),
            private,
            diagnostics: Diagnostics::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn note_round_trips_and_warns() {
        let note = HistoryNote {
            modified: Some("`a` changed".into()),
            missing: vec!["20240101000000_init".into(), "20240201000000_b".into()],
        };
        let read = HistoryNote::read(&note.to_private());
        assert_eq!(read, note);
        let warnings = format!("{:?}", read.warnings(Some("/app/migrations")));
        for needle in [
            "An applied migration was changed",
            "An applied migration was deleted",
            "`20240101000000_init`, `20240201000000_b` were applied",
            "\\\"/app/migrations\\\"",
        ] {
            assert!(warnings.contains(needle), "{needle}: {warnings}");
        }
        assert!(HistoryNote::read(b"").warnings(None).0.is_empty());
        assert!(HistoryNote::default().to_private().is_empty());
    }
}
