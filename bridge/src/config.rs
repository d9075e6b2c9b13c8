//! Configuration, read once from the environment and validated at start-up. Every error names the
//! variable to fix; secrets are kept in [`Secret`] so that `Debug` output never shows them.

use std::net::SocketAddr;

use stagesub_gitops::PublisherConfig;

mod monitoring;
mod timing;

pub use monitoring::{DigestAt, Monitoring, provision_sla};
pub use timing::{Timing, format_duration, parse_duration};

/// A value that must never appear in logs: `Debug` prints `"<redacted>"`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl Secret {
    /// The secret text itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

/// A configuration variable that is missing or invalid.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    /// The environment variable to fix.
    pub variable: &'static str,
    /// What is wrong and what is expected.
    pub message: String,
}

impl From<ConfigError> for crate::error::Error {
    fn from(e: ConfigError) -> Self {
        crate::error::Error::Config(e.to_string())
    }
}

fn bad(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

/// Outgoing mail (`SMTP_URL`, `EMAIL_FROM`, `ADMIN_EMAIL`).
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `smtp://host:port` (plain, for a local relay) or `smtps://user:pass@host:465`.
    pub smtp_url: Secret,
    /// Sender address of every message.
    pub from: String,
    /// Who is told about held, invalid and failed tenants.
    pub admin: String,
}

/// Everything the bridge reads from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `STRIPE_WEBHOOK_SECRET`, comma-separated during a secret roll.
    pub stripe_webhook_secrets: Vec<Secret>,
    /// `DATABASE_URL`: the bridge's own Postgres. Its `sslmode` parameter says how TLS is used:
    /// `disable` (plain), `prefer` (default on loopback: TLS when offered), `require` (default
    /// elsewhere: TLS, unverified unless a CA is given), `verify-ca` / `verify-full` (the server's
    /// certificate must chain to the CA; `verify-full` also checks the host name). The CA comes
    /// from [`Config::database_ca_cert`] or from `sslrootcert=<file>` in the URL.
    pub database_url: Secret,
    /// `DATABASE_CA_CERT`: PEM text of the CA that signs the database server's certificate
    /// (e.g. the RDS or Supabase root); needed for `verify-ca` / `verify-full` unless the URL
    /// names `sslrootcert=<file>`. Not a secret.
    pub database_ca_cert: Option<String>,
    /// `BIND_ADDR`, default `0.0.0.0:8080`.
    pub bind_addr: SocketAddr,
    /// Publishing (`GIT_BACKEND` and friends, and `TENANTS_DIR`, read by `stagesub_gitops::PublisherConfig`).
    pub git: PublisherConfig,
    /// `TENANT_MODULE_SOURCE`, default `../../modules/orchestra` (relative to `<TENANTS_DIR>/<subdomain>/`).
    pub module_source: String,
    /// `BRIDGE_API_TOKEN`; the ready/failed callbacks answer 503 while it is unset.
    pub api_token: Option<Secret>,
    /// Mail; mail jobs are parked with a reason while it is unset.
    pub mail: Option<MailConfig>,
    /// `APP_DOMAIN`, default `stagesub.app`: login URLs are `https://<subdomain>.<APP_DOMAIN>`.
    pub app_domain: String,
    /// `WORKER_CONCURRENCY`, default 4: jobs run at once by this process.
    pub worker_concurrency: usize,
    /// Retry window, alert time, read timeouts, shutdown grace.
    pub timing: Timing,
    /// `DIRECTORY_URL`: the tenant directory (a `postgres://` URL; a role that may call
    /// `stagesub_directory.lookup` suffices). When set, `ready` callbacks send the welcome only
    /// once the directory says `ready` for the subdomain.
    pub directory_url: Option<Secret>,
    /// `PROVISION_SLA`, `REMINDER_EVERY`, `DIGEST_AT`, `METRICS_TOKEN`, `METRICS_BIND_ADDR`.
    pub monitoring: Monitoring,
    /// The operator console (`CONSOLE_*`, `PROVISION_SLA`, `STRIPE_API_KEY`, `STRIPE_API_BASE`).
    pub console: crate::console::ConsoleConfig,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let secrets: Vec<Secret> = get("STRIPE_WEBHOOK_SECRET")
            .ok_or_else(|| {
                bad(
                    "STRIPE_WEBHOOK_SECRET",
                    "is required (the endpoint's signing secret, whsec_…)",
                )
            })?
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| Secret(s.to_owned()))
            .collect();
        if secrets.is_empty() {
            return Err(bad("STRIPE_WEBHOOK_SECRET", "contains no secret"));
        }
        let (database_url, database_ca_cert) = database_settings(&get)?;
        let bind_addr = get("BIND_ADDR")
            .unwrap_or_else(|| "0.0.0.0:8080".into())
            .parse()
            .map_err(|_| bad("BIND_ADDR", "must be host:port, e.g. 0.0.0.0:8080"))?;
        let git = PublisherConfig::from_lookup(&lookup).map_err(|e| bad(e.variable, e.message))?;
        let mail = match (get("SMTP_URL"), get("EMAIL_FROM"), get("ADMIN_EMAIL")) {
            (None, _, _) => None,
            (Some(url), from, admin) => {
                if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                    return Err(bad("SMTP_URL", "must start with smtp:// or smtps://"));
                }
                let from =
                    from.ok_or_else(|| bad("EMAIL_FROM", "is required when SMTP_URL is set"))?;
                let admin =
                    admin.ok_or_else(|| bad("ADMIN_EMAIL", "is required when SMTP_URL is set"))?;
                Some(MailConfig {
                    smtp_url: Secret(url),
                    from,
                    admin,
                })
            }
        };
        let worker_concurrency = match get("WORKER_CONCURRENCY") {
            None => 4,
            Some(v) => v
                .parse()
                .ok()
                .filter(|n| (1..=64).contains(n))
                .ok_or_else(|| bad("WORKER_CONCURRENCY", "must be a number from 1 to 64"))?,
        };
        Ok(Self {
            stripe_webhook_secrets: secrets,
            database_url,
            database_ca_cert,
            bind_addr,
            git,
            module_source: match get("TENANT_MODULE_SOURCE") {
                Some(source) => crate::render::check_module_source(&source)
                    .map(|()| source)
                    .map_err(|e| bad("TENANT_MODULE_SOURCE", e))?,
                None => crate::render::DEFAULT_MODULE_SOURCE.into(),
            },
            api_token: get("BRIDGE_API_TOKEN").map(Secret),
            mail,
            app_domain: get("APP_DOMAIN").unwrap_or_else(|| "stagesub.app".into()),
            worker_concurrency,
            timing: Timing::from_lookup(&get)?,
            directory_url: get("DIRECTORY_URL").map(check_directory_url).transpose()?,
            monitoring: Monitoring::from_lookup(&get)?,
            console: crate::console::ConsoleConfig::from_lookup(&get)?,
        })
    }
}

/// `DIRECTORY_URL` must be a Postgres URL the driver accepts (its password never in the message).
fn check_directory_url(url: String) -> Result<Secret, ConfigError> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(bad(
            "DIRECTORY_URL",
            "must be a postgres:// URL (the tenant directory's database)",
        ));
    }
    stagesub_pgconn::connect_settings(&url, &stagesub_pgconn::TlsOptions::default())
        .map_err(|e| bad("DIRECTORY_URL", e.to_string()))?;
    Ok(Secret(url))
}

/// `DATABASE_URL` and `DATABASE_CA_CERT` from the process environment, checked: all that the `jobs`
/// commands need.
pub fn database_from_env() -> Result<(Secret, Option<String>), ConfigError> {
    database_settings(&|name: &str| {
        std::env::var(name)
            .ok()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    })
}

fn database_settings(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<(Secret, Option<String>), ConfigError> {
    let database_url =
        get("DATABASE_URL").ok_or_else(|| bad("DATABASE_URL", "is required (postgres://…)"))?;
    let database_ca_cert = get("DATABASE_CA_CERT");
    check_database_tls(&database_url, database_ca_cert.as_deref())?;
    Ok((Secret(database_url), database_ca_cert))
}

/// Checks `DATABASE_URL` and `DATABASE_CA_CERT` together, as the store will use them: the URL's
/// shape and `sslmode`, a CA for `verify-*`, and that the CA is usable PEM. Errors name the
/// variable to fix and never carry the password.
fn check_database_tls(url: &str, ca_pem: Option<&str>) -> Result<(), ConfigError> {
    if let Some(pem) = ca_pem
        && !pem.contains("-----BEGIN CERTIFICATE-----")
    {
        return Err(bad(
            "DATABASE_CA_CERT",
            "must be the PEM text of the database server's CA (-----BEGIN CERTIFICATE-----…), \
             not a file name; for a file use sslrootcert=<path> in DATABASE_URL",
        ));
    }
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let param = |name: &str| {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)
    };
    let verifies = matches!(param("sslmode"), Some("verify-ca" | "verify-full"));
    if verifies && ca_pem.is_none() && param("sslrootcert").is_none() {
        return Err(bad(
            "DATABASE_CA_CERT",
            "is required when DATABASE_URL has sslmode=verify-ca or verify-full (PEM text of the \
             database server's CA), unless DATABASE_URL names sslrootcert=<file>",
        ));
    }
    let tls = stagesub_pgconn::TlsOptions {
        ca_cert_pem: ca_pem.map(str::to_owned),
    };
    match stagesub_pgconn::connect_settings(url, &tls) {
        Ok(_) => Ok(()),
        Err(e) if ca_pem.is_some() && e.to_string().contains("CA certificate") => {
            Err(bad("DATABASE_CA_CERT", e.to_string()))
        }
        Err(e) => Err(bad("DATABASE_URL", e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn errors_name_the_variable_and_debug_hides_secrets() {
        let base = [
            ("STRIPE_WEBHOOK_SECRET", "whsec_a, whsec_b"),
            ("DATABASE_URL", "postgres://u:hunter2@h/db"),
            ("GIT_BACKEND", "github"),
            ("GITHUB_REPOSITORY", "o/r"),
            ("GITHUB_TOKEN", "ghp_topsecret"),
            ("SMTP_URL", "smtps://u:smtppass@h:465"),
            ("EMAIL_FROM", "a@b.c"),
            ("ADMIN_EMAIL", "d@e.f"),
            ("BRIDGE_API_TOKEN", "tok_secret"),
        ];
        let c = config(&base).unwrap();
        assert_eq!(c.stripe_webhook_secrets.len(), 2);
        let debug = format!("{c:?}");
        for secret in [
            "whsec_a",
            "hunter2",
            "ghp_topsecret",
            "smtppass",
            "tok_secret",
        ] {
            assert!(!debug.contains(secret), "{secret} leaked: {debug}");
        }
        let err = config(&base[1..]).unwrap_err();
        assert_eq!(err.variable, "STRIPE_WEBHOOK_SECRET");
        let mut no_backend = base.to_vec();
        no_backend.retain(|(k, _)| *k != "GIT_BACKEND");
        assert_eq!(config(&no_backend).unwrap_err().variable, "GIT_BACKEND");
        let mut tls = base.to_vec();
        tls[1] = ("DATABASE_URL", "postgres://u@h/db?sslmode=require");
        assert!(config(&tls).is_ok());
        tls[1] = ("DATABASE_URL", "postgres://u@h/db?sslmode=verify-full");
        assert_eq!(config(&tls).unwrap_err().variable, "DATABASE_CA_CERT");
        let mut bad_mode = base.to_vec();
        bad_mode.push(("COMMIT_MODE", "yolo"));
        assert_eq!(config(&bad_mode).unwrap_err().variable, "COMMIT_MODE");
    }
    #[test]
    fn directory_url_is_optional_and_must_be_a_postgres_url() {
        let base = [
            ("STRIPE_WEBHOOK_SECRET", "whsec_a"),
            ("DATABASE_URL", "postgres://u@127.0.0.1/db"),
            ("GIT_BACKEND", "github"),
            ("GITHUB_REPOSITORY", "o/r"),
            ("GITHUB_TOKEN", "ghp_x"),
        ];
        assert!(config(&base).unwrap().directory_url.is_none());
        let mut with = base.to_vec();
        with.push((
            "DIRECTORY_URL",
            "postgres://reader:dirpass@dir.example/control",
        ));
        let c = config(&with).unwrap();
        assert!(c.directory_url.is_some());
        assert!(!format!("{c:?}").contains("dirpass"));
        for bad_url in [
            "mysql://reader:dirpass@h/db",
            "https://reader:dirpass@h/db",
            "host=h user=reader password=dirpass",
            "postgres://reader:dirpass@h/db?sslmode=bogus",
        ] {
            let mut vars = base.to_vec();
            vars.push(("DIRECTORY_URL", bad_url));
            let err = config(&vars).unwrap_err();
            assert_eq!(err.variable, "DIRECTORY_URL", "{bad_url}");
            assert!(!err.message.contains("dirpass"), "{}", err.message);
        }
    }
}
