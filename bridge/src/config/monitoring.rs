//! Monitoring settings: the provisioning SLA and its reminders (`PROVISION_SLA`, `REMINDER_EVERY`,
//! `DIGEST_AT`) and who may read `/metrics` (`METRICS_TOKEN`, `METRICS_BIND_ADDR`).

use std::net::SocketAddr;
use std::time::Duration;

use super::{ConfigError, Secret, bad, parse_duration};

/// A time of day in UTC (`DIGEST_AT`, written `HH:MM`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestAt {
    /// Hour, 0-23.
    pub hour: u8,
    /// Minute, 0-59.
    pub minute: u8,
}

impl DigestAt {
    /// Parses `HH:MM` (24-hour clock, UTC), e.g. `08:00` or `8:00`.
    pub fn parse(text: &str) -> Option<Self> {
        let (h, m) = text.trim().split_once(':')?;
        let ok = |s: &str, len: std::ops::RangeInclusive<usize>| {
            len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
        };
        if !ok(h, 1..=2) || !ok(m, 2..=2) {
            return None;
        }
        let (hour, minute) = (h.parse().ok()?, m.parse().ok()?);
        (hour < 24 && minute < 60).then_some(Self { hour, minute })
    }

    /// Seconds from midnight UTC.
    pub fn seconds_of_day(self) -> i64 {
        i64::from(self.hour) * 3600 + i64::from(self.minute) * 60
    }
}

impl std::fmt::Display for DigestAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02} UTC", self.hour, self.minute)
    }
}

/// Pending provisions and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Monitoring {
    /// `PROVISION_SLA` (default 24h): a tenant pending longer than this is past its SLA.
    pub provision_sla: Duration,
    /// `REMINDER_EVERY` (default 6h): after the SLA, the admin is reminded once per this interval.
    pub reminder_every: Duration,
    /// `DIGEST_AT` (`HH:MM`, UTC): one daily summary at that time instead of per-tenant reminders.
    pub digest_at: Option<DigestAt>,
    /// `METRICS_TOKEN`: bearer token that `GET /metrics` requires.
    pub metrics_token: Option<Secret>,
    /// `METRICS_BIND_ADDR`: a separate listener that serves only `/metrics` (then the main
    /// listener does not serve it); without a token there, it is unauthenticated.
    pub metrics_bind_addr: Option<SocketAddr>,
}

impl Default for Monitoring {
    fn default() -> Self {
        Self {
            provision_sla: Duration::from_secs(24 * 3600),
            reminder_every: Duration::from_secs(6 * 3600),
            digest_at: None,
            metrics_token: None,
            metrics_bind_addr: None,
        }
    }
}

/// A positive duration setting (`24h`, `90m`, …) read through `get`, `default` when unset.
fn positive_duration(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: Duration,
) -> Result<Duration, ConfigError> {
    match get(name) {
        None => Ok(default),
        Some(text) => parse_duration(&text)
            .filter(|v| !v.is_zero())
            .ok_or_else(|| {
                bad(
                    name,
                    format!("{text:?} is not a positive duration such as 24h, 6h or 90m"),
                )
            }),
    }
}

/// `PROVISION_SLA` (default 24h): the one reading of it, shared by reminders, `/metrics` and the
/// console.
pub fn provision_sla(get: &impl Fn(&str) -> Option<String>) -> Result<Duration, ConfigError> {
    positive_duration(get, "PROVISION_SLA", Monitoring::default().provision_sla)
}

impl Monitoring {
    /// Reads the settings through `get` (trimmed, empty meaning unset).
    pub fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let d = Self::default();
        let positive =
            |name: &'static str, default: Duration| positive_duration(get, name, default);
        let digest_at = get("DIGEST_AT")
            .map(|text| {
                DigestAt::parse(&text).ok_or_else(|| {
                    bad(
                        "DIGEST_AT",
                        format!("{text:?} is not a time of day HH:MM (UTC, 24-hour), e.g. 08:00"),
                    )
                })
            })
            .transpose()?;
        let metrics_token = get("METRICS_TOKEN").map(Secret);
        let metrics_bind_addr = get("METRICS_BIND_ADDR")
            .map(|text| {
                text.parse().map_err(|_| {
                    bad(
                        "METRICS_BIND_ADDR",
                        "must be host:port, e.g. 127.0.0.1:9090",
                    )
                })
            })
            .transpose()?;
        Ok(Self {
            provision_sla: provision_sla(get)?,
            reminder_every: positive("REMINDER_EVERY", d.reminder_every)?,
            digest_at,
            metrics_token,
            metrics_bind_addr,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<Monitoring, ConfigError> {
        Monitoring::from_lookup(&|name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn defaults_and_values() {
        assert_eq!(read(&[]).unwrap(), Monitoring::default());
        let m = read(&[
            ("PROVISION_SLA", "2h"),
            ("REMINDER_EVERY", "30m"),
            ("DIGEST_AT", "07:05"),
            ("METRICS_TOKEN", "0123456789abcdef0123"),
            ("METRICS_BIND_ADDR", "127.0.0.1:9184"),
        ])
        .unwrap();
        assert_eq!(m.provision_sla, Duration::from_secs(7200));
        assert_eq!(m.reminder_every, Duration::from_secs(1800));
        assert_eq!(m.digest_at.unwrap().seconds_of_day(), 7 * 3600 + 300);
        assert_eq!(m.digest_at.unwrap().to_string(), "07:05 UTC");
        assert!(!format!("{m:?}").contains("0123456789abcdef"));
        assert_eq!(m.metrics_bind_addr.unwrap().port(), 9184);
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (name, value) in [
            ("PROVISION_SLA", "0s"),
            ("PROVISION_SLA", "tomorrow"),
            ("REMINDER_EVERY", "-1h"),
            ("DIGEST_AT", "24:00"),
            ("DIGEST_AT", "8"),
            ("DIGEST_AT", "08:5"),
            ("DIGEST_AT", "08:60"),
            ("DIGEST_AT", "+8:00"),
            ("METRICS_BIND_ADDR", "9090"),
        ] {
            let err = read(&[(name, value)]).unwrap_err();
            assert_eq!(err.variable, name, "{name}={value}");
        }
        assert_eq!(DigestAt::parse("8:00").unwrap().hour, 8);
        assert_eq!(DigestAt::parse("23:59").unwrap().seconds_of_day(), 86_340);
    }
}
