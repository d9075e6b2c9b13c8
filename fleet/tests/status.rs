//! `stagesub-fleet status` against real tenant databases: each tenant's history against the
//! files, its directory status and last apply, and the drifted ones (missing, extra, changed).

mod common;

use common::{Fleet, base_migrations, fleet, json};

#[test]
fn status_reports_applied_migrations_last_apply_and_drift() {
    let f = Fleet::create("sta", 5);
    f.mark(4, "archived");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    base_migrations(&dir);
    let state = tmp.path().join("run.json");
    let run = fleet(
        &[
            "apply",
            "--mode",
            "migrations",
            "--migrations-dir",
            dir.to_str().unwrap(),
            "--state-file",
            state.to_str().unwrap(),
            "--run-id",
            "roll-1",
        ],
        &f.env(),
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    // The progress line (not a terminal: printed as lines) ends with the final counts.
    assert!(
        run.stderr
            .contains("fleet: 4 done, 0 failed, 0 remaining of 4 |"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("/s | elapsed"), "{}", run.stderr);
    let status = |extra: &[&str]| {
        let mut a = vec!["status", "--migrations-dir", dir.to_str().unwrap()];
        a.extend_from_slice(extra);
        fleet(&a, &f.env())
    };
    let clean = status(&["--json", "--fail-on-drift"]);
    assert_eq!(clean.code, Some(0), "{clean:?}");
    let v: serde_json::Value = serde_json::from_str(&clean.stdout).unwrap();
    assert_eq!(v["drifted"].as_array().unwrap().len(), 0, "{v:#}");

    // Out-of-band changes: a history row deleted, one added, one migration's statements edited.
    f.query(
        1,
        "DELETE FROM supabase_migrations.schema_migrations WHERE version = '20260102000000'",
    );
    f.query(
        2,
        "INSERT INTO supabase_migrations.schema_migrations(version, name, statements) \
         VALUES ('20251231000000', 'hotfix', ARRAY['SELECT 1'])",
    );
    f.query(
        3,
        "UPDATE supabase_migrations.schema_migrations SET statements = ARRAY['CREATE TABLE venues (id int)'] \
         WHERE version = '20260102000000'",
    );
    let drift = status(&[
        "--json",
        "--fail-on-drift",
        "--state-file",
        state.to_str().unwrap(),
    ]);
    assert_eq!(drift.code, Some(3), "{drift:?}");
    let v: serde_json::Value = serde_json::from_str(&drift.stdout).unwrap();
    let names: Vec<&str> = v["drifted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [&f.subdomains[1], &f.subdomains[2], &f.subdomains[3]]
    );
    let t = |i: usize| &v["tenants"][i];
    assert_eq!(t(0)["drifted"], false);
    assert_eq!(t(0)["applied"].as_array().unwrap().len(), 2);
    assert_eq!(t(0)["last_apply"]["run_id"], "roll-1");
    assert_eq!(t(0)["last_apply"]["outcome"], "applied");
    assert_eq!(t(0)["status"], "ready");
    assert_eq!(t(1)["missing"][0], "20260102000000_venues");
    assert_eq!(t(2)["extra"][0], "20251231000000_hotfix");
    assert_eq!(t(3)["changed"][0], "20260102000000_venues");
    assert_eq!(t(4)["status"], "archived");
    assert!(t(4)["last_apply"].is_null());

    let table = status(&[]);
    assert_eq!(
        table.code,
        Some(0),
        "without --fail-on-drift drift is reported, not an error"
    );
    assert!(
        table.stdout.contains("missing 20260102000000_venues"),
        "{}",
        table.stdout
    );
    assert!(
        table
            .stdout
            .contains("5 tenants, 2 migrations in the folder, 3 drifted"),
        "{}",
        table.stdout
    );
    assert!(!table.stdout.contains(common::PASSWORD));
    // The next rollout repairs what is missing; changed and extra stay for a human.
    let run = fleet(
        &[
            "apply",
            "--mode",
            "migrations",
            "--migrations-dir",
            dir.to_str().unwrap(),
            "--state-file",
            tmp.path().join("run2.json").to_str().unwrap(),
            "--max-failures",
            "5",
            "--report-json",
            tmp.path().join("r2.json").to_str().unwrap(),
            "-q",
        ],
        &f.env(),
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    let r = json(&tmp.path().join("r2.json"));
    let outcome = |i: usize| {
        r["tenants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["subdomain"] == f.subdomains[i].as_str())
            .unwrap()["outcome"]
            .clone()
    };
    assert_eq!(
        outcome(1),
        "failed",
        "the venues table exists: the re-apply fails, loudly"
    );
    assert_eq!(outcome(2), "applied");
    assert_eq!(outcome(3), "failed");
}
