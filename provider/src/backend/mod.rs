//! Where an orchestra's database lives: a Supabase project ([`supabase`]) or a database and login role
//! on a Postgres server the operator owns ([`postgres`]). The resource code talks to [`Backend`].

pub mod postgres;
pub mod supabase;

use std::time::Instant;

use stagesub_pgconn::TlsOptions;
use stagesub_plugin::Context;

use stagesub_tenant::Tenant;

use crate::Secret;

/// Region used when neither the resource nor the provider sets one.
pub const DEFAULT_REGION: &str = "eu-central-1";

/// What a backend creates or changes: the tenant (values and rules of crate `stagesub-tenant`) and
/// the database settings the resource adds around it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DatabaseSpec {
    /// The tenant; its `region` is resolved (the provider's default when the resource sets none).
    pub tenant: Tenant,
    /// Supabase compute size (`desired_instance_size` at create, the compute add-on after);
    /// `None` = not managed.
    pub instance_size: Option<String>,
    /// Paused / connections blocked.
    pub archived: bool,
    /// Supabase SSL enforcement.
    pub enforce_ssl: bool,
    /// Supabase network restrictions; `None` = unrestricted.
    pub allowed_cidrs: Option<Vec<String>>,
}

impl DatabaseSpec {
    /// The region code or smart group (Supabase): the tenant's, else [`DEFAULT_REGION`].
    pub fn region(&self) -> &str {
        self.tenant.region.as_deref().unwrap_or(DEFAULT_REGION)
    }
}

/// An orchestra database as the backend sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Database {
    /// Supabase project ref or database name.
    pub id: String,
    /// Backend status name (`ACTIVE_HEALTHY`, `INACTIVE`, `ACTIVE`, `ARCHIVED`, ...).
    pub status: String,
    /// Creation time, RFC 3339.
    pub created_at: Option<String>,
    /// Host applications connect to (session mode).
    pub host: String,
    /// Port (session mode).
    pub port: i64,
    /// Database name.
    pub name: String,
    /// Login user.
    pub user: String,
    /// Transaction-mode pooler host and port (Supabase).
    pub pooler: Option<(String, i64)>,
    /// `https://<ref>.supabase.co` (Supabase).
    pub api_url: Option<String>,
    /// Region the database runs in.
    pub region: Option<String>,
    /// Whether it is paused / blocked.
    pub archived: bool,
    /// Query parameters for connection URLs (e.g. `sslmode=require`).
    pub url_params: String,
    /// The subdomain it was created for, when the backend can tell (import).
    pub subdomain: Option<String>,
}

/// How to open a session for migrations and seed.
#[derive(Debug, Clone)]
pub struct SessionTarget {
    /// Connection URL (contains credentials).
    pub url: Secret,
    /// Role to `SET ROLE` to after connecting, so objects belong to the tenant.
    pub set_role: Option<String>,
}

/// A backend failure.
#[derive(Debug, Clone)]
pub struct BackendError {
    /// Summary line.
    pub summary: String,
    /// What happened and what to do.
    pub detail: String,
    /// The id of an object that exists despite the failure (must be recorded in state).
    pub created_id: Option<String>,
}

impl BackendError {
    /// A failure with no object left behind.
    pub fn new(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        BackendError {
            summary: summary.into(),
            detail: detail.into(),
            created_id: None,
        }
    }
}

/// Operations every backend provides.
#[async_trait::async_trait]
pub trait Backend: Send + Sync + std::fmt::Debug {
    /// `supabase` or `postgres`.
    fn kind(&self) -> &'static str;

    /// The id the tenant would have, and whether something by that name exists already.
    async fn find(&self, subdomain: &str) -> Result<Option<String>, BackendError>;

    /// Creates the database and waits until it is usable.
    async fn create(
        &self,
        ctx: &Context,
        spec: &DatabaseSpec,
        password: &str,
        deadline: Instant,
    ) -> Result<Database, BackendError>;

    /// Reads it; `None` when it is gone.
    async fn read(&self, id: &str) -> Result<Option<Database>, BackendError>;

    /// Reads it with full connection details (may cost more calls than [`Backend::read`]).
    async fn read_details(&self, id: &str) -> Result<Option<Database>, BackendError> {
        self.read(id).await
    }

    /// Applies in-place changes: archived, compute size, password, SSL enforcement, network
    /// restrictions.
    async fn update(
        &self,
        ctx: &Context,
        id: &str,
        prior: &DatabaseSpec,
        spec: &DatabaseSpec,
        new_password: Option<&str>,
        deadline: Instant,
    ) -> Result<(), BackendError>;

    /// Deletes it and waits until it is gone (a missing database is success).
    async fn delete(&self, ctx: &Context, id: &str, deadline: Instant) -> Result<(), BackendError>;

    /// Records the tenant's values with the database, so `terraform import` can read them back.
    async fn record_tenant(&self, _id: &str, _spec: &DatabaseSpec) -> Result<(), BackendError> {
        Ok(())
    }

    /// The tenant recorded with the database (by [`Backend::record_tenant`] or in its
    /// `stagesub.tenant` table), if it can be read; `tls` applies when that needs a connection.
    async fn recorded_tenant(&self, _db: &Database, _tls: &TlsOptions) -> Option<Tenant> {
        None
    }

    /// The compute size in force (Supabase: the project's compute add-on, `nano` without one), for
    /// refresh to show drift; `None` where the backend has no sizes (`postgres`).
    async fn compute_size(&self, _id: &str) -> Result<Option<String>, BackendError> {
        Ok(None)
    }

    /// The key an app uses for the backend's API (Supabase: the project's `anon` key from
    /// `GET /v1/projects/{ref}/api-keys`); `None` where the backend has none.
    async fn anon_key(&self, _id: &str) -> Result<Option<Secret>, BackendError> {
        Ok(None)
    }

    /// The id a tenant's database has or would have (the Postgres database name, or the Supabase
    /// project name where the ref is not known, e.g. for an orchestra held in a backup).
    fn name_for(&self, subdomain: &str) -> String {
        match self.kind() {
            "postgres" => postgres::database_name(subdomain),
            _ => supabase::project_name(subdomain),
        }
    }

    /// Schemas the platform manages in every database it creates (Supabase: `auth`, `storage`, ...):
    /// an archive leaves them out, as a new database has them again.
    fn platform_schemas(&self) -> &'static [&'static str] {
        &[]
    }

    /// Why pausing would be refused, read once per provider process (Supabase: the organization
    /// is on a paid plan, returned as the plan's name); `None` when pausing works.
    async fn pause_refused(&self) -> Result<Option<String>, BackendError> {
        Ok(None)
    }

    /// Keeps the tenant's own logins out (`true`) or lets them in again (`false`) while an
    /// archive by backup dumps the database, so nothing is written after the dump's snapshot.
    /// Where the backend cannot (Supabase: the app logs in as the same user as the provider),
    /// the tenant directory's `archived` row is what stops the app.
    async fn fence(&self, _id: &str, _fenced: bool) -> Result<(), BackendError> {
        Ok(())
    }

    /// Where migrations and seed run.
    fn session_target(
        &self,
        db: &Database,
        password: Option<&str>,
    ) -> Result<SessionTarget, BackendError>;
}

/// `user:password@host:port/db?params` as a `postgresql://` URL, with the parts percent-encoded.
pub fn connection_url(
    user: &str,
    password: Option<&str>,
    host: &str,
    port: i64,
    db: &str,
    params: &str,
) -> String {
    let enc = |s: &str| {
        url::form_urlencoded::byte_serialize(s.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    };
    let auth = match password {
        Some(p) => format!("{}:{}", enc(user), enc(p)),
        None => enc(user),
    };
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    let q = if params.is_empty() {
        String::new()
    } else {
        format!("?{params}")
    };
    format!("postgresql://{auth}@{host}:{port}/{}{q}", enc(db))
}

/// Sleeps, or returns early with an error when Terraform asks the provider to stop.
pub async fn pause(ctx: &Context, d: std::time::Duration) -> Result<(), BackendError> {
    tokio::select! {
        () = tokio::time::sleep(d) => Ok(()),
        () = ctx.cancel.cancelled() => Err(BackendError::new("Interrupted", "Terraform asked the provider to stop (Ctrl-C); the operation was abandoned.")),
    }
}
