//! The final report: JSON for machines (one per runner, merged by `stagesub-fleet merge-reports`)
//! and Markdown for the CI job summary.

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::record::Outcome;

/// One tenant's line in a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantReport {
    /// The orchestra's subdomain.
    pub subdomain: String,
    /// How it ended.
    pub outcome: Outcome,
    /// How long its attempt took, in milliseconds (0 when not run).
    pub duration_ms: u64,
    /// Why it failed or was skipped (secrets redacted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// `canary` or `batch N`.
    pub phase: String,
}

/// Counts by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Applied (in this invocation or an earlier one of the run).
    pub applied: usize,
    /// Failed.
    pub failed: usize,
    /// Skipped.
    pub skipped: usize,
    /// Not reached.
    pub not_started: usize,
}

/// A run's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The run id.
    pub run_id: String,
    /// `terraform` or `migrations`.
    pub mode: String,
    /// Which slices this report covers (`1/1` for the whole fleet, `canary`, `merged`).
    pub scope: String,
    /// Wall time of this invocation, in milliseconds.
    pub wall_ms: u64,
    /// Why the run stopped early, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// Counts by outcome.
    pub counts: Counts,
    /// Median and 99th percentile of the durations of the tenants run, in milliseconds.
    pub p50_ms: u64,
    /// 99th percentile duration.
    pub p99_ms: u64,
    /// Every tenant, canaries first, then in batch order.
    pub tenants: Vec<TenantReport>,
}

/// The `q` quantile (0..=1) of `values` by nearest rank; 0 when empty.
pub fn quantile(values: &[u64], q: f64) -> u64 {
    if values.is_empty() {
        return 0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

impl Report {
    /// Recomputes counts and percentiles from `tenants`.
    pub fn finish(&mut self) {
        let mut counts = Counts::default();
        let mut durations = Vec::new();
        for t in &self.tenants {
            match t.outcome {
                Outcome::Applied => counts.applied += 1,
                Outcome::Failed => counts.failed += 1,
                Outcome::Skipped => counts.skipped += 1,
                Outcome::NotStarted => counts.not_started += 1,
            }
            if matches!(t.outcome, Outcome::Applied | Outcome::Failed) && t.duration_ms > 0 {
                durations.push(t.duration_ms);
            }
        }
        self.counts = counts;
        self.p50_ms = quantile(&durations, 0.50);
        self.p99_ms = quantile(&durations, 0.99);
    }

    /// Whether every tenant that should have run was applied.
    pub fn succeeded(&self) -> bool {
        self.stopped.is_none() && self.counts.failed == 0 && self.counts.not_started == 0
    }

    /// Reads a JSON report.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|e| {
            Error::Usage(format!(
                "{} is not a stagesub-fleet JSON report: {e}",
                path.display()
            ))
        })
    }

    /// Writes the JSON report.
    pub fn save_json(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(|e| Error::Usage(e.to_string()))?;
        std::fs::write(path, text + "\n").map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Merges reports of one run (canary job and slices): a tenant that appears in several keeps
    /// its most telling line (applied or failed over skipped over not started).
    pub fn merge(reports: &[Report]) -> Result<Report> {
        let Some(first) = reports.first() else {
            return Err(Error::Usage(
                "merge-reports needs at least one report".into(),
            ));
        };
        if let Some(other) = reports.iter().find(|r| r.run_id != first.run_id) {
            return Err(Error::Usage(format!(
                "the reports belong to different runs ({} and {})",
                first.run_id, other.run_id
            )));
        }
        let rank = |o: Outcome| match o {
            Outcome::Failed => 3,
            Outcome::Applied => 2,
            Outcome::Skipped => 1,
            Outcome::NotStarted => 0,
        };
        let mut tenants: Vec<TenantReport> = Vec::new();
        for t in reports.iter().flat_map(|r| &r.tenants) {
            match tenants.iter_mut().find(|x| x.subdomain == t.subdomain) {
                Some(existing) if rank(t.outcome) > rank(existing.outcome) => *existing = t.clone(),
                Some(_) => {}
                None => tenants.push(t.clone()),
            }
        }
        let stopped: Vec<String> = reports
            .iter()
            .filter_map(|r| r.stopped.as_ref().map(|s| format!("{}: {s}", r.scope)))
            .collect();
        let mut merged = Report {
            run_id: first.run_id.clone(),
            mode: first.mode.clone(),
            scope: format!("merged ({} reports)", reports.len()),
            // The canary job runs before the slices, the slices side by side.
            wall_ms: reports
                .iter()
                .filter(|r| r.scope == "canary")
                .map(|r| r.wall_ms)
                .sum::<u64>()
                + reports
                    .iter()
                    .filter(|r| r.scope != "canary")
                    .map(|r| r.wall_ms)
                    .max()
                    .unwrap_or(0),
            stopped: (!stopped.is_empty()).then(|| stopped.join("; ")),
            counts: Counts::default(),
            p50_ms: 0,
            p99_ms: 0,
            tenants,
        };
        merged.finish();
        Ok(merged)
    }

    /// The Markdown summary: totals, then failures with their errors, then every tenant.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let verdict = if self.succeeded() {
            "succeeded"
        } else {
            "did not finish"
        };
        let _ = writeln!(
            md,
            "## Fleet rollout `{}` ({} mode, {}) {verdict}\n",
            cell(&self.run_id),
            self.mode,
            cell(&self.scope)
        );
        if let Some(reason) = &self.stopped {
            let _ = writeln!(md, "**Stopped:** {}\n", cell(reason));
        }
        let c = &self.counts;
        let _ = writeln!(
            md,
            "| applied | failed | skipped | not started | wall time | per tenant p50 | p99 |\n|---:|---:|---:|---:|---:|---:|---:|\n| {} | {} | {} | {} | {} | {} | {} |\n",
            c.applied,
            c.failed,
            c.skipped,
            c.not_started,
            seconds(self.wall_ms),
            seconds(self.p50_ms),
            seconds(self.p99_ms)
        );
        let failed: Vec<&TenantReport> = self
            .tenants
            .iter()
            .filter(|t| t.outcome == Outcome::Failed)
            .collect();
        if !failed.is_empty() {
            let _ = writeln!(
                md,
                "### Failed\n\n| tenant | phase | error |\n|---|---|---|"
            );
            for t in failed {
                let _ = writeln!(
                    md,
                    "| `{}` | {} | {} |",
                    cell(&t.subdomain),
                    t.phase,
                    cell(t.error.as_deref().unwrap_or(""))
                );
            }
            md.push('\n');
        }
        let _ = writeln!(
            md,
            "<details><summary>Every tenant ({})</summary>\n\n| tenant | phase | outcome | duration | detail |\n|---|---|---|---:|---|",
            self.tenants.len()
        );
        for t in &self.tenants {
            let _ = writeln!(
                md,
                "| `{}` | {} | {} | {} | {} |",
                cell(&t.subdomain),
                t.phase,
                t.outcome.as_str(),
                seconds(t.duration_ms),
                cell(t.detail.as_deref().or(t.error.as_deref()).unwrap_or(""))
            );
        }
        md.push_str("\n</details>\n");
        md
    }
}

fn seconds(ms: u64) -> String {
    format!("{:.2} s", ms as f64 / 1000.0)
}

/// Text made safe for one Markdown table cell: no line breaks, pipes, backticks or HTML.
fn cell(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut out = String::with_capacity(one_line.len());
    for c in one_line.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '`' => out.push('\''),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            _ => out.push(c),
        }
    }
    if out.chars().count() > 300 {
        out = out.chars().take(300).collect::<String>() + "…";
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(name: &str, outcome: Outcome, ms: u64) -> TenantReport {
        TenantReport {
            subdomain: name.into(),
            outcome,
            duration_ms: ms,
            error: (outcome == Outcome::Failed).then(|| "boom | <b>\nline".into()),
            detail: None,
            phase: "batch 1".into(),
        }
    }

    #[test]
    fn quantiles_by_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(quantile(&v, 0.5), 50);
        assert_eq!(quantile(&v, 0.99), 99);
        assert_eq!(quantile(&[7], 0.99), 7);
        assert_eq!(quantile(&[], 0.5), 0);
    }

    #[test]
    fn markdown_escapes_errors_and_merge_prefers_outcomes() {
        let mut a = Report {
            run_id: "r".into(),
            mode: "migrations".into(),
            scope: "1/2".into(),
            wall_ms: 10,
            stopped: None,
            counts: Counts::default(),
            p50_ms: 0,
            p99_ms: 0,
            tenants: vec![
                line("a", Outcome::Applied, 5),
                line("b", Outcome::Failed, 9),
            ],
        };
        a.finish();
        let md = a.markdown();
        assert!(md.contains("boom \\| &lt;b&gt; line"), "{md}");
        assert!(md.contains("did not finish"));
        let mut canary = a.clone();
        canary.scope = "canary".into();
        canary.tenants = vec![
            line("a", Outcome::Skipped, 0),
            line("c", Outcome::Applied, 3),
        ];
        let mut b = a.clone();
        b.wall_ms = 30;
        b.tenants.clear();
        let merged = Report::merge(&[canary, a, b]).unwrap();
        assert_eq!(
            merged.wall_ms,
            10 + 30,
            "canary, then the slices side by side"
        );
        assert_eq!(merged.counts.applied, 2);
        assert_eq!(merged.counts.failed, 1);
        assert_eq!(merged.tenants.len(), 3);
        let mut other = merged.clone();
        other.run_id = "x".into();
        assert!(Report::merge(&[merged, other]).is_err());
    }
}
