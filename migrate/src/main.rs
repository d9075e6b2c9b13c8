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
//! text in `STAGESUB_DATABASE_CA_CERT`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use stagesub_migrate::{
    ApplyOptions, Error, MigrationSet, TenantValues, TlsOptions, applied, apply, connect, seed,
};

const USAGE: &str = "usage:
  stagesub-migrate apply  --database-url URL --dir DIR [--statement-timeout SECS] [--lock-timeout SECS] [--lock-wait SECS] [--retry-failed]
  stagesub-migrate status --database-url URL --dir DIR
  stagesub-migrate seed   --database-url URL --sql FILE --subdomain S --orchestra-name N [--contact-email E] [--plan P]
common: --ca-cert FILE (PEM; else STAGESUB_DATABASE_CA_CERT); --database-url falls back to DATABASE_URL";

#[derive(Debug, Default)]
struct Args {
    command: String,
    flags: Vec<(String, Option<String>)>,
}

impl Args {
    fn parse() -> Result<Args, String> {
        let mut raw = std::env::args().skip(1);
        let command = raw.next().ok_or("missing command")?;
        let mut flags = Vec::new();
        while let Some(arg) = raw.next() {
            let Some(name) = arg.strip_prefix("--") else {
                return Err(format!("unexpected argument `{arg}`"));
            };
            if let Some((name, value)) = name.split_once('=') {
                flags.push((name.to_string(), Some(value.to_string())));
            } else if name == "retry-failed" {
                flags.push((name.to_string(), None));
            } else {
                let value = raw.next().ok_or(format!("--{name} needs a value"))?;
                flags.push((name.to_string(), Some(value)));
            }
        }
        Ok(Args { command, flags })
    }

    fn get(&self, name: &str) -> Option<String> {
        self.flags
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.clone())
    }

    /// The flag's value, else the environment variable's (when `env` is not empty).
    fn setting(&self, name: &str, env: &str) -> Option<String> {
        self.get(name).or_else(|| {
            (!env.is_empty())
                .then(|| std::env::var(env).ok())
                .flatten()
                .filter(|v| !v.is_empty())
        })
    }

    /// A setting `run` has already checked for presence.
    fn require(&self, name: &str, env: &str) -> Result<String, String> {
        self.setting(name, env)
            .ok_or_else(|| format!("missing setting --{name}"))
    }

    fn seconds(&self, name: &str) -> Result<Option<Duration>, String> {
        self.get(name)
            .map(|v| {
                v.parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .map(Duration::from_secs_f64)
                    .ok_or(format!("--{name} must be a number of seconds, got `{v}`"))
            })
            .transpose()
    }
}

fn tls(args: &Args) -> Result<TlsOptions, Error> {
    let ca_cert_pem = match args.get("ca-cert") {
        Some(path) => Some(std::fs::read_to_string(&path).map_err(|source| Error::Io {
            path: path.into(),
            source,
        })?),
        None => std::env::var("STAGESUB_DATABASE_CA_CERT")
            .ok()
            .filter(|v| !v.is_empty()),
    };
    Ok(TlsOptions { ca_cert_pem })
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let known: &[&str] = match args.command.as_str() {
        "apply" => &[
            "database-url",
            "dir",
            "ca-cert",
            "statement-timeout",
            "lock-timeout",
            "lock-wait",
            "retry-failed",
        ],
        "status" => &["database-url", "dir", "ca-cert"],
        "seed" => &[
            "database-url",
            "ca-cert",
            "sql",
            "subdomain",
            "orchestra-name",
            "contact-email",
            "plan",
        ],
        other => return Err(format!("unknown command `{other}`\n{USAGE}").into()),
    };
    if let Some((unknown, _)) = args
        .flags
        .iter()
        .find(|(n, _)| !known.contains(&n.as_str()))
    {
        return Err(format!("unknown option --{unknown} for {}\n{USAGE}", args.command).into());
    }
    let database_url = (
        "database-url",
        "DATABASE_URL",
        "--database-url (or DATABASE_URL)",
    );
    let required: &[(&str, &str, &'static str)] = if args.command == "seed" {
        &[
            database_url,
            ("sql", "", "--sql FILE"),
            ("subdomain", "", "--subdomain"),
            ("orchestra-name", "", "--orchestra-name"),
        ]
    } else {
        &[database_url, ("dir", "", "--dir DIR")]
    };
    let names: Vec<&'static str> = required
        .iter()
        .filter(|(flag, env, _)| args.setting(flag, env).is_none())
        .map(|(_, _, what)| *what)
        .collect();
    if !names.is_empty() {
        return Err(Error::MissingSettings { names }.into());
    }
    let url = args.require("database-url", "DATABASE_URL")?;
    if args.command == "seed" {
        let path = args.require("sql", "")?;
        let values = TenantValues {
            subdomain: args.require("subdomain", "")?,
            orchestra_name: args.require("orchestra-name", "")?,
            contact_email: args.get("contact-email"),
            plan: args.get("plan"),
        };
        let sql = std::fs::read_to_string(&path).map_err(|source| Error::Io {
            path: path.clone().into(),
            source,
        })?;
        let client = connect(&url, &tls(&args)?).await?;
        seed(&client, &sql, &values).await?;
        println!("seeded");
        return Ok(());
    }
    let dir = PathBuf::from(args.require("dir", "")?);
    let set = MigrationSet::load(&dir)?;
    let options = ApplyOptions {
        statement_timeout: args.seconds("statement-timeout")?,
        lock_timeout: args.seconds("lock-timeout")?,
        lock_wait: args.seconds("lock-wait")?,
        retry_failed: args.flags.iter().any(|(n, _)| n == "retry-failed"),
    };
    let client = connect(&url, &tls(&args)?).await?;
    if args.command == "status" {
        let done = applied(&client).await?;
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
        return Ok(());
    }
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
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match Args::parse() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("error: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
