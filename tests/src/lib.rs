//! Acceptance-test harness for stagesub: drive the real Terraform CLI, PostgreSQL and helper
//! servers from Rust tests.
//!
//! - [`Terraform`] runs Terraform 1.15.5 ([`Terraform::latest`]) or 1.0.3 ([`Terraform::v1_0`])
//!   in a private temporary folder, with local providers made available through a generated CLI
//!   configuration ([`LocalProvider`], [`InstallMode::DevOverride`] or
//!   [`InstallMode::FilesystemMirror`]), and offers `init/plan/apply/destroy/import/refresh/show`
//!   helpers that return or check [`TfOutput`].
//! - [`postgres`]: the admin URL ([`admin_url`]) and [`TestDatabase`], a uniquely named database
//!   dropped on drop.
//! - [`paths`]: [`repo_root`], [`target_dir`], [`binary_path`] for workspace binaries, and the test
//!   tools installed by `scripts/setup-tools.sh`.
//! - [`ChildProcess`]: a spawned server killed on drop; [`SmtpSink`]: a real SMTP server that
//!   stores what it receives.
//!
//! Tools come from `scripts/setup-tools.sh` (see `notes`/`TOOLS.md` for the layout); a missing
//! tool or binary fails the test with a message naming the command that provides it. Environment
//! variables read: `STAGESUB_TERRAFORM`, `STAGESUB_TERRAFORM_1_0`, `STAGESUB_NULL_PROVIDER`,
//! `STAGESUB_TOOLS_DIR`, `DATABASE_URL`, `CARGO_TARGET_DIR` (fallback only),
//! `STAGESUB_KEEP_TF_DIRS=1` (keep Terraform folders for debugging).

pub mod paths;
pub mod postgres;
pub mod process;
pub mod smtp;
pub mod terraform;

pub use paths::{binary_path, provider_binary, repo_root, target_dir, tools_dir};
pub use postgres::{TestDatabase, admin_url, unique_name};
pub use process::{ChildProcess, wait_for_port};
pub use smtp::{ReceivedMail, SmtpSink};
pub use terraform::{InstallMode, LocalProvider, Terraform, TfOutput, hcl_string};
