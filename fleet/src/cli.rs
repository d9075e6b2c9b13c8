//! The command line, parsed by clap: `--help` and `--version` on every command; each setting
//! that has an environment variable says so in `--help`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::select::CanarySpec;
use crate::slice::Slice;
use crate::terraform::InitPolicy;

/// Roll a change out to every tenant: Terraform applies root by root, or new migrations
/// straight to every tenant database; canary first, then batches; resumable; with a report.
#[derive(Debug, Parser)]
#[command(name = "stagesub-fleet", version, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply a change to every tenant: the canary set first, then batches.
    Apply(Box<ApplyArgs>),
    /// Per tenant: directory status, applied migrations against the files, last apply, drift.
    Status(StatusArgs),
    /// Merge the JSON reports of one run (canary job and slices) into one report.
    MergeReports(MergeArgs),
}

/// How a rollout applies its change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// `terraform apply` in each tenant root (any provider, module or migration change).
    Terraform,
    /// New migrations straight to each tenant database found in the tenant directory (no
    /// Terraform, no Management API call).
    Migrations,
}

impl Mode {
    /// The name in records and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Terraform => "terraform",
            Mode::Migrations => "migrations",
        }
    }
}

/// Where the tenant directory is (migrations mode and status).
#[derive(Debug, Clone, Args)]
pub struct DirectoryArgs {
    /// Postgres holding the tenant directory (schema `stagesub_directory`).
    #[arg(
        long,
        env = "STAGESUB_DIRECTORY_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub directory_url: Option<String>,
    /// Comma-separated base64 keys that open the directory's secrets.
    #[arg(
        long,
        env = "STAGESUB_DIRECTORY_KEYS",
        hide_env_values = true,
        value_name = "KEYS"
    )]
    pub directory_keys: Option<String>,
    /// PEM file of the CA that signs the tenant database servers' certificates (else the PEM
    /// text in STAGESUB_DATABASE_CA_CERT).
    #[arg(long, value_name = "FILE")]
    pub database_ca_cert: Option<PathBuf>,
}

/// `apply`'s settings.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// `terraform` (apply each tenant root) or `migrations` (migrations only, straight to the
    /// databases).
    #[arg(long, value_enum, env = "STAGESUB_FLEET_MODE")]
    pub mode: Option<Mode>,
    /// Folder of tenant roots, `<dir>/<subdomain>/main.tf` (terraform mode).
    #[arg(long, env = "STAGESUB_TENANTS_DIR", value_name = "DIR")]
    pub tenants_dir: Option<PathBuf>,
    /// The app's migrations folder, Prisma or Supabase CLI layout (migrations mode).
    #[arg(long, env = "STAGESUB_MIGRATIONS_DIR", value_name = "DIR")]
    pub migrations_dir: Option<PathBuf>,
    /// Where the tenant directory is (migrations mode).
    #[command(flatten)]
    pub directory: DirectoryArgs,
    /// Canary set, run first; any failure stops the run before the batches: named tenants
    /// (`a,b`) or a share of the fleet (`5%`, the same tenants on every runner).
    #[arg(long, value_name = "NAMES|PERCENT")]
    pub canary: Option<CanarySpec>,
    /// Run only the canary set (the canary job of a CI matrix).
    #[arg(long, requires = "canary", conflicts_with = "skip_canary")]
    pub only_canary: bool,
    /// Leave the canary set out (the slices after a canary job).
    #[arg(long, requires = "canary")]
    pub skip_canary: bool,
    /// This runner's share of the fleet, `i/N` (split by a hash of the subdomain).
    #[arg(long, value_name = "i/N")]
    pub slice: Option<Slice>,
    /// At most this many tenants at once.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub parallel: usize,
    /// Tenants per batch after the canaries; each batch finishes before the next starts.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub batch_size: usize,
    /// Stop starting tenants once more than N have failed.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub max_failures: usize,
    /// The progress file; a re-run with the same run id resumes from it.
    #[arg(long, default_value = "fleet-run.json", value_name = "FILE")]
    pub state_file: PathBuf,
    /// Names the run (default: the progress file's run, else a new one).
    #[arg(long, env = "STAGESUB_FLEET_RUN_ID", value_name = "ID")]
    pub run_id: Option<String>,
    /// Run tenants that failed earlier in this run again.
    #[arg(long)]
    pub retry_failed: bool,
    /// Write the JSON report here.
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,
    /// Write the Markdown report here (also appended to $GITHUB_STEP_SUMMARY when set).
    #[arg(long, value_name = "FILE")]
    pub report_md: Option<PathBuf>,
    /// Management API calls per minute allowed for the whole organization, shared by every
    /// runner (terraform mode paces its applies to stay under it; 0 = no pacing).
    #[arg(
        long,
        env = "STAGESUB_API_BUDGET_PER_MINUTE",
        default_value_t = 0,
        value_name = "N"
    )]
    pub api_budget_per_minute: u32,
    /// Management API calls one tenant's apply makes (measure with the stand-in's
    /// /_standin/stats; 4 measured for a migration-only apply on Supabase, BENCHMARKS.md).
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub api_calls_per_apply: u32,
    /// Runners sharing the budget at once (default: N of --slice).
    #[arg(long, value_name = "N")]
    pub runners: Option<u32>,
    /// Terraform or OpenTofu executable.
    #[arg(
        long,
        env = "STAGESUB_TERRAFORM",
        default_value = "terraform",
        value_name = "PATH"
    )]
    pub terraform: PathBuf,
    /// When `terraform init` runs.
    #[arg(long, value_enum, default_value_t = InitPolicy::Auto)]
    pub init: InitPolicy,
    /// Command run instead of `terraform -chdir=<root> init` (through `sh -c`; `{subdomain}` is
    /// replaced, FLEET_SUBDOMAIN set), e.g. `scripts/tenant-root.sh {subdomain}`.
    #[arg(long, env = "STAGESUB_FLEET_INIT_COMMAND", value_name = "COMMAND")]
    pub init_command: Option<String>,
    /// How long `terraform apply` waits for its state lock (`-lock-timeout`; a held lock is
    /// another apply of the same root, or the `pg` backend creating a state in the same database).
    #[arg(long, default_value = "5m", value_name = "DURATION")]
    pub state_lock_timeout: String,
    /// Extra argument for `terraform apply` (repeatable), e.g. `--apply-arg=-parallelism=2`.
    #[arg(long = "apply-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub apply_args: Vec<String>,
    /// `statement_timeout` for each migration's statements, in seconds (migrations mode).
    #[arg(long, value_name = "SECS")]
    pub statement_timeout: Option<u64>,
    /// `lock_timeout` for each migration's statements, in seconds (migrations mode).
    #[arg(long, value_name = "SECS")]
    pub lock_timeout: Option<u64>,
    /// No progress line.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `status`'s settings.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The app's migrations folder.
    #[arg(long, env = "STAGESUB_MIGRATIONS_DIR", value_name = "DIR")]
    pub migrations_dir: Option<PathBuf>,
    /// Where the tenant directory is.
    #[command(flatten)]
    pub directory: DirectoryArgs,
    /// Progress files of earlier runs, for each tenant's last apply (repeatable).
    #[arg(long = "state-file", value_name = "FILE")]
    pub state_files: Vec<PathBuf>,
    /// Databases read at once.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub parallel: usize,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Exit with status 3 when a tenant drifted.
    #[arg(long)]
    pub fail_on_drift: bool,
}

/// `merge-reports`' settings.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// JSON reports of one run.
    #[arg(required = true, value_name = "REPORT.json")]
    pub reports: Vec<PathBuf>,
    /// Write the merged JSON report here.
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,
    /// Write the merged Markdown report here (also appended to $GITHUB_STEP_SUMMARY when set).
    #[arg(long, value_name = "FILE")]
    pub report_md: Option<PathBuf>,
}
