//! A tenant's backups: listing them from their manifests, the latest one, and the retention guard.

use chrono::{DateTime, Duration, Utc};
use futures_util::TryStreamExt;
use object_store::ObjectStoreExt;

use crate::error::{BackupError, Result, Step};
use crate::manifest::{BackupEntry, Manifest, manifest_key_for};
use crate::store::BackupStore;

/// The tenant's backups, oldest first: one entry per manifest under `<prefix>/<subdomain>/`.
/// Dumps without a manifest (archives that failed before their end) are not backups and are left
/// out. A manifest that cannot be read is an error naming it.
pub async fn list(store: &BackupStore, subdomain: &str) -> Result<Vec<BackupEntry>> {
    check_subdomain(subdomain)?;
    let dir = store.tenant_dir(subdomain);
    let objects: Vec<_> = store
        .inner
        .list(Some(&dir))
        .try_collect()
        .await
        .map_err(|e| BackupError::store(Step::List, "could not list the backups", &e))?;
    let mut entries = Vec::new();
    for object in objects {
        if !object.location.as_ref().ends_with(".manifest.json") {
            continue;
        }
        let uri = store.uri_of(&object.location);
        let manifest = read_manifest_at(store, &object.location, &uri).await?;
        entries.push(BackupEntry {
            uri: manifest.dump.uri.clone(),
            manifest_uri: uri,
            sha256: manifest.dump.sha256.clone(),
            size: manifest.dump.size,
            created_at: manifest.created_at,
        });
    }
    entries.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.uri.cmp(&b.uri)));
    Ok(entries)
}

/// Every object in the tenant's folder, backups or not, as URIs in key order: dumps left without
/// a manifest by archives that failed (and could not clean up) show here, not in [`list`].
pub async fn objects(store: &BackupStore, subdomain: &str) -> Result<Vec<String>> {
    check_subdomain(subdomain)?;
    let dir = store.tenant_dir(subdomain);
    let objects: Vec<_> = store
        .inner
        .list(Some(&dir))
        .try_collect()
        .await
        .map_err(|e| BackupError::store(Step::List, "could not list the backup folder", &e))?;
    let mut uris: Vec<String> = objects.iter().map(|o| store.uri_of(&o.location)).collect();
    uris.sort();
    Ok(uris)
}

/// The tenant's newest backup, if any.
pub async fn latest(store: &BackupStore, subdomain: &str) -> Result<Option<BackupEntry>> {
    Ok(list(store, subdomain).await?.pop())
}

/// The manifest of the dump at `dump_uri` (a URI from a [`BackupRecord`](crate::BackupRecord) or
/// [`BackupEntry`]).
pub async fn read_manifest(store: &BackupStore, dump_uri: &str) -> Result<Manifest> {
    let key = store.key_of(dump_uri)?;
    let manifest_key = object_store::path::Path::parse(manifest_key_for(key.as_ref()))
        .map_err(|e| BackupError::new(Step::Config, format!("bad backup URI {dump_uri:?}: {e}")))?;
    let uri = store.uri_of(&manifest_key);
    let manifest = read_manifest_at(store, &manifest_key, &uri).await?;
    if manifest.dump.uri != dump_uri {
        return Err(BackupError::new(
            Step::List,
            format!(
                "the manifest {uri} describes {}, not {dump_uri}; the backup folder was changed \
                 by hand",
                manifest.dump.uri
            ),
        ));
    }
    Ok(manifest)
}

async fn read_manifest_at(
    store: &BackupStore,
    key: &object_store::path::Path,
    uri: &str,
) -> Result<Manifest> {
    let bytes = store
        .inner
        .get(key)
        .await
        .map_err(|e| match e {
            object_store::Error::NotFound { .. } => BackupError::new(
                Step::List,
                format!(
                    "{uri} does not exist: no backup is recorded there (list the tenant's \
                     backups to find one)"
                ),
            ),
            e => BackupError::store(Step::List, &format!("could not read {uri}"), &e),
        })?
        .bytes()
        .await
        .map_err(|e| BackupError::store(Step::List, &format!("could not read {uri}"), &e))?;
    Manifest::from_json(&bytes)
        .map_err(|e| BackupError::new(Step::List, format!("the manifest {uri} is unusable: {e}")))
}

/// Whether the retention allows deleting `entry` at `now`: only when it is at least
/// `retention_days` old. A backup dated in the future (clock skew) is never deletable.
pub fn may_delete(entry: &BackupEntry, retention_days: u32, now: DateTime<Utc>) -> bool {
    now.signed_duration_since(entry.created_at) >= Duration::days(i64::from(retention_days))
}

/// Deletes an expired backup (its dump, then its manifest). Refuses, with an error naming the
/// date it may go, a backup younger than `retention_days`.
pub async fn delete_expired(
    store: &BackupStore,
    entry: &BackupEntry,
    retention_days: u32,
    now: DateTime<Utc>,
) -> Result<()> {
    if !may_delete(entry, retention_days, now) {
        return Err(BackupError::new(
            Step::Delete,
            format!(
                "backup {} is younger than the retention of {retention_days} days; it may be \
                 deleted from {}",
                entry.uri,
                entry.created_at + Duration::days(i64::from(retention_days))
            ),
        ));
    }
    for uri in [&entry.uri, &entry.manifest_uri] {
        let key = store.key_of(uri)?;
        match store.inner.delete(&key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => {
                return Err(BackupError::store(
                    Step::Delete,
                    &format!("could not delete {uri}"),
                    &e,
                ));
            }
        }
    }
    Ok(())
}

pub(crate) fn check_subdomain(subdomain: &str) -> Result<()> {
    stagesub_tenant::validate_subdomain(subdomain)
        .map_err(|e| BackupError::new(Step::Config, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_guard() {
        let now = Utc::now();
        let entry = |age_days: i64| BackupEntry {
            uri: "file:///b/x.dump".into(),
            manifest_uri: "file:///b/x.manifest.json".into(),
            sha256: String::new(),
            size: 0,
            created_at: now - Duration::days(age_days),
        };
        assert!(!may_delete(&entry(364), 365, now));
        assert!(may_delete(&entry(365), 365, now));
        assert!(!may_delete(&entry(-1), 0, now));
        assert!(may_delete(&entry(0), 0, now));
    }
}
