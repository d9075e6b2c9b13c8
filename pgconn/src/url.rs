//! Database URLs: the parameters the driver does not handle (`sslmode`, `sslrootcert`, Prisma's
//! `schema`), local hosts, and redaction of passwords for messages.

use std::str::FromStr;

use tokio_postgres::Config;
use tokio_postgres::config::Host;

use crate::error::{Error, Result};

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

pub(crate) fn is_local(config: &Config) -> bool {
    config.get_hosts().iter().all(|host| match host {
        Host::Tcp(name) => matches!(name.as_str(), "localhost" | "127.0.0.1" | "::1" | "[::1]"),
        Host::Unix(_) => true,
    })
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
