//! A client for the Supabase Management API, as the stagesub Terraform provider needs it.
//!
//! - [`Client`]: one handle per process with a
//!   shared token-bucket [rate limiter](RateLimit) that also pauses when the server reports its
//!   window used up, retries with exponential backoff and full jitter ([`BackoffPolicy`]) for
//!   idempotent calls, and never a blind retry of `POST /v1/projects`
//!   ([`Error::CreateOutcomeUnknown`] tells the caller to look the project up by name).
//! - Typed calls: projects (create, get, list, find by name, delete, pause, restore) and their
//!   settings (health, pooler, database password, SSL enforcement, network restrictions) and
//!   temporary login roles ([`Client::create_login_role`]), the compute size through the billing
//!   add-ons ([`Client::project_addons`], [`Client::set_compute_size`]), the organization and its
//!   plan ([`Client::get_organization`]), with
//!   bodies following the Management API's OpenAPI description.
//! - [`ProjectCache`]: the organization's project list loaded once, so refreshing many tenants
//!   costs a handful of list calls.
//! - Waiting: [`Client::wait_until_healthy`], [`Client::wait_until_status`],
//!   [`Client::wait_until_gone`], driven by [`ProjectStatus`].
//! - [`Error`] names method, path, status, Supabase's message and the project ref, and never
//!   the token ([`Secret`] prints `***`).
//!
//! ```no_run
//! # async fn demo() -> stagesub_supabase::Result<()> {
//! use stagesub_supabase::{Client, ClientConfig, CreateProjectBody, Region, Secret};
//! let client = Client::new(ClientConfig::new("sbp_0123…"))?;
//! let body = CreateProjectBody {
//!     name: "orchestra-vienna".into(),
//!     organization_slug: "my-org".into(),
//!     db_pass: Secret::new("a long random password"),
//!     region: Region::parse("eu-central-1")?,
//!     desired_instance_size: None,
//! };
//! let project = client.create_project(&body).await?;
//! # Ok(()) }
//! ```

mod addons;
mod api_keys;
mod backoff;
mod cache;
mod client;
mod config;
mod error;
mod login_role;
mod organization;
mod project;
mod project_settings;
mod projects;
mod ratelimit;
mod region;
mod secret;
mod settings;
mod status;
mod transport;
mod wait;

pub use addons::{
    AddonPrice, AddonVariant, ApplyAddonBody, AvailableAddon, COMPUTE_INSTANCE, COMPUTE_SIZES,
    ComputeSize, ProjectAddons, SelectedAddon,
};
pub use api_keys::ApiKey;
pub use backoff::BackoffPolicy;
pub use cache::{DIRECT_LOOKUPS, ProjectCache};
pub use client::Client;
pub use config::{ClientConfig, DEFAULT_API_URL, RateLimit, RetryPolicy};
pub use error::{Error, Result, TransportKind};
pub use login_role::{CreateRoleBody, LoginRole};
pub use organization::Organization;
pub use project::{
    CreateProjectBody, DeletedProject, OrganizationProject, OrganizationProjectDatabase,
    OrganizationProjectsPage, Pagination, Project, ProjectDatabase, ProjectSummary,
};
pub use projects::PAGE_SIZE;
pub use region::Region;
pub use secret::Secret;
pub use settings::{
    NetworkRestrictions, NetworkRestrictionsConfig, PoolMode, PoolerConfig, ServiceHealth,
    SslEnforcement, SslEnforcementConfig, SslEnforcementRequest,
};
pub use status::{ProjectStatus, ServiceStatus};
pub use wait::{INACTIVE_GRACE_POLLS, REQUIRED_SERVICES};
