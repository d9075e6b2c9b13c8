//! When to try a failed job again, when to tell the admin and when to give up: pure functions of
//! the job's failing streak, so they are tested without a clock.
//!
//! A publish job is retried for [`RetryPolicy::window`] from its first failure: everything a
//! publisher reports (network, DNS, timeouts, 5xx, but also refused credentials, a missing or moved
//! repository, a refusing hook) can pass once the operator repairs the remote. The wait doubles from
//! one second up to a cap of a 24th of the window (at most an hour), with jitter, and is shortened so
//! that one attempt falls on the alert time and one on the end of the window.

use std::time::Duration;

/// Upper bound of the wait between attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// Lower bound of the cap, so that a tiny window does not spin.
const MIN_CAP: Duration = Duration::from_millis(100);

/// `PUBLISH_RETRY_WINDOW` and `PUBLISH_ALERT_AFTER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// How long a failing publish is retried before it is parked (default 24 h).
    pub window: Duration,
    /// How long a publish may fail before the admin hears of it, once (default 15 min).
    pub alert_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(24 * 3600),
            alert_after: Duration::from_secs(15 * 60),
        }
    }
}

/// What to do after a publish attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Try again after `delay`; `alert` asks to tell the admin now (once per streak).
    Retry {
        /// Wait before the next attempt.
        delay: Duration,
        /// Whether the admin is to be told now that the job keeps failing.
        alert: bool,
    },
    /// The window is over: park the job (and tell the admin).
    Park,
}

impl RetryPolicy {
    /// The cap of the wait between attempts.
    pub fn max_backoff(&self) -> Duration {
        (self.window / 24).clamp(MIN_CAP, MAX_BACKOFF)
    }

    /// Decides after a failed attempt. `failing_for`: time since the streak's first failure (zero
    /// for the first); `attempts`: failed attempts before this one; `alerted`: the admin was already
    /// told; `retry_after`: the server's requested wait.
    pub fn decide(
        &self,
        failing_for: Duration,
        attempts: i32,
        alerted: bool,
        retry_after: Option<Duration>,
    ) -> Decision {
        if failing_for >= self.window {
            return Decision::Park;
        }
        let alert = !alerted && failing_for >= self.alert_after;
        let mut delay = backoff(attempts, self.max_backoff()).max(retry_after.unwrap_or_default());
        delay = delay.min(self.window - failing_for);
        if !alerted && !alert {
            delay = delay.min(self.alert_after - failing_for);
        }
        Decision::Retry { delay, alert }
    }
}

/// Exponential back-off from one second (or `cap`, if smaller), doubled per attempt, capped at
/// `cap`, with ±50 % jitter so that replicas do not retry in lockstep.
pub fn backoff(attempts: i32, cap: Duration) -> Duration {
    let exp = attempts.clamp(0, 20) as u32;
    let base = Duration::from_secs(1)
        .min(cap)
        .saturating_mul(2u32.saturating_pow(exp))
        .min(cap);
    base.mul_f64(0.5 + fastrand::f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        for attempts in 0..30 {
            let base = S(1)
                .saturating_mul(2u32.saturating_pow(attempts.min(20) as u32))
                .min(MAX_BACKOFF);
            for _ in 0..50 {
                let d = backoff(attempts, MAX_BACKOFF);
                assert!(
                    d >= base.mul_f64(0.5) && d <= base.mul_f64(1.5),
                    "{attempts}: {d:?}"
                );
            }
        }
        assert!(backoff(100, MAX_BACKOFF) <= MAX_BACKOFF.mul_f64(1.5));
    }

    #[test]
    fn default_policy_caps_at_an_hour_and_small_windows_scale_down() {
        assert_eq!(RetryPolicy::default().max_backoff(), MAX_BACKOFF);
        let small = RetryPolicy {
            window: S(12),
            alert_after: S(2),
        };
        assert_eq!(small.max_backoff(), Duration::from_millis(500));
        assert!(backoff(10, small.max_backoff()) <= Duration::from_millis(750));
    }

    #[test]
    fn retries_within_the_window_then_parks() {
        let p = RetryPolicy::default();
        assert!(matches!(
            p.decide(S(0), 0, false, None),
            Decision::Retry { alert: false, .. }
        ));
        assert!(matches!(
            p.decide(S(23 * 3600), 40, true, None),
            Decision::Retry { .. }
        ));
        assert_eq!(p.decide(S(24 * 3600), 41, true, None), Decision::Park);
    }

    #[test]
    fn alerts_once_when_failing_past_the_alert_time() {
        let p = RetryPolicy::default();
        assert!(matches!(
            p.decide(S(15 * 60), 9, false, None),
            Decision::Retry { alert: true, .. }
        ));
        assert!(matches!(
            p.decide(S(16 * 60), 10, true, None),
            Decision::Retry { alert: false, .. }
        ));
    }

    #[test]
    fn waits_land_on_the_alert_time_and_the_window_end() {
        let p = RetryPolicy::default();
        // Ten minutes in, a long back-off is shortened to reach the alert time (15 min).
        let Decision::Retry { delay, .. } = p.decide(S(600), 12, false, None) else {
            panic!()
        };
        assert!(delay <= S(300), "{delay:?}");
        // Near the end, the wait ends with the window, even when the server asks for more.
        let Decision::Retry { delay, .. } = p.decide(S(24 * 3600 - 10), 50, true, Some(S(600)))
        else {
            panic!()
        };
        assert!(delay <= S(10), "{delay:?}");
        // A server's requested wait is honoured otherwise.
        let Decision::Retry { delay, .. } = p.decide(S(0), 0, false, Some(S(60))) else {
            panic!()
        };
        assert_eq!(delay, S(60));
    }
}
