//! Time settings: how long publishing is retried, how long a slow client may take, how long a
//! shutdown may drain. Durations are written `90s`, `15m`, `24h`, `2d`, `500ms`, `1h30m`, or a plain
//! number of seconds.

use std::time::Duration;

use super::{ConfigError, bad};
use crate::retry::RetryPolicy;

/// Time limits read from the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// `PUBLISH_RETRY_WINDOW` (default 24h) and `PUBLISH_ALERT_AFTER` (default 15m).
    pub publish_retry: RetryPolicy,
    /// `SHUTDOWN_GRACE` (default 10s): after SIGTERM, open requests and running jobs get this long,
    /// then the process exits 0 (unfinished jobs stay queued in Postgres).
    pub shutdown_grace: Duration,
    /// `HEADER_READ_TIMEOUT` (default 10s): a client must send a request's headers within this.
    pub header_read_timeout: Duration,
    /// `BODY_READ_TIMEOUT` (default 10s): and then its body within this (answered 408 otherwise).
    pub body_read_timeout: Duration,
    /// `ARCHIVE_GRACE` (default 30d): from a subscription's end (its event's `created` time) to the
    /// archive commit; a renewal before then cancels it. `0` archives at once.
    pub archive_grace: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            publish_retry: RetryPolicy::default(),
            shutdown_grace: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(10),
            archive_grace: Duration::from_secs(30 * 86_400),
        }
    }
}

impl Timing {
    /// Reads the time settings through `get` (trimmed, empty meaning unset).
    pub fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let d = Timing::default();
        let read = |name: &'static str, default: Duration, allow_zero: bool| match get(name) {
            None => Ok(default),
            Some(text) => match parse_duration(&text) {
                Some(v) if allow_zero || !v.is_zero() => Ok(v),
                _ => Err(bad(
                    name,
                    format!(
                        "{text:?} is not a {}duration such as 10s, 15m, 24h or 500ms",
                        if allow_zero { "" } else { "positive " }
                    ),
                )),
            },
        };
        Ok(Self {
            publish_retry: RetryPolicy {
                window: read("PUBLISH_RETRY_WINDOW", d.publish_retry.window, true)?,
                alert_after: read("PUBLISH_ALERT_AFTER", d.publish_retry.alert_after, true)?,
            },
            shutdown_grace: read("SHUTDOWN_GRACE", d.shutdown_grace, true)?,
            header_read_timeout: read("HEADER_READ_TIMEOUT", d.header_read_timeout, false)?,
            body_read_timeout: read("BODY_READ_TIMEOUT", d.body_read_timeout, false)?,
            archive_grace: read("ARCHIVE_GRACE", d.archive_grace, true)?,
        })
    }
}

/// Parses `90`, `90s`, `15m`, `24h`, `2d`, `500ms`, `1h30m` (units may be combined, largest first
/// or not; no sign, no fractions).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let part = match &rest[..unit_len] {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n.checked_mul(60)?),
            "h" => Duration::from_secs(n.checked_mul(3600)?),
            "d" => Duration::from_secs(n.checked_mul(86_400)?),
            _ => return None,
        };
        total = total.checked_add(part)?;
        rest = &rest[unit_len..];
    }
    Some(total)
}

/// Writes a duration the way [`parse_duration`] reads it, e.g. `1h30m`, `15m`, `250ms`.
pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        return format!("{}ms", d.subsec_millis());
    }
    let mut out = String::new();
    for (n, unit) in [
        (secs / 86_400, "d"),
        (secs / 3600 % 24, "h"),
        (secs / 60 % 60, "m"),
        (secs % 60, "s"),
    ] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_and_write() {
        let s = Duration::from_secs;
        for (text, want) in [
            ("90", s(90)),
            ("10s", s(10)),
            ("15m", s(900)),
            ("24h", s(86_400)),
            ("2d", s(172_800)),
            ("1h30m", s(5400)),
            ("500ms", Duration::from_millis(500)),
            (" 0 ", s(0)),
        ] {
            assert_eq!(parse_duration(text), Some(want), "{text}");
        }
        for bad in [
            "",
            "h",
            "-5s",
            "1.5h",
            "10 s",
            "5x",
            "1h 30m",
            "99999999999999999999d",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        assert_eq!(format_duration(s(5400)), "1h30m");
        assert_eq!(format_duration(s(86_400 + 61)), "1d1m1s");
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
        for secs in [1, 59, 60, 3599, 3600, 86_399, 86_400, 200_000] {
            assert_eq!(parse_duration(&format_duration(s(secs))), Some(s(secs)));
        }
    }

    #[test]
    fn settings_name_the_variable() {
        let get = |name: &str| (name == "SHUTDOWN_GRACE").then(|| "soon".to_owned());
        assert_eq!(
            Timing::from_lookup(&get).unwrap_err().variable,
            "SHUTDOWN_GRACE"
        );
        let get = |name: &str| (name == "HEADER_READ_TIMEOUT").then(|| "0s".to_owned());
        assert_eq!(
            Timing::from_lookup(&get).unwrap_err().variable,
            "HEADER_READ_TIMEOUT"
        );
        let get = |name: &str| (name == "ARCHIVE_GRACE").then(|| "30 days".to_owned());
        assert_eq!(
            Timing::from_lookup(&get).unwrap_err().variable,
            "ARCHIVE_GRACE"
        );
        let get = |name: &str| (name == "ARCHIVE_GRACE").then(|| "2s".to_owned());
        assert_eq!(
            Timing::from_lookup(&get).unwrap().archive_grace,
            Duration::from_secs(2)
        );
        assert_eq!(
            Timing::default().archive_grace,
            Duration::from_secs(2_592_000)
        );
        let get = |name: &str| (name == "PUBLISH_RETRY_WINDOW").then(|| "2h".to_owned());
        let t = Timing::from_lookup(&get).unwrap();
        assert_eq!(t.publish_retry.window, Duration::from_secs(7200));
        assert_eq!(
            t,
            Timing {
                publish_retry: t.publish_retry,
                ..Timing::default()
            }
        );
    }
}
