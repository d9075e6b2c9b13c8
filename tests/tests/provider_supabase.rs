//! The `supabase` backend through real Terraform 1.15.5 against the Supabase stand-in (real databases
//! behind it): create three orchestras, empty plan, rename in place (seed follows), a region change
//! replaces, a project deleted behind Terraform's back is re-created, an `import {}` block and
//! `terraform import` adopt a project with an empty plan after, `archived` pauses (INACTIVE) and
//! restores (ACTIVE_HEALTHY), and deletion protection holds.

mod common;

use common::{Standin, orchestra, profile_seed_attr, seeded_name, state_str};
use serde_json::{Value, json};
use supabase_standin::FaultsPatch;

struct Tenants {
    a: String,
    b: String,
    c: String,
}

struct Knobs<'a> {
    a_name: &'a str,
    b_region: &'a str,
    a_archived: bool,
    protection: bool,
    import_c: Option<&'a str>,
}

fn config(standin: &Standin, t: &Tenants, k: &Knobs<'_>) -> String {
    let protection = if k.protection {
        ""
    } else {
        "  deletion_protection = false\n"
    };
    let mut a = profile_seed_attr();
    a.push_str("  region = \"eu-central-1\"\n");
    a.push_str(protection);
    if k.a_archived {
        a.push_str("  archived = true\n  archive_mode = \"pause\"\n");
    }
    // b may be replaced (region): replacing destroys, so its protection is off.
    let b = format!(
        "{}  region = \"{}\"\n  deletion_protection = false\n",
        profile_seed_attr(),
        k.b_region
    );
    // c has no seed and default settings, so an import can match its configuration.
    let import = k
        .import_c
        .map(|id| format!("import {{\n  to = stagesub_orchestra_database.c\n  id = \"{id}\"\n}}\n"))
        .unwrap_or_default();
    format!(
        "{}\n{}\n{}\n{}\n{import}",
        standin.provider_hcl(),
        orchestra("a", &t.a, k.a_name, &a),
        orchestra("b", &t.b, "Sinfonietta B", &b),
        orchestra("c", &t.c, "Kammerensemble C", protection),
    )
}

fn change<'a>(plan: &'a Value, address: &str) -> &'a Value {
    plan["resource_changes"]
        .as_array()
        .expect("resource_changes")
        .iter()
        .find(|c| c["address"] == address)
        .map(|c| &c["change"])
        .unwrap_or_else(|| panic!("no change for {address} in {plan}"))
}

fn project_status(standin: &Standin, project_ref: &str) -> String {
    standin.project(project_ref).expect("project exists")["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn lifecycle_against_the_standin() {
    let standin = Standin::start(FaultsPatch {
        rate_limit_per_minute: Some(0),
        ..FaultsPatch::default()
    });
    let tf = common::terraform();
    let sfx = common::suffix();
    let t = Tenants {
        a: format!("sba-{sfx}"),
        b: format!("sbb-{sfx}"),
        c: format!("sbc-{sfx}"),
    };
    let mut k = Knobs {
        a_name: "Wiener Kammerphilharmonie",
        b_region: "eu-central-1",
        a_archived: false,
        protection: true,
        import_c: None,
    };
    let (a, b, c) = (
        "stagesub_orchestra_database.a",
        "stagesub_orchestra_database.b",
        "stagesub_orchestra_database.c",
    );

    // Create three: one project each, named orchestra-<subdomain>; the next plan is empty.
    tf.write_file("main.tf", config(&standin, &t, &k));
    let apply = tf.apply_ok();
    assert!(apply.contains("3 added, 0 changed, 0 destroyed"), "{apply}");
    let mut names: Vec<String> = standin
        .projects()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            format!("orchestra-{}", t.a),
            format!("orchestra-{}", t.b),
            format!("orchestra-{}", t.c)
        ]
    );
    tf.assert_plan_empty();
    assert_eq!(seeded_name(&tf, a), "Wiener Kammerphilharmonie");
    assert_eq!(
        state_str(&tf, a, "status").as_deref(),
        Some("ACTIVE_HEALTHY")
    );

    // Renaming is in place, and the seed follows.
    k.a_name = "Wiener Kammerphilharmonie 2";
    tf.write_file("main.tf", config(&standin, &t, &k));
    let plan = tf.plan_json(&[]);
    assert_eq!(change(&plan, a)["actions"], json!(["update"]), "{plan}");
    tf.apply_ok();
    assert_eq!(seeded_name(&tf, a), "Wiener Kammerphilharmonie 2");
    tf.assert_plan_empty();

    // A region change replaces the project.
    let old_b = state_str(&tf, b, "id").unwrap();
    k.b_region = "ap-southeast-1";
    tf.write_file("main.tf", config(&standin, &t, &k));
    let plan = tf.plan_json(&[]);
    let actions = change(&plan, b)["actions"].clone();
    assert!(
        actions == json!(["delete", "create"]) || actions == json!(["create", "delete"]),
        "{plan}"
    );
    tf.apply_ok();
    let new_b = state_str(&tf, b, "id").unwrap();
    assert_ne!(new_b, old_b);
    assert!(standin.project(&old_b).is_none(), "old project deleted");
    assert_eq!(
        standin.project(&new_b).unwrap()["region"],
        json!("ap-southeast-1")
    );
    assert_eq!(seeded_name(&tf, b), "Sinfonietta B");
    tf.assert_plan_empty();

    // A project deleted behind Terraform's back is planned again and re-created.
    let old_c = state_str(&tf, c, "id").unwrap();
    standin.delete_project(&old_c);
    let plan = tf.plan_json(&[]);
    assert_eq!(change(&plan, c)["actions"], json!(["create"]), "{plan}");
    tf.apply_ok();
    let c_ref = state_str(&tf, c, "id").unwrap();
    assert_ne!(c_ref, old_c);
    tf.assert_plan_empty();

    // An import {} block adopts the project: the tenant values come back from the project's
    // `stagesub.tenant` table (read with temporary read-only credentials, as the database password is
    // not known at import), so importing changes nothing and the plan after it is empty.
    tf.state_rm_ok(c);
    k.import_c = Some(&c_ref);
    tf.write_file("main.tf", config(&standin, &t, &k));
    let plan = tf.plan_json(&[]);
    let imported = change(&plan, c);
    assert_eq!(imported["importing"]["id"], json!(c_ref), "{plan}");
    assert_eq!(imported["actions"], json!(["no-op"]), "{plan}");
    let (before, after) = (&imported["before"], &imported["after"]);
    assert_eq!(
        before["orchestra_name"],
        json!("Kammerensemble C"),
        "{imported}"
    );
    let differing: Vec<&String> = after
        .as_object()
        .unwrap()
        .keys()
        .filter(|key| before[key.as_str()] != after[key.as_str()])
        .collect();
    assert!(differing.is_empty(), "{differing:?} in {imported}");
    // Connection details come from the API on import.
    assert!(before["database_host"].is_string(), "{imported}");
    let logins = standin
        .stats()
        .calls("POST /v1/projects/{ref}/cli/login-role");
    assert!(logins >= 1, "import asked for a temporary login role");
    tf.apply_ok();
    tf.assert_plan_empty();
    k.import_c = None;
    tf.write_file("main.tf", config(&standin, &t, &k));
    tf.assert_plan_empty();

    // `terraform import` adopts it too, and the plan after it is empty (detailed exit code 0).
    tf.state_rm_ok(c);
    tf.import_ok(c, &c_ref);
    assert_eq!(
        state_str(&tf, c, "orchestra_name").as_deref(),
        Some("Kammerensemble C")
    );
    tf.assert_plan_empty();

    // archived = true with archive_mode = "pause" pauses the project (INACTIVE); false restores it
    // (ACTIVE_HEALTHY), data kept.
    let a_ref = state_str(&tf, a, "id").unwrap();
    k.a_archived = true;
    tf.write_file("main.tf", config(&standin, &t, &k));
    tf.apply_ok();
    assert_eq!(project_status(&standin, &a_ref), "INACTIVE");
    assert_eq!(state_str(&tf, a, "status").as_deref(), Some("INACTIVE"));
    tf.assert_plan_empty();
    k.a_archived = false;
    tf.write_file("main.tf", config(&standin, &t, &k));
    tf.apply_ok();
    assert_eq!(project_status(&standin, &a_ref), "ACTIVE_HEALTHY");
    assert_eq!(seeded_name(&tf, a), "Wiener Kammerphilharmonie 2");
    tf.assert_plan_empty();

    // Deletion protection: destroy fails clearly and deletes nothing; turned off, destroy works.
    tf.destroy(&[])
        .assert_failure_contains("Deletion protection is on");
    assert!(standin.project(&a_ref).is_some());
    k.protection = false;
    tf.write_file("main.tf", config(&standin, &t, &k));
    tf.apply_ok();
    let destroy = tf.destroy_ok();
    assert!(destroy.contains("3 destroyed"), "{destroy}");
    assert!(standin.projects().is_empty());
}
