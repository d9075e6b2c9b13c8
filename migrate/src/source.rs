//! Reading a migrations folder: layout detection, ordering and checksums.

use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::split::{StatementSpan, split_statements};

/// How a migrations folder is laid out, and therefore which history table records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `<dir>/<timestamp>_<name>/migration.sql`, recorded in `_prisma_migrations`.
    Prisma,
    /// `<dir>/<version>_<name>.sql`, recorded in `supabase_migrations.schema_migrations`.
    Supabase,
}

/// One migration file.
#[derive(Debug, Clone)]
pub struct Migration {
    /// The name the history table uses: the Prisma folder name, or the Supabase file name
    /// without `.sql` (`<version>_<name>`).
    pub name: String,
    /// For the Supabase layout, the digits before the first `_`; for Prisma, the same as `name`.
    pub version: String,
    /// The file's path.
    pub path: PathBuf,
    /// The file's contents (migration files must be UTF-8).
    pub sql: String,
    /// Lowercase hex SHA-256 of the file's bytes (what Prisma stores as `checksum`).
    pub checksum: String,
    pub(crate) statements: Vec<StatementSpan>,
}

impl Migration {
    fn from_file(name: String, version: String, path: PathBuf) -> Result<Self> {
        let bytes = fs::read(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let checksum = sha256_hex(&bytes);
        let sql = String::from_utf8(bytes).map_err(|_| Error::Layout {
            dir: path.clone(),
            reason: "the file is not valid UTF-8".into(),
        })?;
        let statements = split_statements(&sql);
        Ok(Migration {
            name,
            version,
            path,
            sql,
            checksum,
            statements,
        })
    }

    /// The statements of the file as the Supabase CLI splits them.
    pub fn statements(&self) -> Vec<&str> {
        self.statements.iter().map(|s| s.text(&self.sql)).collect()
    }
}

/// The migrations of one folder, in the order they are applied.
#[derive(Debug, Clone)]
pub struct MigrationSet {
    /// The folder they were read from.
    pub dir: PathBuf,
    /// The detected layout.
    pub layout: Layout,
    /// The migrations, in apply order (folder or file name order).
    pub migrations: Vec<Migration>,
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// If `file_name` matches the Supabase CLI pattern `^([0-9]+)_(.*)\.sql$`, its version.
fn supabase_version(file_name: &str) -> Option<&str> {
    let stem = file_name.strip_suffix(".sql")?;
    let (version, _) = stem.split_once('_')?;
    (!version.is_empty() && version.bytes().all(|b| b.is_ascii_digit())).then_some(version)
}

impl MigrationSet {
    /// Reads `dir` and detects its layout.
    ///
    /// Prisma: every sub-folder must hold a `migration.sql` (`migration_lock.toml` and other
    /// files are ignored). Supabase: every `*.sql` file must be named `<digits>_<name>.sql`,
    /// with unique versions. A folder with both, or neither, is an error that lists what it found.
    pub fn load(dir: &Path) -> Result<Self> {
        let layout_error = |reason: String| Error::Layout {
            dir: dir.to_path_buf(),
            reason,
        };
        let entries = fs::read_dir(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut folders = Vec::new();
        let mut sql_files = Vec::new();
        let mut other = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| Error::Io {
                path: dir.to_path_buf(),
                source,
            })?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            if path.is_dir() {
                folders.push(name);
            } else if name.ends_with(".sql") {
                sql_files.push(name);
            } else {
                other.push(name);
            }
        }
        folders.sort();
        sql_files.sort();
        let migrations = match (folders.is_empty(), sql_files.is_empty()) {
            (false, true) => Self::prisma(dir, &folders).map(|m| (Layout::Prisma, m))?,
            (true, false) => Self::supabase(dir, &sql_files).map(|m| (Layout::Supabase, m))?,
            (false, false) => {
                return Err(layout_error(format!(
                    "found both sub-folders ({}) and .sql files ({}); use either the Prisma layout \
                     (<timestamp>_<name>/migration.sql) or the Supabase CLI layout (<version>_<name>.sql)",
                    summary(&folders),
                    summary(&sql_files)
                )));
            }
            (true, true) => {
                return Err(layout_error(format!(
                    "no migrations found (found {}); expected the Prisma layout \
                     (<timestamp>_<name>/migration.sql) or the Supabase CLI layout (<version>_<name>.sql)",
                    if other.is_empty() {
                        "nothing".to_string()
                    } else {
                        other.sort();
                        format!("only {}", summary(&other))
                    }
                )));
            }
        };
        Ok(MigrationSet {
            dir: dir.to_path_buf(),
            layout: migrations.0,
            migrations: migrations.1,
        })
    }

    fn prisma(dir: &Path, folders: &[String]) -> Result<Vec<Migration>> {
        let mut missing = Vec::new();
        let mut migrations = Vec::new();
        for folder in folders {
            let path = dir.join(folder).join("migration.sql");
            if !path.is_file() {
                missing.push(folder.clone());
                continue;
            }
            migrations.push(Migration::from_file(folder.clone(), folder.clone(), path)?);
        }
        if !missing.is_empty() {
            return Err(Error::Layout {
                dir: dir.to_path_buf(),
                reason: format!(
                    "Prisma layout, but {} has no migration.sql",
                    summary(&missing)
                ),
            });
        }
        Ok(migrations)
    }

    fn supabase(dir: &Path, files: &[String]) -> Result<Vec<Migration>> {
        let bad: Vec<String> = files
            .iter()
            .filter(|f| supabase_version(f).is_none())
            .cloned()
            .collect();
        if !bad.is_empty() {
            return Err(Error::Layout {
                dir: dir.to_path_buf(),
                reason: format!(
                    "Supabase CLI layout, but {} does not match <digits>_<name>.sql",
                    summary(&bad)
                ),
            });
        }
        let mut migrations: Vec<Migration> = Vec::new();
        for file in files {
            let version = supabase_version(file).unwrap_or_default().to_string();
            if let Some(previous) = migrations.iter().find(|m| m.version == version) {
                return Err(Error::Layout {
                    dir: dir.to_path_buf(),
                    reason: format!(
                        "{}.sql and {file} have the same version {version}",
                        previous.name
                    ),
                });
            }
            let name = file.trim_end_matches(".sql").to_string();
            migrations.push(Migration::from_file(name, version, dir.join(file))?);
        }
        Ok(migrations)
    }

    /// A set built from migrations compiled into a program (e.g. with `include_str!`), for a
    /// service that migrates its own database. `files` are `(name, sql)` pairs: the Prisma folder
    /// name, or the Supabase `<version>_<name>` (without `.sql`). They are sorted by name like a
    /// folder would be; the same naming rules apply.
    pub fn embedded(layout: Layout, files: &[(&str, &str)]) -> Result<Self> {
        let dir = PathBuf::from("<embedded>");
        let mut files = files.to_vec();
        files.sort_by(|a, b| a.0.cmp(b.0));
        let mut migrations: Vec<Migration> = Vec::new();
        for (name, sql) in files {
            let version = match layout {
                Layout::Prisma => name.to_string(),
                Layout::Supabase => supabase_version(&format!("{name}.sql"))
                    .ok_or_else(|| Error::Layout {
                        dir: dir.clone(),
                        reason: format!("`{name}` does not match <digits>_<name>"),
                    })?
                    .to_string(),
            };
            if migrations.iter().any(|m| m.version == version) {
                return Err(Error::Layout {
                    dir,
                    reason: format!("two migrations have the version `{version}`"),
                });
            }
            migrations.push(Migration {
                name: name.to_string(),
                version,
                path: dir.join(name),
                sql: sql.to_string(),
                checksum: sha256_hex(sql.as_bytes()),
                statements: split_statements(sql),
            });
        }
        Ok(MigrationSet {
            dir,
            layout,
            migrations,
        })
    }

    /// The migrations' names, in apply order.
    pub fn names(&self) -> Vec<String> {
        self.migrations.iter().map(|m| m.name.clone()).collect()
    }

    /// The migrations not in `applied`, in apply order. Compared by version (the Supabase CLI
    /// identifies a migration by its version alone; for Prisma the version is the name).
    pub fn pending(&self, applied: &[crate::AppliedMigration]) -> Vec<&Migration> {
        self.migrations
            .iter()
            .filter(|m| !applied.iter().any(|a| a.version == m.version))
            .collect()
    }
}

/// `a, b, c and 4 more`: enough to recognise what was found without flooding the message.
fn summary(names: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut text = names
        .iter()
        .take(SHOWN)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supabase_pattern() {
        assert_eq!(
            supabase_version("20240101120000_init.sql"),
            Some("20240101120000")
        );
        assert_eq!(supabase_version("1_.sql"), Some("1"));
        assert_eq!(supabase_version("v1_init.sql"), None);
        assert_eq!(supabase_version("_init.sql"), None);
        assert_eq!(supabase_version("20240101.sql"), None);
    }

    #[test]
    fn embedded_sets_sort_and_validate_names() {
        let set = MigrationSet::embedded(
            Layout::Supabase,
            &[("2_b", "select 2;"), ("1_a", "select 1;")],
        )
        .unwrap();
        assert_eq!(set.names(), vec!["1_a", "2_b"]);
        assert_eq!(set.migrations[0].version, "1");
        assert_eq!(set.migrations[0].statements(), vec!["select 1"]);
        assert!(MigrationSet::embedded(Layout::Supabase, &[("init", "")]).is_err());
        assert!(MigrationSet::embedded(Layout::Prisma, &[("a", ""), ("a", "")]).is_err());
    }

    #[test]
    fn checksum_is_lowercase_hex_sha256() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
