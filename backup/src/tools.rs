//! Finding `pg_dump` and `pg_restore`, and reading their major version.

use std::path::PathBuf;

use crate::error::{BackupError, Result, Step};

/// The PostgreSQL client programs to run. By default `pg_dump` and `pg_restore` from `PATH`.
#[derive(Debug, Clone)]
pub struct PgTools {
    /// The `pg_dump` program.
    pub pg_dump: PathBuf,
    /// The `pg_restore` program.
    pub pg_restore: PathBuf,
}

impl Default for PgTools {
    fn default() -> Self {
        PgTools {
            pg_dump: PathBuf::from("pg_dump"),
            pg_restore: PathBuf::from("pg_restore"),
        }
    }
}

impl PgTools {
    /// The programs in `dir` (e.g. `/usr/lib/postgresql/16/bin`).
    pub fn in_dir(dir: impl Into<PathBuf>) -> PgTools {
        let dir = dir.into();
        PgTools {
            pg_dump: dir.join("pg_dump"),
            pg_restore: dir.join("pg_restore"),
        }
    }

    /// The major version `program --version` reports (`pg_dump (PostgreSQL) 15.4` -> 15).
    pub(crate) async fn major_version(program: &PathBuf, step: Step) -> Result<(u32, String)> {
        let output = tokio::process::Command::new(program)
            .arg("--version")
            .kill_on_drop(true)
            .output()
            .await
            .map_err(|e| {
                BackupError::new(
                    step,
                    format!(
                        "could not run {}: {e}; install the PostgreSQL client programs \
                         (Debian: apt-get install postgresql-client) or put them on PATH",
                        program.display()
                    ),
                )
            })?;
        let text = String::from_utf8_lossy(&output.stdout).trim().to_string();
        parse_version(&text)
            .map(|m| (m, text.clone()))
            .ok_or_else(|| {
                BackupError::new(
                    step,
                    format!(
                        "{} --version printed {text:?}, not a PostgreSQL version",
                        program.display()
                    ),
                )
            })
    }
}

/// The major version in `pg_dump (PostgreSQL) 15.4 (Debian ...)` (9.6 -> 9).
pub(crate) fn parse_version(text: &str) -> Option<u32> {
    let after = text.split(')').nth(1)?.trim();
    let number = after.split_whitespace().next()?;
    number.split(['.', 'b', 'r', 'd']).next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_versions() {
        assert_eq!(
            parse_version("pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"),
            Some(15)
        );
        assert_eq!(parse_version("pg_restore (PostgreSQL) 12.1"), Some(12));
        assert_eq!(parse_version("pg_dump (PostgreSQL) 17beta1"), Some(17));
        assert_eq!(parse_version("pg_dump (PostgreSQL) 9.6.24"), Some(9));
        assert_eq!(parse_version("nonsense"), None);
    }
}
