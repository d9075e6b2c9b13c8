//! Archiving by backup and restoring from it, as apply steps (the plan's side is
//! `archive_plan`). The rule everywhere: nothing is deleted without a verified backup (the
//! backup crate's `archive` returns only after the dump was read back, its checksum compared and
//! `pg_restore --list` passed, and its manifest written).
//!
//! - Archive: the directory row says `archived` (the app stops routing), the tenant's logins are
//!   kept out where the backend can (postgres), the dump is made and verified, then the project /
//!   database is deleted. A failure before the delete lets the tenant in again and changes nothing
//!   else; the error names the step.
//! - Crash safety: a database deleted by an apply that never recorded it (killed after the delete)
//!   is gone at the next refresh, so Terraform plans a create with `archived = true`: that create
//!   adopts the latest verified backup of the subdomain instead of creating anything. A database
//!   killed before its delete is still there and is archived again (a new backup, then delete).
//!   A restore killed before Terraform recorded it leaves the state archived and a database (or
//!   project) under the orchestra's name created after the backup: the next restore deletes that
//!   leftover and restores again; an older database by that name is someone else's and stops it.
//! - Restore: the directory says `restoring`, the database is created again (the region unless
//!   changed), the backup restored with parallel jobs and checked against its manifest (row counts,
//!   migration history), then pending migrations and the seed run as on create. A restore that
//!   fails records the new database with status `restore_failed` and keeps the backup; the next
//!   apply deletes that database and restores again (Terraform's taint, by state).

use std::time::{Duration, Instant};

use stagesub_plugin::{AttributePath, Context, Diagnostic, Diagnostics, Outcome};

use super::archive_plan::Transition;
use super::model::{BackupRef, OrchestraModel, STATUS_ARCHIVED, STATUS_RESTORE_FAILED, attr};
use super::{OrchestraDatabase, diag, lifecycle::generate_password};
use crate::Secret;
use crate::archive::{BackupSettings, Found};
use crate::backend::{Backend, DatabaseSpec, connection_url};
use crate::tenant_db;

const TIMEOUT: Duration = Duration::from_secs(15 * 60);

fn missing_store() -> Diagnostics {
    Diagnostic::error(
        "Missing backup_url",
        "Archiving by backup and restoring need the provider's backup_url (STAGESUB_BACKUP_URL): s3://bucket/prefix or file:///absolute/folder.",
    )
    .at(AttributePath::root(attr::ARCHIVE_MODE))
    .into()
}

/// The state of an orchestra held in `backup`: no connection URL (nothing to connect to).
fn held(mut state: OrchestraModel, backup: BackupRef) -> OrchestraModel {
    state.archived = true;
    state.status = Some(STATUS_ARCHIVED.into());
    state.backup = backup;
    state.database_url = None;
    state.pooler_url = None;
    state
}

impl OrchestraDatabase {
    fn backup_settings(&self) -> Result<std::sync::Arc<BackupSettings>, Diagnostics> {
        self.shared.backup().ok_or_else(missing_store)
    }

    /// Applies an archive transition (see `archive_plan::transition`).
    pub(super) async fn apply_archive(
        &self,
        ctx: &Context,
        backend: &dyn Backend,
        transition: Transition,
        prior: &OrchestraModel,
        planned: OrchestraModel,
        config: &OrchestraModel,
    ) -> Outcome {
        let deadline = Instant::now() + planned.timeout("update", TIMEOUT);
        match transition {
            Transition::Archive => self.archive(ctx, backend, prior, planned, config).await,
            Transition::Restore => {
                self.restore(ctx, backend, prior, planned, config, deadline)
                    .await
            }
            Transition::Hold => {
                self.settle(backend, held(planned, prior.backup.clone()))
                    .await
            }
            Transition::AbandonRestore => {
                let id = prior.id.clone().unwrap_or_default();
                if let Err(e) = backend.delete(ctx, &id, deadline).await {
                    return Outcome::failed(None, diag(e));
                }
                let mut state = held(planned, prior.backup.clone());
                state.id = prior.id.clone();
                self.settle(backend, state).await
            }
        }
    }

    /// Writes the directory row for `state` and returns it.
    async fn settle(&self, backend: &dyn Backend, mut state: OrchestraModel) -> Outcome {
        match self.directory_settle(backend, &mut state, None).await {
            Ok(()) => Outcome::ok(state.to_value()),
            Err(e) => Outcome::failed(Some(state.to_value()), diag(e)),
        }
    }

    /// Backup, verify, then delete.
    async fn archive(
        &self,
        ctx: &Context,
        backend: &dyn Backend,
        prior: &OrchestraModel,
        planned: OrchestraModel,
        config: &OrchestraModel,
    ) -> Outcome {
        let settings = match self.backup_settings() {
            Ok(s) => s,
            Err(d) => return Outcome::failed(None, d),
        };
        let deadline = Instant::now() + planned.timeout("update", TIMEOUT);
        let id = prior.id.clone().unwrap_or_default();
        let old = self.shared_spec(prior);
        let new = self.shared_spec(&planned);
        let db = match backend.read_details(&id).await {
            Ok(Some(db)) => db,
            Ok(None) => {
                // Gone since refresh: only a verified backup may stand for it.
                return self.adopt(backend, &settings, planned).await;
            }
            Err(e) => return Outcome::failed(None, diag(e)),
        };
        let password = config
            .database_password_wo
            .clone()
            .or_else(|| prior.database_password.clone());
        let source = match backend.session_target(&db, password.as_ref().map(Secret::expose)) {
            Ok(t) => t,
            Err(e) => return Outcome::failed(None, diag(e)),
        };
        // A paused project (archive_mode was "pause") must run to be dumped.
        if prior.archived {
            let running = DatabaseSpec {
                archived: false,
                ..old.clone()
            };
            if let Err(e) = backend
                .update(ctx, &id, &old, &running, None, deadline)
                .await
            {
                return Outcome::failed(None, diag(e));
            }
        }
        if let Err(e) = self.directory_transition(&new.tenant.subdomain, true).await {
            return Outcome::failed(None, diag(e));
        }
        let unfence = async {
            if let Err(e) = backend.fence(&id, false).await {
                tracing::warn!("letting the tenant of {id} log in again: {}", e.detail);
            }
            // The row says what the database is again: it was not archived.
            let mut row = prior.clone();
            row.archived = false;
            if let Err(e) = self
                .directory_settle(backend, &mut row, password.as_ref())
                .await
            {
                tracing::warn!("resetting the directory row of {id}: {}", e.detail);
            }
        };
        if let Err(e) = backend.fence(&id, true).await {
            unfence.await;
            return Outcome::failed(None, diag(e));
        }
        let record = match settings
            .archive(
                &source.url,
                &self.shared.tls(),
                &new.tenant,
                planned.backup_retention_days.0,
                backend.platform_schemas(),
            )
            .await
        {
            Ok(r) => r,
            Err(e) => {
                unfence.await;
                return Outcome::failed(None, archive_failed(&id, &e));
            }
        };
        drop(unfence);
        if let Err(e) = backend.delete(ctx, &id, deadline).await {
            return Outcome::failed(
                None,
                Diagnostic::error(
                    format!(
                        "Backup verified, but deleting the database failed: {}",
                        e.summary
                    ),
                    format!(
                        "{}\n\nThe orchestra's data is safe in the verified backup {}. Run `terraform apply` again: it finishes the archive (the database is backed up again if it still exists, then deleted).",
                        e.detail, record.uri
                    ),
                ),
            );
        }
        let mut state = held(planned, record.as_ref());
        state.id = Some(id);
        state
            .applied_migrations
            .clone_from(&prior.applied_migrations);
        self.settle(backend, state).await
    }

    /// The orchestra is created archived, or its database vanished before the archive: the
    /// latest verified backup of the subdomain stands for it; without one, nothing is done.
    pub(super) async fn adopt(
        &self,
        backend: &dyn Backend,
        settings: &BackupSettings,
        planned: OrchestraModel,
    ) -> Outcome {
        let subdomain = planned.subdomain.clone().unwrap_or_default();
        let latest = match settings.latest(&subdomain).await {
            Ok(latest) => latest,
            Err(e) => return Outcome::failed(None, e.into_diagnostics()),
        };
        let Some(found) = latest else {
            return Outcome::failed(
                None,
                Diagnostic::error(
                    "No backup to hold the archived orchestra",
                    format!(
                        "archived = true with archive_mode = \"backup\" needs a database to back up or a verified backup of {subdomain:?} in {}, and there is neither. Create the orchestra with archived = false first (or use archive_mode = \"pause\").",
                        settings.url()
                    ),
                )
                .at(AttributePath::root(attr::ARCHIVED)),
            );
        };
        let mut state = held(planned, found.as_ref());
        if state.id.is_none() {
            state.id = Some(backend.name_for(&subdomain));
        }
        state.created_at = None;
        state.connection = super::model::Connection::default();
        state.api_url = None;
        state.applied_migrations.get_or_insert_with(Vec::new);
        // The restore sets a password: the one planned (or written only), else a new one now, so
        // the plan of the restore already knows it.
        if state.database_password.is_none() && state.database_password_wo_version.is_none() {
            state.database_password = Some(Secret::new(generate_password()));
        }
        self.settle(backend, state).await
    }

    /// Create with `archived = true` and `archive_mode = "backup"`: adopt the latest backup.
    pub(super) async fn create_held(
        &self,
        ctx: &Context,
        backend: &dyn Backend,
        planned: OrchestraModel,
    ) -> Outcome {
        let settings = match self.backup_settings() {
            Ok(s) => s,
            Err(d) => return Outcome::failed(None, d),
        };
        let subdomain = planned.subdomain.clone().unwrap_or_default();
        match backend.find(&subdomain).await {
            Ok(Some(id)) => match backend.read(&id).await {
                Ok(Some(_)) => {
                    return Outcome::failed(
                        None,
                        Diagnostic::error(
                            "The orchestra's database already exists",
                            format!("A {} database for subdomain {subdomain:?} exists (id {id}); it is not archived over. Import it (`terraform import <address> {id}`), then set archived = true.", backend.kind()),
                        )
                        .at(AttributePath::root(attr::SUBDOMAIN)),
                    );
                }
                // Left over by an archive killed half-way through its delete (a role without its
                // database): finish it once a verified backup is known.
                Ok(None) => {
                    if let Ok(Some(_)) = settings.latest(&subdomain).await {
                        let deadline = Instant::now() + TIMEOUT;
                        if let Err(e) = backend.delete(ctx, &id, deadline).await {
                            return Outcome::failed(None, diag(e));
                        }
                    }
                }
                Err(e) => return Outcome::failed(None, diag(e)),
            },
            Ok(None) => {}
            Err(e) => return Outcome::failed(None, diag(e)),
        }
        self.adopt(backend, &settings, planned).await
    }

    /// Create again, restore, verify, then migrate and seed.
    async fn restore(
        &self,
        ctx: &Context,
        backend: &dyn Backend,
        prior: &OrchestraModel,
        planned: OrchestraModel,
        config: &OrchestraModel,
        deadline: Instant,
    ) -> Outcome {
        let settings = match self.backup_settings() {
            Ok(s) => s,
            Err(d) => return Outcome::failed(None, d),
        };
        let Some(uri) = prior.backup.uri.clone() else {
            return Outcome::failed(
                None,
                Diagnostic::error(
                    "No backup recorded",
                    "The state records no backup_uri to restore from; this is a bug.",
                ),
            );
        };
        let spec = DatabaseSpec {
            archived: false,
            ..self.shared_spec(&planned)
        };
        let subdomain = spec.tenant.subdomain.clone();
        // The backup must be readable before anything is created.
        if let Err(e) = settings
            .check(&subdomain, &uri, prior.backup.sha256.as_deref())
            .await
        {
            return Outcome::failed(None, e.into_diagnostics());
        }
        if let Err(e) = self.directory_transition(&subdomain, false).await {
            return Outcome::failed(None, diag(e));
        }
        if prior.status.as_deref() == Some(STATUS_RESTORE_FAILED)
            && let Some(id) = &prior.id
            && let Err(e) = backend.delete(ctx, id, deadline).await
        {
            return Outcome::failed(None, diag(e));
        }
        match backend.find(&subdomain).await {
            Ok(Some(id)) if restore_leftover(backend, &id, &prior.backup).await => {
                // A restore killed before Terraform recorded it: the directory kept the tenant
                // out (`restoring`), so only the restore wrote there; the backup stands for it.
                tracing::warn!(
                    "deleting {id}, left over by an interrupted restore, to restore again"
                );
                if let Err(e) = backend.delete(ctx, &id, deadline).await {
                    return Outcome::failed(None, diag(e));
                }
            }
            Ok(Some(id)) => {
                return Outcome::failed(
                    None,
                    Diagnostic::error(
                        "A database for the orchestra exists already",
                        format!(
                            "Restoring {subdomain:?} creates its database again, but a {} database by that name exists (id {id}). It is not overwritten: delete it, or import it after removing this resource from state. The backup {uri} is untouched.",
                            backend.kind()
                        ),
                    ),
                );
            }
            Ok(None) => {}
            Err(e) => return Outcome::failed(None, diag(e)),
        }
        let mut state = planned;
        let write_only = config.database_password_wo.clone();
        let password = write_only
            .clone()
            .or_else(|| state.database_password.clone())
            .or_else(|| prior.database_password.clone())
            .unwrap_or_else(|| Secret::new(generate_password()));
        state.database_password = write_only.is_none().then(|| password.clone());
        state.backup = prior.backup.clone();
        state.archived = false;
        let failed = |mut state: OrchestraModel, d: Diagnostics| {
            state.status = Some(STATUS_RESTORE_FAILED.into());
            state
                .applied_migrations
                .clone_from(&prior.applied_migrations);
            state.directory_status = Some("stale".into());
            state.directory_generation = None;
            Outcome::failed(Some(state.to_value()), d)
        };
        let db = match backend
            .create(ctx, &spec, password.expose(), deadline)
            .await
        {
            Ok(db) => db,
            Err(e) => {
                let Some(id) = e.created_id.clone() else {
                    return Outcome::failed(None, diag(e));
                };
                state.id = Some(id);
                return failed(state, restore_failed_diag(&uri, e.summary, e.detail));
            }
        };
        let stored = state.database_password.clone();
        state.fill(&db, stored.as_ref());
        let target = match backend.session_target(&db, Some(password.expose())) {
            Ok(t) => t,
            Err(e) => return failed(state, restore_failed_diag(&uri, e.summary, e.detail)),
        };
        // Restored as the tenant's own user, so what it restores belongs to the tenant.
        let owner = Secret::new(connection_url(
            &db.user,
            Some(password.expose()),
            &db.host,
            db.port,
            &db.name,
            &db.url_params,
        ));
        if let Err(e) = settings.restore(&uri, &owner, &self.shared.tls()).await {
            let (summary, detail) = e.parts();
            return failed(state, restore_failed_diag(&uri, summary, detail));
        }
        let tenant = spec.tenant.clone();
        match tenant_db::migrate_and_seed(
            &target,
            &self.shared.tls(),
            state.migrations_dir.as_deref(),
            state.seed_sql.as_deref(),
            &tenant,
        )
        .await
        {
            Ok(names) => state.applied_migrations = Some(names),
            Err(e) => {
                state
                    .applied_migrations
                    .clone_from(&prior.applied_migrations);
                state.directory_status = Some("stale".into());
                state.directory_generation = None;
                return Outcome::failed(Some(state.to_value()), diag(e));
            }
        }
        match self
            .directory_settle(backend, &mut state, Some(&password))
            .await
        {
            Ok(()) => Outcome::ok(state.to_value()),
            Err(e) => Outcome::failed(Some(state.to_value()), diag(e)),
        }
    }

    fn shared_spec(&self, m: &OrchestraModel) -> DatabaseSpec {
        m.spec(|| self.shared.default_region())
    }
}

/// Whether the database `id` found under the orchestra's name while it is held in `backup` was
/// left by a restore killed before Terraform recorded it: only a login without its database
/// (postgres, killed between the two), or a database created after the backup was made. Anything
/// older (or of unknown age) is someone else's and is not touched.
async fn restore_leftover(backend: &dyn Backend, id: &str, backup: &BackupRef) -> bool {
    let Some(archived_at) = backup.archived_at.as_deref().and_then(parse_time) else {
        return false;
    };
    match backend.read(id).await {
        Ok(None) => true,
        Ok(Some(db)) => db
            .created_at
            .as_deref()
            .and_then(parse_time)
            .is_some_and(|created| created > archived_at),
        Err(_) => false,
    }
}

fn parse_time(text: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(text).ok()
}

/// A failed archive: nothing was deleted; the step is named.
fn archive_failed(id: &str, e: &crate::archive::StepError) -> Diagnostics {
    Diagnostic::error(
        format!("Archive failed at step `{}`: nothing was deleted", e.step),
        format!(
            "{}\n\nThe database {id} is untouched and in use again; fix the cause and run `terraform apply` again.",
            e.message
        ),
    )
    .at(AttributePath::root(attr::ARCHIVED))
    .into()
}

fn restore_failed_diag(uri: &str, summary: String, detail: String) -> Diagnostics {
    Diagnostic::error(
        format!("Restore failed: {summary}"),
        format!(
            "{detail}\n\nThe backup {uri} is kept. The new database is recorded with status `restore_failed`: the next `terraform apply` deletes it and restores again (or set archived = true to keep the orchestra archived)."
        ),
    )
    .at(AttributePath::root(attr::ARCHIVED))
    .into()
}

impl From<&Found> for BackupRef {
    fn from(f: &Found) -> Self {
        BackupRef {
            uri: Some(f.uri.clone()),
            sha256: Some(f.sha256.clone()),
            archived_at: Some(f.created_at.clone()),
        }
    }
}

impl Found {
    fn as_ref(&self) -> BackupRef {
        BackupRef::from(self)
    }
}
