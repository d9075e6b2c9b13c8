//! Fault knobs (`POST /_standin/faults`) and the request log (`GET /_standin/requests`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Misbehaviour to inject. Every field is optional in the JSON body; an omitted field keeps its
/// default (no fault).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Probability (0..=1) that an API request is answered 502/503 without being carried out.
    pub error_rate_5xx: f64,
    /// After this many writes (POST/PUT), writes are refused as rate limited for
    /// `rate_limit_seconds`; then the window starts again.
    pub rate_limit_after: Option<u32>,
    /// Status of a rate-limited answer: 429 (default) or 403.
    pub rate_limit_status: Option<u16>,
    /// Length of the rate-limit window in seconds (default 1).
    pub rate_limit_seconds: Option<u64>,
    /// Send `retry-after` on rate-limited answers (default true); false leaves only
    /// `x-ratelimit-remaining: 0` and `x-ratelimit-reset`.
    pub rate_limit_retry_after: Option<bool>,
    /// Delay before every API answer.
    pub latency_ms: u64,
    /// The next N successful writes are carried out, then answered 502 as if the answer was lost.
    pub fail_after_write: u32,
    /// Seed of the 5xx dice (default 1), for reproducible runs.
    pub seed: Option<u64>,
    /// Answer every API request 401 "Bad credentials", as GitHub does for a revoked or expired
    /// token, until switched off.
    pub reject_credentials: bool,
}

/// One API request as the stand-in saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Query string, empty when none.
    pub query: String,
    /// Status the client received.
    pub status: u16,
    /// True when the request changed the repository or the pull requests (even if then answered 502).
    pub wrote: bool,
}

/// Live state of the knobs.
#[derive(Debug, Default)]
pub(crate) struct FaultState {
    pub(crate) faults: Faults,
    rng: u64,
    writes_in_window: u32,
    limited_until: Option<u64>,
}

/// A rate-limited answer to send.
#[derive(Debug)]
pub(crate) struct Limited {
    pub(crate) status: u16,
    pub(crate) reset_epoch: u64,
    pub(crate) retry_after: Option<u64>,
}

impl FaultState {
    pub(crate) fn set(&mut self, faults: Faults) {
        self.rng = faults.seed.unwrap_or(1).max(1);
        self.writes_in_window = 0;
        self.limited_until = None;
        self.faults = faults;
    }

    pub(crate) fn latency(&self) -> Duration {
        Duration::from_millis(self.faults.latency_ms)
    }

    /// Rolls the 5xx dice (xorshift: cheap and reproducible).
    pub(crate) fn roll_5xx(&mut self) -> Option<u16> {
        if self.faults.error_rate_5xx <= 0.0 {
            return None;
        }
        let mut x = self.rng.max(1);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        let p = (x >> 11) as f64 / (1u64 << 53) as f64;
        (p < self.faults.error_rate_5xx).then_some(if x.is_multiple_of(2) { 502 } else { 503 })
    }

    /// Counts a write against the rate-limit window; Some when it must be refused.
    pub(crate) fn admit_write(&mut self) -> Option<Limited> {
        let after = self.faults.rate_limit_after?;
        let now = epoch();
        let window = self.faults.rate_limit_seconds.unwrap_or(1).max(1);
        if let Some(until) = self.limited_until {
            if now < until {
                return Some(self.limited(until, now));
            }
            self.limited_until = None;
            self.writes_in_window = 0;
        }
        if self.writes_in_window >= after {
            let until = now + window;
            self.limited_until = Some(until);
            return Some(self.limited(until, now));
        }
        self.writes_in_window += 1;
        None
    }

    fn limited(&self, until: u64, now: u64) -> Limited {
        Limited {
            status: self.faults.rate_limit_status.unwrap_or(429),
            reset_epoch: until,
            retry_after: self
                .faults
                .rate_limit_retry_after
                .unwrap_or(true)
                .then(|| until.saturating_sub(now).max(1)),
        }
    }

    /// Whether this successful write's answer must be replaced by a 502.
    pub(crate) fn lose_answer(&mut self) -> bool {
        if self.faults.fail_after_write > 0 {
            self.faults.fail_after_write -= 1;
            true
        } else {
            false
        }
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the epoch (civil-from-days, proleptic Gregorian).
pub(crate) fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn rate_limit_window_counts_writes() {
        let mut state = FaultState::default();
        state.set(Faults {
            rate_limit_after: Some(2),
            rate_limit_seconds: Some(60),
            ..Faults::default()
        });
        assert!(state.admit_write().is_none());
        assert!(state.admit_write().is_none());
        let limited = state.admit_write().expect("third write is limited");
        assert_eq!(limited.status, 429);
        assert!(limited.retry_after.unwrap() >= 59);
    }

    #[test]
    fn dice_follow_the_rate() {
        let mut state = FaultState::default();
        state.set(Faults {
            error_rate_5xx: 0.5,
            ..Faults::default()
        });
        let failures = (0..1000).filter(|_| state.roll_5xx().is_some()).count();
        assert!((400..600).contains(&failures), "{failures}");
    }
}
