//! The tenant directory as the provider keeps it (crate `stagesub-directory`): one connection per
//! provider process, opened on first use; the schema ensured and the reader role granted once.
//! Errors name the directory by its URL with the password as `***`, never a key or a secret.

use std::sync::Arc;

use stagesub_directory::{DirectoryKeys, Entry, ReadOutcome, Status, TenantSecret};
use tokio::sync::Mutex;
use tokio_postgres::Client;

use crate::Secret;
use crate::backend::BackendError;

/// The configured directory.
pub struct Directory {
    url: Secret,
    keys: DirectoryKeys,
    reader_role: Option<String>,
    conn: Mutex<Conn>,
}

#[derive(Default)]
struct Conn {
    client: Option<Arc<Client>>,
    ensured: bool,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory")
            .field("url", &self.redacted_url())
            .field("keys", &self.keys)
            .field("reader_role", &self.reader_role)
            .finish_non_exhaustive()
    }
}

/// What refresh found in a resource's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowCheck {
    /// The row says what the resource says: its status and generation.
    InSync(Status, i64),
    /// Something must be written again: `missing`, `stale`, `stale_key` or `undecryptable`.
    Drift(&'static str),
}

fn error(e: &stagesub_directory::Error) -> BackendError {
    let summary = match e {
        stagesub_directory::Error::Connect { .. } => "Cannot reach the tenant directory",
        _ => "Tenant directory error",
    };
    BackendError::new(
        summary,
        format!(
            "{e}\n\nThe tenant directory is set by directory_url (STAGESUB_DIRECTORY_URL); fix it or the server, then run `terraform apply` again: it writes the row."
        ),
    )
}

impl Directory {
    /// A directory at `url` with `keys`; nothing is opened until first use.
    pub fn new(url: Secret, keys: DirectoryKeys, reader_role: Option<String>) -> Self {
        Directory {
            url,
            keys,
            reader_role,
            conn: Mutex::new(Conn::default()),
        }
    }

    /// The URL with its password replaced by `***`.
    pub fn redacted_url(&self) -> String {
        stagesub_pgconn::redact_url(self.url.expose())
    }

    /// The keys.
    pub fn keys(&self) -> &DirectoryKeys {
        &self.keys
    }

    /// An open connection; the first one of the process ensures the schema and grants the reader
    /// role. A closed connection is replaced.
    pub async fn client(&self) -> Result<Arc<Client>, BackendError> {
        let mut conn = self.conn.lock().await;
        if let Some(c) = conn.client.as_ref().filter(|c| !c.is_closed()) {
            return Ok(c.clone());
        }
        let mut client = stagesub_directory::connect(self.url.expose())
            .await
            .map_err(|e| error(&e))?;
        if !conn.ensured {
            stagesub_directory::ensure_schema(&mut client)
                .await
                .map_err(|e| error(&e))?;
            if let Some(role) = &self.reader_role {
                stagesub_directory::grant_reader(&mut client, role)
                    .await
                    .map_err(|e| error(&e))?;
            }
            conn.ensured = true;
        }
        let client = Arc::new(client);
        conn.client = Some(client.clone());
        Ok(client)
    }

    /// Writes `entry`'s row; its new generation.
    pub async fn write(&self, entry: &Entry) -> Result<i64, BackendError> {
        let client = self.client().await?;
        stagesub_directory::upsert(&client, &self.keys, entry)
            .await
            .map_err(|e| error(&e))
    }

    /// Sets the status of `subdomain`'s row, keeping its secret (no row: nothing to do).
    pub async fn mark(&self, subdomain: &str, status: Status) -> Result<Option<i64>, BackendError> {
        let client = self.client().await?;
        stagesub_directory::mark(&client, subdomain, status)
            .await
            .map_err(|e| error(&e))
    }

    /// Marks `subdomain` deleted, keeping the row without its secret (no row: nothing to do).
    pub async fn tombstone(&self, subdomain: &str) -> Result<Option<i64>, BackendError> {
        let client = self.client().await?;
        stagesub_directory::tombstone(&client, subdomain)
            .await
            .map_err(|e| error(&e))
    }

    /// Compares `subdomain`'s row with `expected` (secret compared by [`same_secret`]).
    pub async fn check(&self, expected: &Entry) -> Result<RowCheck, BackendError> {
        let client = self.client().await?;
        let outcome = stagesub_directory::read(&client, &self.keys, &expected.subdomain)
            .await
            .map_err(|e| error(&e))?;
        Ok(match outcome {
            ReadOutcome::Missing => RowCheck::Drift("missing"),
            ReadOutcome::Undecryptable(_) => RowCheck::Drift("undecryptable"),
            ReadOutcome::StaleKey(..) => RowCheck::Drift("stale_key"),
            ReadOutcome::Current(record, secret) => {
                let same = record.status == expected.status
                    && record.backend == expected.backend
                    && record.region == expected.region
                    && record.plan == expected.plan
                    && record.resource_id == expected.resource_id
                    && record.api_url == expected.api_url
                    && same_secret(secret.as_ref(), expected.secret.as_ref());
                if same {
                    RowCheck::InSync(record.status, record.generation)
                } else {
                    RowCheck::Drift("stale")
                }
            }
        })
    }
}

/// Whether the stored secret says what the resource knows: the same URLs (compared without their
/// passwords when the resource knows none: a write-only password) and an anon key where one is due.
fn same_secret(stored: Option<&TenantSecret>, expected: Option<&TenantSecret>) -> bool {
    let (Some(stored), Some(expected)) = (stored, expected) else {
        return stored.is_none() && expected.is_none();
    };
    let same_url = |a: &str, b: &str| a == b || (!has_password(b) && strip_password(a) == b);
    let pooler = match (&stored.pooler_url, &expected.pooler_url) {
        (Some(a), Some(b)) => same_url(a.expose(), b.expose()),
        (None, None) => true,
        _ => false,
    };
    same_url(stored.database_url.expose(), expected.database_url.expose())
        && pooler
        && (stored.anon_key.is_some() || expected.anon_key.is_none())
}

fn has_password(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| u.password().is_some())
}

/// `url` without its password.
pub fn strip_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => url.to_string(),
    }
}

/// `url` with `password` set (a write-only password the state does not keep).
pub fn with_password(url: &str, password: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_none() => {
            let _ = u.set_password(Some(password));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stagesub_directory::Sensitive;

    fn secret(db: &str, pooler: Option<&str>, anon: Option<&str>) -> TenantSecret {
        TenantSecret {
            database_url: Sensitive::new(db),
            pooler_url: pooler.map(Sensitive::new),
            anon_key: anon.map(Sensitive::new),
        }
    }

    #[test]
    fn secrets_compare_without_a_password_the_state_does_not_know() {
        let full = "postgresql://u:p%40ss@h:5432/d?sslmode=require";
        let bare = "postgresql://u@h:5432/d?sslmode=require";
        assert_eq!(strip_password(full), bare);
        assert_eq!(with_password(bare, "p@ss"), full);
        let stored = secret(full, None, None);
        assert!(same_secret(Some(&stored), Some(&secret(full, None, None))));
        assert!(same_secret(Some(&stored), Some(&secret(bare, None, None))));
        let other = "postgresql://u:other@h:5432/d?sslmode=require";
        assert!(!same_secret(
            Some(&stored),
            Some(&secret(other, None, None))
        ));
        assert!(!same_secret(
            Some(&stored),
            Some(&secret(full, Some(full), None))
        ));
        assert!(!same_secret(
            Some(&stored),
            Some(&secret(full, None, Some("k")))
        ));
        assert!(!same_secret(None, Some(&stored)));
        assert!(same_secret(None, None));
    }

    #[test]
    fn debug_shows_neither_the_password_nor_a_key() {
        let keys = DirectoryKeys::from_bytes(&[[7u8; 32]]).unwrap();
        let d = Directory::new(
            Secret::from("postgres://dir:hunter2-secret@127.0.0.1:5432/control"),
            keys,
            None,
        );
        let printed = format!("{d:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("127.0.0.1"), "{printed}");
    }
}
