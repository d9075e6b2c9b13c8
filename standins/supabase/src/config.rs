//! Start-up configuration and the fault knobs that can change at run time.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// Everything the stand-in needs to start.
///
/// `Debug` redacts the admin URL and the token: both can carry secrets.
#[derive(Clone)]
pub struct Config {
    /// Address to bind; use port 0 for any free port.
    pub listen: SocketAddr,
    /// Admin connection URL of the PostgreSQL server that hosts the projects' databases. Its role must be
    /// able to create databases and roles (a superuser in tests).
    pub postgres_url: String,
    /// When set, the only bearer token accepted; otherwise any `sbp_` followed by 40 hex digits.
    pub token: Option<String>,
    /// Host that clients should use to reach the databases (answers' `database.host` and `db_host`).
    /// Default: the host of `postgres_url`, or `127.0.0.1` when it uses a Unix socket.
    pub db_host: Option<String>,
    /// Port that clients should use (`db_port`). Default: the port of `postgres_url`, or 5432.
    pub db_port: Option<u16>,
    /// Initial fault knobs.
    pub faults: Faults,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("postgres_url", &"<redacted>")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("db_host", &self.db_host)
            .field("db_port", &self.db_port)
            .field("faults", &self.faults)
            .finish()
    }
}

impl Config {
    /// A configuration with default knobs listening on `127.0.0.1:0`.
    pub fn new(postgres_url: impl Into<String>) -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            postgres_url: postgres_url.into(),
            token: None,
            db_host: None,
            db_port: None,
            faults: Faults::default(),
        }
    }
}

/// Knobs that make the stand-in slow, flaky or strict, like the real service can be.
///
/// All durations are in milliseconds. Change them at run time with [`FaultsPatch`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Time a new or restored project spends `COMING_UP`/`RESTORING` before `ACTIVE_HEALTHY`.
    pub healthy_after_ms: u64,
    /// Time the pooler keeps answering `UNHEALTHY` (`"error":"not found"`) after the project is healthy.
    pub pooler_lag_ms: u64,
    /// Time a project spends `PAUSING` before `INACTIVE`.
    pub pause_ms: u64,
    /// Requests per minute per token before 429; 0 turns the limit off.
    pub rate_limit_per_minute: u32,
    /// Share (0..=1) of `/v1` calls answered with a random 500, 502 or 503 before doing anything.
    pub error_rate_5xx: f64,
    /// The next create really creates the project, then answers 500 (one-shot).
    pub fail_next_create_after_commit: bool,
    /// The next create really creates the project, then closes the connection without answering (one-shot).
    pub drop_next_create_after_commit: bool,
    /// New projects end in `INIT_FAILED` instead of `ACTIVE_HEALTHY`.
    pub init_failed: bool,
    /// New projects stay `COMING_UP` forever.
    pub never_healthy: bool,
    /// Added delay before every `/v1` answer.
    pub latency_ms: u64,
    /// The organization is on a paid plan: pausing is refused with 400.
    pub paid_org: bool,
    /// Free-plan quota: at most this many projects of one organization that are not `INACTIVE`
    /// (create and restore beyond it are refused with 400); 0 = no limit. Supabase allows 2.
    pub max_active_projects: u32,
    /// Lifetime of the temporary roles made by `POST /v1/projects/{ref}/cli/login-role` (`ttl_seconds`,
    /// at least 1); the role is dropped when it ends.
    pub login_role_ttl_seconds: u64,
    /// Time a project spends `RESIZING` (database closed) after a compute change before it is
    /// `ACTIVE_HEALTHY` again.
    #[serde(default = "default_resize_ms")]
    pub resize_ms: u64,
    /// Compute sizes the organization may use (comma-separated, e.g. `nano,micro` for a free plan);
    /// empty = every size. Others are refused with 403 by the add-on and create calls.
    #[serde(default)]
    pub allowed_compute_sizes: String,
}

fn default_resize_ms() -> u64 {
    1000
}

/// Compute sizes Supabase offers, smallest first (`infra_compute_size` spelling).
pub const COMPUTE_SIZES: [&str; 19] = [
    "nano",
    "micro",
    "small",
    "medium",
    "large",
    "xlarge",
    "2xlarge",
    "4xlarge",
    "8xlarge",
    "12xlarge",
    "16xlarge",
    "24xlarge",
    "24xlarge_optimized_cpu",
    "24xlarge_optimized_memory",
    "24xlarge_high_memory",
    "48xlarge",
    "48xlarge_optimized_cpu",
    "48xlarge_optimized_memory",
    "48xlarge_high_memory",
];

impl Faults {
    /// Whether the organization may use compute size `size` (`allowed_compute_sizes`).
    pub fn compute_size_allowed(&self, size: &str) -> bool {
        self.allowed_compute_sizes.trim().is_empty()
            || self
                .allowed_compute_sizes
                .split(',')
                .any(|allowed| allowed.trim() == size)
    }
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            healthy_after_ms: 2000,
            pooler_lag_ms: 500,
            pause_ms: 500,
            rate_limit_per_minute: 120,
            error_rate_5xx: 0.0,
            fail_next_create_after_commit: false,
            drop_next_create_after_commit: false,
            init_failed: false,
            never_healthy: false,
            latency_ms: 0,
            paid_org: false,
            max_active_projects: 0,
            login_role_ttl_seconds: 300,
            resize_ms: default_resize_ms(),
            allowed_compute_sizes: String::new(),
        }
    }
}

/// A partial update of [`Faults`]: fields left `None` keep their value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // each field mirrors the one of the same name in `Faults`
pub struct FaultsPatch {
    pub healthy_after_ms: Option<u64>,
    pub pooler_lag_ms: Option<u64>,
    pub pause_ms: Option<u64>,
    pub rate_limit_per_minute: Option<u32>,
    pub error_rate_5xx: Option<f64>,
    pub fail_next_create_after_commit: Option<bool>,
    pub drop_next_create_after_commit: Option<bool>,
    pub init_failed: Option<bool>,
    pub never_healthy: Option<bool>,
    pub latency_ms: Option<u64>,
    pub paid_org: Option<bool>,
    pub max_active_projects: Option<u32>,
    pub login_role_ttl_seconds: Option<u64>,
    pub resize_ms: Option<u64>,
    pub allowed_compute_sizes: Option<String>,
}

impl Faults {
    /// Explains which value is out of range, if any.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(unknown) = self
            .allowed_compute_sizes
            .split(',')
            .map(str::trim)
            .find(|size| !size.is_empty() && !COMPUTE_SIZES.contains(size))
        {
            return Err(format!(
                "allowed_compute_sizes: {unknown:?} is not one of {}",
                COMPUTE_SIZES.join(", ")
            ));
        }
        if !(1..=86_400).contains(&self.login_role_ttl_seconds) {
            return Err(format!(
                "login_role_ttl_seconds must be between 1 and 86400, got {}",
                self.login_role_ttl_seconds
            ));
        }
        if (0.0..=1.0).contains(&self.error_rate_5xx) {
            Ok(())
        } else {
            Err(format!(
                "error_rate_5xx must be between 0 and 1, got {}",
                self.error_rate_5xx
            ))
        }
    }

    /// Applies `patch`, or explains which value is out of range (nothing changes then).
    pub fn apply(&mut self, patch: &FaultsPatch) -> Result<(), String> {
        let mut next = self.clone();
        macro_rules! set {
            ($($field:ident),*) => {$(
                if let Some(value) = patch.$field { next.$field = value; }
            )*};
        }
        set!(
            healthy_after_ms,
            pooler_lag_ms,
            pause_ms,
            rate_limit_per_minute,
            error_rate_5xx,
            fail_next_create_after_commit,
            drop_next_create_after_commit,
            init_failed,
            never_healthy,
            latency_ms,
            paid_org,
            max_active_projects,
            login_role_ttl_seconds,
            resize_ms
        );
        if let Some(sizes) = &patch.allowed_compute_sizes {
            next.allowed_compute_sizes.clone_from(sizes);
        }
        next.validate()?;
        *self = next;
        Ok(())
    }
}
