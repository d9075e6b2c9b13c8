//! stagesub-fleet: applies a change to every tenant of the fleet, with a canary set first, then
//! batches of bounded parallelism, a stop once failures pass a limit, resumption after an
//! interruption, a live progress line, and a report (Markdown for the CI job summary, JSON per
//! runner, merged after a matrix).
//!
//! Two modes share one loop ([`rollout`]):
//! - `terraform` ([`terraform`]): `terraform apply` in each tenant root `<tenants>/<subdomain>/`
//!   (init only when the root needs it), for any provider, module or migration change.
//! - `migrations` ([`migrations`]): the new migrations of the app's folder straight to each
//!   tenant database, found through the tenant directory, with the provider's engine
//!   (`stagesub-migrate`): no Terraform, no Management API call. The provider's state catches
//!   up on its next refresh (`applied_migrations` is read from the database's history).
//!
//! Rules worth knowing:
//! - Order is deterministic: canaries by name or by the lowest hashes ([`select`]); slices by a
//!   hash of the subdomain ([`slice`]), so N runners cover the fleet exactly once.
//! - Progress is recorded after every tenant, one appended line each ([`record`]); a re-run with
//!   the same run id skips what is applied and, with `--retry-failed`, retries what failed.
//! - The Management API's rate limit is shared by all runners: each runner takes
//!   `budget / runners` and spaces its applies' starts by `calls per apply / its share`
//!   (divided budget, no coordination service).
//! - Error text passes through [`redact`] before it reaches a report or the terminal.
//!
//! Module map: `cli`, `commands`, `select`, `slice`, `rollout`, `progress`, `record`, `report`,
//! `terraform`, `migrations`, `status`, `redact`, `error`.

pub mod cli;
pub mod commands;
pub mod error;
pub mod migrations;
pub mod progress;
pub mod record;
pub mod redact;
pub mod report;
pub mod rollout;
pub mod select;
pub mod slice;
pub mod status;
pub mod terraform;

pub use error::{Error, Result};
