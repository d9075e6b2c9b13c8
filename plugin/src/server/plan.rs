//! The framework's share of planning a resource change (Terraform's rules for defaults, computed
//! values, write-only attributes and replacement), before the resource's own refinement.

use crate::diag::{AttributePath, Diagnostics};
use crate::resource::{Context, Plan, Resource};
use crate::schema::Schema;
use crate::value::Value;

/// The framework's share of planning: defaults, unknowns for computed values, write-only nulling,
/// requires-replace; then the resource's own refinement.
pub(super) async fn plan(
    ctx: &Context,
    r: &dyn Resource,
    schema: &Schema,
    prior: Value,
    proposed: Value,
    config: Value,
    private: Vec<u8>,
) -> (Plan, Diagnostics) {
    let mut planned = proposed;
    let is_create = prior.is_null();
    let mut changed = false;
    for a in &schema.block.attributes {
        let cfg = config.attr(&a.name);
        if a.write_only {
            planned.set_attr(&a.name, Value::Null);
            continue;
        }
        if a.computed && cfg.is_null() {
            if let Some(d) = &a.default {
                planned.set_attr(&a.name, d.clone());
            } else if is_create {
                planned.set_attr(&a.name, Value::Unknown);
            }
        }
        if !is_create && (a.optional || a.required) && planned.attr(&a.name) != prior.attr(&a.name)
        {
            changed = true;
        }
    }
    for b in &schema.block.blocks {
        if !is_create && planned.attr(&b.type_name) != prior.attr(&b.type_name) {
            changed = true;
        }
    }
    let mut requires_replace = Vec::new();
    if !is_create {
        for a in &schema.block.attributes {
            let cfg = config.attr(&a.name);
            if changed
                && a.computed
                && cfg.is_null()
                && a.default.is_none()
                && !a.use_state_for_unknown
            {
                planned.set_attr(&a.name, Value::Unknown);
            }
            if a.requires_replace && planned.attr(&a.name) != prior.attr(&a.name) {
                requires_replace.push(AttributePath::root(&a.name));
            }
        }
    }
    let mut plan = Plan {
        prior,
        config,
        planned,
        requires_replace,
        private,
    };
    let diags = r.modify_plan(ctx, &mut plan).await;
    schema.block.null_write_only(&mut plan.planned);
    (plan, diags)
}
