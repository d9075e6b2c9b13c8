//! The command line of `stagesub-migrate`, parsed by clap: `--help` and `--version` on every
//! command, `--flag value` and `--flag=value`, missing and unknown flags named.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// Apply a migrations folder (Prisma or Supabase CLI layout) to a Postgres database, show its
/// status, or run seed SQL with the tenant values as settings.
#[derive(Debug, Parser)]
#[command(name = "stagesub-migrate", version, propagate_version = true)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Apply the pending migrations of a folder, each in its own transaction with its history row.
    Apply {
        /// Where to connect.
        #[command(flatten)]
        connection: Connection,
        /// The migrations folder.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// `statement_timeout` for each migration's statements, in seconds.
        #[arg(long, value_name = "SECS", value_parser = seconds)]
        statement_timeout: Option<Duration>,
        /// `lock_timeout` for each migration's statements, in seconds.
        #[arg(long, value_name = "SECS", value_parser = seconds)]
        lock_timeout: Option<Duration>,
        /// How long to wait for another run's migration lock, in seconds (default: as long as it takes).
        #[arg(long, value_name = "SECS", value_parser = seconds)]
        lock_wait: Option<Duration>,
        /// Retry a Prisma migration that failed before even though its file is unchanged.
        #[arg(long)]
        retry_failed: bool,
    },
    /// List the folder's migrations as applied or pending, and those only the database has.
    Status {
        /// Where to connect.
        #[command(flatten)]
        connection: Connection,
        /// The migrations folder.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
    /// Run seed SQL in one transaction; it reads the tenant values with
    /// `current_setting('stagesub.<name>')`.
    Seed {
        /// Where to connect.
        #[command(flatten)]
        connection: Connection,
        /// The seed SQL file.
        #[arg(long, value_name = "FILE")]
        sql: PathBuf,
        /// `stagesub.subdomain`.
        #[arg(long)]
        subdomain: String,
        /// `stagesub.orchestra_name`.
        #[arg(long)]
        orchestra_name: String,
        /// `stagesub.contact_email` (empty when not given).
        #[arg(long)]
        contact_email: Option<String>,
        /// `stagesub.plan` (empty when not given).
        #[arg(long)]
        plan: Option<String>,
    },
}

/// Connection flags every command takes.
#[derive(Debug, Args)]
pub(crate) struct Connection {
    /// Postgres URL of a session-mode connection (`sslmode` as libpq).
    #[arg(long, value_name = "URL", env = "DATABASE_URL", hide_env_values = true)]
    pub(crate) database_url: String,
    /// PEM file of the CA that signs the server's certificate; else the PEM text in
    /// `STAGESUB_DATABASE_CA_CERT`.
    #[arg(long, value_name = "FILE")]
    pub(crate) ca_cert: Option<PathBuf>,
}

/// A non-negative number of seconds, fractions allowed.
fn seconds(value: &str) -> Result<Duration, String> {
    value
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| "must be a number of seconds, e.g. 30 or 0.5".to_owned())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn seconds_are_non_negative_numbers() {
        assert_eq!(seconds("1.5"), Ok(Duration::from_millis(1500)));
        for bad in ["soon", "-1", "NaN", "inf", ""] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
    }
}
