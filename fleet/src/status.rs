//! `stagesub-fleet status`: per tenant, its directory status, the migrations its database has
//! recorded against the folder's files, its last apply in the run records, and whether it
//! drifted: a file not applied (missing), a recorded migration with no file (extra), or an
//! applied migration whose file changed since (changed).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use serde::Serialize;
use stagesub_directory::Status;
use stagesub_migrate::{AppliedMigration, Layout, MigrationSet, verify_unchanged};
use stagesub_pgconn::TlsOptions;
use tokio::sync::Semaphore;

use crate::migrations::{Directory, eligible};
use crate::record::{Outcome, RunRecord};
use crate::redact::Redactor;

/// The last apply of a tenant found in the run records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastApply {
    /// The run.
    pub run_id: String,
    /// `terraform` or `migrations`.
    pub mode: String,
    /// How it ended.
    pub outcome: Outcome,
    /// When, Unix seconds.
    pub finished_at: u64,
}

/// One tenant's line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantStatus {
    /// The orchestra's subdomain.
    pub subdomain: String,
    /// Its directory status.
    pub status: String,
    /// Migrations its database recorded as applied, in order (empty when not read).
    pub applied: Vec<String>,
    /// Files of the folder not applied.
    pub missing: Vec<String>,
    /// Recorded migrations with no file in the folder.
    pub extra: Vec<String>,
    /// Applied migrations whose file changed since.
    pub changed: Vec<String>,
    /// Why the history could not be read, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The last apply in the run records given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_apply: Option<LastApply>,
    /// Missing, extra or changed migrations.
    pub drifted: bool,
}

/// The whole fleet's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FleetStatus {
    /// The folder's migrations, in order.
    pub migrations: Vec<String>,
    /// Every tenant in the directory.
    pub tenants: Vec<TenantStatus>,
    /// Subdomains of the drifted tenants.
    pub drifted: Vec<String>,
}

/// Compares one database's history with the folder (pure).
pub fn compare(
    set: &MigrationSet,
    applied: &[AppliedMigration],
) -> (Vec<String>, Vec<String>, Vec<String>) {
    let key = |m: &AppliedMigration| match set.layout {
        Layout::Prisma => m.name.clone(),
        Layout::Supabase => m.version.clone(),
    };
    let recorded: Vec<&AppliedMigration> =
        applied.iter().filter(|a| a.layout == set.layout).collect();
    let missing = set
        .migrations
        .iter()
        .filter(|m| {
            !recorded.iter().any(|a| {
                key(a)
                    == match set.layout {
                        Layout::Prisma => m.name.clone(),
                        Layout::Supabase => m.version.clone(),
                    }
            })
        })
        .map(|m| m.name.clone())
        .collect();
    let extra = recorded
        .iter()
        .filter(|a| {
            !set.migrations.iter().any(|m| match set.layout {
                Layout::Prisma => m.name == a.name,
                Layout::Supabase => m.version == a.version,
            })
        })
        .map(|a| a.name.clone())
        .collect();
    let changed = set
        .migrations
        .iter()
        .filter(|m| {
            let one = MigrationSet {
                dir: set.dir.clone(),
                layout: set.layout,
                migrations: vec![(*m).clone()],
            };
            verify_unchanged(&one, applied).is_err()
        })
        .map(|m| m.name.clone())
        .collect();
    (missing, extra, changed)
}

/// The last apply of each tenant across `records` (the latest `finished_at`).
pub fn last_applies(records: &[RunRecord]) -> BTreeMap<String, LastApply> {
    let mut out: BTreeMap<String, LastApply> = BTreeMap::new();
    for record in records {
        for (subdomain, t) in &record.tenants {
            let newer = out
                .get(subdomain)
                .is_none_or(|l| l.finished_at <= t.finished_at);
            if newer {
                out.insert(
                    subdomain.clone(),
                    LastApply {
                        run_id: record.run_id.clone(),
                        mode: record.mode.clone(),
                        outcome: t.outcome,
                        finished_at: t.finished_at,
                    },
                );
            }
        }
    }
    out
}

/// Reads every tenant of the directory, `parallel` databases at a time.
pub async fn fleet_status(
    directory: Arc<Directory>,
    set: Arc<MigrationSet>,
    tls: TlsOptions,
    records: &[RunRecord],
    parallel: usize,
) -> crate::Result<FleetStatus> {
    let rows = directory.list().await?;
    let last = last_applies(records);
    let gate = Arc::new(Semaphore::new(parallel.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, (subdomain, status)) in rows.into_iter().enumerate() {
        let (directory, tls, gate) = (Arc::clone(&directory), tls.clone(), Arc::clone(&gate));
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await;
            let history = if eligible(status) {
                Some(read_history(&directory, &subdomain, &tls).await)
            } else {
                None
            };
            (index, subdomain, status, history)
        });
    }
    let mut lines = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let Ok((index, subdomain, status, history)) = joined else {
            continue;
        };
        let mut line = TenantStatus {
            subdomain: subdomain.clone(),
            status: status.to_string(),
            applied: vec![],
            missing: vec![],
            extra: vec![],
            changed: vec![],
            error: None,
            last_apply: last.get(&subdomain).cloned(),
            drifted: false,
        };
        match history {
            Some(Ok(applied)) => {
                let (missing, extra, changed) = compare(&set, &applied);
                line.applied = applied.into_iter().map(|a| a.name).collect();
                line.drifted = !(missing.is_empty() && extra.is_empty() && changed.is_empty());
                (line.missing, line.extra, line.changed) = (missing, extra, changed);
            }
            Some(Err(e)) => line.error = Some(e),
            None if status != Status::Deleted => {
                line.error = Some(format!("not read: the tenant is {status}"));
            }
            None => {}
        }
        lines.push((index, line));
    }
    lines.sort_by_key(|(i, _)| *i);
    let tenants: Vec<TenantStatus> = lines.into_iter().map(|(_, l)| l).collect();
    Ok(FleetStatus {
        migrations: set.names(),
        drifted: tenants
            .iter()
            .filter(|t| t.drifted)
            .map(|t| t.subdomain.clone())
            .collect(),
        tenants,
    })
}

async fn read_history(
    directory: &Directory,
    subdomain: &str,
    tls: &TlsOptions,
) -> Result<Vec<AppliedMigration>, String> {
    let url = directory.database_url(subdomain).await?;
    let mut redactor = Redactor::from_env();
    redactor.add_url(url.expose());
    let client = stagesub_pgconn::connect(url.expose(), tls)
        .await
        .map_err(|e| redactor.clean(&format!("connecting to its database: {e}")))?;
    stagesub_migrate::applied(&client)
        .await
        .map_err(|e| redactor.clean(&e.to_string()))
}

impl FleetStatus {
    /// The text table: one line per tenant, then the drifted ones.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let total = self.migrations.len();
        let width = self
            .tenants
            .iter()
            .map(|t| t.subdomain.len())
            .max()
            .unwrap_or(9)
            .max(9);
        let _ = writeln!(
            out,
            "{:<width$}  {:<12}  {:>9}  {:<24}  drift",
            "TENANT", "STATUS", "APPLIED", "LAST APPLY"
        );
        for t in &self.tenants {
            let applied = if t.error.is_some() {
                "-".to_owned()
            } else {
                format!(
                    "{}/{total}",
                    t.applied.len() - t.extra.len().min(t.applied.len())
                )
            };
            let last = t.last_apply.as_ref().map_or("-".to_owned(), |l| {
                format!("{} {}", l.outcome.as_str(), l.run_id)
            });
            let mut drift = Vec::new();
            if !t.missing.is_empty() {
                drift.push(format!("missing {}", t.missing.join(",")));
            }
            if !t.extra.is_empty() {
                drift.push(format!("extra {}", t.extra.join(",")));
            }
            if !t.changed.is_empty() {
                drift.push(format!("changed {}", t.changed.join(",")));
            }
            if let Some(e) = &t.error {
                drift.push(e.clone());
            }
            let _ = writeln!(
                out,
                "{:<width$}  {:<12}  {:>9}  {:<24}  {}",
                t.subdomain,
                t.status,
                applied,
                last,
                if drift.is_empty() {
                    "-".into()
                } else {
                    drift.join("; ")
                }
            );
        }
        let _ = writeln!(
            out,
            "\n{} tenants, {} migrations in the folder, {} drifted{}",
            self.tenants.len(),
            total,
            self.drifted.len(),
            if self.drifted.is_empty() {
                String::new()
            } else {
                format!(": {}", self.drifted.join(", "))
            }
        );
        out
    }
}
