//! The three commands, wired from the parsed command line to the library.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use stagesub_migrate::{ApplyOptions, MigrationSet};
use stagesub_pgconn::TlsOptions;
use tokio::sync::watch;

use crate::cli::{ApplyArgs, DirectoryArgs, MergeArgs, Mode, StatusArgs};
use crate::error::{Error, Result, missing};
use crate::migrations::{Directory, MigrationsExecutor, eligible};
use crate::record::RunRecord;
use crate::redact::Redactor;
use crate::report::Report;
use crate::rollout::{self, RolloutOptions, Selection};
use crate::select::{batches, canaries};
use crate::slice::Slice;
use crate::status::fleet_status;
use crate::terraform::{TerraformExecutor, discover};

/// Exit status when the run did not apply every tenant it should have.
pub const EXIT_INCOMPLETE: u8 = 1;
/// Exit status of `status --fail-on-drift` when a tenant drifted.
pub const EXIT_DRIFT: u8 = 3;

fn tls(args: &DirectoryArgs) -> Result<TlsOptions> {
    let ca_cert_pem = match &args.database_ca_cert {
        Some(path) => Some(std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?),
        None => std::env::var("STAGESUB_DATABASE_CA_CERT")
            .ok()
            .filter(|v| !v.trim().is_empty()),
    };
    Ok(TlsOptions { ca_cert_pem })
}

async fn open_directory(args: &DirectoryArgs, why: &str) -> Result<Arc<Directory>> {
    let url = args
        .directory_url
        .as_deref()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| missing("--directory-url", "STAGESUB_DIRECTORY_URL", why))?;
    let keys = args
        .directory_keys
        .as_deref()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| missing("--directory-keys", "STAGESUB_DIRECTORY_KEYS", why))?;
    Ok(Arc::new(Directory::open(url, keys).await?))
}

fn load_migrations(dir: Option<&Path>, why: &str) -> Result<Arc<MigrationSet>> {
    let dir = dir.ok_or_else(|| missing("--migrations-dir", "STAGESUB_MIGRATIONS_DIR", why))?;
    MigrationSet::load(dir)
        .map(Arc::new)
        .map_err(|e| Error::Migrations(e.to_string()))
}

/// The pause between two applies that keeps every runner together under the budget.
pub fn start_interval(
    budget_per_minute: u32,
    calls_per_apply: u32,
    runners: u32,
) -> Option<Duration> {
    if budget_per_minute == 0 {
        return None;
    }
    let per_runner = f64::from(budget_per_minute) / f64::from(runners.max(1));
    let applies_per_minute = per_runner / f64::from(calls_per_apply.max(1));
    Some(Duration::from_secs_f64(60.0 / applies_per_minute))
}

/// Stops new starts on SIGINT or SIGTERM.
fn stop_on_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let terminated = async {
            match term.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = terminated => {}
        }
        eprintln!("\nfleet: stopping: no new tenant starts; waiting for the ones in flight");
        let _ = tx.send(true);
    });
    rx
}

/// `apply`: returns the exit status.
pub async fn apply(args: ApplyArgs) -> Result<u8> {
    let mode = args.mode.ok_or_else(|| {
        missing(
            "--mode",
            "STAGESUB_FLEET_MODE",
            "(terraform: apply each tenant root; migrations: new migrations straight to each database)",
        )
    })?;
    let slice = args.slice.unwrap_or(Slice::ALL);
    let redactor = Redactor::from_env();
    let (fleet, mut skipped, executor): (Vec<String>, Vec<(String, String)>, Exec) = match mode {
        Mode::Terraform => {
            let dir = args.tenants_dir.as_deref().ok_or_else(|| {
                missing("--tenants-dir", "STAGESUB_TENANTS_DIR", "in terraform mode")
            })?;
            let roots = discover(dir)?;
            if roots.is_empty() {
                return Err(Error::Usage(format!(
                    "{} holds no tenant root (a folder <subdomain>/ with a main.tf)",
                    dir.display()
                )));
            }
            let fleet = roots.keys().cloned().collect();
            let executor = TerraformExecutor {
                binary: args.terraform.clone(),
                roots,
                init: args.init,
                apply_args: std::iter::once(format!("-lock-timeout={}", args.state_lock_timeout))
                    .chain(args.apply_args.iter().cloned())
                    .collect(),
                init_command: args.init_command.clone(),
                redactor,
            };
            (fleet, Vec::new(), Exec::Terraform(Arc::new(executor)))
        }
        Mode::Migrations => {
            let why = "in migrations mode";
            let set = load_migrations(args.migrations_dir.as_deref(), why)?;
            let directory = open_directory(&args.directory, why).await?;
            let mut fleet = Vec::new();
            let mut skipped = Vec::new();
            for (subdomain, status) in directory.list().await? {
                if eligible(status) {
                    fleet.push(subdomain);
                } else {
                    skipped.push((
                        subdomain,
                        format!("directory status {status}: migrations come with its next provider apply"),
                    ));
                }
            }
            let executor = MigrationsExecutor {
                directory,
                set,
                tls: tls(&args.directory)?,
                options: ApplyOptions {
                    statement_timeout: args.statement_timeout.map(Duration::from_secs),
                    lock_timeout: args.lock_timeout.map(Duration::from_secs),
                    lock_wait: None,
                    retry_failed: args.retry_failed,
                },
                redactor,
            };
            (fleet, skipped, Exec::Migrations(Arc::new(executor)))
        }
    };
    let canary_set = match &args.canary {
        Some(spec) => canaries(&fleet, spec).map_err(Error::Usage)?,
        None => Vec::new(),
    };
    let in_slice = |s: &String| slice.contains(s);
    let mut selection = Selection::default();
    let mine_canaries: Vec<String> = canary_set.iter().filter(|s| in_slice(s)).cloned().collect();
    let rest: Vec<String> = fleet
        .iter()
        .filter(|s| in_slice(s) && !canary_set.contains(s))
        .cloned()
        .collect();
    skipped.retain(|(s, _)| in_slice(s));
    let scope;
    if args.only_canary {
        selection.canaries = mine_canaries;
        scope = "canary".to_owned();
        skipped.clear();
    } else if args.skip_canary {
        selection.batches = batches(&rest, args.batch_size);
        skipped.extend(
            mine_canaries
                .into_iter()
                .map(|s| (s, "canary: applied by the canary job".to_owned())),
        );
        scope = slice.to_string();
    } else {
        selection.canaries = mine_canaries;
        selection.batches = batches(&rest, args.batch_size);
        scope = slice.to_string();
    }
    selection.skipped = skipped;
    let runners = args.runners.unwrap_or(slice.count);
    let interval = match mode {
        Mode::Terraform => start_interval(
            args.api_budget_per_minute,
            args.api_calls_per_apply,
            runners,
        ),
        // No Management API call in this mode: nothing to pace.
        Mode::Migrations => None,
    };
    let record = RunRecord::open(&args.state_file, args.run_id.as_deref(), mode.as_str())?;
    let options = RolloutOptions {
        parallel: args.parallel.max(1),
        max_failures: args.max_failures,
        start_interval: interval,
        retry_failed: args.retry_failed,
        state_file: args.state_file.clone(),
        scope,
        quiet: args.quiet,
    };
    if !args.quiet {
        let total =
            selection.canaries.len() + selection.batches.iter().map(Vec::len).sum::<usize>();
        eprintln!(
            "fleet: run {} ({} mode, {}): {} canaries, {total} tenants in all, {} at once{}",
            record.run_id,
            mode.as_str(),
            options.scope,
            selection.canaries.len(),
            options.parallel,
            interval.map_or(String::new(), |i| format!(
                ", one start every {:.1} s (API budget {}/min over {runners} runners)",
                i.as_secs_f64(),
                args.api_budget_per_minute
            ))
        );
    }
    let stop = stop_on_signal();
    let report = match executor {
        Exec::Terraform(e) => rollout::run(e, selection, record, &options, stop).await?,
        Exec::Migrations(e) => rollout::run(e, selection, record, &options, stop).await?,
    };
    write_reports(
        &report,
        args.report_json.as_deref(),
        args.report_md.as_deref(),
    )?;
    Ok(if report.succeeded() {
        0
    } else {
        EXIT_INCOMPLETE
    })
}

enum Exec {
    Terraform(Arc<TerraformExecutor>),
    Migrations(Arc<MigrationsExecutor>),
}

fn write_reports(report: &Report, json: Option<&Path>, md: Option<&Path>) -> Result<()> {
    if let Some(path) = json {
        report.save_json(path)?;
    }
    let markdown = report.markdown();
    if let Some(path) = md {
        std::fs::write(path, &markdown).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
    }
    if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|v| !v.is_empty()) {
        let path = PathBuf::from(summary);
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(markdown.as_bytes()))
            .map_err(|source| Error::Io { path, source })?;
    }
    let c = &report.counts;
    eprintln!(
        "fleet: {} applied, {} failed, {} skipped, {} not started in {:.1} s (p50 {} ms, p99 {} ms){}",
        c.applied,
        c.failed,
        c.skipped,
        c.not_started,
        report.wall_ms as f64 / 1000.0,
        report.p50_ms,
        report.p99_ms,
        report
            .stopped
            .as_ref()
            .map_or(String::new(), |s| format!("; stopped: {s}"))
    );
    Ok(())
}

/// `status`: returns the exit status.
pub async fn status(args: StatusArgs) -> Result<u8> {
    let set = load_migrations(args.migrations_dir.as_deref(), "for status")?;
    let directory = open_directory(&args.directory, "for status").await?;
    let mut records = Vec::new();
    for path in &args.state_files {
        match RunRecord::load(path)? {
            Some(r) => records.push(r),
            None => {
                return Err(Error::Usage(format!(
                    "--state-file {}: no such file",
                    path.display()
                )));
            }
        }
    }
    let status = fleet_status(
        directory,
        set,
        tls(&args.directory)?,
        &records,
        args.parallel,
    )
    .await?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&status).map_err(|e| Error::Usage(e.to_string()))?
        );
    } else {
        print!("{}", status.table());
    }
    Ok(if args.fail_on_drift && !status.drifted.is_empty() {
        EXIT_DRIFT
    } else {
        0
    })
}

/// `merge-reports`: returns the exit status (1 when the merged run did not finish).
pub fn merge_reports(args: MergeArgs) -> Result<u8> {
    let reports = args
        .reports
        .iter()
        .map(|p| Report::load(p))
        .collect::<Result<Vec<_>>>()?;
    let merged = Report::merge(&reports)?;
    write_reports(
        &merged,
        args.report_json.as_deref(),
        args.report_md.as_deref(),
    )?;
    Ok(if merged.succeeded() {
        0
    } else {
        EXIT_INCOMPLETE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_divided_between_runners() {
        // 120 calls/min, 6 per apply, 4 runners: 5 applies/min each, one every 12 s.
        assert_eq!(start_interval(120, 6, 4), Some(Duration::from_secs(12)));
        assert_eq!(start_interval(120, 6, 1), Some(Duration::from_secs(3)));
        assert_eq!(start_interval(0, 6, 4), None);
    }
}
