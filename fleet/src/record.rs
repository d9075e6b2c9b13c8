//! The progress file (`--state-file`): what a run has done, written after every tenant so an
//! interrupted run resumes where it stopped. JSON lines: a header line (run id, mode, start),
//! then one line per finished tenant, appended as it finishes (constant cost per tenant, however
//! large the fleet). A kill in the middle of a write leaves at most a partial last line, which
//! loading ignores (that tenant simply runs again).

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
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
        let wrong = |why: String| {
            Error::Usage(format!(
                "the progress file {} is not a stagesub-fleet run record ({why}); move it away or \
                 pass another --state-file",
                path.display()
            ))
        };
        let mut lines = text.lines();
        let header: Header = serde_json::from_str(lines.next().unwrap_or_default())
            .map_err(|e| wrong(format!("line 1: {e}")))?;
        let mut record = RunRecord {
            run_id: header.run_id,
            mode: header.mode,
            started_at: header.started_at,
            tenants: BTreeMap::new(),
        };
        let complete = text.ends_with('\n');
        let rest: Vec<&str> = lines.collect();
        for (index, line) in rest.iter().enumerate() {
            match serde_json::from_str::<Line>(line) {
                Ok(l) => {
                    record.tenants.insert(l.subdomain, l.record);
                }
                // A write cut short by a kill: that tenant runs again.
                Err(_) if index + 1 == rest.len() && !complete => {}
                Err(e) => return Err(wrong(format!("line {}: {e}", index + 2))),
            }
        }
        Ok(Some(record))
    }

    /// Writes the header when the file does not exist yet (a resumed run keeps its file).
    pub fn begin(&self, path: &Path) -> Result<()> {
        if path.exists() {
            return Ok(());
        }
        let header = Header {
            run_id: self.run_id.clone(),
            mode: self.mode.clone(),
            started_at: self.started_at,
        };
        let mut text = serde_json::to_string(&header).map_err(|e| Error::Usage(e.to_string()))?;
        text.push('\n');
        let tmp = temporary(path);
        fs::write(&tmp, text)
            .and_then(|()| fs::rename(&tmp, path))
            .map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })
    }

    /// Records `subdomain`'s attempt: in memory, and one line appended to `path`.
    pub fn append(&mut self, path: &Path, subdomain: &str, tenant: TenantRecord) -> Result<()> {
        let line = Line {
            subdomain: subdomain.to_owned(),
            record: tenant.clone(),
        };
        let mut text = serde_json::to_string(&line).map_err(|e| Error::Usage(e.to_string()))?;
        text.push('\n');
        fs::OpenOptions::new()
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })?;
        self.tenants.insert(subdomain.to_owned(), tenant);
        Ok(())
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

    /// Whether `subdomain` needs to run: not applied yet, and not failed unless `retry_failed`.
    pub fn pending(&self, subdomain: &str, retry_failed: bool) -> bool {
        match self.tenants.get(subdomain).map(|t| t.outcome) {
            Some(Outcome::Applied) => false,
            Some(Outcome::Failed) => retry_failed,
            _ => true,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Header {
    run_id: String,
    mode: String,
    started_at: u64,
}

#[derive(Serialize, Deserialize)]
struct Line {
    subdomain: String,
    #[serde(flatten)]
    record: TenantRecord,
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
        record.begin(&path).unwrap();
        record
            .append(
                &path,
                "alpha",
                TenantRecord {
                    outcome: Outcome::Applied,
                    duration_ms: 5,
                    error: None,
                    detail: None,
                    finished_at: 1,
                    attempts: 1,
                },
            )
            .unwrap();
        let again = RunRecord::open(&path, None, "migrations").unwrap();
        assert_eq!(again, record);
        assert!(!again.pending("alpha", true));
        assert!(again.pending("beta", false));
        let err = RunRecord::open(&path, Some("r2"), "migrations").unwrap_err();
        assert!(err.to_string().contains("--run-id \"r1\""), "{err}");
        assert!(RunRecord::open(&path, Some("r1"), "terraform").is_err());
        // A line cut short by a kill is ignored; a broken line in the middle is an error.
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"subdomain\":\"beta\",\"outc");
        std::fs::write(&path, &text).unwrap();
        assert_eq!(RunRecord::load(&path).unwrap().unwrap(), record);
        text.push_str("\n{}\n");
        std::fs::write(&path, &text).unwrap();
        assert!(RunRecord::load(&path).is_err());
    }
}
