//! Opening a session-mode connection: URL parameters, `sslmode`, TLS and redaction.

use std::str::FromStr;

use tokio_postgres::config::{Host, SslMode as DriverSslMode};
use tokio_postgres::{Client, Config};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::{Error, Result};
use crate::tls::{Verify, client_config};

/// The `sslmode` URL parameter, as libpq understands it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Plain TCP.
    Disable,
    /// TLS when the server offers it, plain otherwise (`allow` means the same here).
    Prefer,
    /// TLS; the certificate is checked against the CA when one is given, else not at all.
    Require,
    /// TLS; the certificate must chain to the given CA (host name not checked).
    VerifyCa,
    /// TLS; the certificate must chain to the given CA and name the host.
    VerifyFull,
}

impl FromStr for SslMode {
    type Err = Error;

    fn from_str(value: &str) -> Result<Self> {
        Ok(match value {
            "disable" => SslMode::Disable,
            "allow" | "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(Error::Config {
                    reason: format!(
                        "unknown sslmode `{other}` in the database URL; use disable, prefer, \
                         require, verify-ca or verify-full"
                    ),
                });
            }
        })
    }
}

/// TLS settings that do not come from the URL.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// PEM of the CA that signs the database server's certificate. When set, the server is
    /// verified; otherwise connections are encrypted without verification.
    pub ca_cert_pem: Option<String>,
}

/// A URL split into what tokio-postgres understands and the parameters we handle ourselves.
#[derive(Debug)]
pub(crate) struct ParsedUrl {
    pub(crate) config: Config,
    pub(crate) sslmode: Option<SslMode>,
    pub(crate) sslrootcert: Option<String>,
    /// Prisma's `schema` parameter: the schema migrations and `_prisma_migrations` go to.
    pub(crate) schema: Option<String>,
}

pub(crate) fn parse_url(url: &str) -> Result<ParsedUrl> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(Error::Config {
            reason: format!(
                "the database URL must start with postgres:// or postgresql:// (got {})",
                redact_url(url)
            ),
        });
    }
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let (mut sslmode, mut sslrootcert, mut schema) = (None, None, None);
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "sslmode" => sslmode = Some(value.parse()?),
            "sslrootcert" => sslrootcert = Some(percent_decode(value)),
            "schema" => schema = Some(percent_decode(value)),
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    let config = Config::from_str(&rest).map_err(|e| Error::Config {
        reason: format!("invalid database URL {}: {e}", redact_url(url)),
    })?;
    Ok(ParsedUrl {
        config,
        sslmode,
        sslrootcert,
        schema,
    })
}

fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|&b| hex(b)),
                bytes.get(i + 2).and_then(|&b| hex(b)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_local(config: &Config) -> bool {
    config.get_hosts().iter().all(|host| match host {
        Host::Tcp(name) => matches!(name.as_str(), "localhost" | "127.0.0.1" | "::1" | "[::1]"),
        Host::Unix(_) => true,
    })
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

/// `url` with the password (userinfo or `password=` parameter) replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let authority_start = scheme_end + 3;
        let authority_end = out[authority_start..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| authority_start + i);
        if let Some(at) = out[authority_start..authority_end].rfind('@') {
            let userinfo = authority_start..authority_start + at;
            if let Some(colon) = out[userinfo.clone()].find(':') {
                out.replace_range(authority_start + colon + 1..userinfo.end, "***");
            }
        }
    }
    if let Some(q) = out.find('?') {
        let (base, query) = out.split_at(q + 1);
        let query = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key == "password" => format!("{key}=***"),
                _ => pair.to_string(),
            })
            .collect::<Vec<_>>()
            .join("&");
        out = format!("{base}{query}");
    }
    out
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
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://u:s3cr%40t@h:5432/db?sslmode=require"),
            "postgres://u:***@h:5432/db?sslmode=require"
        );
        assert_eq!(
            redact_url("postgresql://u@h/db?password=x&a=b"),
            "postgresql://u@h/db?password=***&a=b"
        );
        assert_eq!(redact_url("postgres://h/db"), "postgres://h/db");
    }

    #[test]
    fn parses_our_parameters_and_keeps_the_rest() {
        let parsed =
            parse_url("postgres://u:p@db.example.com:6543/x?sslmode=verify-full&schema=a%20b&connect_timeout=5")
                .unwrap();
        assert_eq!(parsed.sslmode, Some(SslMode::VerifyFull));
        assert_eq!(parsed.schema.as_deref(), Some("a b"));
        assert_eq!(parsed.config.get_dbname(), Some("x"));
        assert!(!is_local(&parsed.config));
        assert!(is_local(
            &parse_url("postgres://u@127.0.0.1/x").unwrap().config
        ));
    }

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

    #[test]
    fn bad_urls_never_echo_the_password() {
        let err = parse_url("mysql://u:hunter2@h/x").unwrap_err().to_string();
        assert!(!err.contains("hunter2"), "{err}");
        let err = parse_url("postgres://u:hunter2@h/x?sslmode=maybe")
            .unwrap_err()
            .to_string();
        assert!(err.contains("maybe") && !err.contains("hunter2"), "{err}");
        let err = parse_url("postgres://u:hunter2@h:notaport/x")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }
}
