//! Create, update and delete. Update runs as named steps: choose the password, apply the backend's
//! in-place changes, record the tenant values, decide what SQL to run, read the database, then
//! migrate and seed.

use std::time::{Duration, Instant};

use stagesub_plugin::{AttributePath, Context, Diagnostic, Diagnostics, Outcome};

use super::model::{ArchiveMode, OrchestraModel, attr};
use super::{OrchestraDatabase, archive_plan, diag, plan};
use stagesub_tenant::Tenant;

use crate::Secret;
use crate::backend::{Backend, BackendError, Database, DatabaseSpec};
use crate::tenant_db;

const CREATE_TIMEOUT: Duration = Duration::from_secs(15 * 60);
const UPDATE_TIMEOUT: Duration = Duration::from_secs(15 * 60);
const DELETE_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// 32 random alphanumeric characters.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// What an update runs inside the database.
struct SqlWork {
    /// Seed SQL to run (it or the tenant values changed).
    seed: Option<String>,
    /// Whether to apply migrations (pending ones, or a new folder).
    migrate: bool,
    /// Whether the tenant values changed (recorded in `stagesub.tenant`).
    tenant_changed: bool,
}

impl SqlWork {
    fn any_sql(&self) -> bool {
        self.seed.is_some() || self.migrate
    }
}

impl OrchestraDatabase {
    fn spec(&self, m: &OrchestraModel) -> DatabaseSpec {
        m.spec(|| self.shared.default_region())
    }

    /// Creates the database, then migrates and seeds it. Anything paid-for that exists after a
    /// failure is recorded in state (Terraform marks it tainted) rather than forgotten.
    pub(super) async fn create_database(
        &self,
        ctx: &Context,
        planned: OrchestraModel,
        config: &OrchestraModel,
    ) -> Outcome {
        let backend = match self.shared.backend() {
            Ok(b) => b,
            Err(e) => return Outcome::failed(None, diag(e)),
        };
        if planned.archived && planned.archive_mode == ArchiveMode::Backup {
            return self.create_held(ctx, &*backend, planned).await;
        }
        let spec = self.spec(&planned);
        let deadline = Instant::now() + planned.timeout("create", CREATE_TIMEOUT);
        match backend.find(&spec.tenant.subdomain).await {
            Ok(Some(id)) => return Outcome::failed(None, already_exists(&*backend, &spec, &id)),
            Ok(None) => {}
            Err(e) => return Outcome::failed(None, diag(e)),
        }
        let directory_started = Instant::now();
        if let Err(e) = self.directory_provisioning(&*backend, &planned).await {
            return Outcome::failed(None, diag(e));
        }
        let provisioning_time = directory_started.elapsed();
        let write_only = config.database_password_wo.clone();
        let password = write_only
            .clone()
            .or_else(|| planned.database_password.clone())
            .unwrap_or_else(|| Secret::new(generate_password()));
        let mut state = planned;
        state.database_password = write_only.is_none().then(|| password.clone());
        let db = match backend
            .create(ctx, &spec, password.expose(), deadline)
            .await
        {
            Ok(db) => db,
            Err(e) => {
                let partial = e.created_id.clone().map(|id| {
                    let mut s = state.clone();
                    s.id = Some(id);
                    s.status = Some("CREATE_FAILED".into());
                    s.to_value()
                });
                return Outcome::failed(partial, diag(e));
            }
        };
        state.fill(&db, state.database_password.clone().as_ref());
        let migrated = match backend.session_target(&db, Some(password.expose())) {
            Ok(t) if !spec.archived => {
                tenant_db::migrate_and_seed(
                    &t,
                    &self.shared.tls(),
                    state.migrations_dir.as_deref(),
                    state.seed_sql.as_deref(),
                    &spec.tenant,
                )
                .await
            }
            Ok(_) => Ok(Vec::new()),
            Err(e) => Err(e),
        };
        match migrated {
            Ok(names) => state.applied_migrations = Some(names),
            Err(e) => {
                state.directory_status = Some("provisioning".into());
                state.directory_generation = None;
                return Outcome::failed(Some(state.to_value()), diag(e));
            }
        }
        let settle_started = Instant::now();
        let settled = self
            .directory_settle(&*backend, &mut state, Some(&password))
            .await;
        if self.shared.directory().is_some() {
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            let settle_time = settle_started.elapsed();
            tracing::info!(
                "tenant directory: the create of {} spent {:.2} ms on the directory (provisioning row {:.2} ms, ready row {:.2} ms)",
                spec.tenant.subdomain,
                ms(provisioning_time + settle_time),
                ms(provisioning_time),
                ms(settle_time)
            );
        }
        match settled {
            Ok(()) => Outcome::ok(state.to_value()),
            Err(e) => Outcome::failed(Some(state.to_value()), diag(e)),
        }
    }

    /// Applies a change in place.
    pub(super) async fn update_database(
        &self,
        ctx: &Context,
        prior: &OrchestraModel,
        planned: OrchestraModel,
        config: &OrchestraModel,
    ) -> Outcome {
        let backend = match self.shared.backend() {
            Ok(b) => b,
            Err(e) => return Outcome::failed(None, diag(e)),
        };
        if let Some(t) = archive_plan::transition(prior, &planned) {
            return self
                .apply_archive(ctx, &*backend, t, prior, planned, config)
                .await;
        }
        let id = prior.id.clone().unwrap_or_default();
        let (old, new) = (self.spec(prior), self.spec(&planned));
        let deadline = Instant::now() + planned.timeout("update", UPDATE_TIMEOUT);
        let mut state = planned;
        let new_password = choose_password(prior, &mut state, config);
        let directory_password = new_password
            .clone()
            .or_else(|| config.database_password_wo.clone());
        if old.archived != new.archived
            && let Err(e) = self
                .directory_transition(&new.tenant.subdomain, new.archived)
                .await
        {
            return Outcome::failed(None, diag(e));
        }
        if let Err(e) = backend
            .update(
                ctx,
                &id,
                &old,
                &new,
                new_password.as_ref().map(Secret::expose),
                deadline,
            )
            .await
        {
            return Outcome::failed(None, diag(e));
        }
        if old != new
            && let Err(e) = backend.record_tenant(&id, &new).await
        {
            return Outcome::failed(None, diag(e));
        }
        let work = sql_work(prior, &state, old != new);
        // Connect when there is SQL to run or tenant values to record (`stagesub.tenant`, read back by
        // import); a tenant without seed or migrations whose password is unknown (an imported Supabase
        // project) is still renamed, without recording.
        let needs_session = !new.archived && (work.any_sql() || work.tenant_changed);
        let db = match read_after_update(&*backend, &id, needs_session || new_password.is_some())
            .await
        {
            Ok(db) => db,
            Err(e) => return Outcome::failed(None, diag(e)),
        };
        let stored = state.database_password.clone();
        state.fill(&db, stored.as_ref());
        let applied = if needs_session {
            let password = new_password.or(stored);
            self.run_sql(
                &*backend,
                &db,
                password.as_ref(),
                &work,
                &state,
                &new.tenant,
            )
            .await
        } else {
            Ok(None)
        };
        match applied {
            Ok(Some(names)) => state.applied_migrations = Some(names),
            Ok(None) => state
                .applied_migrations
                .clone_from(&prior.applied_migrations),
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
            .directory_settle(&*backend, &mut state, directory_password.as_ref())
            .await
        {
            Ok(()) => Outcome::ok(state.to_value()),
            Err(e) => Outcome::failed(Some(state.to_value()), diag(e)),
        }
    }

    /// Migrations and seed after an update; `None` when nothing ran (no SQL and the session could
    /// not be opened: the tenant values are then not recorded, with a warning in the log).
    async fn run_sql(
        &self,
        backend: &dyn Backend,
        db: &Database,
        password: Option<&Secret>,
        work: &SqlWork,
        state: &OrchestraModel,
        tenant: &Tenant,
    ) -> Result<Option<Vec<String>>, BackendError> {
        let target = match backend.session_target(db, password.map(Secret::expose)) {
            Ok(t) => t,
            Err(e) if !work.any_sql() => {
                tracing::warn!("not recording the tenant values of {}: {}", db.id, e.detail);
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let migrations_dir = state.migrations_dir.as_deref();
        tenant_db::migrate_and_seed(
            &target,
            &self.shared.tls(),
            migrations_dir,
            work.seed.as_deref(),
            tenant,
        )
        .await
        .map(Some)
    }

    /// Destroys the database, unless deletion protection is on.
    pub(super) async fn delete_database(
        &self,
        ctx: &Context,
        prior: &OrchestraModel,
    ) -> Diagnostics {
        if prior.deletion_protection {
            return plan::protected(prior);
        }
        let backend = match self.shared.backend() {
            Ok(b) => b,
            Err(e) => return diag(e),
        };
        let deadline = Instant::now() + prior.timeout("delete", DELETE_TIMEOUT);
        let id = prior.id.as_deref().unwrap_or_default();
        // The directory first answers, so the database is not gone with its row left `ready`.
        if let Err(e) = self.directory_reachable().await {
            return diag(e);
        }
        // Held in a backup: there is no database; the backups stay (retention).
        if !prior.held_in_backup()
            && let Err(e) = backend.delete(ctx, id, deadline).await
        {
            return diag(e);
        }
        match self
            .directory_tombstone(prior.subdomain.as_deref().unwrap_or_default())
            .await
        {
            Ok(()) => Diagnostics::default(),
            Err(e) => diag(e),
        }
    }
}

/// The password to set now, if it changes: the write-only one when its version changed (it never
/// enters state), else a changed `database_password`. The state keeps the prior password when the
/// plan left it unknown.
fn choose_password(
    prior: &OrchestraModel,
    state: &mut OrchestraModel,
    config: &OrchestraModel,
) -> Option<Secret> {
    let wo_rotated = state.database_password_wo_version != prior.database_password_wo_version;
    if wo_rotated && config.database_password_wo.is_some() {
        state.database_password = None;
        return config.database_password_wo.clone();
    }
    if state.database_password.is_none() {
        state.database_password.clone_from(&prior.database_password);
    }
    config
        .database_password
        .clone()
        .filter(|p| Some(p) != prior.database_password.as_ref())
}

/// Seed when it or the tenant values changed; migrations when some are pending or the folder changed.
fn sql_work(prior: &OrchestraModel, planned: &OrchestraModel, tenant_changed: bool) -> SqlWork {
    let seed_changed = planned.seed_sql != prior.seed_sql;
    let pending = planned.applied_migrations != prior.applied_migrations;
    SqlWork {
        seed: if seed_changed || tenant_changed {
            planned.seed_sql.clone()
        } else {
            None
        },
        migrate: planned.migrations_dir.is_some()
            && (pending || planned.migrations_dir != prior.migrations_dir),
        tenant_changed,
    }
}

/// The database after an update; connection details (extra API calls on Supabase) only when
/// `details` (a session follows, or the password changed and the URLs with it).
async fn read_after_update(
    backend: &dyn Backend,
    id: &str,
    details: bool,
) -> Result<Database, BackendError> {
    let read = if details {
        backend.read_details(id).await
    } else {
        backend.read(id).await
    };
    read?.ok_or_else(|| {
        BackendError::new(
            "The orchestra's database disappeared",
            format!("{id} no longer exists; run `terraform apply` again to re-create it."),
        )
    })
}

fn already_exists(backend: &dyn Backend, spec: &DatabaseSpec, id: &str) -> Diagnostics {
    Diagnostic::error(
        "The orchestra's database already exists",
        format!("A {} database for subdomain {:?} exists already (id {id}). stagesub never takes over or overwrites an existing tenant silently. To manage it with Terraform, import it:\n\n  terraform import <resource address> {id}\n\nor add an `import {{ to = <resource address>, id = \"{id}\" }}` block.", backend.kind(), spec.tenant.subdomain),
    )
    .at(AttributePath::root(attr::SUBDOMAIN))
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use stagesub_plugin::Number;

    fn model(password: Option<&str>, version: Option<i64>) -> OrchestraModel {
        OrchestraModel {
            database_password: password.map(Secret::from),
            database_password_wo_version: version.map(Number::Int),
            ..OrchestraModel::default()
        }
    }

    #[test]
    fn a_new_write_only_version_sets_the_write_only_password_and_keeps_none() {
        let prior = model(Some("old password 123"), Some(1));
        let mut state = model(Some("old password 123"), Some(2));
        let config = OrchestraModel {
            database_password_wo: Some(Secret::from("write-only password")),
            ..model(None, Some(2))
        };
        let new = choose_password(&prior, &mut state, &config);
        assert_eq!(new, Some(Secret::from("write-only password")));
        assert_eq!(state.database_password, None);
    }

    #[test]
    fn a_changed_password_is_set_an_unchanged_one_is_not() {
        let prior = model(Some("old password 123"), None);
        let mut state = model(None, None);
        let unchanged = model(Some("old password 123"), None);
        assert_eq!(choose_password(&prior, &mut state, &unchanged), None);
        // A password the plan left unknown stays as it was.
        assert_eq!(state.database_password, prior.database_password);
        let changed = model(Some("new password 456"), None);
        assert_eq!(
            choose_password(&prior, &mut state, &changed),
            Some(Secret::from("new password 456"))
        );
    }

    #[test]
    fn sql_runs_for_pending_migrations_a_new_seed_or_new_tenant_values() {
        let prior = OrchestraModel {
            migrations_dir: Some("m".into()),
            seed_sql: Some("select 1".into()),
            applied_migrations: Some(vec!["a".into()]),
            ..OrchestraModel::default()
        };
        let nothing = sql_work(&prior, &prior, false);
        assert!(!nothing.any_sql() && !nothing.tenant_changed);
        let renamed = sql_work(&prior, &prior, true);
        assert_eq!(renamed.seed.as_deref(), Some("select 1"));
        assert!(!renamed.migrate);
        let pending = OrchestraModel {
            applied_migrations: Some(vec!["a".into(), "b".into()]),
            ..prior.clone()
        };
        let work = sql_work(&prior, &pending, false);
        assert!(work.migrate && work.seed.is_none());
    }
}
