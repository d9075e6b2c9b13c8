//! Our provider reaches Terraform 1.15.5 and 1.0.3 through both install modes the harness offers:
//! `terraform init` installs it from the filesystem mirror as `stagesub/stagesub` 0.1.0 (pinned
//! version, lock file), and dev_overrides serve it without `init`. Needs
//! `cargo build --workspace --bins` first (scripts/test.sh does it).

use stagesub_acceptance::{InstallMode, LocalProvider, Terraform, provider_binary};

const CONFIG: &str = r#"terraform {
  required_providers {
    stagesub = {
      source  = "stagesub/stagesub"
      version = "0.1.0"
    }
  }
}

provider "stagesub" {
  backend      = "postgres"
  postgres_url = "postgres://postgres@127.0.0.1:5432/postgres"
}

resource "stagesub_orchestra_database" "berlin" {
  subdomain      = "berlin-phil"
  orchestra_name = "Berliner Philharmoniker"
}
"#;

fn assert_schema_has_our_types(tf: &Terraform) {
    let schema = tf.providers_schema_json();
    let ours = &schema["provider_schemas"]["registry.terraform.io/stagesub/stagesub"];
    assert!(
        ours["resource_schemas"]["stagesub_orchestra_database"].is_object(),
        "no resource schema in {ours}"
    );
    assert!(
        ours["data_source_schemas"]["stagesub_orchestra_database"].is_object(),
        "no data source schema in {ours}"
    );
}

#[test]
fn filesystem_mirror_installs_our_provider_with_init() {
    for tf in Terraform::all_versions() {
        let tf = tf.with_provider(LocalProvider::stagesub(
            provider_binary(),
            InstallMode::FilesystemMirror,
        ));
        tf.write_file("main.tf", CONFIG);
        let init = tf.init_ok();
        assert!(
            init.contains("Installing stagesub/stagesub v0.1.0"),
            "{init}"
        );
        let lock = std::fs::read_to_string(tf.workdir().join(".terraform.lock.hcl")).unwrap();
        assert!(
            lock.contains("registry.terraform.io/stagesub/stagesub"),
            "{lock}"
        );
        tf.validate().assert_success();
        assert_schema_has_our_types(&tf);
    }
}

#[test]
fn dev_overrides_serve_our_provider_without_init() {
    for tf in Terraform::all_versions() {
        let tf = tf.with_provider(LocalProvider::stagesub(
            provider_binary(),
            InstallMode::DevOverride,
        ));
        tf.write_file("main.tf", CONFIG);
        tf.validate().assert_success();
        assert_schema_has_our_types(&tf);
    }
}
