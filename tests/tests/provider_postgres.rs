//! The `postgres` backend through real Terraform (1.15.5 and 1.0.3) and a real PostgreSQL: create three
//! orchestras, empty plan, rename in place (seed follows), a database dropped behind Terraform's back is
//! re-created, `terraform import` adopts a database with an empty plan after, `archived` blocks and
//! restores connections, and deletion protection holds until turned off.

mod common;

use common::{PgTenants, orchestra, postgres_provider, profile_seed_attr, seeded_name, state_str};
use serde_json::json;
use stagesub_acceptance::{Terraform, postgres};

struct Tenants {
    a: String,
    b: String,
    c: String,
}

/// a and b are seeded; c is a plain tenant (no seed), so after `terraform import` its configuration
/// and the imported state agree attribute for attribute.
fn config(t: &Tenants, a_name: &str, archived: bool, protection: bool) -> String {
    let common = |extra: String| {
        let mut s = extra;
        if !protection {
            s.push_str("  deletion_protection = false\n");
        }
        s
    };
    let mut a_extra = profile_seed_attr();
    a_extra.push_str("  contact_email = \"conductor@example.org\"\n  plan = \"pro\"\n");
    if archived {
        a_extra.push_str("  archived = true\n  archive_mode = \"pause\"\n");
    }
    format!(
        "{}\n{}\n{}\n{}",
        postgres_provider(),
        orchestra("a", &t.a, a_name, &common(a_extra)),
        orchestra(
            "b",
            &t.b,
            "Orchestre de Chambre \"B\"",
            &common(profile_seed_attr())
        ),
        orchestra(
            "c",
            &t.c,
            "Kammerorchester C",
            &common("  plan = \"free\"\n".into())
        ),
    )
}

fn actions(plan: &serde_json::Value, address: &str) -> serde_json::Value {
    plan["resource_changes"]
        .as_array()
        .expect("resource_changes")
        .iter()
        .find(|c| c["address"] == address)
        .map(|c| c["change"]["actions"].clone())
        .unwrap_or_else(|| panic!("no change for {address} in {plan}"))
}

fn lifecycle(tf: &Terraform) {
    let sfx = common::suffix();
    let t = Tenants {
        a: format!("pga-{sfx}"),
        b: format!("pgb-{sfx}"),
        c: format!("pgc-{sfx}"),
    };
    let _cleanup = PgTenants::new(&[&t.a, &t.b, &t.c]);
    let a = "stagesub_orchestra_database.a";

    // Create three; the next plan is empty.
    tf.write_file("main.tf", config(&t, "Berliner Ensemble", false, true));
    let apply = tf.apply_ok();
    assert!(apply.contains("3 added, 0 changed, 0 destroyed"), "{apply}");
    tf.assert_plan_empty();
    assert_eq!(seeded_name(tf, a), "Berliner Ensemble");
    for sub in [&t.a, &t.b, &t.c] {
        assert!(postgres::database_exists(&PgTenants::database(sub)));
    }
    assert_eq!(
        state_str(tf, a, "id").as_deref(),
        Some(PgTenants::database(&t.a).as_str())
    );

    // Renaming is an in-place update, and the seed follows it.
    tf.write_file("main.tf", config(&t, "Berliner Ensemble 2", false, true));
    let plan = tf.plan_json(&[]);
    assert_eq!(actions(&plan, a), json!(["update"]), "{plan}");
    assert_eq!(
        actions(&plan, "stagesub_orchestra_database.b"),
        json!(["no-op"])
    );
    let apply = tf.apply_ok();
    assert!(apply.contains("0 added, 1 changed, 0 destroyed"), "{apply}");
    assert_eq!(seeded_name(tf, a), "Berliner Ensemble 2");
    tf.assert_plan_empty();

    // A database dropped behind Terraform's back is planned again and re-created.
    let b_db = PgTenants::database(&t.b);
    postgres::drop_database(&b_db);
    postgres::query(&postgres::admin_url(), &format!("DROP ROLE \"{b_db}\""));
    let plan = tf.plan_json(&[]);
    assert_eq!(
        actions(&plan, "stagesub_orchestra_database.b"),
        json!(["create"]),
        "{plan}"
    );
    tf.apply_ok();
    assert!(postgres::database_exists(&b_db));
    assert_eq!(
        seeded_name(tf, "stagesub_orchestra_database.b"),
        "Orchestre de Chambre \"B\""
    );
    tf.assert_plan_empty();

    // Import adopts an existing database (tenant values come back from it): the plan after is empty.
    let c_db = PgTenants::database(&t.c);
    tf.state_rm_ok("stagesub_orchestra_database.c");
    tf.import_ok("stagesub_orchestra_database.c", &c_db);
    assert_eq!(
        state_str(tf, "stagesub_orchestra_database.c", "orchestra_name").as_deref(),
        Some("Kammerorchester C")
    );
    tf.assert_plan_empty();

    // archived = true with archive_mode = "pause" blocks connections (data kept); false restores them.
    let url = state_str(tf, a, "database_url").expect("database_url");
    tf.write_file("main.tf", config(&t, "Berliner Ensemble 2", true, true));
    tf.apply_ok();
    assert_eq!(state_str(tf, a, "status").as_deref(), Some("ARCHIVED"));
    let refused = common::try_query(&url, "SELECT 1").expect_err("archived database refuses");
    assert!(
        refused.contains("not currently accepting connections")
            || refused.contains("not permitted to log in"),
        "{refused}"
    );
    tf.assert_plan_empty();
    tf.write_file("main.tf", config(&t, "Berliner Ensemble 2", false, true));
    tf.apply_ok();
    assert_eq!(state_str(tf, a, "status").as_deref(), Some("ACTIVE"));
    assert_eq!(seeded_name(tf, a), "Berliner Ensemble 2");
    tf.assert_plan_empty();

    // Deletion protection: destroy fails clearly and removes nothing; turned off, destroy works.
    tf.destroy(&[])
        .assert_failure_contains("Deletion protection is on");
    assert!(postgres::database_exists(&PgTenants::database(&t.a)));
    tf.write_file("main.tf", config(&t, "Berliner Ensemble 2", false, false));
    tf.apply_ok();
    let destroy = tf.destroy_ok();
    assert!(destroy.contains("3 destroyed"), "{destroy}");
    for sub in [&t.a, &t.b, &t.c] {
        assert!(!postgres::database_exists(&PgTenants::database(sub)));
    }
}

#[test]
fn lifecycle_on_terraform_latest() {
    lifecycle(&common::terraform());
}

#[test]
fn lifecycle_on_terraform_1_0() {
    lifecycle(&common::terraform_1_0());
}
