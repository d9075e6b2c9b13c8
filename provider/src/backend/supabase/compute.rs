//! `instance_size` in place: the project's compute size through its `compute_instance` billing add-on
//! (`/v1/projects/{ref}/billing/addons`), never by replacing the project.
//!
//! Rules:
//! - Unset `instance_size` is not managed: nothing is read or changed.
//! - The selection is read first; a size already in force is no call, a size the organization cannot
//!   use (not among the listing's available variants, or refused by Supabase with 402/403) is an error
//!   naming the size, what is available and what to do, with the project untouched.
//! - A change restarts the database: the project leaves `ACTIVE_HEALTHY` and comes back; the apply
//!   waits for that within `timeouts.update`. The ref and the data stay.
//! - The change is not sent twice blindly: after a lost answer (5xx, timeout) the selection is read
//!   again, and only a size still not in force is applied again.

use std::time::{Duration, Instant};

use stagesub_plugin::Context;
use stagesub_supabase::{
    BackoffPolicy, ComputeSize, Error as ApiError, ProjectAddons, ProjectStatus,
};

use super::{SupabaseBackend, api};
use crate::backend::{BackendError, DatabaseSpec};

/// How long a project may still read `ACTIVE_HEALTHY` after a compute change before the restart
/// shows in its status.
const RESTART_SHOWS_WITHIN: Duration = Duration::from_secs(2);

/// Attempts at applying a size whose answers were lost.
const LOST_ANSWERS: u32 = 3;

impl SupabaseBackend {
    /// The compute size in force (`nano` when no compute add-on is selected).
    pub(super) async fn read_compute_size(&self, id: &str) -> Result<Option<String>, BackendError> {
        match self.client.project_addons(id).await {
            Ok(addons) => Ok(Some(addons.compute_size().name().to_string())),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(api("Cannot read the project's compute size", e)),
        }
    }

    /// Changes the compute size when `spec` asks for another one than `prior`, then waits until the
    /// project is healthy again.
    pub(super) async fn resize(
        &self,
        ctx: &Context,
        id: &str,
        prior: &DatabaseSpec,
        spec: &DatabaseSpec,
        deadline: Instant,
    ) -> Result<(), BackendError> {
        let Some(wanted) = spec.instance_size.as_deref() else {
            return Ok(());
        };
        if prior.instance_size.as_deref() == Some(wanted) {
            return Ok(());
        }
        let size = ComputeSize::parse(wanted)
            .map_err(|e| BackendError::new("Invalid instance_size", e.to_string()))?;
        if prior.archived && spec.archived {
            return Err(BackendError::new(
                "Cannot resize an archived project",
                format!(
                    "Project {id} is archived (paused), and Supabase changes the compute size only of running projects. Set archived = false (in the same apply is fine), or leave instance_size as it was."
                ),
            ));
        }
        let mut addons = self.addons(id).await?;
        let mut lost = 0u32;
        loop {
            if addons.compute_size() == size {
                break;
            }
            self.check_available(id, &addons, &size)?;
            tracing::info!(project_ref = id, from = %addons.compute_size(), to = %size, "changing the compute size");
            match self.client.set_compute_size(id, &addons, &size).await {
                Ok(_) => break,
                Err(
                    e @ ApiError::Api {
                        status: 402 | 403, ..
                    },
                ) => {
                    return Err(self.refused(id, &addons, &size, Some(&e)));
                }
                Err(e) if e.is_transient() && lost + 1 < LOST_ANSWERS => {
                    // The change may have happened: read it back before sending it again.
                    lost += 1;
                    tracing::warn!(project_ref = id, error = %e, "compute change: answer lost, reading the selection again");
                    crate::backend::pause(ctx, Duration::from_millis(500 << lost)).await?;
                    addons = self.addons(id).await?;
                }
                Err(e) => {
                    return Err(api(
                        &format!("Supabase did not change the compute size to {size}"),
                        e,
                    ));
                }
            }
        }
        self.cache.remove(id);
        self.wait_after_resize(ctx, id, &size, deadline).await
    }

    async fn addons(&self, id: &str) -> Result<ProjectAddons, BackendError> {
        self.client
            .project_addons(id)
            .await
            .map_err(|e| api("Cannot read the project's compute size", e))
    }

    fn check_available(
        &self,
        id: &str,
        addons: &ProjectAddons,
        size: &ComputeSize,
    ) -> Result<(), BackendError> {
        // `nano` has no add-on variant: it is reached by removing the compute add-on.
        if size.variant().is_none() || addons.available_compute_sizes().contains(size) {
            return Ok(());
        }
        Err(self.refused(id, addons, size, None))
    }

    /// The error for a size the organization cannot use; the project was not changed.
    fn refused(
        &self,
        id: &str,
        addons: &ProjectAddons,
        size: &ComputeSize,
        api_error: Option<&ApiError>,
    ) -> BackendError {
        let available: Vec<String> = addons
            .available_compute_sizes()
            .iter()
            .map(|s| format!("`{s}`"))
            .collect();
        let supabase_said =
            api_error.map_or_else(String::new, |e| format!("\n\nSupabase said: {e}"));
        BackendError::new(
            format!("Compute size `{size}` is not available to the organization"),
            format!(
                "The Supabase organization {org:?} cannot use instance_size = \"{size}\" for project {id} on its current plan; it can use {list}. Upgrade the organization's plan in the Supabase dashboard (Organization settings, Billing) and apply again, or set instance_size to one of those sizes. The project was not changed: it still runs on `{current}`, with its data.{supabase_said}",
                org = self.organization,
                list = available.join(", "),
                current = addons.compute_size(),
            ),
        )
    }

    /// Waits for the restart to show (briefly), then for `ACTIVE_HEALTHY` with healthy services.
    async fn wait_after_resize(
        &self,
        ctx: &Context,
        id: &str,
        size: &ComputeSize,
        deadline: Instant,
    ) -> Result<(), BackendError> {
        let restart_by = Instant::now() + RESTART_SHOWS_WITHIN;
        while Instant::now() < restart_by.min(deadline) {
            match self.client.get_project(id).await {
                Ok(Some(p)) if p.status != ProjectStatus::ActiveHealthy => break,
                Ok(Some(_)) => crate::backend::pause(ctx, Duration::from_millis(250)).await?,
                Ok(None) => break,
                Err(e) if e.is_transient() => break,
                Err(e) => return Err(api("Cannot read the project after the resize", e)),
            }
        }
        let waited = tokio::select! {
            r = self.client.wait_until_healthy(id, deadline, BackoffPolicy::polling()) => r.map(drop),
            () = ctx.cancel.cancelled() => return Err(BackendError::new("Interrupted", format!("Terraform asked the provider to stop while project {id} was restarting with compute size {size}. The size change was made; the next apply waits until the project is healthy."))),
        };
        waited.map_err(|e| {
            let mut err = api(
                &format!("The project did not become healthy after the resize to {size}"),
                e,
            );
            err.detail.push_str(&format!("\n\nThe compute size of project {id} was changed to {size}; its ref and data are unchanged. Run `terraform apply` again once it is healthy, or raise timeouts.update."));
            err
        })
    }
}
