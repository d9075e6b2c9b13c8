//! `modules/orchestra/variables.tf` refuses exactly what this crate refuses: one table of values,
//! valid and invalid of every class, runs through [`Tenant::errors`] and through real Terraform
//! (1.0 and the newest release, `terraform plan` of a root module that calls the module's variables
//! once per case), and the failing fields must be the same for every case.
//!
//! Terraform binaries: `STAGESUB_TERRAFORM_1_0` and `STAGESUB_TERRAFORM` (`source .tools/env.sh`,
//! installed by `scripts/setup-tools.sh`), else `.tools/bin/terraform-1.0.3` and `.tools/bin/terraform`.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{Case, cases};
use stagesub_tenant::{Field, Tenant, chars};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn terraform(env: &str, file: &str) -> PathBuf {
    let path = std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools/bin").join(file));
    assert!(
        path.is_file(),
        "{} is missing: run scripts/setup-tools.sh or set {env}",
        path.display()
    );
    path
}

/// The cases packed into as few tenants as possible: tenant `k` holds the `k`-th case of every
/// field (the rules of different fields are independent), the good value where a field has fewer.
fn pack(cases: &[Case]) -> Vec<(Tenant, [Option<usize>; 5])> {
    let mut packed: Vec<(Tenant, [Option<usize>; 5])> = Vec::new();
    for (slot, field) in Field::ALL.into_iter().enumerate() {
        for (k, (index, case)) in cases
            .iter()
            .enumerate()
            .filter(|(_, c)| c.field == field)
            .enumerate()
        {
            if packed.len() == k {
                packed.push((common::good(), [None; 5]));
            }
            let (tenant, origin) = &mut packed[k];
            set(tenant, field, case.tenant.value(field));
            origin[slot] = Some(index);
        }
    }
    packed
}

fn set(tenant: &mut Tenant, field: Field, value: Option<&str>) {
    let value = value.map(str::to_owned);
    match field {
        Field::Subdomain => tenant.subdomain = value.unwrap_or_default(),
        Field::OrchestraName => tenant.orchestra_name = value.unwrap_or_default(),
        Field::ContactEmail => tenant.contact_email = value,
        Field::Plan => tenant.plan = value,
        Field::Region => tenant.region = value,
    }
}

/// The variables of `modules/orchestra` and a root module calling them once per tenant. Returns
/// the working directory and, per line of `main.tf` that passes a value, its tenant and field.
fn workspace(tenants: &[Tenant]) -> (tempfile::TempDir, Vec<Option<(usize, Field)>>) {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("orchestra");
    std::fs::create_dir(&module).unwrap();
    std::fs::copy(
        repo().join("modules/orchestra/variables.tf"),
        module.join("variables.tf"),
    )
    .unwrap();
    let mut main = String::from(
        "variable \"cases\" {\n  type = list(object({ subdomain = string, orchestra_name = string, contact_email = string, plan = string, region = string }))\n}\n",
    );
    let mut lines: Vec<Option<(usize, Field)>> = vec![None; main.lines().count()];
    let mut values = Vec::new();
    for (index, tenant) in tenants.iter().enumerate() {
        main.push_str(&format!(
            "module \"case{index}\" {{\n  source = \"./orchestra\"\n"
        ));
        lines.extend([None, None]);
        for field in Field::ALL {
            let name = field.name();
            main.push_str(&format!("  {name} = var.cases[{index}].{name}\n"));
            lines.push(Some((index, field)));
        }
        main.push_str("}\n");
        lines.push(None);
        let object: serde_json::Map<String, serde_json::Value> = Field::ALL
            .into_iter()
            .map(|field| (field.name().to_owned(), tenant.value(field).into()))
            .collect();
        values.push(serde_json::Value::Object(object));
    }
    std::fs::write(dir.path().join("main.tf"), main).unwrap();
    let tfvars = serde_json::json!({ "cases": values });
    std::fs::write(dir.path().join("cases.tfvars.json"), tfvars.to_string()).unwrap();
    (dir, lines)
}

fn run(terraform: &Path, dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(terraform)
        .args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .env_remove("TF_DATA_DIR")
        .output()
        .unwrap()
}

/// The (tenant, field) pairs Terraform refuses.
fn terraform_verdicts(terraform: &Path, tenants: &[Tenant]) -> BTreeSet<(usize, Field)> {
    let (dir, lines) = workspace(tenants);
    let init = run(
        terraform,
        dir.path(),
        &["init", "-input=false", "-no-color"],
    );
    assert!(init.status.success(), "{init:?}");
    let plan = run(
        terraform,
        dir.path(),
        &[
            "plan",
            "-input=false",
            "-no-color",
            "-json",
            "-var-file=cases.tfvars.json",
        ],
    );
    let mut refused = BTreeSet::new();
    for line in String::from_utf8_lossy(&plan.stdout).lines() {
        let message: serde_json::Value = serde_json::from_str(line).unwrap();
        let Some(diagnostic) = message.get("diagnostic") else {
            continue;
        };
        let summary = diagnostic["summary"].as_str().unwrap_or_default();
        assert_eq!(summary, "Invalid value for variable", "{diagnostic}");
        assert_eq!(diagnostic["range"]["filename"], "main.tf", "{diagnostic}");
        let at = diagnostic["range"]["start"]["line"].as_u64().unwrap() as usize;
        let pair = lines[at - 1].unwrap_or_else(|| panic!("line {at}: {diagnostic}"));
        refused.insert(pair);
    }
    assert_eq!(
        plan.status.success(),
        refused.is_empty(),
        "{}",
        String::from_utf8_lossy(&plan.stderr)
    );
    refused
}

#[test]
fn the_module_refuses_exactly_what_the_tenant_crate_refuses() {
    let cases = cases();
    let refused_by_crate = |case: &Case| {
        case.tenant
            .value(case.field)
            .is_some_and(|v| case.field.validate(v).is_err())
    };
    // The table is worth something only if it holds both verdicts for every field.
    for field in Field::ALL {
        let tried: Vec<&Case> = cases.iter().filter(|c| c.field == field).collect();
        let refused = tried.iter().filter(|c| refused_by_crate(c)).count();
        assert!(
            refused > 0 && refused < tried.len(),
            "{field}: {refused} of {} refused",
            tried.len()
        );
    }
    let packed = pack(&cases);
    let tenants: Vec<Tenant> = packed.iter().map(|(t, _)| t.clone()).collect();
    let expected: BTreeSet<(usize, Field)> = tenants
        .iter()
        .enumerate()
        .flat_map(|(k, tenant)| tenant.errors().into_iter().map(move |e| (k, e.field())))
        .collect();
    for (version, env, file) in [
        ("1.0", "STAGESUB_TERRAFORM_1_0", "terraform-1.0.3"),
        ("newest", "STAGESUB_TERRAFORM", "terraform"),
    ] {
        let actual = terraform_verdicts(&terraform(env, file), &tenants);
        let differ: Vec<String> = expected
            .symmetric_difference(&actual)
            .map(|&(k, field)| {
                let slot = Field::ALL.iter().position(|f| *f == field).unwrap();
                let note = packed[k].1[slot].map_or("the good value", |i| cases[i].note.as_str());
                let rust = if expected.contains(&(k, field)) { "refuses" } else { "accepts" };
                format!(
                    "{field} {:?} ({note}): the tenant crate {rust} it, Terraform {version} does not",
                    tenants[k].value(field)
                )
            })
            .collect();
        assert!(
            differ.is_empty(),
            "{} differences:\n{}",
            differ.len(),
            differ.join("\n")
        );
    }
}

#[test]
fn the_module_and_its_example_copy_carry_the_character_classes() {
    let hcl_escaped = |class: String| class.replace('\\', "\\\\");
    let refused = format!("[{}]", hcl_escaped(chars::hcl_class()));
    let white_space = hcl_escaped(chars::hcl_white_space_class());
    for path in [
        "modules/orchestra/variables.tf",
        "examples/gitops/modules/orchestra/variables.tf",
    ] {
        let text = std::fs::read_to_string(repo().join(path)).unwrap();
        assert_eq!(
            text.matches(&refused).count(),
            2,
            "{path}: the class of chars::REFUSED, once for orchestra_name and once for contact_email"
        );
        assert_eq!(
            text.matches(&white_space).count(),
            3,
            "{path}: the white space class in contact_email's pattern"
        );
    }
}
