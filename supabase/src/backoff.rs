//! Exponential backoff with full jitter, for retries and for polling.

use std::time::Duration;

use rand::Rng;

/// Delays that grow exponentially between `initial` and `max`.
///
/// With `jitter` on, each delay is drawn uniformly from `0..=computed` ("full jitter"), which
/// spreads retries of many concurrent callers apart instead of having them collide again.
#[derive(Debug, Clone, PartialEq)]
pub struct BackoffPolicy {
    /// Delay before the first retry (or between the first polls).
    pub initial: Duration,
    /// Upper bound of any single delay.
    pub max: Duration,
    /// Growth factor per attempt (2.0 doubles).
    pub multiplier: f64,
    /// Draw each delay uniformly from zero up to the computed value.
    pub jitter: bool,
}

impl BackoffPolicy {
    /// Default for retrying API calls: 500 ms doubling up to 20 s, full jitter.
    pub fn retries() -> Self {
        Self {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(20),
            multiplier: 2.0,
            jitter: true,
        }
    }

    /// Default for polling a project's status: 2 s growing to 15 s, no jitter below 2 s.
    pub fn polling() -> Self {
        Self {
            initial: Duration::from_secs(2),
            max: Duration::from_secs(15),
            multiplier: 1.5,
            jitter: false,
        }
    }

    /// A constant delay (handy in tests and for fixed-interval polls).
    pub fn constant(delay: Duration) -> Self {
        Self {
            initial: delay,
            max: delay,
            multiplier: 1.0,
            jitter: false,
        }
    }

    /// The un-jittered delay after `attempt` failures (attempt 0 gives `initial`).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = self.multiplier.max(1.0).powi(attempt.min(64) as i32);
        let secs = self.initial.as_secs_f64() * factor;
        let capped = secs.min(self.max.as_secs_f64());
        if capped.is_finite() && capped >= 0.0 {
            Duration::from_secs_f64(capped)
        } else {
            self.max
        }
    }

    /// The delay to sleep after `attempt` failures, jittered when the policy says so.
    pub fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self.ceiling(attempt);
        if !self.jitter || ceiling.is_zero() {
            return ceiling;
        }
        let nanos = ceiling.as_nanos().min(u64::MAX as u128) as u64;
        Duration::from_nanos(rand::rng().random_range(0..=nanos))
    }
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self::retries()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceiling_grows_and_caps() {
        let p = BackoffPolicy {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(1000),
            multiplier: 2.0,
            jitter: false,
        };
        assert_eq!(p.delay(0), Duration::from_millis(100));
        assert_eq!(p.delay(1), Duration::from_millis(200));
        assert_eq!(p.delay(3), Duration::from_millis(800));
        assert_eq!(p.delay(4), Duration::from_millis(1000));
        assert_eq!(p.delay(200), Duration::from_millis(1000));
    }

    #[test]
    fn full_jitter_stays_within_ceiling_and_varies() {
        let p = BackoffPolicy {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(10),
            multiplier: 2.0,
            jitter: true,
        };
        let draws: Vec<Duration> = (0..200).map(|_| p.delay(3)).collect();
        assert!(draws.iter().all(|d| *d <= Duration::from_millis(800)));
        let distinct: std::collections::HashSet<_> = draws.iter().collect();
        assert!(distinct.len() > 50, "jitter should spread delays");
    }
}
