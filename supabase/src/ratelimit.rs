//! A token bucket (GCRA form) shared by all calls of one client, plus a server-driven pause.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::config::RateLimit;

/// Hands out request slots at a steady rate; every caller reserves its slot under a short lock
/// and then sleeps until it, so waiters are served in order without waking each other.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    /// Time between two requests at the sustained rate; `None` when limiting is off.
    interval: Option<Duration>,
    /// How far ahead of the schedule a caller may run (burst - 1 intervals).
    tolerance: Duration,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Theoretical arrival time of the next request.
    next: Instant,
    /// Nobody sends before this (set from 429 answers and `X-RateLimit-Remaining: 0`).
    blocked_until: Option<Instant>,
}

impl RateLimiter {
    pub(crate) fn new(config: &RateLimit) -> Self {
        let interval = (config.per_minute > 0)
            .then(|| Duration::from_secs_f64(60.0 / f64::from(config.per_minute)));
        let tolerance = interval
            .map(|i| i * config.burst.saturating_sub(1))
            .unwrap_or_default();
        Self {
            interval,
            tolerance,
            state: Mutex::new(State {
                next: Instant::now(),
                blocked_until: None,
            }),
        }
    }

    /// Waits for a slot to send one request.
    pub(crate) async fn acquire(&self) {
        let send_at = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let blocked = state.blocked_until.filter(|b| *b > now);
            match self.interval {
                None => blocked.unwrap_or(now),
                Some(interval) => {
                    let mut tat = state.next.max(now);
                    if let Some(b) = blocked {
                        tat = tat.max(b);
                    }
                    let earliest = tat.checked_sub(self.tolerance).unwrap_or(now);
                    let send_at = earliest.max(now).max(blocked.unwrap_or(now));
                    state.next = tat + interval;
                    send_at
                }
            }
        };
        if send_at > Instant::now() {
            tracing::debug!(wait_ms = %(send_at - Instant::now()).as_millis(), "rate limiter: waiting for a request slot");
            tokio::time::sleep_until(send_at).await;
        }
    }

    /// Makes every caller wait `wait` from now (the server said the window is used up).
    pub(crate) fn pause_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.blocked_until.is_none_or(|b| b < until) {
            state.blocked_until = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn burst_then_steady_rate() {
        let limiter = RateLimiter::new(&RateLimit {
            per_minute: 60,
            burst: 3,
        });
        let start = Instant::now();
        let mut at = Vec::new();
        for _ in 0..6 {
            limiter.acquire().await;
            at.push((Instant::now() - start).as_secs());
        }
        assert_eq!(at, [0, 0, 0, 1, 2, 3]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_pause_holds_everyone() {
        let limiter = RateLimiter::new(&RateLimit {
            per_minute: 0,
            burst: 1,
        });
        let start = Instant::now();
        limiter.acquire().await;
        limiter.pause_for(Duration::from_secs(10));
        limiter.pause_for(Duration::from_secs(2)); // a shorter pause does not cut the longer one
        limiter.acquire().await;
        assert_eq!((Instant::now() - start).as_secs(), 10);
        limiter.acquire().await;
        assert_eq!((Instant::now() - start).as_secs(), 10);
    }
}
