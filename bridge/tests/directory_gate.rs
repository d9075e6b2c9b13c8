//! `DIRECTORY_URL`: `ready` sends the welcome only when the tenant directory says `ready` for the
//! subdomain; otherwise the notice is held and the admin told (once per held notice), and a later
//! `ready` sends the welcome once. Real Postgres (a fresh database each for the bridge and the
//! directory, rows written with the directory crate), a real SMTP sink.

#[path = "support/smtp.rs"]
mod smtp;
mod support;

use serde_json::json;
use stagesub_bridge::config::Secret;
use stagesub_bridge::directory::{Directory, Verdict};
use stagesub_bridge::signature::unix_now;
use stagesub_directory::{DirectoryKeys, Entry, Sensitive, Status, TenantSecret};
use support::*;

const AUTH: (&str, &str) = ("authorization", "Bearer test-api-token");
const KEY: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

/// A directory in a database of its own, with its schema.
async fn directory_db() -> (TestDb, tokio_postgres::Client) {
    let db = TestDb::new().await;
    let mut client = stagesub_directory::connect(&db.url).await.unwrap();
    stagesub_directory::ensure_schema(&mut client)
        .await
        .unwrap();
    (db, client)
}

async fn write_row(client: &tokio_postgres::Client, subdomain: &str, status: Status) {
    let keys = DirectoryKeys::parse(KEY).unwrap();
    let secret = (status != Status::Deleted).then(|| TenantSecret {
        database_url: Sensitive::new(format!("postgres://u:pw@db.example/{subdomain}")),
        pooler_url: None,
        anon_key: None,
    });
    let entry = Entry {
        subdomain: subdomain.into(),
        status,
        backend: "postgres".into(),
        region: None,
        plan: Some("pro".into()),
        resource_id: Some(subdomain.into()),
        api_url: None,
        secret,
    };
    stagesub_directory::upsert(client, &keys, &entry)
        .await
        .unwrap();
}

async fn bridge(sink: &smtp::Sink, directory_url: Option<String>) -> Bridge {
    let mut b = Bridge::with_mailer(Some(sink.mailer())).await;
    b.state.directory = directory_url.map(|u| Directory::new(Secret(u)));
    b
}

async fn provision(b: &Bridge, subdomain: &str) {
    let mut e = checkout_event(
        &format!("evt_d_{subdomain}"),
        unix_now(),
        &format!("cus_{subdomain}"),
        None,
        metadata(subdomain, "Directory Orchestra"),
    );
    e["data"]["object"]["customer_details"]["email"] = json!(format!("{subdomain}@example.org"));
    assert_eq!(b.deliver_signed(&e.to_string()).await.0, 200);
    b.drain().await;
}

async fn ready(b: &Bridge, subdomain: &str) -> (u16, String) {
    let (status, body) = b
        .request(
            "POST",
            &format!("/api/tenants/{subdomain}/ready"),
            &[AUTH],
            vec![],
        )
        .await;
    b.drain().await;
    (status, body)
}

fn welcomes(sink: &smtp::Sink) -> usize {
    sink.count("is ready. Sign in at")
}

fn held_notices(sink: &smtp::Sink, subdomain: &str, seen: &str) -> usize {
    sink.count(&format!(
        "Subject: stagesub: welcome held for {subdomain} (directory says {seen})"
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ready_row_lets_the_welcome_out_once_and_a_reader_role_suffices() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = smtp::Sink::start(tmp.path().join("mail"));
    let (dir, client) = directory_db().await;
    write_row(&client, "cello-club", Status::Ready).await;
    // The bridge logs in as a role that may only call lookup.
    let reader = unique("bridge_dir_reader");
    client
        .batch_execute(&format!("CREATE ROLE \"{reader}\" LOGIN"))
        .await
        .unwrap();
    let mut owner = stagesub_directory::connect(&dir.url).await.unwrap();
    stagesub_directory::grant_reader(&mut owner, &reader)
        .await
        .unwrap();
    let (scheme, rest) = dir.url.split_once("://").unwrap();
    let host = rest.split_once('@').map_or(rest, |(_, host)| host);
    let reader_url = format!("{scheme}://{reader}@{host}");
    let b = bridge(&sink, Some(reader_url)).await;
    provision(&b, "cello-club").await;

    let (status, body) = ready(&b, "cello-club").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""first_time":true"#), "{body}");
    let (status, _) = ready(&b, "cello-club").await;
    assert_eq!(status, 200);
    assert_eq!(welcomes(&sink), 1, "{:?}", sink.messages());
    assert_eq!(sink.count("welcome held"), 0);
    assert_eq!(ready(&b, "nobody-here").await.0, 404);

    drop(owner);
    drop(b);
    drop(dir);
    let admin = stagesub_directory::connect(&admin_url()).await.unwrap();
    let _ = admin
        .batch_execute(&format!("DROP ROLE IF EXISTS \"{reader}\""))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_not_ready_holds_the_welcome_until_a_later_ready_finds_it_ready() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = smtp::Sink::start(tmp.path().join("mail"));
    let (dir, client) = directory_db().await;
    let b = bridge(&sink, Some(dir.url.clone())).await;
    provision(&b, "viola-band").await;
    provision(&b, "oboe-trio").await;
    write_row(&client, "viola-band", Status::Provisioning).await;
    write_row(&client, "oboe-trio", Status::Archived).await;

    // Missing row: held, admin told, no welcome.
    let (status, body) = ready(&b, "harp-duo-x").await;
    assert_eq!(status, 404, "no tenant in the bridge: {body}");
    provision(&b, "harp-duo").await;
    let (status, body) = ready(&b, "harp-duo").await;
    assert_eq!(status, 202, "{body}");
    assert!(body.contains(r#""directory_status":"missing""#), "{body}");
    assert_eq!(held_notices(&sink, "harp-duo", "missing"), 1);

    // Provisioning and archived rows: held, one admin email per held notice.
    for (subdomain, seen) in [("viola-band", "provisioning"), ("oboe-trio", "archived")] {
        let (status, body) = ready(&b, subdomain).await;
        assert_eq!(status, 202, "{body}");
        assert!(body.contains(r#""state":"held""#), "{body}");
        assert_eq!(held_notices(&sink, subdomain, seen), 1, "{subdomain}");
    }
    assert_eq!(welcomes(&sink), 0, "{:?}", sink.messages());
    assert_eq!(
        b.count("SELECT count(*) FROM tenants WHERE ready_at IS NOT NULL")
            .await,
        0
    );
    let held = sink
        .messages()
        .into_iter()
        .find(|m| m.contains("welcome held for viola-band"))
        .unwrap();
    assert!(held.contains("To: admin@stagesub.test"), "{held}");
    assert!(!held.contains(&dir.url), "{held}");

    // CI calls ready again while still provisioning: a second held notice, still no welcome.
    assert_eq!(ready(&b, "viola-band").await.0, 202);
    assert_eq!(held_notices(&sink, "viola-band", "provisioning"), 2);

    // The directory says ready now: the next ready sends the welcome, once.
    stagesub_directory::upsert(
        &client,
        &DirectoryKeys::parse(KEY).unwrap(),
        &Entry {
            subdomain: "viola-band".into(),
            status: Status::Ready,
            backend: "postgres".into(),
            region: None,
            plan: Some("pro".into()),
            resource_id: Some("viola-band".into()),
            api_url: None,
            secret: Some(TenantSecret {
                database_url: Sensitive::new("postgres://u:pw@db.example/viola-band"),
                pooler_url: None,
                anon_key: None,
            }),
        },
    )
    .await
    .unwrap();
    write_row(&client, "harp-duo", Status::Provisioning).await;
    stagesub_directory::mark(&client, "harp-duo", Status::Ready)
        .await
        .unwrap();
    for _ in 0..2 {
        assert_eq!(ready(&b, "viola-band").await.0, 200);
        assert_eq!(ready(&b, "harp-duo").await.0, 200);
    }
    assert_eq!(sink.count("Subject: Your orchestra space"), 2);
    assert_eq!(sink.count("To: viola-band@example.org"), 1);
    assert_eq!(sink.count("To: harp-duo@example.org"), 1);
    assert_eq!(sink.count("To: oboe-trio@example.org"), 0);
    assert_eq!(sink.count("welcome held"), 4, "no more held notices");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_directory_answers_503_and_records_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = smtp::Sink::start(tmp.path().join("mail"));
    // A port nothing listens on, with a password that must not show anywhere.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url = format!("postgres://reader:dir-hunter2@127.0.0.1:{port}/control?sslmode=disable");
    let b = bridge(&sink, Some(url.clone())).await;
    provision(&b, "tuba-crew").await;

    let (status, body) = ready(&b, "tuba-crew").await;
    assert_eq!(status, 503, "{body}");
    assert!(!body.contains("dir-hunter2"), "{body}");
    assert_eq!(sink.messages().len(), 0);
    assert_eq!(
        b.count("SELECT count(*) FROM tenants WHERE ready_at IS NOT NULL")
            .await,
        0
    );
    assert_eq!(b.count("SELECT count(*) FROM held_welcomes").await, 0);

    // What gets logged: names the directory, never its password.
    let error = Directory::new(Secret(url))
        .verdict("tuba-crew")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("127.0.0.1") && error.contains("***"),
        "{error}"
    );
    assert!(!error.contains("dir-hunter2"), "{error}");

    // A directory without the schema is no answer either (503), not "missing".
    let empty = TestDb::new().await;
    let b2 = bridge(&sink, Some(empty.url.clone())).await;
    provision(&b2, "tuba-crew").await;
    assert_eq!(ready(&b2, "tuba-crew").await.0, 503);
    assert_eq!(sink.messages().len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_directory_ready_behaves_as_before() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = smtp::Sink::start(tmp.path().join("mail"));
    let b = bridge(&sink, None).await;
    provision(&b, "flute-pair").await;
    let (status, body) = ready(&b, "flute-pair").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ready(&b, "flute-pair").await.0, 200);
    assert_eq!(welcomes(&sink), 1);
    assert_eq!(sink.count("welcome held"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verdicts_name_what_the_directory_says() {
    let (dir, client) = directory_db().await;
    write_row(&client, "horn-set", Status::Restoring).await;
    let d = Directory::new(Secret(dir.url.clone()));
    assert_eq!(
        d.verdict("horn-set").await.unwrap(),
        Verdict::NotReady("restoring".into())
    );
    stagesub_directory::tombstone(&client, "horn-set")
        .await
        .unwrap();
    assert_eq!(
        d.verdict("horn-set").await.unwrap(),
        Verdict::NotReady("deleted".into())
    );
    assert_eq!(
        d.verdict("no-row").await.unwrap(),
        Verdict::NotReady("missing".into())
    );
}
