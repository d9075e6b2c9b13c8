//! The provider's schema as real Terraform reads it (`terraform providers schema -json`): every
//! attribute documented, flags as DESIGN.md promises; and write-only attributes on Terraform 1.0.3,
//! which predates them, fail validation with an error that says what to do.

use serde_json::Value;
use stagesub_acceptance::{
    InstallMode, LocalProvider, Terraform, admin_url, hcl_string, provider_binary,
};

const ADDRESS: &str = "registry.terraform.io/stagesub/stagesub";

/// Every attribute DESIGN.md lists for `stagesub_orchestra_database`.
const RESOURCE_ATTRIBUTES: &[&str] = &[
    "subdomain",
    "orchestra_name",
    "contact_email",
    "plan",
    "region",
    "instance_size",
    "migrations_dir",
    "seed_sql",
    "archived",
    "archive_mode",
    "backup_retention_days",
    "backup_uri",
    "backup_sha256",
    "archived_at",
    "deletion_protection",
    "enforce_ssl",
    "allowed_cidrs",
    "database_password",
    "database_password_wo",
    "database_password_wo_version",
    "id",
    "status",
    "created_at",
    "database_host",
    "database_port",
    "database_name",
    "database_user",
    "database_url",
    "pooler_url",
    "api_url",
    "applied_migrations",
];

const PROVIDER_ATTRIBUTES: &[&str] = &[
    "backend",
    "access_token",
    "organization_slug",
    "api_url",
    "postgres_url",
    "default_region",
    "database_ca_cert",
    "backup_url",
    "backup_endpoint",
];

fn terraform(tf: Terraform) -> Terraform {
    tf.with_provider(LocalProvider::stagesub(
        provider_binary(),
        InstallMode::FilesystemMirror,
    ))
}

fn required_providers() -> &'static str {
    r#"terraform {
  required_providers {
    stagesub = {
      source  = "stagesub/stagesub"
      version = "0.1.0"
    }
  }
}
"#
}

fn schema_json(tf: &Terraform) -> Value {
    tf.write_file("main.tf", required_providers());
    tf.init_ok();
    let all = tf.providers_schema_json();
    all["provider_schemas"][ADDRESS].clone()
}

/// Every attribute of `block` (and of its nested blocks) has a non-empty description.
fn assert_all_described(block: &Value, what: &str) {
    let attrs = block["attributes"]
        .as_object()
        .unwrap_or_else(|| panic!("{what}: no attributes in {block}"));
    for (name, a) in attrs {
        let d = a["description"].as_str().unwrap_or_default();
        assert!(
            !d.trim().is_empty(),
            "{what}.{name} has no description: {a}"
        );
    }
    if let Some(blocks) = block["block_types"].as_object() {
        for (name, b) in blocks {
            assert_all_described(&b["block"], &format!("{what}.{name}"));
        }
    }
}

#[test]
fn every_attribute_is_described_on_terraform_latest() {
    let tf = terraform(Terraform::latest());
    let schema = schema_json(&tf);
    assert!(
        schema.is_object(),
        "{ADDRESS} missing from providers schema"
    );

    let resource = &schema["resource_schemas"]["stagesub_orchestra_database"]["block"];
    for name in RESOURCE_ATTRIBUTES {
        assert!(
            resource["attributes"].get(*name).is_some(),
            "stagesub_orchestra_database lacks {name}: {resource}"
        );
    }
    assert_all_described(resource, "stagesub_orchestra_database");
    let attr = |n: &str| &resource["attributes"][n];
    assert_eq!(attr("subdomain")["required"], true);
    assert_eq!(attr("orchestra_name")["required"], true);
    assert_eq!(attr("id")["computed"], true);
    for sensitive in [
        "database_password",
        "database_password_wo",
        "database_url",
        "pooler_url",
    ] {
        assert_eq!(
            attr(sensitive)["sensitive"],
            true,
            "{sensitive} must be sensitive"
        );
    }
    assert_eq!(attr("database_password_wo")["write_only"], true);
    assert_eq!(
        attr("allowed_cidrs")["type"],
        serde_json::json!(["list", "string"])
    );
    assert_eq!(
        attr("applied_migrations")["type"],
        serde_json::json!(["list", "string"])
    );
    let timeouts = &resource["block_types"]["timeouts"];
    assert_eq!(timeouts["nesting_mode"], "single", "{timeouts}");
    for op in ["create", "update", "delete"] {
        assert!(
            timeouts["block"]["attributes"].get(op).is_some(),
            "timeouts.{op}: {timeouts}"
        );
    }

    let provider = &schema["provider"]["block"];
    for name in PROVIDER_ATTRIBUTES {
        assert!(
            provider["attributes"].get(*name).is_some(),
            "provider lacks {name}"
        );
    }
    assert_all_described(provider, "provider");

    let data = &schema["data_source_schemas"]["stagesub_orchestra_database"]["block"];
    assert!(data.is_object(), "data source missing: {schema}");
    assert_all_described(data, "data.stagesub_orchestra_database");
}

fn resource_with(password_lines: &str) -> String {
    format!(
        r#"{required}
provider "stagesub" {{
  backend      = "postgres"
  postgres_url = {url}
}}

resource "stagesub_orchestra_database" "o" {{
  subdomain           = "wo-check"
  orchestra_name      = "Write-only check"
  deletion_protection = false
{password_lines}
}}
"#,
        required = required_providers(),
        url = hcl_string(&admin_url()),
    )
}

#[test]
fn terraform_1_0_installs_the_provider_and_reads_its_schema() {
    let tf = terraform(Terraform::v1_0());
    let schema = schema_json(&tf);
    let resource = &schema["resource_schemas"]["stagesub_orchestra_database"]["block"];
    for name in RESOURCE_ATTRIBUTES {
        assert!(
            resource["attributes"].get(*name).is_some(),
            "1.0.3 sees no {name}"
        );
    }
    assert_all_described(resource, "stagesub_orchestra_database (1.0.3)");
}

#[test]
fn write_only_password_on_terraform_1_0_is_a_clear_error() {
    let tf = terraform(Terraform::v1_0());
    tf.write_file(
        "main.tf",
        resource_with(
            "  database_password_wo         = \"s3cret-write-only\"\n  database_password_wo_version = 1",
        ),
    );
    tf.init_ok();
    let out = tf.validate();
    assert!(
        !out.success(),
        "1.0.3 accepted a write-only attribute:\n{out}"
    );
    assert!(
        out.contains("Write-only attribute needs Terraform 1.11 or later"),
        "{out}"
    );
    // Only the write-only complaint: the value itself is fine.
    let raw = tf.run(&["validate", "-json", "-no-color"]);
    let json: Value = serde_json::from_str(&raw.stdout).unwrap_or_else(|e| panic!("{e}: {raw}"));
    let diags = json["diagnostics"].as_array().expect("diagnostics");
    assert_eq!(diags.len(), 1, "{json}");
    let d = &diags[0];
    assert_eq!(d["severity"], "error");
    let detail = d["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("database_password_wo") && detail.contains("Upgrade Terraform"),
        "{d}"
    );
    // Terraform quotes the configuration line in its snippet; the provider's own words never carry
    // the value.
    for field in ["summary", "detail"] {
        assert!(
            !d[field].as_str().unwrap_or_default().contains("s3cret"),
            "{d}"
        );
    }
    let plan = tf.plan(&[]);
    assert!(!plan.success(), "{plan}");
    assert!(plan.contains("Terraform 1.11 or later"), "{plan}");

    // The stored-password alternative works on 1.0.3.
    tf.write_file(
        "main.tf",
        resource_with("  database_password = \"s3cret-stored\""),
    );
    let ok = tf.validate();
    assert!(ok.success(), "{ok}");
}

#[test]
fn write_only_password_validates_on_terraform_latest() {
    let tf = terraform(Terraform::latest());
    tf.write_file(
        "main.tf",
        resource_with(
            "  database_password_wo         = \"s3cret-write-only\"\n  database_password_wo_version = 1",
        ),
    );
    tf.init_ok();
    let out = tf.validate();
    assert!(out.success(), "{out}");
}
