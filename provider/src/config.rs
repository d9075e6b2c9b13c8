//! Provider configuration: schema, environment fallbacks, and the configured backend that every
//! resource of one provider process shares.

use std::sync::{Arc, OnceLock};

use stagesub_pgconn::TlsOptions;
use stagesub_plugin::{Attribute, AttributePath, Block, Diagnostic, Diagnostics, Schema, Value};

use crate::Secret;
use crate::backend::postgres::PostgresBackend;
use crate::backend::supabase::SupabaseBackend;
use crate::backend::{Backend, BackendError};
use crate::directory::Directory;

pub use crate::backend::DEFAULT_REGION;

/// The provider configuration schema.
pub fn schema() -> Schema {
    let block = Block::new("stagesub provisions a dedicated, migrated and seeded database per orchestra. Every attribute can also come from the environment variable named in its description.")
        .attribute(Attribute::string("backend").optional().validate(|v| match v.as_str() { Some("supabase" | "postgres") | None => Ok(()), Some(o) => Err(format!("backend must be \"supabase\" or \"postgres\", not {o:?}")) })
            .description("`supabase` (a Supabase project per orchestra) or `postgres` (a database per orchestra on a server you own). Env `STAGESUB_BACKEND`. Default: `supabase` when an access token is set, else `postgres` when `postgres_url` is set."))
        .attribute(Attribute::string("access_token").optional().sensitive().description("Supabase personal access token (`sbp_...`). Env `SUPABASE_ACCESS_TOKEN`."))
        .attribute(Attribute::string("organization_slug").optional().description("Supabase organization that owns the projects. Env `SUPABASE_ORGANIZATION_SLUG`."))
        .attribute(Attribute::string("api_url").optional().description("Supabase Management API base URL. Env `SUPABASE_API_URL`. Default `https://api.supabase.com`."))
        .attribute(Attribute::string("postgres_url").optional().sensitive().description("Admin connection URL of the server for the `postgres` backend, e.g. `postgres://admin:secret@db.example.com:5432/postgres?sslmode=require`. Env `STAGESUB_POSTGRES_URL`."))
        .attribute(Attribute::string("default_region").optional().description("Region for resources that set none. Env `STAGESUB_DEFAULT_REGION`. Default `eu-central-1`."))
        .attribute(Attribute::string("database_ca_cert").optional().description("PEM of the CA that signs the database servers' certificates (Supabase's own CA, from the project's database settings). When set, database connections verify the server; otherwise they are encrypted without verification. Env `STAGESUB_DATABASE_CA_CERT`."))
        .attribute(Attribute::bool("refresh_migrations").optional().description("Read each database's migration history on refresh, so out-of-band changes show as drift (one query per database). Env `STAGESUB_REFRESH_MIGRATIONS`. Default `true`; turn off for very large fleets."))
        .attribute(Attribute::string("directory_url").optional().sensitive().description("Postgres holding the tenant directory (schema `stagesub_directory`, created and upgraded by the provider) that the app reads to route a subdomain to its database; needs `directory_keys`. Env `STAGESUB_DIRECTORY_URL`. Unset: no directory is kept."))
        .attribute(Attribute::string("directory_keys").optional().sensitive().description("Comma-separated base64 32-byte AES-256-GCM keys sealing each tenant's connection secret in the directory; the first encrypts, all decrypt (rotation: put the new key first, apply, then drop the old one). Env `STAGESUB_DIRECTORY_KEYS`."))
        .attribute(Attribute::string("directory_reader_role").optional().description("Existing role granted EXECUTE on `stagesub_directory.lookup(subdomain)` (and nothing else): the app's role. Env `STAGESUB_DIRECTORY_READER_ROLE`."))
        .attribute(Attribute::string("backup_url").optional().description("Where archives by backup (`archive_mode = \"backup\"`, the default) go: `s3://bucket/prefix` (AWS S3 or any S3-compatible store; credentials from the standard AWS environment variables and profile chain) or `file:///path` (a folder). Each orchestra's backups are `<prefix>/<subdomain>/<timestamp>.dump` with a `.manifest.json` beside it. Env `STAGESUB_BACKUP_URL`. Needed only when an orchestra is archived by backup or restored from one."))
        .attribute(Attribute::string("backup_endpoint").optional().description("Endpoint URL of an S3-compatible store (MinIO, Ceph, R2, ...) for an `s3://` backup_url, e.g. `https://s3.eu-central-1.example.com`. Env `STAGESUB_BACKUP_ENDPOINT`. Unset: AWS S3."));
    Schema { version: 0, block }
}

/// Configuration shared by the provider's resources.
#[derive(Debug, Default)]
pub struct Shared {
    configured: OnceLock<Configured>,
}

#[derive(Debug)]
struct Configured {
    backend: Arc<dyn Backend>,
    default_region: String,
    tls: TlsOptions,
    refresh_migrations: bool,
    directory: Option<Arc<Directory>>,
    backup: Option<Arc<crate::archive::BackupSettings>>,
}

fn setting(config: &Value, attr: &str, env: &str) -> Option<String> {
    config
        .str_attr(attr)
        .map(str::to_string)
        .or_else(|| std::env::var(env).ok())
        .filter(|s| !s.trim().is_empty())
}

impl Shared {
    /// The configured backend, or an error saying the provider was not configured.
    pub fn backend(&self) -> Result<Arc<dyn Backend>, BackendError> {
        self.configured.get().map(|c| c.backend.clone()).ok_or_else(|| BackendError::new("Provider not configured", "The stagesub provider has no configuration; this is a bug if `terraform plan` got this far."))
    }

    /// The default region.
    pub fn default_region(&self) -> String {
        self.configured
            .get()
            .map_or_else(|| DEFAULT_REGION.to_string(), |c| c.default_region.clone())
    }

    /// TLS options for database connections.
    pub fn tls(&self) -> TlsOptions {
        self.configured
            .get()
            .map(|c| c.tls.clone())
            .unwrap_or_default()
    }

    /// Whether refresh reads migration history.
    pub fn refresh_migrations(&self) -> bool {
        self.configured.get().is_none_or(|c| c.refresh_migrations)
    }

    /// The tenant directory, when `directory_url` is set.
    pub fn directory(&self) -> Option<Arc<Directory>> {
        self.configured.get().and_then(|c| c.directory.clone())
    }

    /// Where backups go (`backup_url`), when set.
    pub fn backup(&self) -> Option<Arc<crate::archive::BackupSettings>> {
        self.configured.get().and_then(|c| c.backup.clone())
    }

    /// Reads the configuration (attributes, then environment) and builds the backend.
    pub fn configure(&self, config: &Value) -> Diagnostics {
        let mut d = Diagnostics::default();
        if !config.is_wholly_known() {
            // Values from other resources are unknown during plan: nothing to build yet.
            return d;
        }
        let token = setting(config, "access_token", "SUPABASE_ACCESS_TOKEN").map(Secret::from);
        let pg_url = setting(config, "postgres_url", "STAGESUB_POSTGRES_URL").map(Secret::from);
        let kind = setting(config, "backend", "STAGESUB_BACKEND").or_else(|| {
            if token.is_some() {
                Some("supabase".into())
            } else if pg_url.is_some() {
                Some("postgres".into())
            } else {
                None
            }
        });
        let tls = TlsOptions {
            ca_cert_pem: setting(config, "database_ca_cert", "STAGESUB_DATABASE_CA_CERT"),
        };
        let refresh_migrations = config
            .attr("refresh_migrations")
            .as_bool()
            .or_else(|| {
                std::env::var("STAGESUB_REFRESH_MIGRATIONS")
                    .ok()
                    .map(|v| !matches!(v.as_str(), "false" | "0" | "no"))
            })
            .unwrap_or(true);
        let default_region = setting(config, "default_region", "STAGESUB_DEFAULT_REGION")
            .unwrap_or_else(|| DEFAULT_REGION.into());
        let directory = match directory(config) {
            Ok(directory) => directory,
            Err(e) => {
                d.push(e);
                return d;
            }
        };
        let backup = match crate::archive::BackupSettings::from_config(
            setting(config, "backup_url", "STAGESUB_BACKUP_URL"),
            setting(config, "backup_endpoint", "STAGESUB_BACKUP_ENDPOINT"),
        ) {
            Ok(backup) => backup.map(Arc::new),
            Err(e) => {
                d.push(e);
                return d;
            }
        };
        let backend: Arc<dyn Backend> = match kind.as_deref() {
            Some("supabase") => {
                let Some(token) = token else {
                    d.push(Diagnostic::error("Missing Supabase access token", "The supabase backend needs `access_token` or the SUPABASE_ACCESS_TOKEN environment variable (a personal access token, sbp_...).").at(AttributePath::root("access_token")));
                    return d;
                };
                let Some(org) = setting(config, "organization_slug", "SUPABASE_ORGANIZATION_SLUG")
                else {
                    d.push(Diagnostic::error("Missing Supabase organization", "The supabase backend needs `organization_slug` or SUPABASE_ORGANIZATION_SLUG: the organization that owns the orchestra projects.").at(AttributePath::root("organization_slug")));
                    return d;
                };
                let api_url = setting(config, "api_url", "SUPABASE_API_URL")
                    .unwrap_or_else(|| stagesub_supabase::DEFAULT_API_URL.to_string());
                match SupabaseBackend::new(&api_url, token, org) {
                    Ok(b) => Arc::new(b),
                    Err(e) => {
                        d.push(
                            Diagnostic::error("Invalid Supabase settings", e)
                                .at(AttributePath::root("api_url")),
                        );
                        return d;
                    }
                }
            }
            Some("postgres") => {
                let Some(url) = pg_url else {
                    d.push(Diagnostic::error("Missing postgres_url", "The postgres backend needs `postgres_url` or STAGESUB_POSTGRES_URL: an admin URL such as postgres://admin:secret@db.example.com:5432/postgres.").at(AttributePath::root("postgres_url")));
                    return d;
                };
                match PostgresBackend::new(&url, tls.clone()) {
                    Ok(b) => Arc::new(b),
                    Err(e) => {
                        d.push(
                            Diagnostic::error("Invalid postgres_url", e)
                                .at(AttributePath::root("postgres_url")),
                        );
                        return d;
                    }
                }
            }
            Some(other) => {
                d.push(Diagnostic::error("Unknown backend", format!("backend is {other:?}; use \"supabase\" or \"postgres\" (STAGESUB_BACKEND).")).at(AttributePath::root("backend")));
                return d;
            }
            None => {
                d.push(Diagnostic::error(
                    "No backend configured",
                    "Set SUPABASE_ACCESS_TOKEN and SUPABASE_ORGANIZATION_SLUG (Supabase projects), or STAGESUB_POSTGRES_URL (databases on your own Postgres server), or the matching provider attributes.",
                ));
                return d;
            }
        };
        let _ = self.configured.set(Configured {
            backend,
            default_region,
            tls,
            refresh_migrations,
            directory,
            backup,
        });
        d
    }
}

/// The tenant directory settings: none without a URL; a URL needs usable keys. Diagnostics name
/// the attribute and its variable, never a value.
fn directory(config: &Value) -> Result<Option<Arc<Directory>>, Diagnostic> {
    let url = setting(config, "directory_url", "STAGESUB_DIRECTORY_URL").map(Secret::from);
    let keys = setting(config, "directory_keys", "STAGESUB_DIRECTORY_KEYS").map(Secret::from);
    let role = setting(
        config,
        "directory_reader_role",
        "STAGESUB_DIRECTORY_READER_ROLE",
    );
    let Some(url) = url else {
        if keys.is_some() || role.is_some() {
            let attr = if keys.is_some() {
                "directory_keys"
            } else {
                "directory_reader_role"
            };
            return Err(Diagnostic::error("Missing directory_url", format!("{attr} is set, but directory_url (STAGESUB_DIRECTORY_URL) is not: set the tenant directory's Postgres URL too, or unset {attr}.")).at(AttributePath::root("directory_url")));
        }
        return Ok(None);
    };
    if let Err(e) = url::Url::parse(url.expose())
        .map_err(|e| e.to_string())
        .and_then(|u| {
            matches!(u.scheme(), "postgres" | "postgresql")
                .then_some(())
                .ok_or_else(|| format!("the scheme is {:?}", u.scheme()))
        })
    {
        return Err(Diagnostic::error("Invalid directory_url", format!("directory_url (STAGESUB_DIRECTORY_URL) is not a postgres:// URL ({e}); give a URL such as postgres://stagesub:secret@control.example.com:5432/app.")).at(AttributePath::root("directory_url")));
    }
    let Some(keys) = keys else {
        return Err(Diagnostic::error("Missing directory_keys", "directory_url is set, but directory_keys (STAGESUB_DIRECTORY_KEYS) is not: give one or more comma-separated base64 keys of 32 bytes (`openssl rand -base64 32`); the first encrypts, all decrypt.").at(AttributePath::root("directory_keys")));
    };
    let keys = stagesub_directory::DirectoryKeys::parse(keys.expose()).map_err(|e| {
        Diagnostic::error(
            "Invalid directory_keys",
            format!("directory_keys (STAGESUB_DIRECTORY_KEYS): {e}"),
        )
        .at(AttributePath::root("directory_keys"))
    })?;
    Ok(Some(Arc::new(Directory::new(url, keys, role))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_show_in_debug_output() {
        let shared = Shared::default();
        let mut config = Value::Object(Default::default());
        config.set_attr("backend", "postgres");
        config.set_attr(
            "postgres_url",
            "postgres://admin:hunter2-very-secret@db.example.org:5432/postgres",
        );
        assert!(!shared.configure(&config).has_errors());
        let printed = format!("{shared:?}");
        assert!(printed.contains("db.example.org"), "{printed}");
        assert!(!printed.contains("hunter2"), "{printed}");

        let shared = Shared::default();
        let mut config = Value::Object(Default::default());
        config.set_attr(
            "access_token",
            "sbp_0123456789abcdef0123456789abcdef01234567",
        );
        config.set_attr("organization_slug", "org");
        assert!(!shared.configure(&config).has_errors());
        let printed = format!("{shared:?}");
        assert!(!printed.contains("0123456789abcdef"), "{printed}");
    }

    #[test]
    fn a_backup_url_must_be_s3_or_file_and_an_endpoint_needs_one() {
        let cases: [(&[(&str, &str)], &str); 3] = [
            (
                &[("backup_endpoint", "http://127.0.0.1:9000")],
                "STAGESUB_BACKUP_URL",
            ),
            (&[("backup_url", "ftp://backups.example.org/x")], "s3://"),
            (
                &[
                    ("backup_url", "file:///tmp/stagesub-unit-backups"),
                    ("backup_endpoint", "http://127.0.0.1:9000"),
                ],
                "only applies to s3://",
            ),
        ];
        for (attrs, needle) in cases {
            let d = Shared::default().configure(&postgres_config(attrs));
            let printed = format!("{d:?}");
            assert!(
                d.has_errors() && printed.contains(needle),
                "{needle}: {printed}"
            );
        }
        let shared = Shared::default();
        let config = postgres_config(&[("backup_url", "s3://orchestra-backups/stagesub")]);
        assert!(!shared.configure(&config).has_errors());
        assert_eq!(
            shared.backup().map(|b| b.url()).as_deref(),
            Some("s3://orchestra-backups/stagesub")
        );
    }

    fn postgres_config(directory: &[(&str, &str)]) -> Value {
        let mut config = Value::Object(Default::default());
        config.set_attr("backend", "postgres");
        config.set_attr(
            "postgres_url",
            "postgres://admin@db.example.org:5432/postgres",
        );
        for (k, v) in directory {
            config.set_attr(k, *v);
        }
        config
    }

    #[test]
    fn a_directory_needs_a_url_and_usable_keys_and_errors_show_no_value() {
        let url = "postgres://dir:dir-secret-77@control.example.org:5432/app";
        let key = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
        let cases: [(&[(&str, &str)], &str); 4] = [
            (&[("directory_url", url)], "STAGESUB_DIRECTORY_KEYS"),
            (
                &[("directory_url", url), ("directory_keys", "c2hvcnQ=")],
                "exactly 32 bytes",
            ),
            (&[("directory_keys", key)], "STAGESUB_DIRECTORY_URL"),
            (
                &[
                    ("directory_url", "mysql://dir:dir-secret-77@h/x"),
                    ("directory_keys", key),
                ],
                "postgres://",
            ),
        ];
        for (attrs, needle) in cases {
            let d = Shared::default().configure(&postgres_config(attrs));
            let printed = format!("{d:?}");
            assert!(
                d.has_errors() && printed.contains(needle),
                "{needle}: {printed}"
            );
            assert!(
                !printed.contains("dir-secret-77") && !printed.contains("c2hvcnQ"),
                "{printed}"
            );
        }
        let shared = Shared::default();
        let config = postgres_config(&[
            ("directory_url", url),
            ("directory_keys", key),
            ("directory_reader_role", "orchestra_app"),
        ]);
        assert!(!shared.configure(&config).has_errors());
        assert!(shared.directory().is_some());
        let printed = format!("{shared:?}");
        assert!(printed.contains("control.example.org"), "{printed}");
        assert!(
            !printed.contains("dir-secret-77") && !printed.contains(key),
            "{printed}"
        );
    }
}
