//! Client configuration: where to connect, how to authenticate, how hard to retry.

use std::time::Duration;

use crate::backoff::BackoffPolicy;
use crate::secret::Secret;

/// The public Management API.
pub const DEFAULT_API_URL: &str = "https://api.supabase.com";

/// Everything [`crate::Client::new`] needs.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Management API base URL, e.g. `https://api.supabase.com` (a path prefix is kept).
    pub api_url: String,
    /// Personal access token (`sbp_…`) or OAuth token, sent as a bearer token.
    pub access_token: Secret,
    /// `User-Agent` header, e.g. `terraform-provider-stagesub/0.1.0`.
    pub user_agent: String,
    /// How idempotent calls are retried.
    pub retry: RetryPolicy,
    /// Limit on the time of one HTTP attempt (connect, send, read the whole answer).
    pub request_timeout: Duration,
    /// Client-side request rate shared by every call of one client.
    pub rate_limit: RateLimit,
    /// Poll interval policy of [`crate::Client::wait_until_status`] and
    /// [`crate::Client::wait_until_gone`].
    pub poll: BackoffPolicy,
}

impl ClientConfig {
    /// A configuration with the defaults: the public API, 6 attempts within 2 minutes,
    /// 30 s per attempt, 120 requests a minute.
    pub fn new(access_token: impl Into<Secret>) -> Self {
        Self {
            api_url: DEFAULT_API_URL.to_owned(),
            access_token: access_token.into(),
            user_agent: concat!("stagesub-supabase/", env!("CARGO_PKG_VERSION")).to_owned(),
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(30),
            rate_limit: RateLimit::default(),
            poll: BackoffPolicy::polling(),
        }
    }

    /// Sets the API base URL.
    pub fn with_api_url(mut self, api_url: impl Into<String>) -> Self {
        self.api_url = api_url.into();
        self
    }
}

/// Retry budget of one API call.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (1 disables retries).
    pub max_attempts: u32,
    /// No retry starts after this much time since the call began (the per-call deadline).
    pub max_elapsed: Duration,
    /// Delays between attempts when the server gave no `Retry-After`.
    pub backoff: BackoffPolicy,
    /// Longest wait the client accepts from `Retry-After` / `X-RateLimit-Reset`; a longer
    /// one is capped to this.
    pub max_rate_limit_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            max_elapsed: Duration::from_secs(120),
            backoff: BackoffPolicy::retries(),
            max_rate_limit_wait: Duration::from_secs(65),
        }
    }
}

/// Token bucket settings.
///
/// Supabase allows 120 requests a minute per user and endpoint, counted in fixed windows. At most
/// `burst + per_minute` requests fit in any minute here, so keep `burst` small.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimit {
    /// Sustained requests per minute (0 disables client-side limiting).
    pub per_minute: u32,
    /// Requests that may go out back to back before the rate applies.
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            per_minute: 120,
            burst: 10,
        }
    }
}
