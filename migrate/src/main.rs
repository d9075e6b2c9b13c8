//! `stagesub-migrate`: apply a migrations folder, show its status, or run seed SQL.
//!
//! ```text
//! stagesub-migrate apply  --database-url URL --dir DIR [--statement-timeout SECS]
//!                         [--lock-timeout SECS] [--lock-wait SECS] [--retry-failed]
//! stagesub-migrate status --database-url URL --dir DIR
//! stagesub-migrate seed   --database-url URL --sql FILE --subdomain S --orchestra-name N
//!                         [--contact-email E] [--plan P]
//! ```
//! `--database-url` falls back to `DATABASE_URL`; `--ca-cert FILE` (PEM) falls back to the PEM
//! text in `STAGESUB_DATABASE_CA_CERT`. `--help` and `--version` work on every command (`cli`).

mod cli;

use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use stagesub_migrate::{ApplyOptions, Error, MigrationSet, applied, apply, seed};
use stagesub_pgconn::{TlsOptions, connect};
use stagesub_tenant::Tenant;

use cli::{Cli, Command, Connection};

fn tls(connection: &Connection) -> Result<TlsOptions, Error> {
    let ca_cert_pem = match &connection.ca_cert {
        Some(path) => Some(std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?),
        None => std::env::var("STAGESUB_DATABASE_CA_CERT")
            .ok()
            .filter(|v| !v.is_empty()),
    };
    Ok(TlsOptions { ca_cert_pem })
}

async fn run(command: Command) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        Command::Apply {
            connection,
            dir,
            statement_timeout,
            lock_timeout,
            lock_wait,
            retry_failed,
        } => {
            let set = MigrationSet::load(&dir)?;
            let options = ApplyOptions {
                statement_timeout,
                lock_timeout,
                lock_wait,
                retry_failed,
            };
            let client = connect(&connection.database_url, &tls(&connection)?).await?;
            let report = apply(&client, &set, &options).await?;
            for name in &report.applied {
                println!("applied  {name}");
            }
            println!(
                "{} applied, {} already applied ({:?} layout)",
                report.applied.len(),
                report.already_applied.len(),
                set.layout
            );
            for name in &report.not_in_folder {
                eprintln!(
                    "warning: {name} is recorded in the database but not in {}",
                    dir.display()
                );
            }
        }
        Command::Status { connection, dir } => {
            let set = MigrationSet::load(&dir)?;
            let client = connect(&connection.database_url, &tls(&connection)?).await?;
            status(&set, &applied(&client).await?, &dir);
        }
        Command::Seed {
            connection,
            sql,
            subdomain,
            orchestra_name,
            contact_email,
            plan,
        } => {
            let values = Tenant {
                contact_email,
                plan,
                ..Tenant::new(subdomain, orchestra_name)
            };
            let text = std::fs::read_to_string(&sql).map_err(|source| Error::Io {
                path: sql.clone(),
                source,
            })?;
            let client = connect(&connection.database_url, &tls(&connection)?).await?;
            seed(&client, &text, &values).await?;
            println!("seeded");
        }
    }
    Ok(())
}

fn status(set: &MigrationSet, done: &[stagesub_migrate::AppliedMigration], dir: &Path) {
    for migration in &set.migrations {
        let state = if done.iter().any(|a| a.version == migration.version) {
            "applied"
        } else {
            "pending"
        };
        println!("{state:8} {}", migration.name);
    }
    for extra in done
        .iter()
        .filter(|a| !set.migrations.iter().any(|m| m.version == a.version))
    {
        println!(
            "{:8} {} (recorded in the database, not in {})",
            "unknown",
            extra.name,
            dir.display()
        );
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    // Usage errors exit 2 with clap's message; --help and --version exit 0.
    let cli = Cli::parse();
    match run(cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
