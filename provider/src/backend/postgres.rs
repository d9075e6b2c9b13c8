//! The `postgres` backend: one database and one login role per orchestra on a server the operator
//! owns. Identifiers are quoted by the server (`format('%I')`), values bound or quoted with `%L`;
//! the admin URL never reaches state or messages.

use std::time::Instant;

use stagesub_pgconn::{TlsOptions, redact_url};
use stagesub_plugin::Context;
use tokio::sync::Mutex;
use tokio_postgres::Client;

use stagesub_tenant::Tenant;

use crate::Secret;

use super::{Backend, BackendError, Database, DatabaseSpec, SessionTarget};

/// Postgres limits identifiers to 63 bytes.
const MAX_IDENT: usize = 63;

/// The database (and role) name for a subdomain: `orchestra_<subdomain>` with `-` as `_`; names that
/// would pass 63 bytes keep a prefix and end in a hash of the whole subdomain, so they stay unique.
pub fn database_name(subdomain: &str) -> String {
    let full = format!("orchestra_{}", subdomain.replace('-', "_"));
    if full.len() <= MAX_IDENT {
        return full;
    }
    let hash = stagesub_migrate::sha256_hex(subdomain.as_bytes());
    format!("{}_{}", &full[..MAX_IDENT - 9], &hash[..8])
}

/// A Postgres server reached with an admin URL.
pub struct PostgresBackend {
    admin_url: Secret,
    tls: TlsOptions,
    host: String,
    port: i64,
    url_params: String,
    client: Mutex<Option<std::sync::Arc<Client>>>,
}

impl std::fmt::Debug for PostgresBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresBackend")
            .field("admin_url", &redact_url(self.admin_url.expose()))
            .finish_non_exhaustive()
    }
}

fn db_err(action: &str, e: impl std::fmt::Display) -> BackendError {
    BackendError::new(format!("Postgres backend: {action} failed"), e.to_string())
}

impl PostgresBackend {
    /// A backend for the server behind `admin_url` (`postgres://user:pw@host:port/db?sslmode=..`).
    pub fn new(admin_url: &Secret, tls: TlsOptions) -> Result<Self, String> {
        let parsed = url::Url::parse(admin_url.expose()).map_err(|e| format!("postgres_url is not a valid URL ({e}): expected postgres://user:password@host:5432/postgres"))?;
        if !matches!(parsed.scheme(), "postgres" | "postgresql") {
            return Err("postgres_url must start with postgres:// or postgresql://".into());
        }
        let host = parsed
            .host_str()
            .unwrap_or("localhost")
            .trim_matches(['[', ']'])
            .to_string();
        let port = i64::from(parsed.port().unwrap_or(5432));
        let url_params = parsed
            .query_pairs()
            .filter(|(k, _)| k == "sslmode")
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        Ok(PostgresBackend {
            admin_url: admin_url.clone(),
            tls,
            host,
            port,
            url_params,
            client: Mutex::new(None),
        })
    }

    async fn admin(&self) -> Result<std::sync::Arc<Client>, BackendError> {
        let mut guard = self.client.lock().await;
        if let Some(c) = guard.as_ref().filter(|c| !c.is_closed()) {
            return Ok(c.clone());
        }
        let client = stagesub_pgconn::connect(self.admin_url.expose(), &self.tls)
            .await
            .map_err(|e| {
                BackendError::new(
                    "Cannot connect to the Postgres server",
                    format!("{e}. Check postgres_url / STAGESUB_POSTGRES_URL."),
                )
            })?;
        let client = std::sync::Arc::new(client);
        *guard = Some(client.clone());
        Ok(client)
    }

    /// Runs a utility statement built server-side with `format()`, values passed as parameters.
    async fn exec_format(&self, template: &str, args: &[&str]) -> Result<(), BackendError> {
        let client = self.admin().await?;
        let placeholders: Vec<String> = (1..=args.len()).map(|i| format!("${i}::text")).collect();
        let query = format!("SELECT format('{template}', {})", placeholders.join(", "));
        let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = args
            .iter()
            .map(|a| a as &(dyn tokio_postgres::types::ToSql + Sync))
            .collect();
        let row = client
            .query_one(&query, &params)
            .await
            .map_err(|e| db_err("building a statement", e))?;
        let sql: String = row.get(0);
        client.batch_execute(&sql).await.map_err(|e| {
            db_err(
                template
                    .split(' ')
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" ")
                    .as_str(),
                e,
            )
        })
    }

    /// Keeps the tenant's values in the database comment (JSON), where `terraform import` finds them.
    async fn write_comment(
        &self,
        name: &str,
        spec: &DatabaseSpec,
        created_at: &str,
    ) -> Result<(), BackendError> {
        let meta = serde_json::json!({"stagesub": {
            "subdomain": spec.tenant.subdomain,
            "orchestra_name": spec.tenant.orchestra_name,
            "contact_email": spec.tenant.contact_email,
            "plan": spec.tenant.plan,
            "created_at": created_at,
        }})
        .to_string();
        self.exec_format("COMMENT ON DATABASE %I IS %L", &[name, &meta])
            .await
    }

    async fn comment(&self, name: &str) -> Result<serde_json::Value, BackendError> {
        let client = self.admin().await?;
        let row = client
            .query_opt(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
                &[&name],
            )
            .await
            .map_err(|e| db_err("reading the database comment", e))?;
        let text: Option<String> = row.and_then(|r| r.get(0));
        Ok(text
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default())
    }

    async fn terminate(&self, name: &str) -> Result<(), BackendError> {
        let client = self.admin().await?;
        client
            .execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", &[&name])
            .await
            .map_err(|e| db_err("ending open connections", e))?;
        Ok(())
    }

    async fn set_archived(&self, name: &str, archived: bool) -> Result<(), BackendError> {
        if archived {
            self.exec_format("ALTER DATABASE %I ALLOW_CONNECTIONS false", &[name])
                .await?;
            self.exec_format("ALTER ROLE %I NOLOGIN", &[name]).await?;
            self.terminate(name).await
        } else {
            self.exec_format("ALTER ROLE %I LOGIN", &[name]).await?;
            self.exec_format("ALTER DATABASE %I ALLOW_CONNECTIONS true", &[name])
                .await
        }
    }
}

#[async_trait::async_trait]
impl Backend for PostgresBackend {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    async fn find(&self, subdomain: &str) -> Result<Option<String>, BackendError> {
        let name = database_name(subdomain);
        let client = self.admin().await?;
        let rows = client
            .query("SELECT 1 FROM pg_database WHERE datname = $1 UNION ALL SELECT 1 FROM pg_roles WHERE rolname = $1", &[&name])
            .await
            .map_err(|e| db_err("looking up the database", e))?;
        Ok((!rows.is_empty()).then_some(name))
    }

    async fn create(
        &self,
        _ctx: &Context,
        spec: &DatabaseSpec,
        password: &str,
        _deadline: Instant,
    ) -> Result<Database, BackendError> {
        let name = database_name(&spec.tenant.subdomain);
        self.exec_format(
            "CREATE ROLE %I LOGIN PASSWORD %L",
            &[&name, &scram_verifier(password)],
        )
        .await?;
        let created = async {
            self.exec_format("CREATE DATABASE %I OWNER %I", &[&name, &name])
                .await?;
            // Only the tenant (and superusers) may connect.
            self.exec_format(
                "REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC",
                &[&name],
            )
            .await?;
            let created_at = now_rfc3339(&*self.admin().await?).await?;
            self.write_comment(&name, spec, &created_at).await?;
            if spec.archived {
                self.set_archived(&name, true).await?;
            }
            Ok::<_, BackendError>(())
        }
        .await;
        if let Err(mut e) = created {
            e.created_id = Some(name);
            return Err(e);
        }
        self.read(&name).await?.ok_or_else(|| {
            BackendError::new(
                "Database vanished",
                format!("{name} was created but cannot be read back."),
            )
        })
    }

    async fn read(&self, id: &str) -> Result<Option<Database>, BackendError> {
        let client = self.admin().await?;
        let rows = client
            .query(
                "SELECT d.datallowconn, shobj_description(d.oid, 'pg_database'), r.rolcanlogin \
                 FROM pg_database d LEFT JOIN pg_roles r ON r.rolname = d.datname WHERE d.datname = $1",
                &[&id],
            )
            .await
            .map_err(|e| db_err("reading the database", e))?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let allow: bool = row.get(0);
        let comment: Option<String> = row.get(1);
        let can_login: Option<bool> = row.get(2);
        let meta: serde_json::Value = comment
            .and_then(|c| serde_json::from_str(&c).ok())
            .unwrap_or_default();
        let archived = !allow || can_login == Some(false);
        Ok(Some(Database {
            id: id.to_string(),
            status: if archived {
                "ARCHIVED".into()
            } else {
                "ACTIVE".into()
            },
            created_at: meta["stagesub"]["created_at"].as_str().map(str::to_string),
            host: self.host.clone(),
            port: self.port,
            name: id.to_string(),
            user: id.to_string(),
            pooler: None,
            api_url: None,
            region: None,
            archived,
            url_params: self.url_params.clone(),
            subdomain: meta["stagesub"]["subdomain"].as_str().map(str::to_string),
        }))
    }

    async fn update(
        &self,
        _ctx: &Context,
        id: &str,
        prior: &DatabaseSpec,
        spec: &DatabaseSpec,
        new_password: Option<&str>,
        _deadline: Instant,
    ) -> Result<(), BackendError> {
        if let Some(pw) = new_password {
            self.exec_format("ALTER ROLE %I PASSWORD %L", &[id, &scram_verifier(pw)])
                .await?;
        }
        if prior.archived != spec.archived {
            self.set_archived(id, spec.archived).await?;
        }
        Ok(())
    }

    async fn delete(
        &self,
        _ctx: &Context,
        id: &str,
        _deadline: Instant,
    ) -> Result<(), BackendError> {
        self.exec_format("DROP DATABASE IF EXISTS %I WITH (FORCE)", &[id])
            .await?;
        self.exec_format("DROP ROLE IF EXISTS %I", &[id]).await
    }

    async fn record_tenant(&self, id: &str, spec: &DatabaseSpec) -> Result<(), BackendError> {
        let meta = self.comment(id).await?;
        let created_at = meta["stagesub"]["created_at"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        self.write_comment(id, spec, &created_at).await
    }

    async fn recorded_tenant(
        &self,
        db: &Database,
        _tls: &stagesub_pgconn::TlsOptions,
    ) -> Option<Tenant> {
        let meta = self.comment(&db.id).await.ok()?;
        let s = &meta["stagesub"];
        let get = |k: &str| s[k].as_str().map(str::to_string);
        Some(Tenant {
            subdomain: get("subdomain").or_else(|| db.subdomain.clone())?,
            orchestra_name: get("orchestra_name")?,
            contact_email: get("contact_email"),
            plan: get("plan"),
            region: None,
        })
    }

    async fn fence(&self, id: &str, fenced: bool) -> Result<(), BackendError> {
        if fenced {
            self.exec_format("ALTER ROLE %I NOLOGIN", &[id]).await?;
            self.terminate(id).await
        } else {
            self.exec_format("ALTER ROLE %I LOGIN", &[id]).await
        }
    }

    fn session_target(
        &self,
        db: &Database,
        _password: Option<&str>,
    ) -> Result<SessionTarget, BackendError> {
        // Migrations run through the admin connection switched to the tenant role: objects belong to
        // the tenant, and an imported tenant (password unknown) can still be migrated.
        let mut url = url::Url::parse(self.admin_url.expose())
            .map_err(|e| db_err("parsing postgres_url", e))?;
        url.set_path(&format!("/{}", db.name));
        Ok(SessionTarget {
            url: Secret::new(url.to_string()),
            set_role: Some(db.user.clone()),
        })
    }
}

/// The SCRAM-SHA-256 verifier of `password`, computed here so that the plain password never travels
/// in SQL text (where `log_statement` or `pg_stat_statements` could record it). Postgres stores a
/// verifier given as the password as-is.
fn scram_verifier(password: &str) -> String {
    postgres_protocol::password::scram_sha_256(password.as_bytes())
}

async fn now_rfc3339(client: &Client) -> Result<String, BackendError> {
    let row = client
        .query_one(
            "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
            &[],
        )
        .await
        .map_err(|e| db_err("reading the server clock", e))?;
    Ok(row.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_travel_as_scram_verifiers() {
        let v = scram_verifier("correct horse battery staple");
        assert!(v.starts_with("SCRAM-SHA-256$4096:"), "{v}");
        assert!(!v.contains("horse"));
        // A fresh salt each time.
        assert_ne!(v, scram_verifier("correct horse battery staple"));
    }

    #[test]
    fn long_subdomains_get_unique_63_byte_names() {
        let a = database_name(&format!("{}a", "x".repeat(62)));
        let b = database_name(&format!("{}b", "x".repeat(62)));
        assert!(a.len() <= 63 && b.len() <= 63);
        assert_ne!(a, b);
        assert_eq!(database_name("berlin-phil"), "orchestra_berlin_phil");
    }
}
