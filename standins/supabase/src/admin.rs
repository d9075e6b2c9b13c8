//! The real side of a project: a database and a login role on the admin PostgreSQL server.
//!
//! DDL cannot take bind parameters, so every statement is built by the server itself with
//! `format('%I', $1)` / `format('%L', $2)` from bound values: identifiers are quoted and literals
//! (passwords) escaped by PostgreSQL's own `quote_ident`/`quote_literal`, never by string splicing here.

use std::str::FromStr;

use tokio_postgres::config::Host;
use tokio_postgres::{Client, NoTls};

/// Connects to the admin server and runs project DDL.
#[derive(Clone)]
pub(crate) struct Admin {
    url: String,
    /// Host clients use to reach the databases.
    pub(crate) public_host: String,
    /// Port clients use to reach the databases.
    pub(crate) public_port: u16,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin")
            .field("url", &"<redacted>")
            .field("public_host", &self.public_host)
            .field("public_port", &self.public_port)
            .finish()
    }
}

/// A failed admin operation, with PostgreSQL's reason (never a password: statements are not echoed).
pub(crate) type AdminResult<T> = Result<T, String>;

impl Admin {
    /// Parses the admin URL and works out the public host and port.
    pub(crate) fn new(url: &str, host: Option<String>, port: Option<u16>) -> AdminResult<Admin> {
        let parsed = tokio_postgres::Config::from_str(url)
            .map_err(|error| format!("the PostgreSQL admin URL is not valid: {error}"))?;
        let url_host = parsed.get_hosts().first().and_then(|host| match host {
            Host::Tcp(name) => Some(name.clone()),
            #[allow(unreachable_patterns)]
            _ => None,
        });
        let public_host = host.or(url_host).unwrap_or_else(|| "127.0.0.1".to_string());
        let public_port = port
            .or_else(|| parsed.get_ports().first().copied())
            .unwrap_or(5432);
        Ok(Admin {
            url: url.to_string(),
            public_host,
            public_port,
        })
    }

    /// A fresh admin connection; its driver task ends when the client is dropped.
    pub(crate) async fn connect(&self) -> AdminResult<Client> {
        let (client, connection) = tokio_postgres::connect(&self.url, NoTls)
            .await
            .map_err(|error| format!("cannot connect to the PostgreSQL admin URL: {error}"))?;
        tokio::spawn(async move {
            // The connection ends with the client; an error here is already reported by the query that hit it.
            let _ = connection.await;
        });
        Ok(client)
    }

    /// Checks at start-up that the admin role may create databases and roles.
    pub(crate) async fn check_privileges(&self) -> AdminResult<()> {
        let client = self.connect().await?;
        let row = client
            .query_one(
                "SELECT rolsuper OR (rolcreatedb AND rolcreaterole) FROM pg_roles WHERE rolname = current_user",
                &[],
            )
            .await
            .map_err(|error| format!("cannot read the admin role's privileges: {error}"))?;
        if row.get::<_, bool>(0) {
            Ok(())
        } else {
            Err("the PostgreSQL admin role needs CREATEDB and CREATEROLE (or superuser)".into())
        }
    }

    /// The server's version number, e.g. `15.4` (what answers report as `database.version`).
    pub(crate) async fn server_version(&self) -> AdminResult<String> {
        let client = self.connect().await?;
        let row = client
            .query_one("SELECT current_setting('server_version')", &[])
            .await
            .map_err(|error| format!("cannot read the server version: {error}"))?;
        let full: String = row.get(0);
        Ok(full.split_whitespace().next().unwrap_or("15").to_string())
    }

    /// Creates the project's role (with `password`) and its database, owned by that role.
    /// The database starts with connections disallowed; [`Admin::set_connections`] opens it.
    pub(crate) async fn create_project(
        &self,
        database: &str,
        role: &str,
        password: &str,
    ) -> AdminResult<()> {
        let client = self.connect().await?;
        run_formatted(
            &client,
            "CREATE ROLE %I LOGIN PASSWORD %L",
            &[role, password],
        )
        .await?;
        let database_created = async {
            run_formatted(
                &client,
                "CREATE DATABASE %I OWNER %I TEMPLATE template0 ALLOW_CONNECTIONS false",
                &[database, role],
            )
            .await?;
            // Other projects' roles must not reach this database.
            run_formatted(
                &client,
                "REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC",
                &[database],
            )
            .await
        }
        .await;
        if let Err(error) = database_created {
            let _ = run_formatted(
                &client,
                "DROP DATABASE IF EXISTS %I WITH (FORCE)",
                &[database],
            )
            .await;
            let _ = run_formatted(&client, "DROP ROLE IF EXISTS %I", &[role]).await;
            return Err(error);
        }
        Ok(())
    }

    /// Drops the project's database (ending its sessions) and role.
    pub(crate) async fn drop_project(&self, database: &str, role: &str) -> AdminResult<()> {
        let client = self.connect().await?;
        run_formatted(
            &client,
            "DROP DATABASE IF EXISTS %I WITH (FORCE)",
            &[database],
        )
        .await?;
        run_formatted(&client, "DROP ROLE IF EXISTS %I", &[role]).await
    }

    /// Allows or blocks new connections; blocking also ends the open sessions.
    pub(crate) async fn set_connections(&self, database: &str, allow: bool) -> AdminResult<()> {
        let client = self.connect().await?;
        let statement = if allow {
            "ALTER DATABASE %I ALLOW_CONNECTIONS true"
        } else {
            "ALTER DATABASE %I ALLOW_CONNECTIONS false"
        };
        run_formatted(&client, statement, &[database]).await?;
        if !allow {
            client
                .execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = $1 AND pid <> pg_backend_pid()",
                    &[&database],
                )
                .await
                .map_err(|error| format!("cannot end the sessions of {database}: {error}"))?;
        }
        Ok(())
    }

    /// Sets the role's password.
    pub(crate) async fn set_password(&self, role: &str, password: &str) -> AdminResult<()> {
        let client = self.connect().await?;
        run_formatted(&client, "ALTER ROLE %I PASSWORD %L", &[role, password]).await
    }
}

/// Temporary login roles (`POST /v1/projects/{ref}/cli/login-role`).
impl Admin {
    /// Creates login role `login` with `password`, valid for `ttl_seconds`, that may connect to
    /// `database`: read-only (`pg_read_all_data`, read-only transactions) or, when not `read_only`, a
    /// member of the project's `owner` role.
    pub(crate) async fn create_login_role(
        &self,
        database: &str,
        login: &str,
        owner: &str,
        password: &str,
        read_only: bool,
        ttl_seconds: u64,
    ) -> AdminResult<()> {
        let client = self.connect().await?;
        let ttl = i64::try_from(ttl_seconds).unwrap_or(i64::MAX);
        let valid_until: String = client
            .query_one(
                "SELECT (now() + make_interval(secs => $1::bigint::double precision))::text",
                &[&ttl],
            )
            .await
            .map_err(|error| format!("cannot compute the role's expiry: {error}"))?
            .get(0);
        run_formatted(
            &client,
            "CREATE ROLE %I LOGIN PASSWORD %L VALID UNTIL %L",
            &[login, password, &valid_until],
        )
        .await?;
        let granted = async {
            run_formatted(
                &client,
                "GRANT CONNECT ON DATABASE %I TO %I",
                &[database, login],
            )
            .await?;
            if read_only {
                run_formatted(&client, "GRANT pg_read_all_data TO %I", &[login]).await?;
                run_formatted(
                    &client,
                    "ALTER ROLE %I SET default_transaction_read_only = on",
                    &[login],
                )
                .await
            } else {
                run_formatted(&client, "GRANT %I TO %I", &[owner, login]).await
            }
        }
        .await;
        if let Err(error) = granted {
            let _ = self.drop_login_role(database, login).await;
            return Err(error);
        }
        Ok(())
    }

    /// Drops login role `login` (its grant on `database` first, which may be gone already).
    pub(crate) async fn drop_login_role(&self, database: &str, login: &str) -> AdminResult<()> {
        let client = self.connect().await?;
        let exists = client
            .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&database])
            .await
            .map_err(|error| format!("cannot look up {database}: {error}"))?
            .is_some();
        if exists {
            run_formatted(
                &client,
                "REVOKE ALL ON DATABASE %I FROM %I",
                &[database, login],
            )
            .await
            .or_else(|error| {
                // The role is gone already (dropped with its project): nothing left to revoke.
                if error.contains("does not exist") {
                    Ok(())
                } else {
                    Err(error)
                }
            })?;
        }
        run_formatted(&client, "DROP ROLE IF EXISTS %I", &[login]).await
    }

    /// Drops every login role made for project `project_ref` (called after its database is dropped).
    pub(crate) async fn drop_login_roles_of(&self, project_ref: &str) -> AdminResult<()> {
        let client = self.connect().await?;
        let suffix = format!(".{project_ref}");
        let rows = client
            .query(
                "SELECT rolname::text FROM pg_roles WHERE starts_with(rolname, 'cli_login_') \
                 AND right(rolname, length($1)) = $1",
                &[&suffix],
            )
            .await
            .map_err(|error| format!("cannot list the project's login roles: {error}"))?;
        for row in rows {
            let login: String = row.get(0);
            run_formatted(&client, "DROP ROLE IF EXISTS %I", &[&login]).await?;
        }
        Ok(())
    }
}

/// Has the server build `template` from bound `values` with `format()`, then runs the result.
async fn run_formatted(client: &Client, template: &str, values: &[&str]) -> AdminResult<()> {
    let placeholders: String = (2..=values.len() + 1)
        .map(|index| format!(", ${index}::text"))
        .collect();
    let query = format!("SELECT format($1::text{placeholders})");
    let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = vec![&template];
    params.extend(
        values
            .iter()
            .map(|value| value as &(dyn tokio_postgres::types::ToSql + Sync)),
    );
    let operation = template.split(" %").next().unwrap_or(template);
    let statement: String = client
        .query_one(&query, &params)
        .await
        .map_err(|error| format!("{operation} failed: {error}"))?
        .get(0);
    client
        .batch_execute(&statement)
        .await
        .map_err(|error| format!("{operation} failed: {error}"))
}
