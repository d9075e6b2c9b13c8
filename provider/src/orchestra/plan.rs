//! Planning: configuration checks beyond the schema's, the plan's refinements (region default,
//! connection details and status that do not change, pending migrations), the warnings refresh
//! prepared about applied migrations, and deletion protection.

use stagesub_plugin::{AttributePath, Diagnostic, Diagnostics, Plan, Value};

use super::model::{OrchestraModel, attr};
use super::state::HistoryNote;
use crate::tenant_db;

/// Checks across attributes: one password kind, a version with the write-only password, a readable
/// migrations folder. Single values are checked by the schema's validators. Read raw: a value
/// unknown until apply is set all the same.
pub(super) fn validate(config: &Value) -> Diagnostics {
    let set = |name| !config.attr(name).is_null();
    let mut d = Diagnostics::default();
    if set(attr::DATABASE_PASSWORD) && set(attr::DATABASE_PASSWORD_WO) {
        d.push(
            Diagnostic::error(
                "Conflicting passwords",
                "Set either database_password or database_password_wo, not both.",
            )
            .at(AttributePath::root(attr::DATABASE_PASSWORD_WO)),
        );
    }
    if set(attr::DATABASE_PASSWORD_WO) && !set(attr::DATABASE_PASSWORD_WO_VERSION) {
        d.push(Diagnostic::error("Missing database_password_wo_version", "Set database_password_wo_version (any number) with database_password_wo, and change it to rotate the password.").at(AttributePath::root(attr::DATABASE_PASSWORD_WO_VERSION)));
    }
    if let Some(Err(e)) = config.str_attr(attr::MIGRATIONS_DIR).map(tenant_db::load) {
        d.push(
            Diagnostic::error(e.summary, e.detail).at(AttributePath::root(attr::MIGRATIONS_DIR)),
        );
    }
    d
}

/// Refines the framework's plan; `default_region` is the provider's, `directory` whether it keeps
/// a tenant directory.
pub(super) fn modify(
    plan: &mut Plan,
    default_region: impl FnOnce() -> String,
    directory: bool,
) -> Diagnostics {
    // The prior state holds no unknowns; configuration and plan may, so they are read raw.
    let prior = OrchestraModel::from_value(&plan.prior);
    let mut d = Diagnostics::default();
    if plan.planned.attr(attr::REGION).is_unknown() && plan.config.attr(attr::REGION).is_null() {
        let region = prior.region.clone().unwrap_or_else(default_region);
        plan.planned.set_attr(attr::REGION, region);
    }
    if !plan.is_create() {
        keep_what_does_not_change(plan);
    }
    let same_dir = plan.planned.attr(attr::MIGRATIONS_DIR) == plan.prior.attr(attr::MIGRATIONS_DIR);
    if same_dir {
        d.extend(HistoryNote::read(&plan.private).warnings(prior.migrations_dir.as_deref()));
    }
    let planned_applied = pending_migrations(plan, &prior, &mut d);
    plan.planned
        .set_attr(attr::APPLIED_MIGRATIONS, planned_applied);
    plan_directory(plan, directory);
    d
}

/// The directory row after apply: `ready` (or `archived`) with a new generation whenever the
/// resource changes or refresh found the row wrong; untouched otherwise. Without a directory both
/// attributes are null.
fn plan_directory(plan: &mut Plan, directory: bool) {
    let (status, generation) = (attr::DIRECTORY_STATUS, attr::DIRECTORY_GENERATION);
    if !directory {
        plan.planned.set_attr(status, Value::Null);
        plan.planned.set_attr(generation, Value::Null);
        return;
    }
    let expected: Value = match plan.planned.attr(attr::ARCHIVED) {
        Value::Bool(true) => "archived".into(),
        Value::Bool(false) => "ready".into(),
        _ => Value::Unknown,
    };
    // Any update writes the row again (directory_settle), a new generation with it: that
    // includes an update only the plan itself asks for, such as pending migrations with an
    // unchanged configuration, where Terraform proposed the prior generation.
    if plan.is_create()
        || plan.planned.attr(status) != &expected
        || plan.prior.attr(generation).is_null()
        || plan.planned != plan.prior
    {
        plan.planned.set_attr(status, expected);
        plan.planned.set_attr(generation, Value::Unknown);
    }
}

/// Connection details only change with the password; status only with `archived`.
fn keep_what_does_not_change(plan: &mut Plan) {
    let password = plan.config.attr(attr::DATABASE_PASSWORD);
    let password_same = password.is_null() || password == plan.prior.attr(attr::DATABASE_PASSWORD);
    let wo_same = plan.planned.attr(attr::DATABASE_PASSWORD_WO_VERSION)
        == plan.prior.attr(attr::DATABASE_PASSWORD_WO_VERSION);
    if password_same && wo_same {
        for a in [attr::DATABASE_URL, attr::POOLER_URL] {
            plan.planned.set_attr(a, plan.prior.attr(a).clone());
        }
    }
    if plan.planned.attr(attr::ARCHIVED) == plan.prior.attr(attr::ARCHIVED) {
        plan.planned
            .set_attr(attr::STATUS, plan.prior.attr(attr::STATUS).clone());
    }
}

/// What is applied, then the folder's migrations not applied yet: pending ones show in the plan.
fn pending_migrations(plan: &Plan, prior: &OrchestraModel, d: &mut Diagnostics) -> Value {
    let prior_applied = prior.applied_migrations.clone().unwrap_or_default();
    let archived = plan.planned.attr(attr::ARCHIVED).as_bool().unwrap_or(false);
    match plan.planned.attr(attr::MIGRATIONS_DIR) {
        Value::Unknown => Value::Unknown,
        Value::String(dir) if !archived => match tenant_db::load(dir) {
            Ok(set) => {
                let mut names = prior_applied.clone();
                names.extend(
                    set.names()
                        .into_iter()
                        .filter(|n| !prior_applied.contains(n)),
                );
                Value::string_list(names)
            }
            Err(e) => {
                d.push(
                    Diagnostic::error(e.summary, e.detail)
                        .at(AttributePath::root(attr::MIGRATIONS_DIR)),
                );
                Value::Unknown
            }
        },
        _ => Value::string_list(prior_applied),
    }
}

/// A warning when `instance_size` is set or changed on a backend without compute sizes (`postgres`):
/// it is only recorded in state there.
pub(super) fn size_without_effect(plan: &Plan, backend: &str) -> Diagnostics {
    let size = plan.planned.attr(attr::INSTANCE_SIZE);
    if backend == "supabase" || size.is_null() || size == plan.prior.attr(attr::INSTANCE_SIZE) {
        return Diagnostics::default();
    }
    Diagnostic::warning(
        "instance_size has no effect with this backend",
        format!("The {backend} backend has no compute sizes: instance_size is recorded in state and nothing else changes. Remove it, or use the supabase backend."),
    )
    .at(AttributePath::root(attr::INSTANCE_SIZE))
    .into()
}

/// Destroying is refused at plan while deletion protection is on.
pub(super) fn destroy(prior: &OrchestraModel) -> Diagnostics {
    if prior.deletion_protection {
        return protected(prior);
    }
    Diagnostics::default()
}

/// The error for a destroy while `deletion_protection` is true.
pub(super) fn protected(prior: &OrchestraModel) -> Diagnostics {
    let sub = prior.subdomain.as_deref().unwrap_or("?");
    Diagnostic::error(
        "Deletion protection is on",
        format!("The database of orchestra {sub:?} has deletion_protection = true, so it is not destroyed. To destroy it, set `deletion_protection = false`, run `terraform apply`, then destroy again."),
    )
    .at(AttributePath::root(attr::DELETION_PROTECTION))
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(prior_status: Option<&str>, prior_generation: Option<i64>, archived: bool) -> Plan {
        let mut prior = Value::Object(Default::default());
        prior.set_attr(attr::ARCHIVED, false);
        prior.set_attr(attr::DIRECTORY_STATUS, prior_status);
        prior.set_attr(attr::DIRECTORY_GENERATION, prior_generation);
        let mut planned = prior.clone();
        planned.set_attr(attr::ARCHIVED, archived);
        Plan {
            prior,
            config: Value::Object(Default::default()),
            planned,
            requires_replace: Vec::new(),
            private: Vec::new(),
        }
    }

    #[test]
    fn instance_size_warns_only_on_backends_without_sizes_and_only_when_it_changes() {
        let mut p = plan(None, None, false);
        p.planned.set_attr(attr::INSTANCE_SIZE, "small");
        assert!(size_without_effect(&p, "supabase").0.is_empty());
        let warning = format!("{:?}", size_without_effect(&p, "postgres"));
        assert!(warning.contains("no effect"), "{warning}");
        p.prior.set_attr(attr::INSTANCE_SIZE, "small");
        assert!(size_without_effect(&p, "postgres").0.is_empty());
        p.planned.set_attr(attr::INSTANCE_SIZE, Value::Null);
        assert!(size_without_effect(&p, "postgres").0.is_empty());
    }

    #[test]
    fn a_row_in_sync_is_left_alone_any_other_is_written_again() {
        let mut p = plan(Some("ready"), Some(7), false);
        plan_directory(&mut p, true);
        assert_eq!(p.planned, p.prior);
        for (status, generation, archived) in [
            (Some("missing"), None, false),
            (Some("stale_key"), None, false),
            (Some("ready"), None, false),
            (Some("ready"), Some(7), true),
            (None, None, false),
        ] {
            let mut p = plan(status, generation, archived);
            plan_directory(&mut p, true);
            let want = if archived { "archived" } else { "ready" };
            assert_eq!(p.planned.str_attr(attr::DIRECTORY_STATUS), Some(want));
            assert!(p.planned.attr(attr::DIRECTORY_GENERATION).is_unknown());
        }
        // Pending migrations alone make an update: the row is written again.
        let mut p = plan(Some("ready"), Some(7), false);
        p.planned
            .set_attr(attr::APPLIED_MIGRATIONS, Value::string_list(["a"]));
        plan_directory(&mut p, true);
        assert!(p.planned.attr(attr::DIRECTORY_GENERATION).is_unknown());
        let mut p = plan(Some("ready"), Some(7), false);
        plan_directory(&mut p, false);
        assert!(p.planned.attr(attr::DIRECTORY_STATUS).is_null());
        assert!(p.planned.attr(attr::DIRECTORY_GENERATION).is_null());
    }
}
