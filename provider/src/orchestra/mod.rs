//! Resource `stagesub_orchestra_database`: one dedicated, migrated and seeded database per orchestra.
//!
//! [`schema`] holds the attributes; this module the lifecycle: plan refinements (pending migrations,
//! stable connection details), create, read (drift, migration history), update, delete, import.

mod schema;

pub use schema::schema;

use std::sync::Arc;
use std::time::{Duration, Instant};

use stagesub_plugin::{
    AttributePath, Context, Diagnostic, Diagnostics, Outcome, Plan, Resource, Schema, Value,
    timeouts,
};

use crate::backend::{BackendError, Database, TenantSpec, connection_url};
use crate::config::Shared;
use crate::tenant_db;

/// The resource type name.
pub const TYPE_NAME: &str = "stagesub_orchestra_database";

const CREATE_TIMEOUT: Duration = Duration::from_secs(15 * 60);
const UPDATE_TIMEOUT: Duration = Duration::from_secs(15 * 60);
const DELETE_TIMEOUT: Duration = Duration::from_secs(10 * 60);

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

fn opt_string(v: &Value, name: &str) -> Option<String> {
    v.str_attr(name).map(str::to_string)
}

fn diag(e: BackendError) -> Diagnostics {
    Diagnostic::error(e.summary, e.detail).into()
}

impl OrchestraDatabase {
    fn spec(&self, v: &Value) -> TenantSpec {
        TenantSpec {
            subdomain: v.str_attr("subdomain").unwrap_or_default().to_string(),
            orchestra_name: v.str_attr("orchestra_name").unwrap_or_default().to_string(),
            contact_email: opt_string(v, "contact_email"),
            plan: opt_string(v, "plan"),
            region: opt_string(v, "region").unwrap_or_else(|| self.shared.default_region()),
            instance_size: opt_string(v, "instance_size"),
            archived: v.attr("archived").as_bool().unwrap_or(false),
            enforce_ssl: v.attr("enforce_ssl").as_bool().unwrap_or(true),
            allowed_cidrs: v.attr("allowed_cidrs").as_list().map(|l| {
                l.iter()
                    .filter_map(|c| c.as_str().map(str::to_string))
                    .collect()
            }),
        }
    }

    /// Fills the computed attributes of `state` from what the backend reports.
    fn fill(&self, state: &mut Value, db: &Database, password: Option<&str>) {
        state.set_attr("id", db.id.as_str());
        state.set_attr("status", db.status.as_str());
        state.set_attr("created_at", db.created_at.clone());
        state.set_attr("api_url", db.api_url.clone());
        if db.host.is_empty() {
            // The backend's cheap read has no connection details; they do not change, keep them.
            return;
        }
        state.set_attr("database_host", db.host.as_str());
        state.set_attr("database_port", db.port);
        state.set_attr("database_name", db.name.as_str());
        state.set_attr("database_user", db.user.as_str());
        state.set_attr(
            "database_url",
            connection_url(
                &db.user,
                password,
                &db.host,
                db.port,
                &db.name,
                &db.url_params,
            ),
        );
        state.set_attr(
            "pooler_url",
            db.pooler
                .as_ref()
                .map(|(h, p)| connection_url(&db.user, password, h, *p, &db.name, &db.url_params)),
        );
    }

    async fn refresh_migrations(
        &self,
        db: &Database,
        password: Option<&str>,
        migrations_dir: Option<&str>,
    ) -> Option<tenant_db::History> {
        if !self.shared.refresh_migrations() || db.archived {
            return None;
        }
        let backend = self.shared.backend().ok()?;
        let target = backend.session_target(db, password).ok()?;
        match tenant_db::applied(&target, &self.shared.tls(), migrations_dir).await {
            Ok(history) => Some(history),
            Err(e) => {
                tracing::warn!("reading the migration history of {}: {}", db.id, e.detail);
                None
            }
        }
    }
}

/// `db` with the connection details recorded in `state` when the backend's cheap read has none
/// (Supabase refresh reads the cached project list, which carries no pooler settings).
fn with_recorded_connection(db: &Database, state: &Value) -> Database {
    let mut db = db.clone();
    if db.host.is_empty() {
        db.host = state
            .str_attr("database_host")
            .unwrap_or_default()
            .to_string();
        db.port = state.attr("database_port").as_i64().unwrap_or(5432);
        db.name = state
            .str_attr("database_name")
            .unwrap_or_default()
            .to_string();
        db.user = state
            .str_attr("database_user")
            .unwrap_or_default()
            .to_string();
    }
    db
}

/// Private-state key under which refresh notes an applied migration whose file has changed.
const MODIFIED_MIGRATION: &str = "modified_migration";
/// Private-state key under which refresh notes applied migrations whose files are gone.
const MISSING_MIGRATIONS: &str = "missing_migrations";

fn modified_migration(private: &[u8]) -> Option<String> {
    let note: serde_json::Value = serde_json::from_slice(private).ok()?;
    note[MODIFIED_MIGRATION].as_str().map(str::to_string)
}

fn missing_migrations(private: &[u8]) -> Vec<String> {
    let note: serde_json::Value = serde_json::from_slice(private).unwrap_or_default();
    note[MISSING_MIGRATIONS]
        .as_array()
        .map(|names| {
            names
                .iter()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The private state a refresh leaves for the plan that follows: what it found wrong with the files
/// of applied migrations (empty when nothing).
fn history_note(history: &tenant_db::History) -> Vec<u8> {
    let mut note = serde_json::Map::new();
    if let Some(m) = &history.modified {
        note.insert(MODIFIED_MIGRATION.into(), m.clone().into());
    }
    if !history.missing.is_empty() {
        note.insert(MISSING_MIGRATIONS.into(), history.missing.clone().into());
    }
    if note.is_empty() {
        Vec::new()
    } else {
        serde_json::Value::Object(note).to_string().into_bytes()
    }
}

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

#[async_trait::async_trait]
impl Resource for OrchestraDatabase {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        let mut d = Diagnostics::default();
        if !config.attr("database_password").is_null()
            && !config.attr("database_password_wo").is_null()
        {
            d.push(
                Diagnostic::error(
                    "Conflicting passwords",
                    "Set either database_password or database_password_wo, not both.",
                )
                .at(AttributePath::root("database_password_wo")),
            );
        }
        if !config.attr("database_password_wo").is_null()
            && config.attr("database_password_wo_version").is_null()
        {
            d.push(Diagnostic::error("Missing database_password_wo_version", "Set database_password_wo_version (any number) with database_password_wo, and change it to rotate the password.").at(AttributePath::root("database_password_wo_version")));
        }
        if let Some(Err(e)) = config.str_attr("migrations_dir").map(tenant_db::load) {
            {
                d.push(
                    Diagnostic::error(e.summary, e.detail)
                        .at(AttributePath::root("migrations_dir")),
                );
            }
        }
        d
    }

    async fn modify_plan(&self, _ctx: &Context, plan: &mut Plan) -> Diagnostics {
        let mut d = Diagnostics::default();
        if plan.planned.attr("region").is_unknown() && plan.config.attr("region").is_null() {
            let region = plan
                .prior
                .str_attr("region")
                .map(str::to_string)
                .unwrap_or_else(|| self.shared.default_region());
            plan.planned.set_attr("region", region);
        }
        if !plan.is_create() {
            // Connection details only change with the password; status only with `archived`.
            let password_same = plan.config.attr("database_password")
                == plan.prior.attr("database_password")
                || plan.config.attr("database_password").is_null();
            let wo_same = plan.planned.attr("database_password_wo_version")
                == plan.prior.attr("database_password_wo_version");
            if password_same && wo_same {
                for a in ["database_url", "pooler_url"] {
                    plan.planned.set_attr(a, plan.prior.attr(a).clone());
                }
            }
            if plan.planned.attr("archived") == plan.prior.attr("archived") {
                plan.planned
                    .set_attr("status", plan.prior.attr("status").clone());
            }
        }
        let same_dir = plan.planned.attr("migrations_dir") == plan.prior.attr("migrations_dir");
        if let Some(why) = modified_migration(&plan.private)
            && same_dir
        {
            // A warning, not an error: `terraform destroy` plans too and must not be blocked. Applying
            // migrations refuses the edited file with an error.
            d.push(
                Diagnostic::warning(
                    "An applied migration was changed",
                    format!("{why}\n\nApplied migrations must not be edited: restore the file as it was applied and put the change in a new migration."),
                )
                .at(AttributePath::root("migrations_dir")),
            );
        }
        let missing = missing_migrations(&plan.private);
        if !missing.is_empty() && same_dir {
            // As above: a warning; applying pending migrations on top of the gap is refused.
            d.push(
                Diagnostic::warning(
                    "An applied migration was deleted",
                    format!(
                        "{} no longer in migrations_dir {}. {}",
                        tenant_db::missing_list(&missing),
                        plan.planned
                            .str_attr("migrations_dir")
                            .map(|d| format!("{d:?}"))
                            .unwrap_or_default(),
                        tenant_db::MISSING_ADVICE
                    ),
                )
                .at(AttributePath::root("migrations_dir")),
            );
        }
        // Pending migrations: what is applied, then the folder's migrations not applied yet.
        let prior_applied: Vec<String> = plan
            .prior
            .attr("applied_migrations")
            .as_list()
            .unwrap_or_default()
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        let archived = plan.planned.attr("archived").as_bool().unwrap_or(false);
        let planned_applied = match plan.planned.attr("migrations_dir") {
            Value::Unknown => Value::Unknown,
            Value::String(dir) if !archived => match tenant_db::load(dir) {
                Ok(set) => {
                    let mut names = prior_applied.clone();
                    names.extend(
                        set.names()
                            .into_iter()
                            .filter(|n| !prior_applied.contains(n)),
                    );
                    Value::string_list(names)
                }
                Err(e) => {
                    d.push(
                        Diagnostic::error(e.summary, e.detail)
                            .at(AttributePath::root("migrations_dir")),
                    );
                    Value::Unknown
                }
            },
            _ => Value::string_list(prior_applied),
        };
        plan.planned.set_attr("applied_migrations", planned_applied);
        d
    }

    async fn plan_destroy(&self, prior: &Value) -> Diagnostics {
        if prior.attr("deletion_protection").as_bool().unwrap_or(true) {
            return protected(prior);
        }
        Diagnostics::default()
    }

    async fn create(
        &self,
        ctx: &Context,
        planned: &Value,
        config: &Value,
        _private: &[u8],
    ) -> Outcome {
        let backend = match self.shared.backend() {
            Ok(b) => b,
            Err(e) => return Outcome::failed(None, diag(e)),
        };
        let spec = self.spec(planned);
        let deadline = Instant::now() + timeouts::get(planned, "create", CREATE_TIMEOUT);
        match backend.find(&spec.subdomain).await {
            Ok(Some(id)) => {
                return Outcome::failed(None, Diagnostic::error(
                    "The orchestra's database already exists",
                    format!("A {} database for subdomain {:?} exists already (id {id}). stagesub never takes over or overwrites an existing tenant silently. To manage it with Terraform, import it:\n\n  terraform import <resource address> {id}\n\nor add an `import {{ to = <resource address>, id = \"{id}\" }}` block.", backend.kind(), spec.subdomain),
                ).at(AttributePath::root("subdomain")));
            }
            Ok(None) => {}
            Err(e) => return Outcome::failed(None, diag(e)),
        }
        let write_only = config.str_attr("database_password_wo").map(str::to_string);
        let password = write_only
            .clone()
            .or_else(|| opt_string(planned, "database_password"))
            .unwrap_or_else(generate_password);
        let stored_password = if write_only.is_some() {
            None
        } else {
            Some(password.clone())
        };
        let mut state = planned.clone();
        state.set_attr("database_password", stored_password.clone());
        let db = match backend.create(ctx, &spec, &password, deadline).await {
            Ok(db) => db,
            Err(e) => {
                // Something paid-for may exist: record it (Terraform marks it tainted) rather than forget it.
                let partial = e.created_id.clone().map(|id| {
                    let mut s = state.clone();
                    s.set_attr("id", id);
                    s.set_attr("status", "CREATE_FAILED");
                    unknown_to_null(&mut s);
                    s
                });
                return Outcome::failed(partial, diag(e));
            }
        };
        self.fill(&mut state, &db, stored_password.as_deref());
        let target = backend.session_target(&db, Some(&password));
        let migrated = match target {
            Ok(t) if !spec.archived => {
                tenant_db::migrate_and_seed(
                    &t,
                    &self.shared.tls(),
                    planned.str_attr("migrations_dir"),
                    planned.str_attr("seed_sql"),
                    &spec,
                )
                .await
            }
            Ok(_) => Ok(Vec::new()),
            Err(e) => Err(e),
        };
        match migrated {
            Ok(names) => {
                state.set_attr("applied_migrations", Value::string_list(names));
                Outcome::ok(state)
            }
            Err(e) => {
                unknown_to_null(&mut state);
                Outcome::failed(Some(state), diag(e))
            }
        }
    }

    async fn read(&self, _ctx: &Context, state: &Value, private: &[u8]) -> Outcome {
        let backend = match self.shared.backend() {
            Ok(b) => b,
            Err(e) => return Outcome::failed(Some(state.clone()), diag(e)),
        };
        let Some(id) = state.str_attr("id") else {
            return Outcome::ok(state.clone());
        };
        let db = match backend.read(id).await {
            Ok(Some(db)) => db,
            Ok(None) => return Outcome::default(),
            Err(e) => return Outcome::failed(Some(state.clone()), diag(e)),
        };
        let mut new = state.clone();
        let password = state.str_attr("database_password").map(str::to_string);
        self.fill(&mut new, &db, password.as_deref());
        new.set_attr("archived", db.archived);
        if state.attr("migrations_dir").is_null()
            && state
                .attr("applied_migrations")
                .as_list()
                .is_some_and(<[Value]>::is_empty)
        {
            // Nothing to compare; skip the query.
        } else if let Some(history) = self
            .refresh_migrations(
                &with_recorded_connection(&db, state),
                password.as_deref(),
                state.str_attr("migrations_dir"),
            )
            .await
        {
            // Kept for the plan that follows, which warns (see `modify_plan`).
            let note = history_note(&history);
            new.set_attr("applied_migrations", Value::string_list(history.names));
            return Outcome {
                state: Some(new),
                private: note,
                diagnostics: Diagnostics::default(),
            };
        }
        Outcome {
            state: Some(new),
            private: private.to_vec(),
            diagnostics: Diagnostics::default(),
        }
    }

    async fn update(
        &self,
        ctx: &Context,
        prior: &Value,
        planned: &Value,
        config: &Value,
        _private: &[u8],
    ) -> Outcome {
        let backend = match self.shared.backend() {
            Ok(b) => b,
            Err(e) => return Outcome::failed(None, diag(e)),
        };
        let id = prior.str_attr("id").unwrap_or_default().to_string();
        let (old, new) = (self.spec(prior), self.spec(planned));
        let deadline = Instant::now() + timeouts::get(planned, "update", UPDATE_TIMEOUT);
        let wo_rotated = planned.attr("database_password_wo_version")
            != prior.attr("database_password_wo_version");
        let write_only = config.str_attr("database_password_wo").map(str::to_string);
        let mut state = planned.clone();
        let new_password = if wo_rotated && write_only.is_some() {
            state.set_attr("database_password", Value::Null);
            write_only.clone()
        } else {
            config
                .str_attr("database_password")
                .filter(|p| Some(*p) != prior.str_attr("database_password"))
                .map(str::to_string)
        };
        if state.attr("database_password").is_unknown() {
            state.set_attr("database_password", prior.attr("database_password").clone());
        }
        if let Err(e) = backend
            .update(ctx, &id, &old, &new, new_password.as_deref(), deadline)
            .await
        {
            return Outcome::failed(None, diag(e));
        }
        if old != new
            && let Err(e) = backend.record_tenant(&id, &new).await
        {
            return Outcome::failed(None, diag(e));
        }
        let tenant_changed = old != new;
        let seed_changed = planned.attr("seed_sql") != prior.attr("seed_sql");
        let pending = planned.attr("applied_migrations") != prior.attr("applied_migrations");
        let seed = if seed_changed || tenant_changed {
            planned.str_attr("seed_sql")
        } else {
            None
        };
        let migrate = planned.str_attr("migrations_dir").is_some()
            && (pending || planned.attr("migrations_dir") != prior.attr("migrations_dir"));
        // Connect when there is SQL to run or tenant values to record (`stagesub.tenant`, read back by
        // import); a tenant without seed or migrations whose password is unknown (an imported Supabase
        // project) is still renamed, without recording.
        let sql_work = seed.is_some() || migrate;
        let needs_session = !new.archived && (sql_work || tenant_changed);
        // Connection details (extra API calls on Supabase) only when connecting.
        let read = if needs_session {
            backend.read_details(&id).await
        } else {
            backend.read(&id).await
        };
        let db = match read {
            Ok(Some(db)) => db,
            Ok(None) => {
                return Outcome::failed(
                    None,
                    Diagnostic::error(
                        "The orchestra's database disappeared",
                        format!(
                            "{id} no longer exists; run `terraform apply` again to re-create it."
                        ),
                    ),
                );
            }
            Err(e) => return Outcome::failed(None, diag(e)),
        };
        let stored = state.str_attr("database_password").map(str::to_string);
        self.fill(&mut state, &db, stored.as_deref());
        let password_for_session = new_password.clone().or(stored);
        let target = needs_session
            .then(|| backend.session_target(&db, password_for_session.as_deref()))
            .and_then(|t| match t {
                Err(e) if !sql_work => {
                    tracing::warn!("not recording the tenant values of {id}: {}", e.detail);
                    None
                }
                t => Some(t),
            });
        if let Some(target) = target {
            let result = match target {
                Ok(t) => {
                    tenant_db::migrate_and_seed(
                        &t,
                        &self.shared.tls(),
                        planned.str_attr("migrations_dir"),
                        seed,
                        &new,
                    )
                    .await
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(names) => state.set_attr("applied_migrations", Value::string_list(names)),
                Err(e) => {
                    state.set_attr(
                        "applied_migrations",
                        prior.attr("applied_migrations").clone(),
                    );
                    unknown_to_null(&mut state);
                    return Outcome::failed(Some(state), diag(e));
                }
            }
        } else {
            state.set_attr(
                "applied_migrations",
                prior.attr("applied_migrations").clone(),
            );
        }
        Outcome::ok(state)
    }

    async fn delete(&self, ctx: &Context, prior: &Value, _private: &[u8]) -> Diagnostics {
        if prior.attr("deletion_protection").as_bool().unwrap_or(true) {
            return protected(prior);
        }
        let backend = match self.shared.backend() {
            Ok(b) => b,
            Err(e) => return diag(e),
        };
        let deadline = Instant::now() + timeouts::get(prior, "delete", DELETE_TIMEOUT);
        match backend
            .delete(ctx, prior.str_attr("id").unwrap_or_default(), deadline)
            .await
        {
            Ok(()) => Diagnostics::default(),
            Err(e) => diag(e),
        }
    }

    async fn import(&self, _ctx: &Context, id: &str) -> Outcome {
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
        let mut state = Value::Object(
            schema()
                .block
                .attributes
                .iter()
                .map(|a| (a.name.clone(), Value::Null))
                .collect(),
        );
        state.set_attr("timeouts", Value::Null);
        state.set_attr("subdomain", db.subdomain.clone());
        state.set_attr(
            "region",
            db.region
                .clone()
                .unwrap_or_else(|| self.shared.default_region()),
        );
        state.set_attr("archived", db.archived);
        state.set_attr("deletion_protection", true);
        state.set_attr("enforce_ssl", true);
        if let Some(meta) = backend.tenant_metadata(&db, &self.shared.tls()).await {
            state.set_attr("orchestra_name", meta.orchestra_name);
            state.set_attr("contact_email", meta.contact_email);
            state.set_attr("plan", meta.plan);
        }
        self.fill(&mut state, &db, None);
        state.set_attr(
            "applied_migrations",
            Value::string_list(
                self.refresh_migrations(&db, None, None)
                    .await
                    .map(|h| h.names)
                    .unwrap_or_default(),
            ),
        );
        Outcome::ok(state)
    }
}

fn protected(prior: &Value) -> Diagnostics {
    let sub = prior.str_attr("subdomain").unwrap_or("?");
    Diagnostic::error(
        "Deletion protection is on",
        format!("The database of orchestra {sub:?} has deletion_protection = true, so it is not destroyed. To destroy it, set `deletion_protection = false`, run `terraform apply`, then destroy again."),
    )
    .at(AttributePath::root("deletion_protection"))
    .into()
}

/// A state returned with an error may not hold unknowns.
fn unknown_to_null(v: &mut Value) {
    if let Value::Object(m) = v {
        for val in m.values_mut() {
            if val.is_unknown() {
                *val = Value::Null;
            }
        }
    }
}
