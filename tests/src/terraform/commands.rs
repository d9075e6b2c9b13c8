//! The Terraform commands tests use, each as a plain runner (returns [`TfOutput`]) and, where
//! tests usually expect success, an `_ok` variant that panics with the full output otherwise.

use serde_json::Value;

use super::{Terraform, TfOutput};

/// A Terraform version as `(major, minor, patch)`.
pub type Version = (u32, u32, u32);

impl Terraform {
    /// `terraform init -input=false -no-color`.
    pub fn init(&self) -> TfOutput {
        self.run(&["init", "-input=false", "-no-color"])
    }

    /// [`init`](Self::init), panicking unless it succeeds.
    #[track_caller]
    pub fn init_ok(&self) -> TfOutput {
        let out = self.init();
        out.assert_success();
        out
    }

    /// `terraform get -no-color`: installs modules only. With [`InstallMode::DevOverride`]
    /// providers, use it instead of [`init`](Self::init) for configurations with modules:
    /// Terraform 1.0's `init` asks the registry for overridden providers too, which fails offline.
    ///
    /// [`InstallMode::DevOverride`]: super::InstallMode::DevOverride
    pub fn get(&self) -> TfOutput {
        self.run(&["get", "-no-color"])
    }

    /// [`get`](Self::get), panicking unless it succeeds.
    #[track_caller]
    pub fn get_ok(&self) -> TfOutput {
        let out = self.get();
        out.assert_success();
        out
    }

    /// `terraform validate -no-color`.
    pub fn validate(&self) -> TfOutput {
        self.run(&["validate", "-no-color"])
    }

    /// `terraform validate -json`, parsed (`valid`, `error_count`, `diagnostics`).
    #[track_caller]
    pub fn validate_json(&self) -> Value {
        parse_json(&self.run(&["validate", "-json", "-no-color"]))
    }

    /// `terraform plan -input=false -no-color -detailed-exitcode <extra>`: exit code 0 means no
    /// changes, 2 means changes, 1 an error.
    pub fn plan(&self, extra: &[&str]) -> TfOutput {
        let mut args = vec!["plan", "-input=false", "-no-color", "-detailed-exitcode"];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// Whether a plan shows no changes.
    ///
    /// # Panics
    /// When the plan fails (exit code other than 0 or 2).
    #[track_caller]
    pub fn plan_is_empty(&self) -> bool {
        let out = self.plan(&[]);
        match out.code {
            Some(0) => true,
            Some(2) => false,
            _ => panic!("plan failed\n{out}"),
        }
    }

    /// Panics, showing the plan, unless it is empty (the usual check after an apply).
    #[track_caller]
    pub fn assert_plan_empty(&self) {
        let out = self.plan(&[]);
        assert_eq!(out.code, Some(0), "expected an empty plan\n{out}");
    }

    /// Saves a plan and returns `terraform show -json` of it (`resource_changes`,
    /// `planned_values`, ...).
    #[track_caller]
    pub fn plan_json(&self, extra: &[&str]) -> Value {
        let mut args = vec!["plan", "-input=false", "-no-color", "-out=harness.tfplan"];
        args.extend_from_slice(extra);
        self.run(&args).assert_success();
        parse_json(&self.run(&["show", "-json", "-no-color", "harness.tfplan"]))
    }

    /// `terraform apply -auto-approve -input=false -no-color <extra>`.
    pub fn apply(&self, extra: &[&str]) -> TfOutput {
        let mut args = vec!["apply", "-auto-approve", "-input=false", "-no-color"];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// [`apply`](Self::apply) without extra arguments, panicking unless it succeeds.
    #[track_caller]
    pub fn apply_ok(&self) -> TfOutput {
        let out = self.apply(&[]);
        out.assert_success();
        out
    }

    /// `terraform destroy -auto-approve -input=false -no-color <extra>`.
    pub fn destroy(&self, extra: &[&str]) -> TfOutput {
        let mut args = vec!["destroy", "-auto-approve", "-input=false", "-no-color"];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// [`destroy`](Self::destroy), panicking unless it succeeds.
    #[track_caller]
    pub fn destroy_ok(&self) -> TfOutput {
        let out = self.destroy(&[]);
        out.assert_success();
        out
    }

    /// `terraform import -input=false -no-color <address> <id>`.
    pub fn import(&self, address: &str, id: &str) -> TfOutput {
        self.run(&["import", "-input=false", "-no-color", address, id])
    }

    /// [`import`](Self::import), panicking unless it succeeds.
    #[track_caller]
    pub fn import_ok(&self, address: &str, id: &str) -> TfOutput {
        let out = self.import(address, id);
        out.assert_success();
        out
    }

    /// `terraform refresh -input=false -no-color` (the same as `apply -refresh-only`).
    pub fn refresh(&self) -> TfOutput {
        self.run(&["refresh", "-input=false", "-no-color"])
    }

    /// `terraform state rm <address>`: forget an object without destroying it.
    #[track_caller]
    pub fn state_rm_ok(&self, address: &str) -> TfOutput {
        let out = self.run(&["state", "rm", "-no-color", address]);
        out.assert_success();
        out
    }

    /// `terraform show -json` of the current state, parsed.
    #[track_caller]
    pub fn state_json(&self) -> Value {
        parse_json(&self.run(&["show", "-json", "-no-color"]))
    }

    /// The `values` of the resource at `address` (e.g. `stagesub_orchestra_database.main` or
    /// `module.x.stagesub_orchestra_database.this`) in the current state, or `None` when absent.
    /// Sensitive values are included as plain values.
    #[track_caller]
    pub fn resource_values(&self, address: &str) -> Option<Value> {
        let state = self.state_json();
        find_resource(state.get("values")?.get("root_module")?, address)
    }

    /// `terraform providers schema -json`, parsed.
    #[track_caller]
    pub fn providers_schema_json(&self) -> Value {
        parse_json(&self.run(&["providers", "schema", "-json", "-no-color"]))
    }

    /// The value of root output `name` (`terraform output -json <name>`).
    #[track_caller]
    pub fn output(&self, name: &str) -> Value {
        parse_json(&self.run(&["output", "-json", "-no-color", name]))
    }

    /// Root output `name` as a string.
    ///
    /// # Panics
    /// When the output is missing or not a string.
    #[track_caller]
    pub fn output_string(&self, name: &str) -> String {
        match self.output(name) {
            Value::String(s) => s,
            other => panic!("output {name} is not a string: {other}"),
        }
    }

    /// The Terraform version (from `terraform version -json`).
    #[track_caller]
    pub fn version(&self) -> Version {
        let json = parse_json(&self.run(&["version", "-json"]));
        let text = json["terraform_version"]
            .as_str()
            .unwrap_or_else(|| panic!("no terraform_version in {json}"));
        parse_version(text).unwrap_or_else(|| panic!("unparsable version {text}"))
    }

    /// Whether this Terraform is at least `major.minor` (e.g. `(1, 11)` for write-only attributes).
    pub fn is_at_least(&self, major: u32, minor: u32) -> bool {
        let (ma, mi, _) = self.version();
        (ma, mi) >= (major, minor)
    }
}

/// Parses `1.15.5` or `1.16.0-rc1` into `(1, 15, 5)` / `(1, 16, 0)`.
pub fn parse_version(text: &str) -> Option<Version> {
    let core = text.trim().trim_start_matches('v');
    let core = core.split(['-', '+']).next()?;
    let mut parts = core.split('.').map(|p| p.parse::<u32>().ok());
    Some((
        parts.next()??,
        parts.next()??,
        parts.next().flatten().unwrap_or(0),
    ))
}

#[track_caller]
fn parse_json(out: &TfOutput) -> Value {
    out.assert_success();
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{out}"))
}

/// Finds the resource with `address` in a `show -json` module (`root_module` or a child).
fn find_resource(module: &Value, address: &str) -> Option<Value> {
    let resources = module.get("resources").and_then(Value::as_array);
    for resource in resources.into_iter().flatten() {
        if resource.get("address").and_then(Value::as_str) == Some(address) {
            return resource.get("values").cloned();
        }
    }
    let children = module.get("child_modules").and_then(Value::as_array);
    children
        .into_iter()
        .flatten()
        .find_map(|child| find_resource(child, address))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("1.15.5"), Some((1, 15, 5)));
        assert_eq!(parse_version("v1.16.0-rc1"), Some((1, 16, 0)));
        assert_eq!(parse_version("1.0"), Some((1, 0, 0)));
        assert_eq!(parse_version("x"), None);
    }

    #[test]
    fn resources_are_found_in_child_modules() {
        let module = serde_json::json!({
            "resources": [{"address": "a.b", "values": {"id": "1"}}],
            "child_modules": [{"resources": [{"address": "module.m.a.c", "values": {"id": "2"}}]}]
        });
        assert_eq!(find_resource(&module, "a.b").unwrap()["id"], "1");
        assert_eq!(find_resource(&module, "module.m.a.c").unwrap()["id"], "2");
        assert!(find_resource(&module, "a.x").is_none());
    }
}
