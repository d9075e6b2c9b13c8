//! The `supabase` backend: a Supabase project per orchestra, through the Management API.
//!
//! No orphans: `POST /v1/projects` has no idempotency key, so a lost answer is followed by a look-up by
//! name; a project that exists but never became healthy is reported with its ref so Terraform records
//! it (tainted). Refresh reads the organization's project list once per provider process.
//!
//! `instance_size` changes in place through the compute add-on ([`compute`]).
//!
//! Import reads the tenant values back from the project's `stagesub.tenant` table with temporary
//! read-only credentials (`POST /v1/projects/{ref}/cli/login-role`), as the database password is not
//! known then.

mod compute;

use std::time::{Duration, Instant};

use stagesub_plugin::Context;
use stagesub_supabase::{
    BackoffPolicy, Client, ClientConfig, CreateProjectBody, Error as ApiError,
    NetworkRestrictionsConfig, PoolMode, PoolerConfig, ProjectCache, ProjectStatus, Region, Secret,
};

use stagesub_pgconn::TlsOptions;
use stagesub_tenant::Tenant;

use super::{Backend, BackendError, Database, DatabaseSpec, SessionTarget, connection_url};
use crate::tenant_db;

/// The project name for a subdomain.
pub fn project_name(subdomain: &str) -> String {
    format!("orchestra-{subdomain}")
}

/// Supabase projects in one organization.
#[derive(Debug)]
pub struct SupabaseBackend {
    client: Client,
    organization: String,
    cache: ProjectCache,
    /// The organization's plan when it is paid, read once per provider process.
    paid_plan: tokio::sync::OnceCell<Option<String>>,
}

fn api(summary: &str, e: ApiError) -> BackendError {
    BackendError::new(summary, e.to_string())
}

impl SupabaseBackend {
    /// A backend for `organization` at `api_url` with a personal access token.
    pub fn new(api_url: &str, token: Secret, organization: String) -> Result<Self, String> {
        let config = ClientConfig::new(token).with_api_url(api_url.to_string());
        let client = Client::new(config).map_err(|e| e.to_string())?;
        let cache = client.project_cache(organization.clone());
        Ok(SupabaseBackend {
            client,
            organization,
            cache,
            paid_plan: tokio::sync::OnceCell::new(),
        })
    }

    /// Full details: the project plus its pooler configuration.
    async fn read_full(&self, project_ref: &str) -> Result<Option<Database>, BackendError> {
        let Some(project) = self
            .client
            .get_project(project_ref)
            .await
            .map_err(|e| api("Cannot read the Supabase project", e))?
        else {
            return Ok(None);
        };
        let mut db = Database {
            id: project.project_ref.clone(),
            status: project.status.to_string(),
            created_at: Some(project.created_at.clone()),
            region: Some(project.region.clone()),
            archived: matches!(
                project.status,
                ProjectStatus::Inactive | ProjectStatus::Pausing
            ),
            api_url: Some(format!("https://{}.supabase.co", project.project_ref)),
            url_params: "sslmode=require".into(),
            subdomain: project.name.strip_prefix("orchestra-").map(str::to_string),
            ..Default::default()
        };
        if db.archived {
            return Ok(Some(db));
        }
        let poolers = self
            .client
            .pooler_config(project_ref)
            .await
            .map_err(|e| api("Cannot read the project's pooler configuration", e))?;
        let session = poolers.iter().find(|p| p.pool_mode == PoolMode::Session);
        let transaction = poolers
            .iter()
            .find(|p| p.pool_mode == PoolMode::Transaction)
            .or_else(|| PoolerConfig::primary(&poolers));
        if let Some(p) = session.or(transaction) {
            db.host = p.db_host.clone();
            // The session-mode port is 5432 on the pooler host when only a transaction entry is listed.
            db.port = session.map_or(5432, |s| i64::from(s.db_port));
            db.name = p.db_name.clone();
            db.user = p.db_user.clone();
        } else if let Some(d) = &project.database {
            db.host = d.host.clone();
            db.port = 5432;
            db.name = "postgres".into();
            db.user = "postgres".into();
        }
        if let Some(t) = transaction {
            db.pooler = Some((t.db_host.clone(), i64::from(t.db_port)));
        }
        Ok(Some(db))
    }

    /// Reads `stagesub.tenant` through the session pooler as a temporary read-only login role. The
    /// pooler may need a moment to accept a new role's password, so connecting is tried a few times.
    async fn read_tenant_values(
        &self,
        db: &Database,
        tls: &TlsOptions,
    ) -> Result<Option<Tenant>, String> {
        if db.archived || db.host.is_empty() {
            return Err(format!(
                "project {} is paused or has no pooler entry",
                db.id
            ));
        }
        let login = self
            .client
            .create_login_role(&db.id, true)
            .await
            .map_err(|e| format!("no temporary login role: {e}"))?;
        let target = SessionTarget {
            url: Secret::new(connection_url(
                &login.pooler_user(&db.id, &db.user),
                Some(login.password.expose()),
                &db.host,
                db.port,
                &db.name,
                &db.url_params,
            )),
            set_role: None,
        };
        let mut attempt = 0u32;
        loop {
            match tenant_db::read_tenant(&target, tls).await {
                Ok(values) => return Ok(values),
                Err(e) if attempt >= 3 => return Err(e.detail),
                Err(_) => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(250 << attempt)).await;
                }
            }
        }
    }

    /// After a create whose answer was lost: the project's ref when a project by the tenant's name
    /// exists, `None` once three look-ups in a row found none (Supabase lists a new project at once;
    /// three cover a lagging list). Failed look-ups are retried with backoff until `deadline`; past it
    /// the outcome is unknown and that is the error (state must not forget a project that may exist).
    async fn confirm_created(
        &self,
        ctx: &Context,
        spec: &DatabaseSpec,
        deadline: Instant,
    ) -> Result<Option<String>, BackendError> {
        let (mut absent, mut failed) = (0u32, 0u32);
        loop {
            match self.find(&spec.tenant.subdomain).await {
                Ok(Some(r)) => return Ok(Some(r)),
                Ok(None) => {
                    absent += 1;
                    if absent >= 3 {
                        return Ok(None);
                    }
                }
                Err(e) if Instant::now() >= deadline => {
                    return Err(BackendError::new(
                        "Supabase did not confirm the project",
                        format!(
                            "The answer to creating project {} was lost and the project list could not be read before the create timeout: {}. Look for the project in the Supabase dashboard; if it exists, import it (`terraform import`), otherwise run `terraform apply` again.",
                            project_name(&spec.tenant.subdomain),
                            e.detail
                        ),
                    ));
                }
                Err(_) => failed += 1,
            }
            let step = (absent + failed).min(4);
            super::pause(ctx, Duration::from_millis(250 << step)).await?;
        }
    }

    async fn wait_status(
        &self,
        project_ref: &str,
        target: ProjectStatus,
        deadline: Instant,
    ) -> Result<(), BackendError> {
        self.client
            .wait_until_status(project_ref, target, deadline)
            .await
            .map(drop)
            .map_err(|e| api("The Supabase project did not reach its state", e))
    }
}

/// How many times a create whose answer was lost (and whose project is confirmed absent) is sent.
const CREATE_ATTEMPTS: u32 = 8;

#[async_trait::async_trait]
impl Backend for SupabaseBackend {
    fn kind(&self) -> &'static str {
        "supabase"
    }

    async fn find(&self, subdomain: &str) -> Result<Option<String>, BackendError> {
        let name = project_name(subdomain);
        let found = self
            .client
            .find_project_by_name(&self.organization, &name)
            .await
            .map_err(|e| api("Cannot list Supabase projects", e))?;
        Ok(found.map(|p| p.project_ref))
    }

    async fn create(
        &self,
        ctx: &Context,
        spec: &DatabaseSpec,
        password: &str,
        deadline: Instant,
    ) -> Result<Database, BackendError> {
        let region = Region::parse(spec.region())
            .map_err(|e| BackendError::new("Invalid region", e.to_string()))?;
        let body = CreateProjectBody {
            name: project_name(&spec.tenant.subdomain),
            organization_slug: self.organization.clone(),
            db_pass: Secret::from(password),
            region,
            desired_instance_size: spec.instance_size.clone(),
        };
        // A lost answer is followed by a look-up by name; only when that confirms nothing was created is
        // the POST sent again (a 5xx burst must not fail the apply, nor leave two projects). A look-up
        // that itself fails proves nothing, so it is repeated (until the create deadline) rather than
        // taken as "absent": sending the POST again then could make a second project.
        let (mut attempt, mut refused) = (0u32, 0u32);
        let project_ref = loop {
            match self.client.create_project(&body).await {
                Ok(p) => break p.project_ref,
                Err(ApiError::CreateOutcomeUnknown { .. }) => {
                    attempt += 1;
                    if let Some(r) = self.confirm_created(ctx, spec, deadline).await? {
                        break r;
                    }
                    if attempt >= CREATE_ATTEMPTS || Instant::now() >= deadline {
                        return Err(BackendError::new(
                            "Supabase did not confirm the project",
                            format!(
                                "The answers to creating project {} were lost {attempt} times, and no project by that name exists. Nothing was created; run `terraform apply` again.",
                                body.name
                            ),
                        ));
                    }
                }
                // The rate limit refused it, so nothing was created; the client now waits for the
                // window to reset before its next call.
                Err(ApiError::Api { status: 429, .. }) if refused < 5 => refused += 1,
                Err(e) => return Err(api("Supabase refused to create the project", e)),
            }
        };
        self.cache.remove(&project_ref);
        let with_ref = |mut e: BackendError| {
            e.created_id = Some(project_ref.clone());
            e.detail.push_str(&format!("\n\nThe project {project_ref} exists and is recorded in state (tainted): the next apply replaces it, or fix it and `terraform untaint`."));
            e
        };
        let waited = tokio::select! {
            r = self.client.wait_until_healthy(&project_ref, deadline, BackoffPolicy::polling()) => r.map_err(|e| api("The Supabase project did not become healthy", e)),
            () = ctx.cancel.cancelled() => Err(BackendError::new("Interrupted", "Terraform asked the provider to stop while the project was coming up.")),
        };
        waited.map_err(with_ref)?;
        let settings = async {
            self.client
                .put_ssl_enforcement(&project_ref, spec.enforce_ssl)
                .await
                .map_err(|e| api("Cannot set SSL enforcement", e))?;
            if let Some(cidrs) = &spec.allowed_cidrs {
                self.client
                    .apply_network_restrictions(
                        &project_ref,
                        &NetworkRestrictionsConfig::from_cidrs(cidrs),
                    )
                    .await
                    .map_err(|e| api("Cannot apply network restrictions", e))?;
            }
            if spec.archived {
                self.client
                    .pause_project(&project_ref)
                    .await
                    .map_err(|e| api("Cannot pause the project", e))?;
                self.wait_status(&project_ref, ProjectStatus::Inactive, deadline)
                    .await?;
            }
            Ok::<_, BackendError>(())
        };
        settings.await.map_err(with_ref)?;
        self.read_full(&project_ref)
            .await
            .map_err(with_ref)?
            .ok_or_else(|| {
                with_ref(BackendError::new(
                    "Project vanished",
                    "The project was created but cannot be read back.",
                ))
            })
    }

    async fn read(&self, id: &str) -> Result<Option<Database>, BackendError> {
        // Refresh of many tenants: status and region come from the cached organization list; connection
        // details do not change and stay as recorded (empty host = keep state).
        let Some(p) = self
            .cache
            .get(id)
            .await
            .map_err(|e| api("Cannot list Supabase projects", e))?
        else {
            return Ok(None);
        };
        Ok(Some(Database {
            id: p.project_ref.clone(),
            status: p.status.to_string(),
            created_at: Some(p.created_at.clone()),
            region: Some(p.region.clone()),
            archived: matches!(p.status, ProjectStatus::Inactive | ProjectStatus::Pausing),
            api_url: Some(format!("https://{}.supabase.co", p.project_ref)),
            url_params: "sslmode=require".into(),
            subdomain: p.name.strip_prefix("orchestra-").map(str::to_string),
            ..Default::default()
        }))
    }

    async fn read_details(&self, id: &str) -> Result<Option<Database>, BackendError> {
        self.read_full(id).await
    }

    async fn compute_size(&self, id: &str) -> Result<Option<String>, BackendError> {
        self.read_compute_size(id).await
    }

    fn platform_schemas(&self) -> &'static [&'static str] {
        &[
            "auth",
            "storage",
            "realtime",
            "_realtime",
            "extensions",
            "graphql",
            "graphql_public",
            "pgbouncer",
            "pgsodium",
            "pgsodium_masks",
            "vault",
            "net",
            "cron",
            "supabase_functions",
            "_analytics",
            "supabase_realtime",
        ]
    }

    async fn pause_refused(&self) -> Result<Option<String>, BackendError> {
        self.paid_plan
            .get_or_try_init(|| async {
                let org = self
                    .client
                    .get_organization(&self.organization)
                    .await
                    .map_err(|e| api("Cannot read the Supabase organization's plan", e))?;
                Ok(org.is_paid().then(|| org.plan.unwrap_or_default()))
            })
            .await
            .cloned()
    }

    async fn anon_key(&self, id: &str) -> Result<Option<Secret>, BackendError> {
        self.client
            .anon_key(id)
            .await
            .map_err(|e| api("Cannot read the project's API keys", e))
    }

    async fn recorded_tenant(&self, db: &Database, tls: &TlsOptions) -> Option<Tenant> {
        match self.read_tenant_values(db, tls).await {
            Ok(Some(values)) => Some(values),
            Ok(None) => {
                tracing::warn!(
                    "project {} records no tenant values (stagesub.tenant); the plan after import sets them",
                    db.id
                );
                None
            }
            Err(reason) => {
                tracing::warn!(
                    "cannot read the tenant values of project {}: {reason}; the plan after import sets them",
                    db.id
                );
                None
            }
        }
    }

    async fn update(
        &self,
        ctx: &Context,
        id: &str,
        prior: &DatabaseSpec,
        spec: &DatabaseSpec,
        new_password: Option<&str>,
        deadline: Instant,
    ) -> Result<(), BackendError> {
        if prior.archived && !spec.archived {
            self.client
                .restore_project(id)
                .await
                .map_err(|e| api("Supabase refused to restore the project", e))?;
            tokio::select! {
                r = self.client.wait_until_healthy(id, deadline, BackoffPolicy::polling()) => r.map(drop).map_err(|e| api("The restored project did not become healthy", e))?,
                () = ctx.cancel.cancelled() => return Err(BackendError::new("Interrupted", "Terraform asked the provider to stop.")),
            }
        }
        self.resize(ctx, id, prior, spec, deadline).await?;
        if let Some(pw) = new_password {
            self.client
                .update_database_password(id, &Secret::from(pw))
                .await
                .map_err(|e| api("Cannot change the database password", e))?;
        }
        if prior.enforce_ssl != spec.enforce_ssl {
            self.client
                .put_ssl_enforcement(id, spec.enforce_ssl)
                .await
                .map_err(|e| api("Cannot set SSL enforcement", e))?;
        }
        if prior.allowed_cidrs != spec.allowed_cidrs {
            let config = spec
                .allowed_cidrs
                .as_ref()
                .map_or_else(NetworkRestrictionsConfig::unrestricted, |c| {
                    NetworkRestrictionsConfig::from_cidrs(c)
                });
            self.client
                .apply_network_restrictions(id, &config)
                .await
                .map_err(|e| api("Cannot apply network restrictions", e))?;
        }
        if !prior.archived && spec.archived {
            self.client.pause_project(id).await.map_err(|e| api("Supabase refused to pause the project (projects of paid organizations cannot be paused)", e))?;
            self.wait_status(id, ProjectStatus::Inactive, deadline)
                .await?;
        }
        // Only the status changes what the cached list says; other updates keep the cache (and so
        // the read after them costs no call).
        if prior.archived != spec.archived {
            self.cache.remove(id);
        }
        Ok(())
    }

    async fn delete(
        &self,
        _ctx: &Context,
        id: &str,
        deadline: Instant,
    ) -> Result<(), BackendError> {
        if self
            .client
            .delete_project(id)
            .await
            .map_err(|e| api("Supabase refused to delete the project", e))?
        {
            self.client
                .wait_until_gone(id, deadline)
                .await
                .map_err(|e| api("The project was not deleted in time", e))?;
        }
        self.cache.remove(id);
        Ok(())
    }

    fn session_target(
        &self,
        db: &Database,
        password: Option<&str>,
    ) -> Result<SessionTarget, BackendError> {
        let Some(pw) = password else {
            return Err(BackendError::new(
                "The database password is not known",
                format!(
                    "Migrations and seed for project {} need the database password, which is not in state (imported, or write-only). Set database_password, or database_password_wo with a new database_password_wo_version.",
                    db.id
                ),
            ));
        };
        if db.host.is_empty() {
            return Err(BackendError::new(
                "No connection details",
                format!(
                    "Project {} has no pooler configuration yet; try again.",
                    db.id
                ),
            ));
        }
        Ok(SessionTarget {
            url: Secret::new(connection_url(
                &db.user,
                Some(pw),
                &db.host,
                db.port,
                &db.name,
                &db.url_params,
            )),
            set_role: None,
        })
    }
}
