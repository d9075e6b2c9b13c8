//! Plan-time validation of every tenant attribute through the `stagesub-tenant` rules: a bad
//! subdomain, orchestra name (control, bidi and other invisible format characters), contact email,
//! plan or region fails `terraform plan` with a diagnostic pointing at the attribute, before anything is
//! created; values unknown at plan are checked later, not refused.

mod common;

use common::{orchestra, postgres_provider};
use stagesub_acceptance::{Terraform, TfOutput, hcl_string};

/// One resource per bad value: (label, the attribute's HCL line, the error's summary, a part of its
/// detail).
fn bad_values() -> Vec<(&'static str, String, &'static str, &'static str)> {
    vec![
        (
            "reserved",
            "subdomain      = \"www\"".into(),
            "Invalid value for \"subdomain\"",
            "is reserved",
        ),
        (
            "uppercase",
            "subdomain      = \"Bad_Sub\"".into(),
            "Invalid value for \"subdomain\"",
            "may only contain lowercase letters",
        ),
        (
            "bidi",
            "orchestra_name = \"Evil \\u202Egnp.exe\"".into(),
            "Invalid value for \"orchestra_name\"",
            "U+202E",
        ),
        (
            "linesep",
            "orchestra_name = \"Line\\u2028Break\"".into(),
            "Invalid value for \"orchestra_name\"",
            "U+2028",
        ),
        (
            "control",
            "orchestra_name = \"Tab\\tName\"".into(),
            "Invalid value for \"orchestra_name\"",
            "U+0009",
        ),
        (
            "email",
            "contact_email  = \"nope\"".into(),
            "Invalid value for \"contact_email\"",
            "is not a valid email address",
        ),
        (
            "plan",
            "plan           = \"gold\"".into(),
            "Invalid value for \"plan\"",
            "is not one of free, pro, enterprise",
        ),
        (
            "region",
            "region         = \"mars-1\"".into(),
            "Invalid value for \"region\"",
            "is not a Supabase region",
        ),
    ]
}

/// A configuration with every bad value, each in its own resource, otherwise valid.
fn bad_config() -> String {
    let blocks: Vec<String> = bad_values()
        .iter()
        .enumerate()
        .map(|(i, (label, line, _, _))| {
            let sub = format!("bad{i}-{}", common::suffix());
            let mut block = orchestra(label, &sub, "Valid Name", "");
            let attr = line.split_whitespace().next().unwrap();
            if ["subdomain", "orchestra_name"].contains(&attr) {
                // Replace the valid value the helper wrote with the bad one.
                let start = block.find(&format!("  {attr}")).unwrap();
                let end = start + block[start..].find('\n').unwrap();
                block.replace_range(start..end, &format!("  {line}"));
            } else {
                block = block.replacen("}\n", &format!("  {line}\n}}\n"), 1);
            }
            block
        })
        .collect();
    format!("{}\n{}", postgres_provider(), blocks.join("\n"))
}

/// Every bad value fails with its own error, whose source snippet is the attribute's line (Terraform
/// shows the line of the attribute path the diagnostic carries).
fn assert_each_error(config: &str, out: &TfOutput) {
    assert!(!out.success(), "{out}");
    for (label, line, summary, detail) in bad_values() {
        let n = config
            .lines()
            .position(|l| l.trim() == line)
            .expect("the bad line is in the configuration")
            + 1;
        let at = format!(
            "on main.tf line {n}, in resource \"stagesub_orchestra_database\" \"{label}\": {n}: {line}"
        );
        for needle in [summary, detail, at.as_str()] {
            assert!(out.contains(needle), "{label}: {needle:?} missing\n{out}");
        }
    }
    assert_eq!(
        out.combined().matches("Error: Invalid value for").count(),
        bad_values().len(),
        "one error per bad value, no more\n{out}"
    );
}

fn plan_refuses_bad_values(tf: &Terraform) {
    let config = bad_config();
    tf.write_file("main.tf", &config);
    assert_each_error(&config, &tf.plan(&[]));
    // `terraform validate` says the same.
    assert_each_error(&config, &tf.validate());
}

#[test]
fn plan_refuses_bad_tenant_values() {
    plan_refuses_bad_values(&common::terraform());
}

#[test]
fn plan_refuses_bad_tenant_values_on_terraform_1_0() {
    plan_refuses_bad_values(&common::terraform_1_0());
}

#[test]
fn good_and_unknown_values_plan() {
    let tf = common::terraform();
    let sub = common::subdomain("val");
    // `terraform_data.output` is unknown until apply: its value is checked then, not refused at plan.
    let extra = "  contact_email  = terraform_data.later.output\n  plan           = terraform_data.later.output\n  region         = \"emea\"\n";
    tf.write_file(
        "main.tf",
        format!(
            "{}\nresource \"terraform_data\" \"later\" {{\n  input = \"office@example.org\"\n}}\n\n{}\n{}",
            postgres_provider(),
            orchestra("t", &sub, "Orquesta Sinfónica — 東京フィル «Ü»", extra),
            orchestra(
                "u",
                &common::subdomain("val"),
                "Plain",
                &format!(
                    "  contact_email  = {}\n  plan           = \"enterprise\"\n  region         = \"eu-central-1\"\n",
                    hcl_string("first.last+tag@mail.example.org")
                )
            ),
        ),
    );
    let plan = tf.plan(&[]);
    assert_eq!(plan.code, Some(2), "changes, no error\n{plan}");
    assert!(plan.contains("3 to add"), "{plan}");
}
