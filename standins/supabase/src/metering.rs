//! Call counting and the per-token rate limit.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use serde::Serialize;

/// Calls received on `/v1`, for tests that check how many requests a client made.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// All `/v1` calls, including those refused (401, 429, injected 5xx).
    pub total: u64,
    /// Calls per endpoint, keyed `"<METHOD> <route>"`, e.g. `"GET /v1/projects/{ref}"`.
    pub endpoints: BTreeMap<String, u64>,
    /// Answers per HTTP status code, e.g. `"429"`.
    pub responses: BTreeMap<String, u64>,
}

impl Stats {
    /// Counts one call to `endpoint`.
    pub(crate) fn record_call(&mut self, endpoint: String) {
        self.total += 1;
        *self.endpoints.entry(endpoint).or_default() += 1;
    }

    /// Counts one answer with `status`.
    pub(crate) fn record_response(&mut self, status: u16) {
        *self.responses.entry(status.to_string()).or_default() += 1;
    }

    /// Calls to one endpoint (`"GET /v1/projects/{ref}"`), 0 when never called.
    pub fn calls(&self, endpoint: &str) -> u64 {
        self.endpoints.get(endpoint).copied().unwrap_or(0)
    }
}

/// The outcome of a rate-limit check, carried in the `X-RateLimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateDecision {
    pub(crate) allowed: bool,
    pub(crate) limit: u32,
    pub(crate) remaining: u32,
    /// Whole seconds until the window resets (at least 1).
    pub(crate) reset_secs: u64,
}

/// Fixed one-minute windows per token, like Supabase's "N requests per minute".
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    windows: HashMap<String, (Instant, u32)>,
}

const WINDOW: Duration = Duration::from_secs(60);

impl RateLimiter {
    /// Counts one request for `token`; `None` when the limit is off (`limit == 0`).
    pub(crate) fn check(&mut self, token: &str, limit: u32) -> Option<RateDecision> {
        if limit == 0 {
            return None;
        }
        let now = Instant::now();
        let window = self.windows.entry(token.to_string()).or_insert((now, 0));
        if now.duration_since(window.0) >= WINDOW {
            *window = (now, 0);
        }
        let allowed = window.1 < limit;
        if allowed {
            window.1 += 1;
        }
        let left = WINDOW.saturating_sub(now.duration_since(window.0));
        Some(RateDecision {
            allowed,
            limit,
            remaining: limit - window.1,
            reset_secs: left.as_secs_f64().ceil().max(1.0) as u64,
        })
    }

    /// Forgets all windows (used when the limit is changed at run time).
    pub(crate) fn clear(&mut self) {
        self.windows.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::RateLimiter;

    #[test]
    fn refuses_after_the_limit_and_counts_down() {
        let mut limiter = RateLimiter::default();
        let first = limiter.check("a", 2).unwrap();
        assert!(first.allowed);
        assert_eq!(first.remaining, 1);
        assert!(limiter.check("a", 2).unwrap().allowed);
        let third = limiter.check("a", 2).unwrap();
        assert!(!third.allowed);
        assert_eq!(third.remaining, 0);
        assert!((1..=60).contains(&third.reset_secs));
        assert!(
            limiter.check("b", 2).unwrap().allowed,
            "tokens have separate windows"
        );
        assert!(limiter.check("a", 0).is_none(), "0 turns the limit off");
    }
}
