//! Proves the harness against a known-good provider: the Go null provider 2.1.2 (protocol 5) on
//! Terraform 1.15.5 and 1.0.3, installed both through a filesystem mirror (with `init`) and through
//! `dev_overrides` (without `init`), the two ways our own provider's tests install it.

use stagesub_acceptance::{InstallMode, Terraform, hcl_string};

fn config(trigger: &str) -> String {
    format!(
        r#"terraform {{
  required_providers {{
    null = {{
      source  = "hashicorp/null"
      version = "2.1.2"
    }}
  }}
}}

resource "null_resource" "orchestra" {{
  triggers = {{
    name = {trigger}
  }}
}}

output "id" {{
  value = null_resource.orchestra.id
}}

output "name" {{
  value = null_resource.orchestra.triggers.name
}}
"#,
        trigger = hcl_string(trigger)
    )
}

/// init, apply, empty plan, change -> replacement planned, apply, destroy: state follows each step.
fn lifecycle(tf: &Terraform, with_init: bool) {
    tf.write_file("main.tf", config("Ensemble \"Ré\" ${not a template}"));
    if with_init {
        let init = tf.init_ok();
        assert!(init.contains("Installing hashicorp/null v2.1.2"), "{init}");
        assert!(tf.workdir().join(".terraform.lock.hcl").is_file());
    }

    let apply = tf.apply_ok();
    assert!(apply.contains("1 added, 0 changed, 0 destroyed"), "{apply}");
    let id = tf.output_string("id");
    assert!(
        !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()),
        "id {id:?}"
    );
    assert_eq!(
        tf.output_string("name"),
        "Ensemble \"Ré\" ${not a template}"
    );
    assert!(tf.plan_is_empty(), "plan after apply must be empty");

    let values = tf
        .resource_values("null_resource.orchestra")
        .expect("resource in state");
    assert_eq!(values["id"], id.as_str());

    // A changed trigger forces replacement: the plan is no longer empty and apply makes a new id.
    tf.write_file("main.tf", config("Second Orchestra"));
    assert!(!tf.plan_is_empty());
    let plan = tf.plan_json(&[]);
    let actions = &plan["resource_changes"][0]["change"]["actions"];
    assert_eq!(actions, &serde_json::json!(["delete", "create"]), "{plan}");
    tf.apply_ok();
    assert_ne!(tf.output_string("id"), id);
    tf.assert_plan_empty();

    let destroy = tf.destroy_ok();
    assert!(destroy.contains("1 destroyed"), "{destroy}");
    assert!(tf.resource_values("null_resource.orchestra").is_none());
}

#[test]
fn filesystem_mirror_on_terraform_latest() {
    let tf = Terraform::latest().with_null_provider(InstallMode::FilesystemMirror);
    assert_eq!(tf.version(), (1, 15, 5));
    lifecycle(&tf, true);
}

#[test]
fn filesystem_mirror_on_terraform_1_0() {
    let tf = Terraform::v1_0().with_null_provider(InstallMode::FilesystemMirror);
    assert_eq!(tf.version(), (1, 0, 3));
    lifecycle(&tf, true);
}

#[test]
fn dev_override_without_init_on_both_versions() {
    for tf in Terraform::all_versions() {
        let tf = tf.with_null_provider(InstallMode::DevOverride);
        lifecycle(&tf, false);
        // Terraform says overrides are in effect, so a user would notice them.
        assert!(
            tf.plan(&[])
                .contains("Provider development overrides are in effect")
        );
    }
}

#[test]
fn errors_come_back_as_failures_with_the_message() {
    let tf = Terraform::latest().with_null_provider(InstallMode::DevOverride);
    tf.write_file(
        "main.tf",
        "resource \"null_resource\" \"x\" {\n  unknown_argument = 1\n}\n",
    );
    tf.validate()
        .assert_failure_contains("An argument named \"unknown_argument\" is not expected here.");
    let json = tf.run(&["validate", "-json"]);
    assert!(!json.success());
    let parsed: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(parsed["valid"], false);
}

#[test]
fn providers_schema_lists_the_null_resource() {
    let tf = Terraform::v1_0().with_null_provider(InstallMode::FilesystemMirror);
    tf.write_file("main.tf", config("x"));
    tf.init_ok();
    let schema = tf.providers_schema_json();
    let null = &schema["provider_schemas"]["registry.terraform.io/hashicorp/null"];
    assert!(
        null["resource_schemas"]["null_resource"]["block"]["attributes"]["triggers"].is_object()
    );
}

#[test]
fn import_runs_and_reports_the_provider_answer() {
    let tf = Terraform::latest().with_null_provider(InstallMode::FilesystemMirror);
    tf.write_file("main.tf", config("x"));
    tf.init_ok();
    // null 2.1.2 predates import support for null_resource: the provider's error must come back.
    tf.import("null_resource.orchestra", "4242")
        .assert_failure_contains("resource null_resource doesn't support import");
    assert!(tf.resource_values("null_resource.orchestra").is_none());
    tf.refresh().assert_success();
}

#[test]
fn modules_work_with_dev_overrides_through_get_on_both_versions() {
    for tf in Terraform::all_versions() {
        let tf = tf.with_null_provider(InstallMode::DevOverride);
        tf.write_file(
            "modules/orchestra/main.tf",
            "variable \"name\" {\n  type = string\n}\n\nresource \"null_resource\" \"this\" {\n  triggers = { name = var.name }\n}\n",
        );
        tf.write_file(
            "main.tf",
            "module \"orchestra-berlin\" {\n  source = \"./modules/orchestra\"\n  name   = \"Berlin\"\n}\n",
        );
        tf.get_ok();
        tf.apply_ok();
        let values = tf
            .resource_values("module.orchestra-berlin.null_resource.this")
            .expect("module resource in state");
        assert_eq!(values["triggers"]["name"], "Berlin");
        tf.assert_plan_empty();
        tf.destroy_ok();
    }
}

#[test]
fn a_command_over_its_time_limit_is_killed_with_everything_it_started() {
    let tf = Terraform::latest()
        .with_null_provider(InstallMode::DevOverride)
        .with_timeout(std::time::Duration::from_secs(8));
    tf.write_file(
        "main.tf",
        r#"resource "null_resource" "slow" {
  provisioner "local-exec" {
    command = "echo $$ > sleeper.pid; exec sleep 300"
  }
}
"#,
    );
    let started = std::time::Instant::now();
    let out = tf.apply(&[]);
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    assert_eq!(out.code, None, "{out}");
    assert!(out.stderr.contains("[harness] killed after"), "{out}");

    let pid = std::fs::read_to_string(tf.workdir().join("sleeper.pid")).expect("provisioner ran");
    let stat = format!("/proc/{}/stat", pid.trim());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::path::Path::new(&stat).exists() && std::time::Instant::now() < deadline {
        let state = std::fs::read_to_string(&stat).unwrap_or_default();
        if state.contains(") Z ") {
            break; // killed, waiting to be reaped by init
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let state = std::fs::read_to_string(&stat).unwrap_or_default();
    assert!(
        state.is_empty() || state.contains(") Z "),
        "sleep survived: {state}"
    );
}
