//! The command line: `render` prints a valid tenant file; `serve` refuses a bad configuration with a
//! message that names the variable, and never prints secrets.

mod support;

use std::process::Command;

use support::*;

fn bridge() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_stagesub-bridge"));
    c.env_clear().env("PATH", std::env::var("PATH").unwrap());
    c
}

#[test]
fn render_command_prints_a_valid_file() {
    let out = bridge()
        .args([
            "render",
            "--subdomain",
            "cli-test",
            "--orchestra-name",
            "CLI \"${x}\"",
            "--plan",
            "free",
            "--archived",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_terraform_fmt_clean(&text);
    let (_, attrs) = read_tenant_file(&text);
    assert_eq!(
        hcl_str(&attrs, "orchestra_name").as_deref(),
        Some("CLI \"${x}\"")
    );
    assert_eq!(attrs["archived"], hcl::Value::Bool(true));
    assert_eq!(
        hcl_str(&attrs, "source").as_deref(),
        Some("../../modules/orchestra")
    );
    // The layout: the tenant's own root module, and the single-root file it replaces.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("# tenants/cli-test/main.tf (root module tenants/cli-test/; tenants/cli-test.tf is deleted"),
        "{stderr}"
    );
    let bad = bridge()
        .args(["render", "--subdomain", "www", "--orchestra-name", "X"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("reserved"));
}

#[test]
fn serve_names_the_missing_or_bad_variable() {
    let out = bridge().arg("serve").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("STRIPE_WEBHOOK_SECRET"));
    let out = bridge()
        .arg("serve")
        .env("STRIPE_WEBHOOK_SECRET", "whsec_do_not_print")
        .env("DATABASE_URL", "postgres://u:pw_do_not_print@127.0.0.1/db")
        .env("GIT_BACKEND", "svn")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("GIT_BACKEND") && stderr.contains("svn"),
        "{stderr}"
    );
    assert!(!stderr.contains("do_not_print"), "{stderr}");
    let out = bridge().arg("bogus").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .to_lowercase()
            .contains("usage")
    );
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = bridge().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_and_version_work_everywhere() {
    let version = env!("CARGO_PKG_VERSION");
    for args in [
        &["--help"][..],
        &["render", "--help"],
        &["serve", "--help"],
        &["jobs", "--help"],
        &["jobs", "list", "--help"],
        &["jobs", "retry", "--help"],
        &["help", "render"],
    ] {
        let (code, stdout, stderr) = run(args);
        assert_eq!(code, 0, "{args:?}: {stderr}");
        assert!(stdout.contains("Usage"), "{args:?}: {stdout}");
    }
    assert!(run(&["render", "--help"]).1.contains("--orchestra-name"));
    assert!(run(&["jobs", "retry", "--help"]).1.contains("--parked"));
    for args in [
        &["--version"][..],
        &["render", "--version"],
        &["jobs", "list", "--version"],
    ] {
        let (code, stdout, _) = run(args);
        assert_eq!(code, 0, "{args:?}");
        assert!(stdout.contains(version), "{args:?}: {stdout}");
    }
}

#[test]
fn flags_are_parsed_as_users_expect() {
    // Missing required flags are named as missing, not as an invalid empty value.
    let (code, _, stderr) = run(&["render", "--orchestra-name", "X"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("required") && stderr.contains("--subdomain"),
        "{stderr}"
    );
    // --flag=value
    let (code, stdout, stderr) = run(&[
        "render",
        "--subdomain=eq-band",
        "--orchestra-name=Equals = Fine",
        "--plan=pro",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let (_, attrs) = read_tenant_file(&stdout);
    assert_eq!(
        hcl_str(&attrs, "orchestra_name").as_deref(),
        Some("Equals = Fine")
    );
    // Unknown flags are named.
    let (code, _, stderr) = run(&["render", "--subdomain", "x-band", "--orchestra", "X"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--orchestra"), "{stderr}");
    // A flag without its value.
    let (code, _, stderr) = run(&["render", "--orchestra-name", "X", "--subdomain"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--subdomain"), "{stderr}");
    // jobs retry needs an id or --parked, not both; ids are numbers.
    assert_eq!(run(&["jobs", "retry"]).0, 2);
    assert_eq!(run(&["jobs", "retry", "3", "--parked"]).0, 2);
    let (code, _, stderr) = run(&["jobs", "retry", "three"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("three"), "{stderr}");
    // jobs without DATABASE_URL names it.
    let (code, _, stderr) = run(&["jobs", "list"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
}

#[tokio::test]
async fn jobs_list_and_retry_show_and_requeue() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let client = store.client().await.unwrap();
    client
        .batch_execute(
            "INSERT INTO jobs (kind, subject, attempts, parked_reason, last_error, parked_at)
               VALUES ('publish', 'parked-band', 7, 'gave up after 7 attempts: remote gone', 'x', now());
             INSERT INTO jobs (kind, subject, done_at) VALUES ('publish', 'done-band', now());
             INSERT INTO jobs (kind, subject, run_at) VALUES ('welcome', 'later-band', now() + interval '1 hour');",
        )
        .await
        .unwrap();
    let ids: Vec<i64> = client
        .query("SELECT id FROM jobs ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let jobs = |args: &[&str]| {
        let out = bridge()
            .arg("jobs")
            .args(args)
            .env("DATABASE_URL", &db.url)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stdout, stderr) = jobs(&["list"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("parked-band") && stdout.contains("remote gone"),
        "{stdout}"
    );
    assert!(
        stdout.contains("later-band") && !stdout.contains("done-band"),
        "{stdout}"
    );
    let (_, stdout, _) = jobs(&["list", "--parked"]);
    assert!(
        stdout.contains("parked-band") && !stdout.contains("later-band"),
        "{stdout}"
    );
    assert!(jobs(&["list", "--all"]).1.contains("done-band"));

    let (code, stdout, stderr) = jobs(&["retry", &ids[0].to_string()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("parked-band"), "{stdout}");
    let row = client
        .query_one(
            "SELECT parked_reason IS NULL, attempts, run_at <= now() FROM jobs WHERE id = $1",
            &[&ids[0]],
        )
        .await
        .unwrap();
    assert_eq!(
        (
            row.get::<_, bool>(0),
            row.get::<_, i32>(1),
            row.get::<_, bool>(2)
        ),
        (true, 0, true)
    );
    let (code, _, stderr) = jobs(&["retry", &ids[1].to_string()]);
    assert_eq!(code, 1);
    assert!(stderr.contains("done"), "{stderr}");
    let (code, _, stderr) = jobs(&["retry", "999999"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("no job 999999"), "{stderr}");
    let (code, stdout, _) = jobs(&["retry", "--parked"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("re-queued 0 parked job"), "{stdout}");
}

#[tokio::test]
async fn tenants_link_owner_links_a_guest_tenant_once() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let client = store.client().await.unwrap();
    client
        .batch_execute(
            "INSERT INTO tenants (subdomain, orchestra_name, values_at, state, owner_email, owner_session_id)
               VALUES ('guest-hall', 'Guest Hall', 1, 'published', 'guest@example.org', 'cs_guest');",
        )
        .await
        .unwrap();
    let link = |args: &[&str]| {
        let out = bridge()
            .args(["tenants", "link-owner"])
            .args(args)
            .env("DATABASE_URL", &db.url)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, _, stderr) = link(&["guest-hall", "--customer", "cus_dan"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--by"), "{stderr}");
    let (code, _, stderr) = link(&["guest-hall", "--customer", "dan", "--by", "ops"]);
    assert_eq!(code, 2, "{stderr}");
    let (code, _, stderr) = link(&["nobody-hall", "--customer", "cus_dan", "--by", "ops"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("nobody-hall"), "{stderr}");
    let (code, stdout, stderr) = link(&["guest-hall", "--customer=cus_dan", "--by=ops@x.test"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("linked tenant guest-hall to customer cus_dan"),
        "{stdout}"
    );
    let (code, stdout, _) = link(&["guest-hall", "--customer", "cus_dan", "--by", "ops"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("already belongs"), "{stdout}");
    let (code, _, stderr) = link(&["guest-hall", "--customer", "cus_eve", "--by", "ops"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("cus_dan"), "{stderr}");
    let row = client
        .query_one(
            "SELECT owner_customer_id, (SELECT count(*) FROM owner_links), (SELECT count(*) FROM jobs WHERE kind = 'publish') FROM tenants WHERE subdomain = 'guest-hall'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, Option<String>>(0).as_deref(), Some("cus_dan"));
    assert_eq!((row.get::<_, i64>(1), row.get::<_, i64>(2)), (1, 1));
}
