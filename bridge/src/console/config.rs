//! The console's settings: `CONSOLE_USERS`, `CONSOLE_TRUST_PROXY_HEADER`, `CONSOLE_TRUSTED_PROXIES`,
//! `PROVISION_SLA`, `STRIPE_API_KEY`, `STRIPE_API_BASE`. Errors name the variable to fix.

use std::net::IpAddr;
use std::time::Duration;

use argon2::password_hash::PasswordHash;

use crate::config::{ConfigError, Secret};

/// Default `PROVISION_SLA`: a pending provision older than this is late.
pub const DEFAULT_PROVISION_SLA: Duration = Duration::from_secs(24 * 3600);
/// Default `STRIPE_API_BASE`.
pub const DEFAULT_STRIPE_API_BASE: &str = "https://api.stripe.com";

/// An address range, `10.0.0.0/8` or `::1/128` (a bare address is a one-address range).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `addr/prefix` or a bare address.
    pub fn parse(text: &str) -> Option<Self> {
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text.trim(), None),
        };
        let network: IpAddr = addr.parse().ok()?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max)?,
        };
        Some(Self { network, prefix })
    }

    /// True when `ip` is inside the range (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// A console user and the argon2 hash of their password (PHC string).
#[derive(Clone, PartialEq, Eq)]
pub struct ConsoleUser {
    /// The login name.
    pub name: String,
    /// `$argon2id$v=19$m=…,t=…,p=…$salt$hash`.
    pub hash: String,
}

impl std::fmt::Debug for ConsoleUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A hash can be attacked offline: keep it out of logs too.
        write!(
            f,
            "ConsoleUser {{ name: {:?}, hash: \"<redacted>\" }}",
            self.name
        )
    }
}

/// The console's settings.
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    /// `CONSOLE_USERS`: `name:$argon2id$…` entries separated by commas (or blanks).
    pub users: Vec<ConsoleUser>,
    /// `CONSOLE_TRUST_PROXY_HEADER`: the header (lower-case) carrying the user name set by a proxy.
    pub proxy_header: Option<String>,
    /// `CONSOLE_TRUSTED_PROXIES`: the only peers whose proxy header is believed.
    pub trusted_proxies: Vec<Cidr>,
    /// `PROVISION_SLA`, default 24h.
    pub provision_sla: Duration,
    /// `STRIPE_API_KEY`: lets "find missed events" list them from Stripe.
    pub stripe_api_key: Option<Secret>,
    /// `STRIPE_API_BASE`, default `https://api.stripe.com` (tests point it at a stand-in).
    pub stripe_api_base: String,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            users: Vec::new(),
            proxy_header: None,
            trusted_proxies: Vec::new(),
            provision_sla: DEFAULT_PROVISION_SLA,
            stripe_api_key: None,
            stripe_api_base: DEFAULT_STRIPE_API_BASE.to_owned(),
        }
    }
}

fn bad(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

impl ConsoleConfig {
    /// True when some way to sign in is configured; otherwise `/console` answers 404.
    pub fn enabled(&self) -> bool {
        !self.users.is_empty() || self.proxy_header.is_some()
    }

    /// Reads the settings through `get` (trimmed, empty = unset).
    pub fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let users = match get("CONSOLE_USERS") {
            None => Vec::new(),
            Some(text) => parse_users(&text)?,
        };
        let proxy_header = get("CONSOLE_TRUST_PROXY_HEADER")
            .map(|h| {
                axum::http::HeaderName::from_bytes(h.as_bytes())
                    .map(|n| n.as_str().to_owned())
                    .map_err(|_| {
                        bad(
                            "CONSOLE_TRUST_PROXY_HEADER",
                            format!("{h:?} is not a header name (e.g. X-Forwarded-User)"),
                        )
                    })
            })
            .transpose()?;
        let trusted_proxies = match get("CONSOLE_TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(text) => text
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    Cidr::parse(s).ok_or_else(|| {
                        bad(
                            "CONSOLE_TRUSTED_PROXIES",
                            format!("{s:?} is not an address or range (e.g. 10.0.0.0/8, ::1)"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        if proxy_header.is_some() && trusted_proxies.is_empty() {
            return Err(bad(
                "CONSOLE_TRUSTED_PROXIES",
                "is required with CONSOLE_TRUST_PROXY_HEADER: the addresses of the proxies whose \
                 header is believed (anyone else could send it)",
            ));
        }
        let provision_sla = crate::config::provision_sla(get)?;
        let stripe_api_base = get("STRIPE_API_BASE")
            .unwrap_or_else(|| DEFAULT_STRIPE_API_BASE.to_owned())
            .trim_end_matches('/')
            .to_owned();
        if !(stripe_api_base.starts_with("https://") || stripe_api_base.starts_with("http://")) {
            return Err(bad(
                "STRIPE_API_BASE",
                "must be an http(s) URL, e.g. https://api.stripe.com",
            ));
        }
        Ok(Self {
            users,
            proxy_header,
            trusted_proxies,
            provision_sla,
            stripe_api_key: get("STRIPE_API_KEY").map(Secret),
            stripe_api_base,
        })
    }
}

/// `name:$argon2…` entries separated by commas or blanks. An argon2 hash holds commas itself
/// (`m=19456,t=2,p=1`), so a new entry starts only where a piece reads `name:$`.
fn parse_users(text: &str) -> Result<Vec<ConsoleUser>, ConfigError> {
    let mut entries: Vec<String> = Vec::new();
    for piece in text.split([',', ' ', '\n', '\t']).filter(|p| !p.is_empty()) {
        let starts_entry = piece
            .split_once(':')
            .is_some_and(|(name, rest)| !name.contains('$') && rest.starts_with('$'));
        match entries.last_mut() {
            Some(last) if !starts_entry => {
                last.push(',');
                last.push_str(piece);
            }
            _ => entries.push(piece.to_owned()),
        }
    }
    let mut users: Vec<ConsoleUser> = Vec::new();
    for entry in entries {
        let Some((name, hash)) = entry.split_once(':') else {
            return Err(bad(
                "CONSOLE_USERS",
                "each entry must be name:$argon2id$… (make the hash with `stagesub-bridge console hash-password`)",
            ));
        };
        if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
            return Err(bad(
                "CONSOLE_USERS",
                format!("{name:?} is not a user name (1 to 64 characters)"),
            ));
        }
        let parsed = PasswordHash::new(hash).map_err(|_| {
            bad(
                "CONSOLE_USERS",
                format!("the hash of user {name:?} is not an argon2 PHC string ($argon2id$…)"),
            )
        })?;
        if !parsed.algorithm.as_str().starts_with("argon2") {
            return Err(bad(
                "CONSOLE_USERS",
                format!("the hash of user {name:?} is not an argon2 hash"),
            ));
        }
        if users.iter().any(|u| u.name == name) {
            return Err(bad(
                "CONSOLE_USERS",
                format!("user {name:?} is listed twice"),
            ));
        }
        users.push(ConsoleUser {
            name: name.to_owned(),
            hash: hash.to_owned(),
        });
    }
    Ok(users)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_contain_what_they_should() {
        let net = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(net.contains("10.1.200.3".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.0.9".parse().unwrap()));
        assert!(Cidr::parse("::1").unwrap().contains("::1".parse().unwrap()));
        assert!(!Cidr::parse("::1").unwrap().contains("::2".parse().unwrap()));
        assert!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        for bad in ["10.0.0.0/33", "x", "10.0.0/8", "::/129", ""] {
            assert!(Cidr::parse(bad).is_none(), "{bad}");
        }
    }
}
