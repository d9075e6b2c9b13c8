//! The resource's row in the tenant directory: written through its life (provisioning, ready or
//! archived, tombstone) and checked on refresh, where a row that is missing, says something else,
//! is sealed with an older key or opens with no key shows in `directory_status`, so the plan
//! updates the resource and apply writes the row again.

use stagesub_directory::{Entry, Sensitive, Status, TenantSecret};

use super::OrchestraDatabase;
use super::model::OrchestraModel;
use crate::Secret;
use crate::backend::{Backend, BackendError};
use crate::directory::{RowCheck, with_password};

/// The status the row of a resource in `state` should have.
fn settled_status(state: &OrchestraModel) -> Status {
    if state.archived {
        Status::Archived
    } else {
        Status::Ready
    }
}

/// The row that `state` stands for; the secret carries `password` when the state keeps none (a
/// write-only password) and the anon key when it is given.
fn entry(
    backend: &dyn Backend,
    state: &OrchestraModel,
    status: Status,
    password: Option<&Secret>,
    anon_key: Option<Secret>,
) -> Entry {
    let with = |url: &Secret| {
        let url = match (&state.database_password, password) {
            (None, Some(p)) => with_password(url.expose(), p.expose()),
            _ => url.expose().to_string(),
        };
        Sensitive::new(url)
    };
    let secret = match status {
        Status::Provisioning | Status::Deleted => None,
        _ => state.database_url.as_ref().map(|url| TenantSecret {
            database_url: with(url),
            pooler_url: state.pooler_url.as_ref().map(with),
            anon_key: anon_key.map(|k| Sensitive::new(k.expose())),
        }),
    };
    Entry {
        subdomain: state.subdomain.clone().unwrap_or_default(),
        status,
        backend: backend.kind().to_string(),
        region: state.region.clone(),
        plan: state.plan.clone(),
        resource_id: state.id.clone(),
        api_url: state.api_url.clone(),
        secret,
    }
}

impl OrchestraDatabase {
    /// Writes `provisioning` for `state`'s subdomain before its database is created (no
    /// directory: nothing). Failing here stops the create before anything exists.
    pub(super) async fn directory_provisioning(
        &self,
        backend: &dyn Backend,
        state: &OrchestraModel,
    ) -> Result<(), BackendError> {
        let Some(directory) = self.shared.directory() else {
            return Ok(());
        };
        let mut entry = entry(backend, state, Status::Provisioning, None, None);
        entry.resource_id = None;
        directory.write(&entry).await.map(drop)
    }

    /// Writes the row of a resource whose database is migrated and seeded (`ready`, or `archived`),
    /// with its sealed secret, and records its status and generation in `state`. On failure
    /// `state` says `stale`, so the next plan writes it again.
    pub(super) async fn directory_settle(
        &self,
        backend: &dyn Backend,
        state: &mut OrchestraModel,
        password: Option<&Secret>,
    ) -> Result<(), BackendError> {
        let Some(directory) = self.shared.directory() else {
            state.directory_status = None;
            state.directory_generation = None;
            return Ok(());
        };
        state.directory_status = Some("stale".into());
        state.directory_generation = None;
        // Held in a backup there is no project to ask (and the row keeps no secret).
        let anon_key = match &state.id {
            Some(id) if !state.held_in_backup() => backend.anon_key(id).await?,
            _ => None,
        };
        let status = settled_status(state);
        let generation = directory
            .write(&entry(backend, state, status, password, anon_key))
            .await?;
        state.directory_status = Some(status.to_string());
        state.directory_generation = Some(generation);
        Ok(())
    }

    /// Before archiving or restoring starts: the row says `archived` (the app stops routing to a
    /// database about to go away) or `restoring` (not routable yet; `ready` follows when done).
    pub(super) async fn directory_transition(
        &self,
        subdomain: &str,
        archiving: bool,
    ) -> Result<(), BackendError> {
        let status = if archiving {
            Status::Archived
        } else {
            Status::Restoring
        };
        match self.shared.directory() {
            Some(directory) => directory.mark(subdomain, status).await.map(drop),
            None => Ok(()),
        }
    }

    /// Marks the row deleted (a tombstone without secret) after the database is gone.
    pub(super) async fn directory_tombstone(&self, subdomain: &str) -> Result<(), BackendError> {
        match self.shared.directory() {
            Some(directory) => directory.tombstone(subdomain).await.map(drop),
            None => Ok(()),
        }
    }

    /// Fails early when the directory is configured but cannot be reached (before a destroy).
    pub(super) async fn directory_reachable(&self) -> Result<(), BackendError> {
        match self.shared.directory() {
            Some(directory) => directory.client().await.map(drop),
            None => Ok(()),
        }
    }

    /// Refresh: what the row says about `state` (already refreshed from the backend).
    pub(super) async fn directory_check(
        &self,
        backend: &dyn Backend,
        state: &mut OrchestraModel,
    ) -> Result<(), BackendError> {
        let Some(directory) = self.shared.directory() else {
            state.directory_status = None;
            state.directory_generation = None;
            return Ok(());
        };
        let expected = entry(backend, state, settled_status(state), None, None);
        match directory.check(&expected).await? {
            RowCheck::InSync(status, generation) => {
                state.directory_status = Some(status.to_string());
                state.directory_generation = Some(generation);
            }
            RowCheck::Drift(why) => {
                state.directory_status = Some(why.to_string());
                state.directory_generation = None;
            }
        }
        Ok(())
    }
}
