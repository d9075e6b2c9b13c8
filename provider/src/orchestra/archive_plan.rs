//! Planning an archive or a restore: what the plan shows (status `archived`, a new backup, no
//! connection URL while held in a backup; a new database on restore), and the checks that fail at
//! plan rather than half-way through an apply: archiving by backup without `backup_url`, and
//! pausing a project of a paid Supabase organization.

use stagesub_plugin::{AttributePath, Diagnostic, Diagnostics, Plan, Value};

use super::OrchestraDatabase;
use super::model::{OrchestraModel, STATUS_ARCHIVED, STATUS_RESTORE_FAILED, attr};

/// What an apply does with archiving, decided from the prior state and the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Transition {
    /// Back up, verify, then delete the database.
    Archive,
    /// Held in a backup and stays so (tenant values may change in state).
    Hold,
    /// Create the database again and restore the backup into it (after deleting the database of a
    /// failed restore, if any).
    Restore,
    /// A failed restore's database is deleted and the orchestra is held in its backup again.
    AbandonRestore,
}

/// The transition from `prior` to `planned`, `None` when archiving is not involved (including
/// `archive_mode = "pause"`, handled as before by the backend's update).
pub(super) fn transition(prior: &OrchestraModel, planned: &OrchestraModel) -> Option<Transition> {
    let failed_restore = prior.status.as_deref() == Some(STATUS_RESTORE_FAILED);
    if prior.held_in_backup() || failed_restore {
        return Some(match (planned.archived, failed_restore) {
            (true, false) => Transition::Hold,
            (true, true) => Transition::AbandonRestore,
            (false, _) => Transition::Restore,
        });
    }
    (planned.archived && planned.archive_mode == super::model::ArchiveMode::Backup)
        .then_some(Transition::Archive)
}

/// The raw plan as a transition; unknown `archived` or `archive_mode` plan nothing special.
fn planned_transition(plan: &Plan) -> Option<Transition> {
    let archived = plan.planned.attr(attr::ARCHIVED).as_bool()?;
    let mode = plan.planned.str_attr(attr::ARCHIVE_MODE)?;
    let mut planned = OrchestraModel::from_value(&plan.planned);
    planned.archived = archived;
    planned.archive_mode = super::model::ArchiveMode::parse(mode)?;
    if plan.is_create() {
        return (archived && mode == "backup").then_some(Transition::Archive);
    }
    transition(&OrchestraModel::from_value(&plan.prior), &planned)
}

/// The attributes a new database gives new values.
const NEW_DATABASE: [&str; 10] = [
    attr::ID,
    attr::STATUS,
    attr::CREATED_AT,
    attr::DATABASE_HOST,
    attr::DATABASE_PORT,
    attr::DATABASE_NAME,
    attr::DATABASE_USER,
    attr::DATABASE_URL,
    attr::POOLER_URL,
    attr::API_URL,
];

/// Refines the plan for `transition` (after the general refinements of `plan::modify`).
fn refine(plan: &mut Plan, transition: Transition) {
    match transition {
        Transition::Archive if !plan.is_create() => {
            plan.planned.set_attr(attr::STATUS, STATUS_ARCHIVED);
            for a in [attr::BACKUP_URI, attr::BACKUP_SHA256, attr::ARCHIVED_AT] {
                plan.planned.set_attr(a, Value::Unknown);
            }
            for a in [attr::DATABASE_URL, attr::POOLER_URL] {
                plan.planned.set_attr(a, Value::Null);
            }
        }
        Transition::Archive => {}
        Transition::Hold | Transition::AbandonRestore => {
            plan.planned.set_attr(attr::STATUS, STATUS_ARCHIVED);
            for a in [attr::DATABASE_URL, attr::POOLER_URL] {
                plan.planned.set_attr(a, Value::Null);
            }
            // The region applies when the orchestra is restored: no replacement while held.
            plan.requires_replace
                .retain(|p| *p != AttributePath::root(attr::REGION));
        }
        Transition::Restore => {
            for a in NEW_DATABASE {
                plan.planned.set_attr(a, Value::Unknown);
            }
            plan.requires_replace
                .retain(|p| *p != AttributePath::root(attr::REGION));
        }
    }
}

impl OrchestraDatabase {
    /// The archive part of planning: refinements and the checks that must fail at plan.
    pub(super) async fn plan_archive(&self, plan: &mut Plan) -> Diagnostics {
        let mut d = Diagnostics::default();
        if plan.planned.is_null() {
            return d;
        }
        let transition = planned_transition(plan);
        if let Some(t) = transition {
            refine(plan, t);
        }
        // Unconfigured (provider values unknown until apply): nothing to check against yet.
        let Ok(backend) = self.shared.backend() else {
            return d;
        };
        let needs_store = matches!(transition, Some(Transition::Archive | Transition::Restore));
        if needs_store && self.shared.backup().is_none() {
            let what = if transition == Some(Transition::Restore) {
                "Restoring this orchestra reads its backup"
            } else {
                "Archiving with archive_mode = \"backup\" (the default) writes a verified backup before the database is deleted"
            };
            d.push(
                Diagnostic::error(
                    "Missing backup_url",
                    format!("{what}, but the provider has no backup_url. Set `backup_url` in the provider block or the STAGESUB_BACKUP_URL environment variable (s3://bucket/prefix, with STAGESUB_BACKUP_ENDPOINT for an S3-compatible store, or file:///absolute/folder). To pause instead (free Supabase organizations, or the postgres backend), set archive_mode = \"pause\"."),
                )
                .at(AttributePath::root(attr::ARCHIVE_MODE)),
            );
        }
        let pausing = plan.planned.attr(attr::ARCHIVED).as_bool() == Some(true)
            && plan.planned.str_attr(attr::ARCHIVE_MODE) == Some("pause")
            && plan.prior.attr(attr::ARCHIVED).as_bool() != Some(true);
        if pausing {
            match backend.pause_refused().await {
                Ok(None) => {}
                Ok(Some(paid)) => d.push(
                    Diagnostic::error(
                        "Supabase does not pause projects of paid organizations",
                        format!("The organization is on the {paid:?} plan, and Supabase refuses to pause its projects, so archive_mode = \"pause\" cannot archive this orchestra. Use archive_mode = \"backup\" (the default): a verified backup in backup_url (STAGESUB_BACKUP_URL), then the project is deleted; archived = false restores it."),
                    )
                    .at(AttributePath::root(attr::ARCHIVE_MODE)),
                ),
                Err(e) => d.push(
                    Diagnostic::error(e.summary, format!("{}\n\nThe organization's plan tells whether its projects can be paused (archive_mode = \"pause\").", e.detail))
                        .at(AttributePath::root(attr::ARCHIVE_MODE)),
                ),
            }
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orchestra::model::ArchiveMode;

    fn model(archived: bool, mode: ArchiveMode, status: &str) -> OrchestraModel {
        OrchestraModel {
            archived,
            archive_mode: mode,
            status: Some(status.into()),
            ..OrchestraModel::default()
        }
    }

    #[test]
    fn transitions_follow_the_prior_state_and_the_mode() {
        use ArchiveMode::{Backup, Pause};
        let active = model(false, Backup, "ACTIVE_HEALTHY");
        let held = model(true, Backup, STATUS_ARCHIVED);
        let paused = model(true, Pause, "INACTIVE");
        let failed = model(false, Backup, STATUS_RESTORE_FAILED);
        let cases = [
            (&active, model(true, Backup, ""), Some(Transition::Archive)),
            (&active, model(true, Pause, ""), None),
            (&active, model(false, Backup, ""), None),
            (&held, model(true, Backup, ""), Some(Transition::Hold)),
            // Held in a backup whatever the mode says now: restore reads the backup.
            (&held, model(true, Pause, ""), Some(Transition::Hold)),
            (&held, model(false, Pause, ""), Some(Transition::Restore)),
            // A paused project switched to backup is backed up and deleted.
            (&paused, model(true, Backup, ""), Some(Transition::Archive)),
            (&paused, model(false, Backup, ""), None),
            (&failed, model(false, Backup, ""), Some(Transition::Restore)),
            (
                &failed,
                model(true, Backup, ""),
                Some(Transition::AbandonRestore),
            ),
        ];
        for (prior, planned, want) in cases {
            assert_eq!(
                transition(prior, &planned),
                want,
                "{prior:?} -> {planned:?}"
            );
        }
    }
}
