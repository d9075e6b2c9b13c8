//! The progress file (`--state-file`): what a run has done, written after every tenant so an
//! interrupted run resumes where it stopped. Written to a temporary file and renamed, so a kill
//! at any moment leaves either the previous or the new version, never half of one.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How one tenant ended in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The change is applied.
    Applied,
    /// The change failed; `error` says why.
    Failed,
    /// Not run: not eligible (e.g. an archived tenant in migrations mode) or done by an earlier
    /// invocation of the same run.
    Skipped,
    /// Not reached: the run stopped first (canary failure, `--max-failures`, interruption).
    NotStarted,
}

impl Outcome {
    /// The word used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
            Outcome::NotStarted => "not_started",
        }
    }
}

/// One tenant's last attempt in a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantRecord {
    /// `applied` or `failed`.
    pub outcome: Outcome,
    /// How long the attempt took, in milliseconds.
    pub duration_ms: u64,
    /// Why it failed (secrets redacted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What it did (e.g. the migrations applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// When it finished, Unix seconds.
    pub finished_at: u64,
    /// How many attempts this run made.
    #[serde(default = "one")]
    pub attempts: u32,
}

fn one() -> u32 {
    1
}

/// The progress file's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Names the run; a re-run with the same id resumes it.
    pub run_id: String,
    /// `terraform` or `migrations`.
    pub mode: String,
    /// When the run first started, Unix seconds.
    pub started_at: u64,
    /// Each tenant's last attempt.
    pub tenants: BTreeMap<String, TenantRecord>,
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

impl RunRecord {
    /// A new, empty run.
    pub fn new(run_id: impl Into<String>, mode: impl Into<String>) -> Self {
        Self {
            run_id: run_id.into(),
            mode: mode.into(),
            started_at: now_secs(),
            tenants: BTreeMap::new(),
        }
    }

    /// Reads `path`, `None` when it does not exist.
    pub fn load(path: &Path) -> Result<Option<Self>> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(Error::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        serde_json::from_str(&text).map(Some).map_err(|e| {
            Error::Usage(format!(
                "the progress file {} is not a stagesub-fleet run record ({e}); move it away or \
                 pass another --state-file",
                path.display()
            ))
        })
    }

    /// Opens the run to continue: the file's run when `run_id` is `None` or the same, a new one
    /// when there is no file. A file of another run or mode is refused (nothing is overwritten).
    pub fn open(path: &Path, run_id: Option<&str>, mode: &str) -> Result<Self> {
        match (Self::load(path)?, run_id) {
            (None, Some(id)) => Ok(Self::new(id, mode)),
            (None, None) => Ok(Self::new(format!("run-{}", now_secs()), mode)),
            (Some(found), Some(id)) if found.run_id != id => Err(Error::Usage(format!(
                "the progress file {} belongs to run {:?}, not {id:?}: pass --run-id {:?} to \
                 resume it, or another --state-file for a new run",
                path.display(),
                found.run_id,
                found.run_id
            ))),
            (Some(found), _) if found.mode != mode => Err(Error::Usage(format!(
                "the progress file {} records a {} run, not {mode}: pass another --state-file",
                path.display(),
                found.mode
            ))),
            (Some(found), _) => Ok(found),
        }
    }

    /// Writes the record atomically (temporary file in the same folder, then rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_vec_pretty(self).map_err(|e| Error::Usage(e.to_string()))?;
        let tmp = temporary(path);
        fs::write(&tmp, text)
            .and_then(|()| fs::rename(&tmp, path))
            .map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })
    }

    /// Whether `subdomain` needs to run: not applied yet, and not failed unless `retry_failed`.
    pub fn pending(&self, subdomain: &str, retry_failed: bool) -> bool {
        match self.tenants.get(subdomain).map(|t| t.outcome) {
            Some(Outcome::Applied) => false,
            Some(Outcome::Failed) => retry_failed,
            _ => true,
        }
    }
}

fn temporary(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.tmp", std::process::id()));
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_resumes_the_same_run_and_refuses_another() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.json");
        let mut record = RunRecord::open(&path, Some("r1"), "migrations").unwrap();
        record.tenants.insert(
            "alpha".into(),
            TenantRecord {
                outcome: Outcome::Applied,
                duration_ms: 5,
                error: None,
                detail: None,
                finished_at: 1,
                attempts: 1,
            },
        );
        record.save(&path).unwrap();
        let again = RunRecord::open(&path, None, "migrations").unwrap();
        assert_eq!(again, record);
        assert!(!again.pending("alpha", true));
        assert!(again.pending("beta", false));
        let err = RunRecord::open(&path, Some("r2"), "migrations").unwrap_err();
        assert!(err.to_string().contains("--run-id \"r1\""), "{err}");
        assert!(RunRecord::open(&path, Some("r1"), "terraform").is_err());
    }
}
