//! The [`Client`] handle: configuration, HTTP connection pool and shared rate limiter.

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::backoff::BackoffPolicy;
use crate::config::{ClientConfig, RetryPolicy};
use crate::error::{Error, Result};
use crate::ratelimit::RateLimiter;
use crate::secret::Secret;

/// A Management API client. Cheap to clone: clones share the connection pool and the rate
/// limiter, so one provider process should build one client and hand out clones.
#[derive(Debug, Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) base: Url,
    pub(crate) token: Secret,
    pub(crate) retry: RetryPolicy,
    pub(crate) request_timeout: Duration,
    pub(crate) limiter: RateLimiter,
    pub(crate) poll: BackoffPolicy,
}

impl Client {
    /// Builds a client. Fails with [`Error::InvalidInput`] on an unusable URL, an empty token
    /// or a zero timeout.
    ///
    /// Installs rustls' `ring` crypto provider as the process default when none is installed yet.
    pub fn new(config: ClientConfig) -> Result<Self> {
        let base = parse_api_url(&config.api_url)?;
        if config.access_token.expose().trim().is_empty() {
            return Err(Error::InvalidInput(
                "the Supabase access token is empty: set access_token or SUPABASE_ACCESS_TOKEN to a personal access token (sbp_…)".into(),
            ));
        }
        if config
            .access_token
            .expose()
            .bytes()
            .any(|b| b.is_ascii_control() || b == b' ')
        {
            return Err(Error::InvalidInput(
                "the Supabase access token contains spaces or control characters: copy it again without surrounding whitespace".into(),
            ));
        }
        if config.request_timeout.is_zero() {
            return Err(Error::InvalidInput(
                "the request timeout must be greater than zero".into(),
            ));
        }
        // Another part of the process may have installed a provider already; that one is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .connect_timeout(config.request_timeout.min(Duration::from_secs(15)))
            .build()
            .map_err(|e| Error::InvalidInput(format!("could not set up the HTTP client: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base,
                token: config.access_token,
                retry: config.retry,
                request_timeout: config.request_timeout,
                limiter: RateLimiter::new(&config.rate_limit),
                poll: config.poll,
            }),
        })
    }

    /// The API base URL in use.
    pub fn api_url(&self) -> &str {
        self.inner.base.as_str()
    }
}

fn parse_api_url(raw: &str) -> Result<Url> {
    let url = Url::parse(raw.trim()).map_err(|e| {
        Error::InvalidInput(format!(
            "invalid Supabase API URL {raw:?} ({e}): use a URL such as https://api.supabase.com"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(Error::InvalidInput(format!(
            "invalid Supabase API URL {raw:?}: it must start with https:// (or http:// for a local stand-in) and name a host"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(Error::InvalidInput(format!(
            "invalid Supabase API URL {raw:?}: remove the query string, fragment or user name"
        )));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_urls_and_tokens() {
        for bad in [
            "",
            "api.supabase.com",
            "ftp://x",
            "https://x/?a=1",
            "https://user@x",
        ] {
            let err = Client::new(ClientConfig::new("sbp_x").with_api_url(bad)).unwrap_err();
            assert!(err.to_string().contains("API URL"), "{bad}: {err}");
        }
        let err = Client::new(ClientConfig::new("  ")).unwrap_err();
        assert!(err.to_string().contains("SUPABASE_ACCESS_TOKEN"));
    }
}
