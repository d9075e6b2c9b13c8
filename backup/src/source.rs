//! A database to dump or restore into: its URL (a secret) and TLS options, as the driver and as
//! `pg_dump`/`pg_restore` (libpq environment variables, never the command line) see them.

use std::fmt;
use std::io::Write;

use stagesub_pgconn::{SslMode, TlsOptions};
use tokio_postgres::config::Host;

use crate::error::{BackupError, Result, Step};

/// A database: URL (with the password, so never printed: `Debug` shows it redacted) and TLS
/// options, read as [`stagesub_pgconn`] reads them (`sslmode`, `sslrootcert`, CA PEM).
#[derive(Clone)]
pub struct SourceDb {
    url: String,
    tls: TlsOptions,
}

impl fmt::Debug for SourceDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceDb")
            .field("url", &self.redacted())
            .field("tls", &self.tls)
            .finish()
    }
}

/// What a child process (`pg_dump`, `pg_restore`) needs to reach the database: environment
/// variables, and the CA file they may name (deleted when this is dropped).
pub(crate) struct LibpqEnv {
    pub(crate) vars: Vec<(&'static str, String)>,
    _ca_file: Option<tempfile::NamedTempFile>,
}

impl SourceDb {
    /// A database at `url` (`postgres://user:password@host:port/db?sslmode=...`); an error
    /// naming what to fix when the URL cannot be read.
    pub fn new(url: impl Into<String>, tls: TlsOptions) -> Result<SourceDb> {
        let db = SourceDb {
            url: url.into(),
            tls,
        };
        db.settings()?;
        Ok(db)
    }

    /// The URL with its password replaced by `***`.
    pub fn redacted(&self) -> String {
        stagesub_pgconn::redact_url(&self.url)
    }

    fn settings(&self) -> Result<stagesub_pgconn::ConnectSettings> {
        stagesub_pgconn::connect_settings(&self.url, &self.tls)
            .map_err(|e| BackupError::new(Step::Config, e.to_string()))
    }

    /// A session on the database.
    pub(crate) async fn connect(&self, step: Step) -> Result<tokio_postgres::Client> {
        stagesub_pgconn::connect(&self.url, &self.tls)
            .await
            .map_err(|e| {
                BackupError::new(
                    step,
                    format!("could not connect to {}: {e}", self.redacted()),
                )
            })
    }

    /// The libpq environment for a child process: host, port, user, database, password
    /// (`PGPASSWORD`, so it is on no command line), `sslmode` and the CA (a 0600 temporary file).
    pub(crate) fn libpq_env(&self) -> Result<LibpqEnv> {
        let settings = self.settings()?;
        let config = &settings.config;
        let mut vars: Vec<(&'static str, String)> = Vec::new();
        let hosts: Vec<String> = config
            .get_hosts()
            .iter()
            .map(|h| match h {
                Host::Tcp(name) => name.clone(),
                Host::Unix(path) => path.display().to_string(),
            })
            .collect();
        if !hosts.is_empty() {
            vars.push(("PGHOST", hosts.join(",")));
        }
        let ports: Vec<String> = config.get_ports().iter().map(u16::to_string).collect();
        if !ports.is_empty() {
            vars.push(("PGPORT", ports.join(",")));
        }
        if let Some(user) = config.get_user() {
            vars.push(("PGUSER", user.to_string()));
        }
        if let Some(db) = config.get_dbname() {
            vars.push(("PGDATABASE", db.to_string()));
        }
        if let Some(password) = config.get_password() {
            vars.push(("PGPASSWORD", String::from_utf8_lossy(password).into_owned()));
        }
        if let Some(timeout) = config.get_connect_timeout() {
            vars.push(("PGCONNECT_TIMEOUT", timeout.as_secs().max(1).to_string()));
        }
        vars.push(("PGAPPNAME", "stagesub-backup".to_string()));
        let sslmode = match settings.sslmode {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        };
        vars.push(("PGSSLMODE", sslmode.to_string()));
        let ca_pem = match &self.tls.ca_cert_pem {
            Some(pem) => Some(pem.clone()),
            None => url_param(&self.url, "sslrootcert")
                .map(|path| {
                    std::fs::read_to_string(&path).map_err(|e| {
                        BackupError::new(
                            Step::Config,
                            format!("could not read the CA file sslrootcert={path}: {e}"),
                        )
                    })
                })
                .transpose()?,
        };
        let ca_file = match ca_pem {
            Some(pem) => {
                // tempfile creates files with mode 0600.
                let mut file = tempfile::Builder::new()
                    .prefix("stagesub-backup-ca")
                    .tempfile()
                    .map_err(|e| {
                        BackupError::new(Step::Config, format!("could not write the CA file: {e}"))
                    })?;
                file.write_all(pem.as_bytes()).map_err(|e| {
                    BackupError::new(Step::Config, format!("could not write the CA file: {e}"))
                })?;
                vars.push(("PGSSLROOTCERT", file.path().display().to_string()));
                Some(file)
            }
            // Without a CA libpq falls back to ~/.postgresql/root.crt under verify-*, as usual.
            None => None,
        };
        Ok(LibpqEnv {
            vars,
            _ca_file: ca_file,
        })
    }
}

/// The percent-decoded value of `key` in the URL's query string.
fn url_param(url: &str, key: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| percent_decode(v))
    })
}

fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = value
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Applies a [`LibpqEnv`] to a command, clearing every inherited `PG*` variable first so the
/// caller's environment (a `PGSERVICE`, `PGOPTIONS`, another `PGPASSWORD`) cannot redirect it.
pub(crate) fn apply_env(command: &mut tokio::process::Command, env: &LibpqEnv) {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PG") {
            command.env_remove(&key);
        }
    }
    for (key, value) in &env.vars {
        command.env(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let db = SourceDb::new(
            "postgres://u:hunter2@127.0.0.1:5432/d",
            TlsOptions::default(),
        )
        .unwrap();
        assert!(!format!("{db:?}").contains("hunter2"));
        let env = db.libpq_env().unwrap();
        let get = |k| {
            env.vars
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("PGPASSWORD"), Some("hunter2"));
        assert_eq!(get("PGHOST"), Some("127.0.0.1"));
        assert_eq!(get("PGDATABASE"), Some("d"));
        assert_eq!(get("PGSSLMODE"), Some("prefer"));
    }

    #[test]
    fn bad_url_is_a_config_error() {
        let e = SourceDb::new("mysql://x", TlsOptions::default()).unwrap_err();
        assert_eq!(e.step(), Step::Config);
    }
}
