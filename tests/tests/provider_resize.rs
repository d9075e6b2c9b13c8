//! `instance_size` changes in place through real Terraform 1.15.5 against the Supabase stand-in:
//! micro → small → (drift to medium behind Terraform's back, shown and undone) → micro, each an
//! in-place update with deletion protection on, the project ref and the rows written before kept; a
//! size the organization cannot use fails the apply clearly and leaves the project as it was. With the
//! `postgres` backend, a change is recorded in place with a warning and nothing else happens.

mod common;

use common::{PgTenants, Standin, orchestra, profile_seed_attr, state_str, try_query};
use serde_json::{Value, json};
use stagesub_acceptance::terraform::hcl_string;
use supabase_standin::FaultsPatch;

const ADDRESS: &str = "stagesub_orchestra_database.a";

fn change(plan: &Value) -> &Value {
    plan["resource_changes"]
        .as_array()
        .expect("resource_changes")
        .iter()
        .find(|c| c["address"] == ADDRESS)
        .map(|c| &c["change"])
        .unwrap_or_else(|| panic!("no change for {ADDRESS} in {plan}"))
}

fn supabase_config(standin: &Standin, subdomain: &str, size: &str) -> String {
    let extra = format!(
        "{}  instance_size = {}\n",
        profile_seed_attr(),
        hcl_string(size)
    );
    format!(
        "{}\n{}",
        standin.provider_hcl(),
        orchestra("a", subdomain, "Resize Ensemble", &extra)
    )
}

/// The compute variant in force (`None` on nano), read from the stand-in.
fn compute_variant(standin: &Standin, project_ref: &str) -> Option<String> {
    let (status, body) = standin.api(
        "GET",
        &format!("/v1/projects/{project_ref}/billing/addons"),
        None,
    );
    assert_eq!(status, 200, "{body}");
    body["selected_addons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["type"] == "compute_instance")
        .map(|a| a["variant"]["id"].as_str().unwrap().to_owned())
}

fn rows(url: &str) -> Vec<Vec<Option<String>>> {
    try_query(url, "SELECT note FROM concert_log ORDER BY id").expect("rows readable")
}

#[test]
fn instance_size_changes_in_place_both_ways() {
    let standin = Standin::start(FaultsPatch {
        rate_limit_per_minute: Some(0),
        resize_ms: Some(1500),
        ..FaultsPatch::default()
    });
    let tf = common::terraform();
    let sub = common::subdomain("rsz");

    // Created at micro: the project has the micro compute add-on.
    tf.write_file("main.tf", supabase_config(&standin, &sub, "micro"));
    tf.apply_ok();
    let project_ref = state_str(&tf, ADDRESS, "id").unwrap();
    assert_eq!(
        compute_variant(&standin, &project_ref).as_deref(),
        Some("ci_micro")
    );
    tf.assert_plan_empty();
    let url = state_str(&tf, ADDRESS, "database_url").unwrap();
    try_query(
        &url,
        "CREATE TABLE concert_log (id serial PRIMARY KEY, note text NOT NULL);\
         INSERT INTO concert_log (note) VALUES ('Mahler 5'), ('it''s \"quoted\" \\ ${x}'), ('Bruckner 7');",
    )
    .unwrap();
    let before = rows(&url);
    assert_eq!(before.len(), 3);

    // Up to small: an in-place update (deletion protection is on), same ref, rows kept.
    tf.write_file("main.tf", supabase_config(&standin, &sub, "small"));
    let plan = tf.plan_json(&[]);
    let planned = change(&plan);
    assert_eq!(planned["actions"], json!(["update"]), "{plan}");
    assert_eq!(planned["after"]["instance_size"], "small");
    assert_eq!(planned["after"]["id"], json!(project_ref));
    let text = tf.plan(&[]);
    assert!(text.contains("updated in-place"), "{}", text.combined());
    assert!(!text.contains("must be replaced"), "{}", text.combined());
    standin.reset_stats();
    let apply = tf.apply_ok();
    assert!(apply.contains("0 added, 1 changed, 0 destroyed"), "{apply}");
    assert_eq!(
        state_str(&tf, ADDRESS, "id").as_deref(),
        Some(project_ref.as_str())
    );
    assert_eq!(
        state_str(&tf, ADDRESS, "instance_size").as_deref(),
        Some("small")
    );
    assert_eq!(
        state_str(&tf, ADDRESS, "status").as_deref(),
        Some("ACTIVE_HEALTHY")
    );
    assert_eq!(
        compute_variant(&standin, &project_ref).as_deref(),
        Some("ci_small")
    );
    let stats = standin.stats();
    assert_eq!(stats.calls("PATCH /v1/projects/{ref}/billing/addons"), 1);
    assert_eq!(stats.calls("POST /v1/projects"), 0);
    assert_eq!(stats.calls("DELETE /v1/projects/{ref}"), 0);
    assert_eq!(standin.projects().len(), 1);
    assert_eq!(rows(&url), before, "the rows survived the resize");
    tf.assert_plan_empty();

    // A size changed behind Terraform's back shows in the plan, and apply puts it back.
    let (status, body) = standin.api(
        "PATCH",
        &format!("/v1/projects/{project_ref}/billing/addons"),
        Some(&json!({"addon_type": "compute_instance", "addon_variant": "ci_medium"})),
    );
    assert_eq!(status, 200, "{body}");
    assert!(common::eventually(
        std::time::Duration::from_secs(20),
        || { standin.project(&project_ref).unwrap()["status"] == "ACTIVE_HEALTHY" }
    ));
    let plan = tf.plan_json(&[]);
    let drift = change(&plan);
    assert_eq!(drift["actions"], json!(["update"]), "{plan}");
    assert_eq!(drift["before"]["instance_size"], "medium", "{plan}");
    assert_eq!(drift["after"]["instance_size"], "small", "{plan}");
    tf.apply_ok();
    assert_eq!(
        compute_variant(&standin, &project_ref).as_deref(),
        Some("ci_small")
    );
    tf.assert_plan_empty();

    // Down to micro: in place as well.
    tf.write_file("main.tf", supabase_config(&standin, &sub, "micro"));
    let apply = tf.apply_ok();
    assert!(apply.contains("0 added, 1 changed, 0 destroyed"), "{apply}");
    assert_eq!(
        compute_variant(&standin, &project_ref).as_deref(),
        Some("ci_micro")
    );
    assert_eq!(rows(&url), before);
    tf.assert_plan_empty();

    // The organization's plan does not include large: a clear error, the project untouched.
    standin.set(FaultsPatch {
        allowed_compute_sizes: Some("nano,micro".into()),
        ..FaultsPatch::default()
    });
    standin.reset_stats();
    tf.write_file("main.tf", supabase_config(&standin, &sub, "large"));
    let failed = tf.apply(&[]);
    failed.assert_failure_contains("Compute size `large` is not available");
    for needle in [
        "Upgrade the organization's plan",
        "`micro`",
        "was not changed",
        &project_ref,
    ] {
        assert!(failed.contains(needle), "{needle}: {}", failed.combined());
    }
    assert_eq!(
        standin
            .stats()
            .calls("PATCH /v1/projects/{ref}/billing/addons"),
        0
    );
    assert_eq!(
        compute_variant(&standin, &project_ref).as_deref(),
        Some("ci_micro")
    );
    assert_eq!(
        standin.project(&project_ref).unwrap()["status"],
        "ACTIVE_HEALTHY"
    );
    assert_eq!(
        state_str(&tf, ADDRESS, "instance_size").as_deref(),
        Some("micro")
    );
    assert_eq!(rows(&url), before);

    // An unknown size is refused at plan, naming the sizes.
    tf.write_file("main.tf", supabase_config(&standin, &sub, "huge"));
    tf.plan(&[])
        .assert_failure_contains("is not a Supabase compute size");

    tf.write_file(
        "main.tf",
        supabase_config(&standin, &sub, "micro").replace(
            "  instance_size",
            "  deletion_protection = false\n  instance_size",
        ),
    );
    tf.apply_ok();
    tf.destroy_ok();
    assert!(standin.projects().is_empty());
}

#[test]
fn postgres_backend_records_instance_size_without_effect() {
    let tf = common::terraform();
    let sub = common::subdomain("rszpg");
    let _guard = PgTenants::new(&[&sub]);
    let config = |size: &str| {
        format!(
            "{}\n{}",
            common::postgres_provider(),
            orchestra(
                "a",
                &sub,
                "Postgres Ensemble",
                &format!(
                    "  instance_size = {}\n  deletion_protection = false\n",
                    hcl_string(size)
                )
            )
        )
    };
    tf.write_file("main.tf", config("micro"));
    let created = tf.apply_ok();
    assert!(
        created.contains("instance_size has no effect with this backend"),
        "{created}"
    );
    let id = state_str(&tf, ADDRESS, "id").unwrap();
    tf.write_file("main.tf", config("small"));
    let plan = tf.plan_json(&[]);
    assert_eq!(change(&plan)["actions"], json!(["update"]), "{plan}");
    tf.apply_ok();
    assert_eq!(state_str(&tf, ADDRESS, "id"), Some(id));
    assert_eq!(
        state_str(&tf, ADDRESS, "instance_size").as_deref(),
        Some("small")
    );
    tf.assert_plan_empty();
    tf.destroy_ok();
}

#[test]
fn resize_converges_through_lost_answers_and_a_short_timeout() {
    let standin = Standin::start(FaultsPatch {
        rate_limit_per_minute: Some(0),
        resize_ms: Some(500),
        ..FaultsPatch::default()
    });
    let tf = common::terraform();
    let sub = common::subdomain("rszf");
    let config = |size: &str, timeouts: &str| {
        let extra = format!(
            "  instance_size = {}\n  deletion_protection = false\n{timeouts}",
            hcl_string(size)
        );
        format!(
            "{}\n{}",
            standin.provider_hcl(),
            orchestra("a", &sub, "Fault Ensemble", &extra)
        )
    };
    tf.write_file("main.tf", config("micro", ""));
    tf.apply_ok();
    let project_ref = state_str(&tf, ADDRESS, "id").unwrap();

    // A third of all calls answer 5xx (before doing anything): the change is read back and sent again
    // only while not in force, so applies converge on small with the same project.
    standin.set(FaultsPatch {
        error_rate_5xx: Some(0.3),
        ..FaultsPatch::default()
    });
    tf.write_file("main.tf", config("small", ""));
    let converged = (0..4).any(|_| tf.apply(&[]).success());
    assert!(converged, "no apply succeeded under 5xx answers");
    standin.set(FaultsPatch {
        error_rate_5xx: Some(0.0),
        ..FaultsPatch::default()
    });
    assert_eq!(
        state_str(&tf, ADDRESS, "id").as_deref(),
        Some(project_ref.as_str())
    );
    assert_eq!(
        compute_variant(&standin, &project_ref).as_deref(),
        Some("ci_small")
    );
    assert!(
        standin
            .stats()
            .calls("PATCH /v1/projects/{ref}/billing/addons")
            <= 4
    );
    tf.assert_plan_empty();

    // The restart outlasts timeouts.update: the apply fails saying so; once the project is healthy,
    // the next apply finishes without changing the size again.
    standin.set(FaultsPatch {
        resize_ms: Some(6000),
        ..FaultsPatch::default()
    });
    tf.write_file(
        "main.tf",
        config("medium", "  timeouts {\n    update = \"2s\"\n  }\n"),
    );
    let failed = tf.apply(&[]);
    failed.assert_failure_contains("did not become healthy after the resize to medium");
    assert!(failed.contains("raise timeouts.update"), "{failed}");
    assert_eq!(
        compute_variant(&standin, &project_ref).as_deref(),
        Some("ci_medium")
    );
    assert!(common::eventually(
        std::time::Duration::from_secs(20),
        || { standin.project(&project_ref).unwrap()["status"] == "ACTIVE_HEALTHY" }
    ));
    standin.reset_stats();
    tf.apply_ok();
    assert_eq!(
        standin
            .stats()
            .calls("PATCH /v1/projects/{ref}/billing/addons"),
        0
    );
    assert_eq!(
        state_str(&tf, ADDRESS, "instance_size").as_deref(),
        Some("medium")
    );
    tf.assert_plan_empty();
    tf.destroy_ok();
}
