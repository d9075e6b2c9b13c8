//! CI callbacks and mail, through a real SMTP server (aiosmtpd's smtp-sink): `ready` sends exactly one
//! welcome email, `failed` tells the admin, and a mail outage delays but never loses the welcome.

mod support;

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::json;
use stagesub_bridge::config::{MailConfig, Secret};
use stagesub_bridge::mail::Mailer;
use stagesub_bridge::signature::unix_now;
use support::*;

struct Sink {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Sink {
    fn start(dir: PathBuf, port: u16) -> Sink {
        std::fs::create_dir_all(&dir).unwrap();
        let mut child = Command::new(smtp_sink())
            .args([
                "--dir",
                dir.to_str().unwrap(),
                "--port",
                &port.to_string(),
                "--auth",
                "mailer:s3cret",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap_or_else(|_| panic!("smtp-sink said {line:?}"));
        Sink { child, dir, port }
    }

    /// (recipients, message) of every accepted message, in arrival order.
    fn messages(&self) -> Vec<(String, String)> {
        let mut names: Vec<_> = std::fs::read_dir(&self.dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|n| {
                let meta = std::fs::read_to_string(self.dir.join(n)).unwrap();
                let eml =
                    std::fs::read_to_string(self.dir.join(n.replace(".json", ".eml"))).unwrap();
                (meta, eml)
            })
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mailer(port: u16) -> Mailer {
    Mailer::new(&MailConfig {
        smtp_url: Secret(format!("smtp://mailer:s3cret@127.0.0.1:{port}")),
        from: "stagesub <hello@stagesub.test>".into(),
        admin: "admin@stagesub.test".into(),
    })
    .unwrap()
}

async fn provision(b: &Bridge, subdomain: &str, email: &str) {
    let mut e = checkout_event(
        &format!("evt_m_{subdomain}"),
        unix_now(),
        &format!("cus_{subdomain}"),
        None,
        metadata(subdomain, "Mail Orchestra"),
    );
    e["data"]["object"]["customer_details"]["email"] = json!(email);
    assert_eq!(b.deliver_signed(&e.to_string()).await.0, 200);
    b.drain().await;
}

const AUTH: (&str, &str) = ("authorization", "Bearer test-api-token");

#[tokio::test]
async fn ready_sends_one_welcome_email_and_failed_tells_the_admin() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = Sink::start(tmp.path().join("mail"), 0);
    let b = Bridge::with_mailer(Some(mailer(sink.port))).await;
    provision(&b, "singers", "conductor@example.org").await;

    assert_eq!(
        b.request("POST", "/api/tenants/singers/ready", &[], vec![])
            .await
            .0,
        401
    );
    assert_eq!(
        b.request(
            "POST",
            "/api/tenants/singers/ready",
            &[("authorization", "Bearer nope")],
            vec![]
        )
        .await
        .0,
        401
    );
    assert_eq!(
        b.request("POST", "/api/tenants/nobody/ready", &[AUTH], vec![])
            .await
            .0,
        404
    );
    for _ in 0..3 {
        let (status, body) = b
            .request("POST", "/api/tenants/singers/ready", &[AUTH], vec![])
            .await;
        assert_eq!(status, 200, "{body}");
        b.drain().await;
    }
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let (meta, eml) = &messages[0];
    assert!(
        meta.contains("conductor@example.org") && meta.contains("\"auth_user\": \"mailer\""),
        "{meta}"
    );
    assert!(eml.contains("https://singers.stagesub.test"), "{eml}");
    assert_eq!(b.count("SELECT count(*) FROM tenants WHERE ready_at IS NOT NULL AND welcome_sent_at IS NOT NULL").await, 1);

    let report = "terraform apply failed:\nError: project quota exceeded";
    let (status, body) = b
        .request(
            "POST",
            "/api/tenants/singers/failed",
            &[AUTH],
            report.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    b.drain().await;
    let messages = sink.messages();
    assert_eq!(messages.len(), 2);
    let (meta, eml) = &messages[1];
    assert!(meta.contains("admin@stagesub.test"), "{meta}");
    assert!(
        eml.contains("project quota exceeded")
            && eml.contains("conductor@example.org")
            && eml.contains("cus_singers"),
        "{eml}"
    );
}

#[tokio::test]
async fn a_mail_outage_delays_the_welcome_but_never_loses_it() {
    let tmp = tempfile::tempdir().unwrap();
    let first = Sink::start(tmp.path().join("mail"), 0);
    let port = first.port;
    drop(first); // the server is down
    let b = Bridge::with_mailer(Some(mailer(port))).await;
    provision(&b, "patient", "patient@example.org").await;
    assert_eq!(
        b.request("POST", "/api/tenants/patient/ready", &[AUTH], vec![])
            .await
            .0,
        200
    );
    b.drain().await;
    assert_eq!(
        b.count(
            "SELECT count(*) FROM tenants WHERE ready_at IS NOT NULL AND welcome_sent_at IS NULL"
        )
        .await,
        1
    );
    assert_eq!(b.count("SELECT count(*) FROM jobs WHERE kind = 'welcome' AND done_at IS NULL AND parked_reason IS NULL AND attempts = 1 AND run_at > now()").await, 1);
    // The server comes back; the retry (brought forward instead of waiting out the back-off) delivers.
    let sink = Sink::start(tmp.path().join("mail"), port);
    b.count("WITH u AS (UPDATE jobs SET run_at = now() WHERE kind = 'welcome' RETURNING 1) SELECT count(*) FROM u").await;
    b.drain().await;
    assert_eq!(sink.messages().len(), 1);
    assert_eq!(
        b.count("SELECT count(*) FROM tenants WHERE welcome_sent_at IS NOT NULL")
            .await,
        1
    );
}

#[tokio::test]
async fn invalid_and_held_requests_are_reported_to_the_admin() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = Sink::start(tmp.path().join("mail"), 0);
    let b = Bridge::with_mailer(Some(mailer(sink.port))).await;
    let bad = checkout_event(
        "evt_admin_bad",
        unix_now(),
        "cus_a",
        None,
        json!({"subdomain": "admin", "orchestra_name": "X"}),
    );
    assert_eq!(b.deliver_signed(&bad.to_string()).await.0, 200);
    b.drain().await;
    provision(&b, "owned", "owner@example.org").await;
    let thief = checkout_event(
        "evt_admin_held",
        unix_now(),
        "cus_thief",
        None,
        metadata("owned", "Thief"),
    );
    assert_eq!(b.deliver_signed(&thief.to_string()).await.0, 200);
    b.drain().await;
    let messages = sink.messages();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages
            .iter()
            .all(|(meta, _)| meta.contains("admin@stagesub.test"))
    );
    assert!(
        messages[0].1.contains("evt_admin_bad") && messages[0].1.contains("reserved"),
        "{}",
        messages[0].1
    );
    assert!(
        messages[1].1.contains("evt_admin_held")
            && messages[1].1.contains("cus_thief")
            && messages[1].1.contains("belongs to customer cus_owned"),
        "{}",
        messages[1].1
    );
}
