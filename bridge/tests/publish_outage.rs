//! Publishing survives a remote that is down for a while: a real git remote that is moved away,
//! refuses pushes in a hook, or a GitHub stand-in answering 5xx/401. The job is retried within
//! PUBLISH_RETRY_WINDOW (small here), the admin is told once when it keeps failing and once when it
//! parks (also with two replicas), and it succeeds once the remote is repaired.

#[path = "support/smtp.rs"]
mod smtp;
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use github_standin::{Faults, StandinConfig};
use stagesub_bridge::signature::unix_now;
use stagesub_bridge::store::JobKind;
use stagesub_bridge::worker::{self, RetryPolicy, WorkerContext};
use stagesub_gitops::CommitMode;
use support::*;
use tokio_util::sync::CancellationToken;

fn policy(window_ms: u64, alert_ms: u64) -> RetryPolicy {
    RetryPolicy {
        window: Duration::from_millis(window_ms),
        alert_after: Duration::from_millis(alert_ms),
    }
}

/// Polls `sql` (one bigint) until `want` holds, for at most `limit`.
async fn wait_for(b: &Bridge, sql: &str, want: impl Fn(i64) -> bool, limit: Duration) -> i64 {
    let start = Instant::now();
    loop {
        let n = b.count(sql).await;
        if want(n) {
            return n;
        }
        assert!(start.elapsed() < limit, "gave up waiting: {sql} = {n}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs worker loops (one per context, i.e. replica) until the token fires.
fn start_workers(b: &Bridge, contexts: Vec<WorkerContext>) -> CancellationToken {
    let cancel = CancellationToken::new();
    for ctx in contexts {
        tokio::spawn(worker::run(
            b.store.clone(),
            ctx,
            2,
            Arc::new(tokio::sync::Notify::new()),
            cancel.clone(),
        ));
    }
    cancel
}

async fn provision(b: &Bridge, subdomain: &str) {
    let e = checkout_event(
        &format!("evt_out_{subdomain}"),
        unix_now(),
        &format!("cus_{subdomain}"),
        None,
        metadata(subdomain, "Outage Orchestra"),
    );
    assert_eq!(b.deliver_signed(&e.to_string()).await.0, 200);
}

const PUBLISH_DONE: &str =
    "SELECT count(*) FROM jobs WHERE kind = 'publish' AND done_at IS NOT NULL";
const PUBLISH_PARKED: &str =
    "SELECT count(*) FROM jobs WHERE kind = 'publish' AND parked_reason IS NOT NULL";
const PUBLISH_FAILED_TWICE: &str = "SELECT count(*) FROM jobs WHERE kind = 'publish' AND attempts >= 2 AND parked_reason IS NULL AND alerted_at IS NOT NULL";
const MAIL_QUEUE_EMPTY: &str =
    "SELECT count(*) FROM jobs WHERE kind LIKE 'admin_%' AND done_at IS NULL";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moved_remote_is_retried_and_published_once_restored() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = smtp::Sink::start(tmp.path().join("mail"));
    let mut b = Bridge::with_mailer(Some(sink.mailer())).await;
    b.ctx.retry = policy(120_000, 300);
    provision(&b, "moved-band").await;
    let moved = b.remote.dir.path().join("elsewhere.git");
    std::fs::rename(b.remote.bare(), &moved).unwrap();

    let stop = start_workers(&b, vec![b.ctx.clone()]);
    // "does not appear to be a git repository": retried, not parked, and the admin told once.
    wait_for(
        &b,
        PUBLISH_FAILED_TWICE,
        |n| n == 1,
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(b.count(PUBLISH_PARKED).await, 0);
    std::fs::rename(&moved, b.remote.bare()).unwrap();
    wait_for(&b, PUBLISH_DONE, |n| n == 1, Duration::from_secs(60)).await;
    wait_for(&b, MAIL_QUEUE_EMPTY, |n| n == 0, Duration::from_secs(60)).await;
    stop.cancel();

    assert!(
        b.remote
            .file("main", "tenants/moved-band/main.tf")
            .is_some(),
        "published after the remote came back"
    );
    assert_eq!(
        b.count("SELECT count(*) FROM tenants WHERE state = 'published'")
            .await,
        1
    );
    assert_eq!(sink.count("keeps failing"), 1, "{:?}", sink.messages());
    assert_eq!(sink.count("was given up"), 0);
    let alert = &sink.messages()[0];
    assert!(
        alert.contains("moved-band") && alert.contains("git repository"),
        "{alert}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusing_pre_receive_hook_is_retried_until_it_accepts() {
    let mut b = Bridge::new().await;
    b.ctx.retry = policy(120_000, 60_000);
    let hook = b.remote.bare().join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\necho 'maintenance: pushes refused' >&2\nexit 1\n",
    )
    .unwrap();
    let mut perms = std::fs::metadata(&hook).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&hook, perms).unwrap();
    provision(&b, "hooked-band").await;

    let stop = start_workers(&b, vec![b.ctx.clone()]);
    wait_for(
        &b,
        "SELECT count(*) FROM jobs WHERE kind = 'publish' AND attempts >= 3 AND last_error LIKE '%pre-receive hook declined%'",
        |n| n == 1,
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(b.count(PUBLISH_PARKED).await, 0);
    std::fs::remove_file(&hook).unwrap();
    wait_for(&b, PUBLISH_DONE, |n| n == 1, Duration::from_secs(60)).await;
    stop.cancel();
    assert!(
        b.remote
            .file("main", "tenants/hooked-band/main.tf")
            .is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_park_after_the_window_and_tell_the_admin_once_each_way() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = smtp::Sink::start(tmp.path().join("mail"));
    let mut b = Bridge::with_mailer(Some(sink.mailer())).await;
    b.ctx.retry = policy(2500, 500);
    let mut replica = b.ctx.clone();
    replica.publisher = Arc::new(b.remote.publisher(CommitMode::Direct));
    for name in ["gone-one", "gone-two"] {
        provision(&b, name).await;
    }
    let gone = b.remote.dir.path().join("gone.git");
    std::fs::rename(b.remote.bare(), &gone).unwrap();

    let stop = start_workers(&b, vec![b.ctx.clone(), replica]);
    wait_for(&b, PUBLISH_PARKED, |n| n == 2, Duration::from_secs(40)).await;
    wait_for(&b, MAIL_QUEUE_EMPTY, |n| n == 0, Duration::from_secs(60)).await;
    // Two more windows: nothing else is sent.
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.cancel();
    for name in ["gone-one", "gone-two"] {
        let about = |needle: &str| {
            sink.messages()
                .iter()
                .filter(|m| m.contains(needle) && m.contains(name))
                .count()
        };
        assert_eq!(about("keeps failing"), 1, "{name}: {:?}", sink.messages());
        assert_eq!(about("was given up"), 1, "{name}: {:?}", sink.messages());
    }
    let reason: String = b
        .store
        .client()
        .await
        .unwrap()
        .query_one(
            "SELECT parked_reason FROM jobs WHERE kind = 'publish' LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(reason.starts_with("gave up after"), "{reason}");

    // Repaired: `jobs retry --parked` re-queues both and they publish.
    std::fs::rename(&gone, b.remote.bare()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stagesub-bridge"))
        .args(["jobs", "retry", "--parked"])
        .env("DATABASE_URL", &b.db.url)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("re-queued 2 parked job"), "{stdout}");
    b.drain().await;
    assert_eq!(b.count(PUBLISH_DONE).await, 2);
    assert_eq!(b.remote.files("main", "tenants").len(), 2);
}

#[tokio::test]
async fn invalid_tenant_values_park_at_once_and_tell_the_admin() {
    let b = Bridge::new().await;
    let client = b.store.client().await.unwrap();
    // A tenant stored before a rule tightened: "www" is reserved.
    client
        .execute(
            "INSERT INTO tenants (subdomain, orchestra_name, values_at, state) VALUES ('www', 'Old', 1, 'publishing')",
            &[],
        )
        .await
        .unwrap();
    stagesub_bridge::store::enqueue(&**client, JobKind::Publish, "www")
        .await
        .unwrap();
    worker::run_one(&b.store, &b.ctx).await.unwrap();
    let row = client
        .query_one(
            "SELECT attempts, parked_reason FROM jobs WHERE kind = 'publish'",
            &[],
        )
        .await
        .unwrap();
    let (attempts, reason): (i32, Option<String>) = (row.get(0), row.get(1));
    assert_eq!(attempts, 1);
    assert!(reason.unwrap().contains("invalid values"));
    assert_eq!(
        b.count("SELECT count(*) FROM jobs WHERE kind = 'admin_publish_parked'")
            .await,
        1
    );
    assert!(b.remote.file("main", "tenants/www/main.tf").is_none());
}

#[tokio::test]
async fn job_kinds_match_the_database_constraint() {
    let b = Bridge::new().await;
    let client = b.store.client().await.unwrap();
    for kind in JobKind::ALL {
        stagesub_bridge::store::enqueue(&**client, kind, "x")
            .await
            .unwrap();
        assert_eq!(JobKind::parse(kind.as_str()), Some(kind));
    }
    let err = client
        .execute(
            "INSERT INTO jobs (kind, subject) VALUES ('mystery', 'x')",
            &[],
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("jobs_kind_known")
            || format!("{err:?}").contains("jobs_kind_known"),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_5xx_then_401_for_a_while_is_retried_and_opens_one_pull_request() {
    let tmp = tempfile::tempdir().unwrap();
    let standin = github_standin::start(StandinConfig {
        repo_dir: tmp.path().join("infra.git"),
        owner: "orchestras".into(),
        name: "infra".into(),
        default_branch: "main".into(),
        token: "ghp_standin_token".into(),
        app: None,
        bind: "127.0.0.1:0".parse().unwrap(),
    })
    .await
    .unwrap();
    let mut b = Bridge::new().await;
    let env: std::collections::HashMap<&str, String> = [
        ("STRIPE_WEBHOOK_SECRET", SECRET.to_owned()),
        ("DATABASE_URL", b.db.url.clone()),
        ("GIT_BACKEND", "github".into()),
        ("GITHUB_API_URL", standin.url()),
        ("GITHUB_REPOSITORY", "orchestras/infra".into()),
        ("GITHUB_TOKEN", "ghp_standin_token".into()),
    ]
    .into_iter()
    .collect();
    let config = stagesub_bridge::config::Config::from_lookup(|k| env.get(k).cloned()).unwrap();
    b.ctx.publisher = stagesub_bridge::build_publisher(&config).unwrap();
    b.ctx.retry = policy(120_000, 60_000);
    standin.set_faults(Faults {
        error_rate_5xx: 1.0,
        ..Faults::default()
    });
    provision(&b, "flaky-hub").await;
    let stop = start_workers(&b, vec![b.ctx.clone()]);
    let failed = |n: i64| n == 1;
    wait_for(
        &b,
        "SELECT count(*) FROM jobs WHERE kind = 'publish' AND attempts >= 2 AND last_error LIKE '%50%'",
        failed,
        Duration::from_secs(60),
    )
    .await;
    standin.set_faults(Faults {
        reject_credentials: true,
        ..Faults::default()
    });
    wait_for(
        &b,
        "SELECT count(*) FROM jobs WHERE kind = 'publish' AND last_error LIKE '%401%'",
        failed,
        Duration::from_secs(60),
    )
    .await;
    let before = b
        .count("SELECT attempts::bigint FROM jobs WHERE kind = 'publish'")
        .await;
    wait_for(
        &b,
        "SELECT attempts::bigint FROM jobs WHERE kind = 'publish'",
        |n| n >= before + 2,
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(
        b.count(PUBLISH_PARKED).await,
        0,
        "401 must not park the job"
    );
    standin.set_faults(Faults::default());
    wait_for(&b, PUBLISH_DONE, |n| n == 1, Duration::from_secs(60)).await;
    stop.cancel();
    assert_eq!(standin.pull_requests().len(), 1);
    standin.shutdown().await;
}
