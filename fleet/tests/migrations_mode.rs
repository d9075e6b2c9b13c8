//! Migrations mode against real Postgres: tenant databases found through a real tenant directory,
//! canary first, batches, `--max-failures`, resume after a kill, slices, and the reports.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{Fleet, PASSWORD, base_migrations, fleet, json, line, migration, outcomes};

fn args<'a>(dir: &'a str, state: &'a str, report: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "apply",
        "--mode",
        "migrations",
        "--migrations-dir",
        dir,
        "--state-file",
        state,
        "--report-json",
        report,
        "--quiet",
    ];
    a.extend_from_slice(extra);
    a
}

#[test]
fn applies_new_migrations_to_every_ready_tenant_found_in_the_directory() {
    let f = Fleet::create("mig", 6);
    f.mark(5, "archived");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("migrations");
    base_migrations(&dir);
    let (state, report, md, summary) = (
        tmp.path().join("run.json"),
        tmp.path().join("report.json"),
        tmp.path().join("report.md"),
        tmp.path().join("summary.md"),
    );
    let mut env = f.env();
    env.push(("GITHUB_STEP_SUMMARY".into(), summary.display().to_string()));
    let mut a = args(
        dir.to_str().unwrap(),
        state.to_str().unwrap(),
        report.to_str().unwrap(),
        &[
            "--canary",
            "",
            "--parallel",
            "3",
            "--batch-size",
            "2",
            "--run-id",
            "first",
        ],
    );
    a[11] = &f.subdomains[0];
    a.extend(["--report-md", md.to_str().unwrap()]);
    let run = fleet(&a, &env);
    assert_eq!(run.code, Some(0), "{run:?}");
    for i in 0..5 {
        assert_eq!(
            f.versions(i),
            ["20260101000000", "20260102000000"],
            "tenant {i}"
        );
    }
    assert!(f.versions(5).is_empty(), "an archived tenant is left alone");

    let r = json(&report);
    assert_eq!(r["run_id"], "first");
    assert_eq!(r["mode"], "migrations");
    assert_eq!(r["counts"]["applied"], 5);
    assert_eq!(r["counts"]["skipped"], 1);
    assert_eq!(r["counts"]["failed"], 0);
    assert_eq!(line(&r, &f.subdomains[0])["phase"], "canary");
    assert_eq!(
        r["tenants"][0]["subdomain"],
        f.subdomains[0].as_str(),
        "canary first"
    );
    let batch_phases: BTreeSet<&str> = r["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["phase"].as_str())
        .collect();
    assert!(batch_phases.contains("batch 2"), "{batch_phases:?}");
    let one = line(&r, &f.subdomains[1]);
    assert_eq!(
        one["detail"],
        "applied 20260101000000_concerts, 20260102000000_venues"
    );
    assert!(one["duration_ms"].as_u64().unwrap() > 0);
    assert!(
        line(&r, &f.subdomains[5])["detail"]
            .as_str()
            .unwrap()
            .contains("archived")
    );
    let markdown = std::fs::read_to_string(&md).unwrap();
    assert!(markdown.contains("succeeded"), "{markdown}");
    assert!(
        markdown.contains(&format!("`{}`", f.subdomains[3])),
        "{markdown}"
    );
    assert_eq!(std::fs::read_to_string(&summary).unwrap(), markdown);

    // One new migration: only it is applied, a new run, the progress file of the first refused.
    migration(
        &dir,
        "20260103000000",
        "seats",
        "ALTER TABLE venues ADD COLUMN seats int;\n",
    );
    let refused = fleet(&a, &f.env());
    let second = a
        .iter()
        .map(|s| if *s == "first" { "second" } else { s })
        .collect::<Vec<_>>();
    assert_eq!(
        refused.code,
        Some(0),
        "same run id: already done, nothing to do"
    );
    let run = fleet(&second, &f.env());
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stderr.contains("belongs to run \"first\""),
        "{}",
        run.stderr
    );
    std::fs::remove_file(&state).unwrap();
    let run = fleet(&second, &f.env());
    assert_eq!(run.code, Some(0), "{run:?}");
    let r = json(&report);
    assert_eq!(
        line(&r, &f.subdomains[2])["detail"],
        "applied 20260103000000_seats"
    );
    for i in 0..5 {
        assert_eq!(f.versions(i).len(), 3, "tenant {i}");
    }
}

#[test]
fn a_failing_canary_stops_the_run_before_any_batch() {
    let f = Fleet::create("can", 5);
    // The canary's database already has a table the migration creates.
    f.query(1, "CREATE TABLE concerts (x int)");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    base_migrations(&dir);
    let (state, report) = (tmp.path().join("s.json"), tmp.path().join("r.json"));
    let canary = format!("{},{}", f.subdomains[0], f.subdomains[1]);
    let a = args(
        dir.to_str().unwrap(),
        state.to_str().unwrap(),
        report.to_str().unwrap(),
        &[
            "--canary",
            &canary,
            "--parallel",
            "1",
            "--max-failures",
            "10",
        ],
    );
    let run = fleet(&a, &f.env());
    assert_eq!(run.code, Some(1), "{run:?}");
    let r = json(&report);
    assert!(
        r["stopped"].as_str().unwrap().contains("canary failed"),
        "{r:#}"
    );
    assert_eq!(line(&r, &f.subdomains[1])["outcome"], "failed");
    let error = line(&r, &f.subdomains[1])["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(error.contains("42P07"), "{error}");
    for i in 2..5 {
        assert_eq!(line(&r, &f.subdomains[i])["outcome"], "not_started");
        assert!(f.versions(i).is_empty(), "tenant {i} must be untouched");
    }
    assert!(!std::fs::read_to_string(&report).unwrap().contains(PASSWORD));
    assert!(!run.stderr.contains(PASSWORD));
}

#[test]
fn the_run_stops_once_failures_pass_max_failures() {
    let f = Fleet::create("max", 8);
    for i in [1, 2, 3] {
        f.query(i, "CREATE TABLE venues (x int)");
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    base_migrations(&dir);
    let (state, report) = (tmp.path().join("s.json"), tmp.path().join("r.json"));
    let a = args(
        dir.to_str().unwrap(),
        state.to_str().unwrap(),
        report.to_str().unwrap(),
        &[
            "--parallel",
            "1",
            "--batch-size",
            "3",
            "--max-failures",
            "1",
        ],
    );
    let run = fleet(&a, &f.env());
    assert_eq!(run.code, Some(1), "{run:?}");
    let r = json(&report);
    // The directory lists tenants by subdomain, which sorts as created here (max0-…, max1-…).
    let got = outcomes(&r);
    let expected: Vec<&str> = vec![
        "applied",
        "failed",
        "failed",
        "not_started",
        "not_started",
        "not_started",
        "not_started",
        "not_started",
    ];
    assert_eq!(
        got.iter().map(|(_, o)| o.as_str()).collect::<Vec<_>>(),
        expected,
        "{r:#}"
    );
    assert!(r["stopped"].as_str().unwrap().contains("--max-failures 1"));
    assert_eq!(r["counts"]["failed"], 2);
    assert!(f.versions(4).is_empty());

    // Resumed without --retry-failed: the earlier failures still count, nothing more runs.
    let run = fleet(&a, &f.env());
    assert_eq!(run.code, Some(1));
    assert!(
        json(&report)["stopped"]
            .as_str()
            .unwrap()
            .contains("--retry-failed")
    );
    assert!(f.versions(4).is_empty());

    // Fixed, and resumed with --retry-failed: everything converges, tenant 0 is not run again.
    for i in [1, 2, 3] {
        f.query(i, "DROP TABLE venues");
    }
    let mut retry = a.clone();
    retry.push("--retry-failed");
    let run = fleet(&retry, &f.env());
    assert_eq!(run.code, Some(0), "{run:?}");
    let r = json(&report);
    assert_eq!(r["counts"]["applied"], 8);
    assert!(
        line(&r, &f.subdomains[0])["detail"]
            .as_str()
            .unwrap()
            .contains("earlier invocation")
    );
    for i in 0..8 {
        assert_eq!(f.versions(i).len(), 2, "tenant {i}");
    }
}

#[test]
fn a_killed_run_resumes_without_running_done_tenants_again() {
    let f = Fleet::create("kil", 8);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    // Slow enough to kill the run in the middle; each tenant logs its own run in a table.
    migration(
        &dir,
        "20260101000000",
        "slow",
        "CREATE TABLE runs (at timestamptz default now());\nINSERT INTO runs DEFAULT VALUES;\nSELECT pg_sleep(0.4);\n",
    );
    let (state, report) = (tmp.path().join("s.json"), tmp.path().join("r.json"));
    let a = args(
        dir.to_str().unwrap(),
        state.to_str().unwrap(),
        report.to_str().unwrap(),
        &["--parallel", "1", "--run-id", "kill-me"],
    );
    let mut child = std::process::Command::new(common::binary())
        .args(&a)
        .envs(f.env())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let done_before_kill = loop {
        // The progress file: a header line, then a line per finished tenant.
        let done =
            std::fs::read_to_string(&state).map_or(0, |t| t.lines().count().saturating_sub(1));
        if done >= 3 {
            break done;
        }
        assert!(Instant::now() < deadline, "the run made no progress");
        std::thread::sleep(Duration::from_millis(20));
    };
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    assert!(done_before_kill < 8);
    let done: Vec<String> = std::fs::read_to_string(&state)
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| v["subdomain"].as_str().unwrap().to_owned())
        .collect();
    assert!(!done.is_empty());

    let run = fleet(&a, &f.env());
    assert_eq!(run.code, Some(0), "{run:?}");
    let r = json(&report);
    assert_eq!(r["counts"]["applied"], 8);
    for name in &done {
        assert!(
            line(&r, name)["detail"]
                .as_str()
                .unwrap()
                .contains("earlier invocation"),
            "{name} was run again: {r:#}"
        );
    }
    for i in 0..8 {
        assert_eq!(
            f.query(i, "SELECT count(*)::text FROM runs")[0][0].as_deref(),
            Some("1")
        );
        assert_eq!(f.versions(i).len(), 1);
    }
}

#[test]
fn slices_split_the_fleet_exactly_and_reports_merge() {
    let f = Fleet::create("sli", 9);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    base_migrations(&dir);
    let dir = dir.to_str().unwrap().to_owned();
    let canary = f.subdomains[4].clone();
    // The canary job, then three slices skipping the canary, as the workflow runs them.
    let canary_report = tmp.path().join("canary.json");
    let run = fleet(
        &[
            "apply",
            "--mode",
            "migrations",
            "--migrations-dir",
            &dir,
            "--canary",
            &canary,
            "--only-canary",
            "--run-id",
            "r1",
            "--state-file",
            tmp.path().join("c.json").to_str().unwrap(),
            "--report-json",
            canary_report.to_str().unwrap(),
            "-q",
        ],
        &f.env(),
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(json(&canary_report)["tenants"].as_array().unwrap().len(), 1);
    let mut reports = vec![canary_report.display().to_string()];
    let mut seen: Vec<String> = Vec::new();
    for i in 1..=3 {
        let report = tmp.path().join(format!("slice-{i}.json"));
        let state = tmp.path().join(format!("slice-{i}-state.json"));
        let slice = format!("{i}/3");
        let run = fleet(
            &[
                "apply",
                "--mode",
                "migrations",
                "--migrations-dir",
                &dir,
                "--canary",
                &canary,
                "--skip-canary",
                "--slice",
                &slice,
                "--run-id",
                "r1",
                "--state-file",
                state.to_str().unwrap(),
                "--report-json",
                report.to_str().unwrap(),
                "-q",
            ],
            &f.env(),
        );
        assert_eq!(run.code, Some(0), "{run:?}");
        let r = json(&report);
        assert_eq!(r["scope"], slice.as_str());
        for (name, outcome) in outcomes(&r) {
            if outcome == "applied" {
                seen.push(name);
            } else {
                assert_eq!(name, canary, "only the canary is skipped by a slice");
            }
        }
        reports.push(report.display().to_string());
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        seen.len(),
        "a tenant ran in two slices: {seen:?}"
    );
    assert_eq!(
        seen.len(),
        8,
        "every tenant but the canary ran in exactly one slice"
    );
    assert!(!seen.contains(&canary));
    for i in 0..9 {
        assert_eq!(f.versions(i).len(), 2, "tenant {i}");
    }
    let merged = tmp.path().join("merged.json");
    let md = tmp.path().join("merged.md");
    let mut merge: Vec<&str> = vec!["merge-reports"];
    merge.extend(reports.iter().map(String::as_str));
    merge.extend([
        "--report-json",
        merged.to_str().unwrap(),
        "--report-md",
        md.to_str().unwrap(),
    ]);
    let run = fleet(&merge, &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let m = json(&merged);
    assert_eq!(m["counts"]["applied"], 9);
    assert_eq!(
        m["counts"]["skipped"], 0,
        "the canary counts as applied once merged"
    );
    assert_eq!(m["tenants"].as_array().unwrap().len(), 9);
}

#[test]
fn missing_settings_are_named_before_anything_runs() {
    let run = fleet(
        &[
            "apply",
            "--mode",
            "migrations",
            "--migrations-dir",
            "/nonexistent",
        ],
        &[],
    );
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("migrations folder"), "{}", run.stderr);
    let tmp = tempfile::tempdir().unwrap();
    base_migrations(tmp.path());
    let run = fleet(
        &[
            "apply",
            "--mode",
            "migrations",
            "--migrations-dir",
            tmp.path().to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("STAGESUB_DIRECTORY_URL"),
        "{}",
        run.stderr
    );
    let run = fleet(&["apply"], &[]);
    assert!(run.stderr.contains("--mode"), "{}", run.stderr);
    let run = fleet(&["apply", "--mode", "terraform"], &[]);
    assert!(
        run.stderr.contains("STAGESUB_TENANTS_DIR"),
        "{}",
        run.stderr
    );
    let run = fleet(&["apply", "--mode", "migrations", "--slice", "4/3"], &[]);
    assert!(run.stderr.contains("i/N"), "{}", run.stderr);
    for sub in [
        &["--help"][..],
        &["--version"],
        &["apply", "--help"],
        &["status", "--version"],
    ] {
        assert_eq!(fleet(sub, &[]).code, Some(0), "{sub:?}");
    }
}

#[test]
fn sigterm_stops_new_starts_and_lets_the_tenant_in_flight_finish() {
    let f = Fleet::create("trm", 4);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    migration(
        &dir,
        "20260101000000",
        "slow",
        "CREATE TABLE runs (at timestamptz default now());\nSELECT pg_sleep(0.5);\n",
    );
    let (state, report) = (tmp.path().join("s.json"), tmp.path().join("r.json"));
    let a = args(
        dir.to_str().unwrap(),
        state.to_str().unwrap(),
        report.to_str().unwrap(),
        &["--parallel", "1"],
    );
    let child = std::process::Command::new(common::binary())
        .args(&a)
        .envs(f.env())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::fs::read_to_string(&state).map_or(0, |t| t.lines().count()) < 2 {
        assert!(Instant::now() < deadline, "the run made no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let r = json(&report);
    assert!(
        r["stopped"].as_str().unwrap().contains("interrupted"),
        "{r:#}"
    );
    let applied = r["counts"]["applied"].as_u64().unwrap();
    assert!((1..4).contains(&applied), "{r:#}");
    assert_eq!(
        r["counts"]["failed"], 0,
        "the tenant in flight finished: {r:#}"
    );
    assert_eq!(applied + r["counts"]["not_started"].as_u64().unwrap(), 4);
    // Every tenant the report calls applied has its migration, the others none.
    for (i, sub) in f.subdomains.iter().enumerate() {
        let expected = usize::from(line(&r, sub)["outcome"] == "applied");
        assert_eq!(f.versions(i).len(), expected, "{sub}");
    }
}
