//! The `supabase` backend under the stand-in's faults, through real Terraform 1.15.5: lost answers to
//! `POST /v1/projects` leave exactly one project and a correct state; a project that never gets healthy
//! is recorded in state as tainted (not orphaned); `INIT_FAILED` fails fast with the status name; 429
//! storms and 5xx bursts slow a run down but do not fail it.

mod common;

use std::time::{Duration, Instant};

use common::{Standin, orchestra, profile_seed_attr, seeded_name, state_str};
use serde_json::{Value, json};
use stagesub_acceptance::Terraform;
use supabase_standin::{FaultsPatch, Stats};

fn no_rate_limit() -> FaultsPatch {
    FaultsPatch {
        rate_limit_per_minute: Some(0),
        ..FaultsPatch::default()
    }
}

/// Orchestra blocks for `subs` (label `t<i>`), seeded, unprotected, with `extra` HCL.
fn tenants(standin: &Standin, subs: &[String], extra: &str) -> String {
    let blocks: Vec<String> = subs
        .iter()
        .enumerate()
        .map(|(i, sub)| {
            orchestra(
                &format!("t{i}"),
                sub,
                &format!("Orchestra {i}"),
                &format!(
                    "{}  deletion_protection = false\n{extra}",
                    profile_seed_attr()
                ),
            )
        })
        .collect();
    format!("{}\n{}", standin.provider_hcl(), blocks.join("\n"))
}

fn project_names(standin: &Standin) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = standin
        .projects()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["ref"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

/// The resource object (with `tainted`) from `terraform show -json`.
fn state_resource(tf: &Terraform, address: &str) -> Option<Value> {
    let state = tf.state_json();
    state["values"]["root_module"]["resources"]
        .as_array()?
        .iter()
        .find(|r| r["address"] == address)
        .cloned()
}

#[test]
fn lost_create_answers_leave_exactly_one_project_and_a_correct_state() {
    let standin = Standin::start(no_rate_limit());
    let tf = common::terraform();
    let sfx = common::suffix();
    let subs = vec![format!("lost-a-{sfx}"), format!("lost-b-{sfx}")];

    // The create happens, then the answer is a 500.
    standin.set(FaultsPatch {
        fail_next_create_after_commit: Some(true),
        ..FaultsPatch::default()
    });
    tf.write_file("main.tf", tenants(&standin, &subs[..1], ""));
    tf.apply_ok();
    // The create happens, then the connection closes without an answer.
    standin.set(FaultsPatch {
        drop_next_create_after_commit: Some(true),
        ..FaultsPatch::default()
    });
    tf.write_file("main.tf", tenants(&standin, &subs, ""));
    tf.apply_ok();

    let projects = project_names(&standin);
    assert_eq!(
        projects.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
        vec![
            format!("orchestra-{}", subs[0]),
            format!("orchestra-{}", subs[1])
        ]
    );
    assert_eq!(
        standin.stats().calls("POST /v1/projects"),
        2,
        "no second POST"
    );
    for (i, (_, project_ref)) in projects.iter().enumerate() {
        let address = format!("stagesub_orchestra_database.t{i}");
        assert_eq!(state_str(&tf, &address, "id").as_ref(), Some(project_ref));
        assert_eq!(seeded_name(&tf, &address), format!("Orchestra {i}"));
    }
    tf.assert_plan_empty();
    tf.destroy_ok();
    assert!(standin.projects().is_empty());
}

#[test]
fn a_project_that_never_gets_healthy_is_recorded_tainted() {
    let standin = Standin::start(FaultsPatch {
        never_healthy: Some(true),
        ..no_rate_limit()
    });
    let tf = common::terraform();
    let subs = vec![common::subdomain("stuck")];
    let address = "stagesub_orchestra_database.t0";
    tf.write_file(
        "main.tf",
        tenants(&standin, &subs, "  timeouts {\n    create = \"5s\"\n  }\n"),
    );
    let failed = tf.apply(&[]);
    assert!(!failed.success(), "{failed}");
    assert!(
        failed.contains("did not become healthy"),
        "clear message\n{failed}"
    );

    // Exactly one project exists, and the state holds it (with its id), tainted.
    let projects = project_names(&standin);
    assert_eq!(projects.len(), 1, "{projects:?}");
    let project_ref = &projects[0].1;
    assert!(
        failed.contains(project_ref),
        "the error names the project\n{failed}"
    );
    let list = tf.run(&["state", "list"]);
    assert!(list.stdout.lines().any(|l| l == address), "{list}");
    let resource = state_resource(&tf, address).expect("in state");
    assert_eq!(resource["tainted"], json!(true), "{resource}");
    assert_eq!(
        resource["values"]["id"].as_str(),
        Some(project_ref.as_str())
    );

    // Once the service recovers, the next apply replaces the tainted project: still no orphan.
    standin.set(FaultsPatch {
        never_healthy: Some(false),
        ..FaultsPatch::default()
    });
    let plan = tf.plan_json(&[]);
    assert_eq!(
        plan["resource_changes"][0]["change"]["actions"],
        json!(["delete", "create"]),
        "{plan}"
    );
    tf.apply_ok();
    let projects = project_names(&standin);
    assert_eq!(projects.len(), 1, "{projects:?}");
    assert_ne!(&projects[0].1, project_ref);
    assert_eq!(seeded_name(&tf, address), "Orchestra 0");
    tf.destroy_ok();
}

#[test]
fn init_failed_fails_fast_with_the_status_name() {
    let standin = Standin::start(FaultsPatch {
        init_failed: Some(true),
        ..no_rate_limit()
    });
    let tf = common::terraform();
    let subs = vec![common::subdomain("initf")];
    tf.write_file(
        "main.tf",
        tenants(&standin, &subs, "  timeouts {\n    create = \"10m\"\n  }\n"),
    );
    let started = Instant::now();
    let failed = tf.apply(&[]);
    let took = started.elapsed();
    assert!(!failed.success(), "{failed}");
    assert!(failed.contains("INIT_FAILED"), "{failed}");
    // Far below the 10-minute create timeout: the failure status ends the wait.
    assert!(took < Duration::from_secs(120), "took {took:?}");
    let projects = project_names(&standin);
    assert_eq!(projects.len(), 1);
    let resource = state_resource(&tf, "stagesub_orchestra_database.t0").expect("in state");
    assert_eq!(resource["tainted"], json!(true), "{resource}");
    assert_eq!(
        resource["values"]["id"].as_str(),
        Some(projects[0].1.as_str())
    );
}

/// Creates `count` orchestras under `faults` (after `before` ran), then checks the result and that
/// the plan is empty; returns the provider's call counts of the apply (before the test's checks).
fn converges_under(
    faults: FaultsPatch,
    prefix: &str,
    count: usize,
    before: impl FnOnce(&Standin),
) -> Stats {
    let standin = Standin::start(faults);
    let tf = common::terraform();
    let subs: Vec<String> = (0..count)
        .map(|i| common::subdomain(&format!("{prefix}{i}")))
        .collect();
    tf.write_file("main.tf", tenants(&standin, &subs, ""));
    before(&standin);
    standin.reset_stats();
    let started = Instant::now();
    tf.apply_ok();
    let stats = standin.stats();
    eprintln!(
        "{prefix}: apply of {count} orchestras took {:?}; calls: {stats:?}",
        started.elapsed()
    );
    assert_eq!(project_names(&standin).len(), count);
    for i in 0..count {
        assert_eq!(
            seeded_name(&tf, &format!("stagesub_orchestra_database.t{i}")),
            format!("Orchestra {i}")
        );
    }
    tf.assert_plan_empty();
    stats
}

#[test]
fn a_429_storm_slows_the_run_but_does_not_fail_it() {
    let stats = converges_under(
        FaultsPatch {
            rate_limit_per_minute: Some(20),
            ..FaultsPatch::default()
        },
        "rl",
        2,
        // The window is used up when Terraform starts: the provider's first calls get 429s.
        |standin| {
            standin.exhaust_provider_window();
        },
    );
    assert!(
        stats.responses.get("429").copied().unwrap_or(0) > 0,
        "the limit was hit: {stats:?}"
    );
}

#[test]
fn a_5xx_burst_slows_the_run_but_does_not_fail_it() {
    let stats = converges_under(
        FaultsPatch {
            error_rate_5xx: Some(0.3),
            ..no_rate_limit()
        },
        "fx",
        3,
        |_| {},
    );
    let errors: u64 = ["500", "502", "503"]
        .iter()
        .map(|s| stats.responses.get(*s).copied().unwrap_or(0))
        .sum();
    assert!(errors > 0, "errors were injected: {stats:?}");
}
