//! Opening a session-mode connection, or the settings a pool needs to open its own.

use tokio_postgres::config::{Host, SslMode as DriverSslMode};
use tokio_postgres::{Client, Config};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::{Error, Result};
use crate::tls::{Verify, client_config};
use crate::url::{SslMode, is_local, parse_url, redact_url};

/// TLS settings that do not come from the URL.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// PEM of the CA that signs the database server's certificate. When set, the server is
    /// verified; otherwise connections are encrypted without verification.
    pub ca_cert_pem: Option<String>,
}

/// Supavisor's transaction mode (port 6543) hands each transaction to any server session, which
/// breaks the session advisory lock and `SET` that migrations rely on.
fn refuse_transaction_pooler(config: &Config) -> Result<()> {
    let pooler = config
        .get_hosts()
        .iter()
        .any(|host| matches!(host, Host::Tcp(name) if name.ends_with(".pooler.supabase.com")));
    if pooler && config.get_ports().contains(&6543) {
        return Err(Error::Config {
            reason: "the database URL points at Supabase's transaction-mode pooler (port 6543); \
                     migrations need a session-mode connection: use port 5432 on the same host"
                .into(),
        });
    }
    Ok(())
}

/// What [`connect_settings`] makes of a URL: the driver configuration with `sslmode` applied and
/// the rustls connector to use with it. For callers that open connections themselves (a pool).
///
/// Pass both to `tokio_postgres::Config::connect` or to a pool manager. With `sslmode=disable` the
/// driver never starts TLS, so the connector goes unused.
#[derive(Clone)]
pub struct ConnectSettings {
    /// Host, port, user, password and database, with the driver's ssl mode set (`disable`,
    /// `prefer` or `require`; verification is the connector's job).
    pub config: Config,
    /// The rustls connector, checking the server as the `sslmode` and CA say.
    pub tls: MakeRustlsConnect,
    /// The effective `sslmode` (the URL's, else `prefer` on loopback and `require` elsewhere).
    pub sslmode: SslMode,
    /// Prisma's `schema=<name>` parameter, when the URL has one (not applied here).
    pub schema: Option<String>,
}

impl std::fmt::Debug for ConnectSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `Config`'s own Debug redacts the password.
        f.debug_struct("ConnectSettings")
            .field("config", &self.config)
            .field("sslmode", &self.sslmode)
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

/// Parses `url` and builds the TLS connector for it, without connecting.
///
/// `sslmode` comes from the URL; without it, loopback hosts use `prefer` and every other host
/// `require`. The CA is `tls.ca_cert_pem`, else the file named by `sslrootcert=<file>` in the URL.
/// `disable`: plain TCP. `prefer`: TLS when the server offers it. `require`: TLS, the certificate
/// checked against the CA when one is given, else not at all. `verify-ca`: the chain must lead to
/// the CA. `verify-full`: the chain and the host name. `verify-*` without a CA is an
/// [`Error::Config`]. No error carries the password.
pub fn connect_settings(url: &str, tls: &TlsOptions) -> Result<ConnectSettings> {
    let parsed = parse_url(url)?;
    let ca = match (&tls.ca_cert_pem, &parsed.sslrootcert) {
        (Some(pem), _) => Some(pem.clone()),
        (None, Some(path)) => Some(std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.into(),
            source,
        })?),
        (None, None) => None,
    };
    let mode = parsed.sslmode.unwrap_or(if is_local(&parsed.config) {
        SslMode::Prefer
    } else {
        SslMode::Require
    });
    let verify = match (mode, ca.is_some()) {
        (SslMode::Disable, _) => Verify::Nothing,
        (SslMode::VerifyFull, true) => Verify::ChainAndName,
        (SslMode::VerifyCa, true) | (SslMode::Require | SslMode::Prefer, true) => Verify::Chain,
        (SslMode::VerifyCa | SslMode::VerifyFull, false) => {
            return Err(Error::Config {
                reason: "sslmode=verify-ca/verify-full needs the CA certificate of the database \
                         server (database_ca_cert / STAGESUB_DATABASE_CA_CERT, or sslrootcert=<file> \
                         in the URL)"
                    .into(),
            });
        }
        (SslMode::Require | SslMode::Prefer, false) => Verify::Nothing,
    };
    let mut config = parsed.config;
    config.ssl_mode(match mode {
        SslMode::Disable => DriverSslMode::Disable,
        SslMode::Prefer => DriverSslMode::Prefer,
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => DriverSslMode::Require,
    });
    let connector = MakeRustlsConnect::new(client_config(verify, ca.as_deref())?);
    Ok(ConnectSettings {
        config,
        tls: connector,
        sslmode: mode,
        schema: parsed.schema,
    })
}

/// Connects to `url` (a session-mode connection: migrations need a session advisory lock).
///
/// `sslmode`, the CA and TLS are handled as [`connect_settings`] describes. Prisma's
/// `schema=<name>` parameter sets the session's `search_path`. The connection task is spawned
/// on the current Tokio runtime; dropping the client closes it.
pub async fn connect(url: &str, tls: &TlsOptions) -> Result<Client> {
    let settings = connect_settings(url, tls)?;
    refuse_transaction_pooler(&settings.config)?;
    let target = redact_url(url);
    let (client, connection) = settings
        .config
        .connect(settings.tls)
        .await
        .map_err(|source| Error::Connect { target, source })?;
    tokio::spawn(connection);
    if let Some(schema) = settings.schema {
        client
            .query(
                "select set_config('search_path', quote_ident($1), false)",
                &[&schema],
            )
            .await
            .map_err(|source| Error::Database {
                action: "setting search_path from the URL's schema parameter",
                source,
            })?;
    }
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_map_sslmode_to_the_driver_and_need_a_ca_to_verify() {
        let mode = |url: &str| {
            connect_settings(url, &TlsOptions::default())
                .map(|s| (s.sslmode, s.config.get_ssl_mode()))
        };
        let u = "postgres://u:hunter2@db.example.com/x";
        assert_eq!(mode(u).unwrap(), (SslMode::Require, DriverSslMode::Require));
        assert_eq!(
            mode("postgres://u@localhost/x").unwrap(),
            (SslMode::Prefer, DriverSslMode::Prefer)
        );
        assert_eq!(
            mode(&format!("{u}?sslmode=disable")).unwrap(),
            (SslMode::Disable, DriverSslMode::Disable)
        );
        let err = mode(&format!("{u}?sslmode=verify-full")).unwrap_err();
        assert!(
            err.to_string().contains("needs the CA certificate"),
            "{err}"
        );
        let with_ca = TlsOptions {
            ca_cert_pem: Some("not a certificate".into()),
        };
        let err = connect_settings(&format!("{u}?sslmode=verify-ca"), &with_ca).unwrap_err();
        assert!(err.to_string().contains("CA certificate"), "{err}");
        let debug = format!("{:?}", mode(u).unwrap());
        assert!(!debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn transaction_mode_pooler_is_refused() {
        let url = "postgres://postgres.abc:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres";
        let parsed = parse_url(url).unwrap();
        let err = refuse_transaction_pooler(&parsed.config).unwrap_err();
        assert!(err.to_string().contains("session-mode"), "{err}");
        let session = parse_url(&url.replace("6543", "5432")).unwrap();
        assert!(refuse_transaction_pooler(&session.config).is_ok());
    }
}
