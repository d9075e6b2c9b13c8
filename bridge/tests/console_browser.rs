//! The operator console in real headless Chromium with page scripts disabled: sign in, list, filter,
//! search, the pending page against the SLA, a timeline, every action through its confirmation page, a
//! form posted without its CSRF token, and hostile orchestra names rendered as text. Screenshots go to
//! `<target>/test-output/console/`.

#[path = "support/chromium.rs"]
mod chromium;
#[path = "support/smtp.rs"]
mod smtp;
mod support;

use std::time::Duration;

use chromium::Browser;
use stagesub_bridge::console::config::ConsoleUser;
use stagesub_bridge::console::{self, ConsoleConfig, ConsoleState, auth};
use stagesub_bridge::server::{self, ReadTimeouts};
use stagesub_bridge::signature::unix_now;
use stagesub_bridge::{AppState, app};
use support::*;
use tokio_util::sync::CancellationToken;

const XSS_NAME: &str = "<script>alert(1)</script> \"><img src=x onerror=alert(2)>";
const PASSWORD: &str = "browser-secret";

async fn serve(b: &Bridge, cancel: &CancellationToken) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let console_state = ConsoleState::new(
        b.store.clone(),
        ConsoleConfig {
            users: vec![ConsoleUser {
                name: "alice".into(),
                hash: auth::hash_password(PASSWORD).unwrap(),
            }],
            provision_sla: Duration::from_secs(24 * 3600),
            ..ConsoleConfig::default()
        },
        addr,
        b.state.wake.clone(),
    );
    let state: AppState = b.state.clone();
    let router = app(state).merge(console::router(console_state));
    tokio::spawn(server::serve(
        listener,
        router,
        ReadTimeouts {
            header: Duration::from_secs(10),
            body: Duration::from_secs(10),
        },
        cancel.clone(),
    ));
    format!("http://{addr}")
}

async fn text_of(b: &Bridge, sql: &str) -> String {
    let client = b.store.client().await.unwrap();
    client.query_one(sql, &[]).await.unwrap().get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_works_in_a_real_browser_without_javascript() {
    let mail_dir = tempfile::tempdir().unwrap();
    let sink = smtp::Sink::start(mail_dir.path().join("mail"));
    let b = Bridge::with_mailer(Some(sink.mailer())).await;
    let t = unix_now();
    send(
        &b,
        &customer_checkout(
            "evt_b1",
            t,
            "cus_berlin",
            "berlin@x.test",
            "berlin-phil",
            "Berlin Phil",
        ),
    )
    .await;
    let (status, body) = b
        .request(
            "POST",
            "/api/tenants/berlin-phil/ready",
            &[("authorization", "Bearer test-api-token")],
            vec![],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    b.drain().await;
    send(
        &b,
        &customer_checkout(
            "evt_h1",
            t + 1,
            "cus_rival",
            "rival@x.test",
            "berlin-phil",
            "Rival Phil",
        ),
    )
    .await;
    send(
        &b,
        &customer_checkout(
            "evt_h2",
            t + 2,
            "cus_other",
            "other@x.test",
            "berlin-phil",
            "Other Phil",
        ),
    )
    .await;
    send(
        &b,
        &customer_checkout("evt_x1", t, "cus_x", "x@x.test", "evil-xss", XSS_NAME),
    )
    .await;
    let (status, _) = b
        .request(
            "POST",
            "/api/tenants/evil-xss/failed",
            &[("authorization", "Bearer test-api-token")],
            b"plan failed: <b>boom</b> \"><img src=x onerror=alert(3)>\n".to_vec(),
        )
        .await;
    assert_eq!(status, 200);
    send(
        &b,
        &guest_checkout("evt_g1", t, "guest@x.test", "cs_guest1", "guest-hall"),
    )
    .await;
    send(
        &b,
        &customer_checkout(
            "evt_l1",
            t,
            "cus_late",
            "late@x.test",
            "late-hall",
            "Late Hall",
        ),
    )
    .await;
    b.drain().await;
    b.count("WITH u AS (UPDATE tenants SET created_at = now() - interval '2 days' WHERE subdomain = 'late-hall' RETURNING 1) SELECT count(*) FROM u").await;

    let cancel = CancellationToken::new();
    let base = serve(&b, &cancel).await;
    let mut web = Browser::launch();

    // Sign in.
    web.goto(&format!("{base}/console/tenants"));
    assert!(web.url().ends_with("/console/login"), "{}", web.url());
    web.screenshot("01-login");
    web.type_into("#username", "alice");
    web.type_into("#password", PASSWORD);
    web.click("#sign-in");
    assert!(web.url().ends_with("/console/tenants"), "{}", web.url());
    assert_eq!(web.count("#tenants tbody tr"), 4);
    web.screenshot("02-tenants");

    // Hostile names are text: no element came from them, the text reads back exactly.
    assert_eq!(web.count("img"), 0);
    assert_eq!(web.count("script"), 0);
    assert_eq!(
        web.text("tr[data-subdomain=\"evil-xss\"] td.name"),
        XSS_NAME
    );

    // Filter by state, then search.
    web.select("#state", "failed");
    web.click("#apply");
    assert_eq!(web.count("#tenants tbody tr"), 1);
    assert!(web.find("tr[data-subdomain=\"evil-xss\"]").is_some());
    web.screenshot("03-filter-failed");
    web.goto(&format!("{base}/console/tenants"));
    web.type_into("#q", "BERLIN");
    web.click("#apply");
    assert_eq!(web.count("#tenants tbody tr"), 1);
    assert!(web.find("tr[data-subdomain=\"berlin-phil\"]").is_some());

    // Pending provisions: the late one first, marked.
    web.goto(&format!("{base}/console/pending"));
    assert!(
        web.find("#tenants tbody tr:first-child.past-sla[data-subdomain=\"late-hall\"]")
            .is_some(),
        "{}",
        web.html()
    );
    assert!(
        web.text("#tenants tbody tr:first-child")
            .contains("PAST SLA")
    );
    assert!(
        web.find("tr[data-subdomain=\"berlin-phil\"]").is_none(),
        "ready is not pending"
    );
    web.screenshot("04-pending");

    // A timeline.
    web.goto(&format!("{base}/console/tenants"));
    web.click("a[href=\"/console/tenants/berlin-phil\"]");
    let timeline = web.text("#timeline");
    for needle in [
        "Stripe checkout.session.completed evt_b1",
        "Committed",
        "CI reported ready",
        "Email (welcome) to berlin@x.test",
    ] {
        assert!(
            timeline.contains(needle),
            "{needle} missing from {timeline}"
        );
    }
    assert_eq!(web.count("#held tbody tr"), 2);
    web.screenshot("05-timeline");
    web.goto(&format!("{base}/console/tenants/evil-xss"));
    assert_eq!(
        web.count("img") + web.count("script") + web.count("#timeline b"),
        0
    );
    assert!(
        web.text("#timeline")
            .contains("plan failed: <b>boom</b> \"><img src=x onerror=alert(3)>")
    );
    assert_eq!(web.text("#facts dd.name"), XSS_NAME);

    // Retry publishing.
    let commits = b
        .count("SELECT count(*) FROM tenant_commits WHERE subdomain = 'berlin-phil'")
        .await;
    web.goto(&format!("{base}/console/tenants/berlin-phil"));
    web.click("#act-retry-publish");
    assert!(
        web.text("#what")
            .contains("Publish the tenant file of berlin-phil again")
    );
    web.screenshot("06-confirm-retry");
    web.click("#confirm");
    assert!(
        web.text("#notice").contains("queued a new publish job"),
        "{}",
        web.html()
    );
    b.drain().await;
    assert_eq!(
        b.count("SELECT count(*) FROM tenant_commits WHERE subdomain = 'berlin-phil'")
            .await,
        commits + 1
    );

    // Resend the welcome.
    web.click("#act-resend-welcome");
    web.click("#confirm");
    b.drain().await;
    assert_eq!(sink.count("Your orchestra space Berlin Phil is ready"), 2);

    // A form posted without its CSRF token is refused, and nothing happens.
    let jobs = b.count("SELECT count(*) FROM jobs").await;
    web.click("#act-retry-publish");
    web.remove("#confirm-form input[name=\"csrf\"]");
    web.click("#confirm");
    assert!(web.text("h1").contains("Refused"), "{}", web.html());
    web.screenshot("07-csrf-refused");
    assert_eq!(b.count("SELECT count(*) FROM jobs").await, jobs);

    // Release one held request, give the subdomain to the other requester.
    web.goto(&format!("{base}/console/tenants/berlin-phil"));
    web.click("#held tbody tr:first-child a.act-release");
    assert!(web.text("#what").contains("evt_h1"));
    web.click("#confirm");
    b.drain().await;
    assert!(
        outcome(&b, "evt_h1")
            .await
            .starts_with("released by console:alice: held:")
    );
    assert_eq!(web.count("#held tbody tr"), 1);
    web.click("#held tbody tr:first-child a.act-assign");
    assert!(web.text("#what").contains("evt_h2"));
    web.click("#confirm");
    b.drain().await;
    assert_eq!(outcome(&b, "evt_h2").await, "provisioned");
    let (_, attrs) = read_tenant_file(
        &b.remote
            .file("main", "tenants/berlin-phil/main.tf")
            .unwrap(),
    );
    assert_eq!(
        hcl_str(&attrs, "stripe_customer_id").as_deref(),
        Some("cus_other")
    );
    assert_eq!(
        hcl_str(&attrs, "orchestra_name").as_deref(),
        Some("Other Phil")
    );

    // Link a guest tenant to a customer.
    web.goto(&format!("{base}/console/tenants/guest-hall"));
    web.click("#act-link-owner");
    web.type_into("#customer", "cus_guestnow");
    web.click("#confirm");
    assert!(
        web.text("#notice").contains("linked to cus_guestnow"),
        "{}",
        web.html()
    );
    b.drain().await;
    let (_, attrs) =
        read_tenant_file(&b.remote.file("main", "tenants/guest-hall/main.tf").unwrap());
    assert_eq!(
        hcl_str(&attrs, "stripe_customer_id").as_deref(),
        Some("cus_guestnow")
    );
    assert_eq!(b.count("SELECT count(*) FROM owner_links WHERE subdomain = 'guest-hall' AND linked_by = 'console:alice'").await, 1);

    // Mark as manually provisioned: a hostile id is refused and shown as text, a ref is adopted.
    web.goto(&format!("{base}/console/tenants/late-hall"));
    web.click("#act-mark-manual");
    let hostile = "\"><img src=x onerror=alert(4)>";
    web.type_into("#import_id", hostile);
    web.click("#confirm");
    assert!(web.text("#error").contains(hostile), "{}", web.html());
    assert_eq!(web.count("img"), 0);
    web.screenshot("08-mark-manual-refused");
    web.type_into("#import_id", "abcdefghijklmnopqrst");
    web.click("#confirm");
    assert!(
        web.text("#notice").contains("import abcdefghijklmnopqrst"),
        "{}",
        web.html()
    );
    assert_eq!(web.text("#import-id"), "abcdefghijklmnopqrst");
    b.drain().await;
    let file = b.remote.file("main", "tenants/late-hall/main.tf").unwrap();
    assert!(file.contains("import {\n  to = module.orchestra-late-hall.stagesub_orchestra_database.this\n  id = \"abcdefghijklmnopqrst\"\n}\n"), "{file}");
    assert_terraform_fmt_clean(&file);
    assert_eq!(
        text_of(
            &b,
            "SELECT import_by FROM tenants WHERE subdomain = 'late-hall'"
        )
        .await,
        "console:alice"
    );

    // Deliveries and the audit.
    web.goto(&format!("{base}/console/deliveries"));
    assert!(
        web.text("#deliveries")
            .contains("checkout.session.completed")
    );
    web.screenshot("09-deliveries");
    web.goto(&format!("{base}/console/audit"));
    let audit = web.text("#audit");
    for action in [
        "login",
        "retry-publish",
        "resend-welcome",
        "release-held",
        "assign-held",
        "link-owner",
        "mark-manual",
    ] {
        assert!(audit.contains(action), "{action} not audited: {audit}");
    }
    web.screenshot("10-audit");

    // Sign out.
    web.click("header button");
    assert!(web.url().ends_with("/console/login"), "{}", web.url());
    web.goto(&format!("{base}/console/tenants"));
    assert!(web.url().ends_with("/console/login"));
    assert!(chromium::output_dir().join("05-timeline.png").exists());
    cancel.cancel();
}
