//! The operator console at the HTTP level: sign-in, sessions and their cookie, CSRF on every form, the
//! login rate limit, the audit, the trusted proxy header, the disabled console, webhook delivery
//! tracking and "find missed events" against the Stripe stand-in.

mod support;

use std::net::SocketAddr;

use axum::http::HeaderMap;
use serde_json::json;
use stagesub_bridge::console::config::{Cidr, ConsoleUser};
use stagesub_bridge::console::{self, ConsoleConfig, ConsoleState, auth};
use stagesub_bridge::signature::unix_now;
use support::*;

const PASSWORD: &str = "correct horse battery staple";

fn users() -> Vec<ConsoleUser> {
    vec![ConsoleUser {
        name: "alice".into(),
        hash: auth::hash_password(PASSWORD).unwrap(),
    }]
}

struct Console {
    b: Bridge,
    state: ConsoleState,
}

struct Answer {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    /// The value of a hidden input named `name` in the page.
    fn hidden(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let at = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no {name} in {}", self.body))
            + marker.len();
        self.body[at..].split('"').next().unwrap().to_owned()
    }
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

impl Console {
    async fn new(config: ConsoleConfig, bind: &str) -> Console {
        let b = Bridge::new().await;
        let state = ConsoleState::new(
            b.store.clone(),
            config,
            bind.parse().unwrap(),
            b.state.wake.clone(),
        );
        Console { b, state }
    }

    async fn with_users() -> Console {
        Console::new(
            ConsoleConfig {
                users: users(),
                ..ConsoleConfig::default()
            },
            "127.0.0.1:8080",
        )
        .await
    }

    async fn request(
        &self,
        method: &str,
        uri: &str,
        peer: &str,
        headers: &[(&str, &str)],
        form: &[(&str, &str)],
    ) -> Answer {
        use tower::ServiceExt;
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut req = axum::http::Request::builder().method(method).uri(uri);
        if method == "POST" {
            req = req.header("content-type", "application/x-www-form-urlencoded");
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let mut req = req.body(axum::body::Body::from(body)).unwrap();
        let peer: SocketAddr = peer.parse().unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        let resp = console::router(self.state.clone())
            .oneshot(req)
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap()
            .to_bytes();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn try_login(&self, peer: &str, user: &str, password: &str) -> Answer {
        let form = self.request("GET", "/console/login", peer, &[], &[]).await;
        assert_eq!(form.status, 200, "{}", form.body);
        let login_cookie = cookie_value(&form.set_cookie(auth::LOGIN_COOKIE).unwrap());
        let csrf = form.hidden("csrf");
        self.request(
            "POST",
            "/console/login",
            peer,
            &[("cookie", &login_cookie)],
            &[("username", user), ("password", password), ("csrf", &csrf)],
        )
        .await
    }

    /// Signs in; returns the session cookie (`name=value`) and the session's CSRF token.
    async fn login(&self, peer: &str) -> (String, String) {
        let answer = self.try_login(peer, "alice", PASSWORD).await;
        assert_eq!(answer.status, 303, "{}", answer.body);
        let cookie = cookie_value(&answer.set_cookie(auth::SESSION_COOKIE).unwrap());
        let page = self
            .request("GET", "/console/tenants", peer, &[("cookie", &cookie)], &[])
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        (cookie, page.hidden("csrf"))
    }

    async fn audit_count(&self, condition: &str) -> i64 {
        self.b
            .count(&format!(
                "SELECT count(*) FROM console_audit WHERE {condition}"
            ))
            .await
    }
}

const PEER: &str = "192.0.2.10:5555";

#[tokio::test]
async fn disabled_console_says_how_to_enable_it() {
    let c = Console::new(ConsoleConfig::default(), "0.0.0.0:8080").await;
    for uri in ["/console", "/console/tenants", "/console/login"] {
        let a = c.request("GET", uri, PEER, &[], &[]).await;
        assert_eq!(a.status, 404, "{uri}");
        assert!(a.body.contains("CONSOLE_USERS"), "{}", a.body);
    }
    let a = c
        .request("POST", "/console/tenants/x/retry-publish", PEER, &[], &[])
        .await;
    assert_eq!(a.status, 404);
}

#[tokio::test]
async fn sign_in_sets_a_strict_http_only_session_cookie() {
    // Bound to a public address: the cookie must be Secure.
    let c = Console::new(
        ConsoleConfig {
            users: users(),
            ..ConsoleConfig::default()
        },
        "0.0.0.0:8080",
    )
    .await;
    let anonymous = c.request("GET", "/console/tenants", PEER, &[], &[]).await;
    assert_eq!(anonymous.status, 303);
    assert_eq!(anonymous.headers["location"], "/console/login");
    let wrong = c.try_login(PEER, "alice", "nope").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("Wrong user name or password"));
    assert!(wrong.set_cookie(auth::SESSION_COOKIE).is_none());
    let unknown = c.try_login(PEER, "mallory", PASSWORD).await;
    assert_eq!(unknown.status, 401);
    let ok = c.try_login(PEER, "alice", PASSWORD).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let cookie = ok.set_cookie(auth::SESSION_COOKIE).unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/console"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let session = cookie_value(&cookie);
    let page = c
        .request(
            "GET",
            "/console/tenants",
            PEER,
            &[("cookie", &session)],
            &[],
        )
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    // The table keeps only the token's hash.
    let token = session.split_once('=').unwrap().1;
    assert_eq!(
        c.b.count(&format!(
            "SELECT count(*) FROM console_sessions WHERE token_sha256 = '{}'",
            auth::token_sha256(token)
        ))
        .await,
        1
    );
    assert_eq!(
        c.b.count(&format!(
            "SELECT count(*) FROM console_sessions WHERE token_sha256 = '{token}'"
        ))
        .await,
        0
    );
    // A forged cookie is nobody.
    let forged = c
        .request(
            "GET",
            "/console/tenants",
            PEER,
            &[("cookie", "stagesub_console=00ff")],
            &[],
        )
        .await;
    assert_eq!(forged.status, 303);
    assert_eq!(
        c.audit_count("action = 'login' AND outcome = 'ok' AND actor = 'alice'")
            .await,
        1
    );
    assert_eq!(
        c.audit_count("action = 'login' AND outcome LIKE 'refused%'")
            .await,
        2
    );

    // On loopback the cookie works over plain http (no Secure).
    let local = Console::with_users().await;
    let ok = local.try_login(PEER, "alice", PASSWORD).await;
    assert!(
        !ok.set_cookie(auth::SESSION_COOKIE)
            .unwrap()
            .contains("Secure")
    );
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let c = Console::with_users().await;
    send(
        &c.b,
        &customer_checkout(
            "evt_c1",
            unix_now(),
            "cus_a",
            "a@x.test",
            "alpha-hall",
            "Alpha",
        ),
    )
    .await;
    let (cookie, csrf) = c.login(PEER).await;
    let jobs_before = c.b.count("SELECT count(*) FROM jobs").await;
    for form in [vec![], vec![("csrf", "wrong")], vec![("csrf", "")]] {
        let a = c
            .request(
                "POST",
                "/console/tenants/alpha-hall/retry-publish",
                PEER,
                &[("cookie", &cookie)],
                &form,
            )
            .await;
        assert_eq!(a.status, 403, "{form:?}: {}", a.body);
    }
    // Another session's token does not fit this one.
    let (_, other_csrf) = c.login("192.0.2.11:1").await;
    let a = c
        .request(
            "POST",
            "/console/tenants/alpha-hall/retry-publish",
            PEER,
            &[("cookie", &cookie)],
            &[("csrf", &other_csrf)],
        )
        .await;
    assert_eq!(a.status, 403);
    assert_eq!(
        c.b.count("SELECT count(*) FROM jobs").await,
        jobs_before,
        "nothing queued"
    );
    assert_eq!(
        c.audit_count("outcome LIKE 'refused: missing or wrong CSRF%'")
            .await,
        4
    );
    // Without a session at all: refused too.
    let a = c
        .request(
            "POST",
            "/console/tenants/alpha-hall/retry-publish",
            PEER,
            &[],
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(a.status, 403);
    // The login form has its own token.
    let a = c
        .request(
            "POST",
            "/console/login",
            PEER,
            &[],
            &[("username", "alice"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(a.status, 403);
    // With the token it is done, audited with who and what.
    let a = c
        .request(
            "POST",
            "/console/tenants/alpha-hall/retry-publish",
            PEER,
            &[("cookie", &cookie)],
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert!(
        a.headers["location"]
            .to_str()
            .unwrap()
            .starts_with("/console/tenants/alpha-hall?done=")
    );
    assert_eq!(c.audit_count("actor = 'alice' AND action = 'retry-publish' AND target = 'alpha-hall' AND outcome LIKE 'ok:%' AND at <= now()").await, 1);
    // Sign out ends the session.
    let a = c
        .request(
            "POST",
            "/console/logout",
            PEER,
            &[("cookie", &cookie)],
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(a.status, 303);
    let a = c
        .request("GET", "/console/tenants", PEER, &[("cookie", &cookie)], &[])
        .await;
    assert_eq!(a.status, 303);
}

#[tokio::test]
async fn login_attempts_are_limited_per_user_and_address() {
    let c = Console::with_users().await;
    for _ in 0..auth::MAX_LOGIN_FAILURES {
        assert_eq!(c.try_login(PEER, "alice", "guess").await.status, 401);
    }
    // Now even the right password is refused from that address...
    let limited = c.try_login(PEER, "alice", PASSWORD).await;
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert!(limited.body.contains("Too many failed sign-ins"));
    assert!(limited.set_cookie(auth::SESSION_COOKIE).is_none());
    // ...but not from another one, nor for another user name from the same one.
    assert_eq!(
        c.try_login("198.51.100.7:9", "alice", PASSWORD)
            .await
            .status,
        303
    );
    assert_eq!(c.try_login(PEER, "bob", "x").await.status, 401);
    assert_eq!(
        c.audit_count("action = 'login' AND outcome = 'refused: rate limited'")
            .await,
        1
    );
    // The window passes (rows aged by hand): allowed again.
    c.b.count("WITH u AS (UPDATE console_login_attempts SET at = at - interval '1 hour' RETURNING 1) SELECT count(*) FROM u").await;
    assert_eq!(c.try_login(PEER, "alice", PASSWORD).await.status, 303);
}

#[tokio::test]
async fn proxy_header_is_believed_only_from_trusted_peers() {
    let c = Console::new(
        ConsoleConfig {
            proxy_header: Some("x-forwarded-user".into()),
            trusted_proxies: vec![Cidr::parse("10.0.0.0/8").unwrap()],
            ..ConsoleConfig::default()
        },
        "0.0.0.0:8080",
    )
    .await;
    let trusted = "10.1.2.3:4000";
    let page = c
        .request(
            "GET",
            "/console/tenants",
            trusted,
            &[("x-forwarded-user", "carol")],
            &[],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("carol"));
    let cookie = cookie_value(&page.set_cookie(auth::SESSION_COOKIE).unwrap());
    let csrf = page.hidden("csrf");
    // The same header from anyone else is ignored.
    let spoofed = c
        .request(
            "GET",
            "/console/tenants",
            "203.0.113.5:1",
            &[("x-forwarded-user", "carol")],
            &[],
        )
        .await;
    assert_eq!(spoofed.status, 303);
    // Stolen session cookie without the proxy: nobody.
    let stolen = c
        .request(
            "GET",
            "/console/tenants",
            "203.0.113.5:1",
            &[("cookie", &cookie)],
            &[],
        )
        .await;
    assert_eq!(stolen.status, 303);
    // The proxy now says another user: the old session does not carry over.
    let other = c
        .request(
            "GET",
            "/console/audit",
            trusted,
            &[("cookie", &cookie), ("x-forwarded-user", "dave")],
            &[],
        )
        .await;
    assert_eq!(other.status, 200);
    assert!(other.body.contains("dave") && !other.body.contains(">carol<"));
    // Forms need the session's token also behind the proxy; a sign-in form has nothing to do.
    let a = c
        .request(
            "POST",
            "/console/logout",
            trusted,
            &[("cookie", &cookie), ("x-forwarded-user", "carol")],
            &[],
        )
        .await;
    assert_eq!(a.status, 403);
    let a = c
        .request(
            "POST",
            "/console/logout",
            trusted,
            &[("cookie", &cookie), ("x-forwarded-user", "carol")],
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(a.status, 303);
    assert_eq!(
        c.audit_count("actor = 'carol' AND action = 'logout' AND outcome = 'ok'")
            .await,
        1
    );
    let login = c
        .request("GET", "/console/login", "203.0.113.5:1", &[], &[])
        .await;
    assert_eq!(login.status, 401);
    assert!(!login.body.contains("password"));
}

#[test]
fn settings_are_checked_naming_the_variable() {
    let read = |vars: &[(&str, &str)]| {
        let map: std::collections::HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ConsoleConfig::from_lookup(&|k: &str| map.get(k).cloned())
    };
    let hash = auth::hash_password("pw").unwrap();
    let two = format!("alice:{hash},bob:{hash}");
    let c = read(&[("CONSOLE_USERS", &two)]).unwrap();
    assert_eq!(c.users.len(), 2);
    assert!(c.enabled());
    assert!(
        !format!("{c:?}").contains(&hash),
        "hashes stay out of Debug"
    );
    assert!(auth::verify_password(&c.users[1].hash, "pw"));
    assert!(!auth::verify_password(&c.users[1].hash, "pW"));
    for (vars, variable) in [
        (vec![("CONSOLE_USERS", "alice:plain")], "CONSOLE_USERS"),
        (vec![("CONSOLE_USERS", "alice")], "CONSOLE_USERS"),
        (
            vec![("CONSOLE_TRUST_PROXY_HEADER", "X-User")],
            "CONSOLE_TRUSTED_PROXIES",
        ),
        (
            vec![("CONSOLE_TRUST_PROXY_HEADER", "bad header")],
            "CONSOLE_TRUST_PROXY_HEADER",
        ),
        (
            vec![
                ("CONSOLE_TRUST_PROXY_HEADER", "X-User"),
                ("CONSOLE_TRUSTED_PROXIES", "10.0.0.0/40"),
            ],
            "CONSOLE_TRUSTED_PROXIES",
        ),
        (vec![("PROVISION_SLA", "soon")], "PROVISION_SLA"),
        (vec![("STRIPE_API_BASE", "ftp://x")], "STRIPE_API_BASE"),
    ] {
        assert_eq!(read(&vars).unwrap_err().variable, variable, "{vars:?}");
    }
    let dup = format!("alice:{hash},alice:{hash}");
    assert_eq!(
        read(&[("CONSOLE_USERS", &dup)]).unwrap_err().variable,
        "CONSOLE_USERS"
    );
    let c = read(&[("PROVISION_SLA", "90m")]).unwrap();
    assert_eq!(c.provision_sla.as_secs(), 5400);
    assert!(!c.enabled());
}

#[tokio::test]
async fn deliveries_are_counted_and_missed_events_found_through_stripes_api() {
    let stripe = stripe_standin::StripeStandin::start("rk_test_console")
        .await
        .unwrap();
    let mut c = Console::with_users().await;
    let config = ConsoleConfig {
        users: users(),
        stripe_api_key: Some(stagesub_bridge::config::Secret("rk_test_console".into())),
        stripe_api_base: stripe.base_url(),
        ..ConsoleConfig::default()
    };
    c.state = ConsoleState::new(
        c.b.store.clone(),
        config,
        "127.0.0.1:1".parse().unwrap(),
        c.b.state.wake.clone(),
    );
    let t = unix_now();
    let delivered = customer_checkout("evt_d1", t, "cus_d", "d@x.test", "delta-hall", "Delta");
    send(&c.b, &delivered).await;
    let (status, _) = c.b.deliver_signed(&delivered.to_string()).await;
    assert_eq!(status, 200);
    let (status, _) =
        c.b.deliver(
            &json!({"id": "evt_forged", "type": "checkout.session.completed"}).to_string(),
            "t=1,v1=00",
        )
        .await;
    assert_eq!(status, 400);
    // Stripe could not deliver these (105 more make a second page).
    let missed = customer_checkout(
        "evt_m1",
        t + 1,
        "cus_m",
        "m@x.test",
        "missed-hall",
        "Missed <Hall>",
    );
    stripe.add_event(missed.clone(), false);
    stripe.add_event(delivered.clone(), false); // it did arrive after all: a duplicate
    stripe.add_event(
        customer_checkout("evt_ok", t, "cus_o", "o@x.test", "ok-hall", "Ok"),
        true,
    );
    for i in 0..105 {
        // Status changes of unknown subscriptions: recorded and handled without a publish.
        let e = subscription_event(
            &format!("evt_p{i}"),
            "customer.subscription.updated",
            t - 100 - i,
            &format!("sub_p{i}"),
            "cus_p",
            "past_due",
        );
        stripe.add_event(e, false);
    }
    stripe.fail_next(&[500]);
    let (cookie, csrf) = c.login(PEER).await;
    let a = c
        .request(
            "POST",
            "/console/deliveries/find-missed",
            PEER,
            &[("cookie", &cookie)],
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let location = a.headers["location"].to_str().unwrap().to_owned();
    assert!(location.contains("107"), "{location}");
    let requests = stripe.requests();
    assert_eq!(
        requests.len(),
        3,
        "one retry after the 500, then two pages: {requests:?}"
    );
    assert!(
        requests[1].contains("delivery_success=false")
            && requests[1].contains("types%5B%5D=checkout.session.completed")
    );
    assert!(requests[2].contains("starting_after=evt_p"), "{requests:?}");
    c.b.drain().await;
    assert_eq!(outcome(&c.b, "evt_m1").await, "provisioned");
    assert!(
        c.b.remote
            .file("main", "tenants/missed-hall/main.tf")
            .unwrap()
            .contains("Missed <Hall>")
    );
    assert!(c.b.remote.file("main", "tenants/ok-hall/main.tf").is_none());
    // Running it again finds only known events.
    let a = c
        .request(
            "POST",
            "/console/deliveries/find-missed",
            PEER,
            &[("cookie", &cookie)],
            &[("csrf", &csrf)],
        )
        .await;
    assert!(
        a.headers["location"].to_str().unwrap().contains("0%20new")
            || a.headers["location"].to_str().unwrap().contains("0+new"),
        "{:?}",
        a.headers["location"]
    );
    let page = c
        .request(
            "GET",
            "/console/deliveries",
            PEER,
            &[("cookie", &cookie)],
            &[],
        )
        .await;
    assert_eq!(page.status, 200);
    let q = |source: &str, outcome: &str| {
        format!(
            "SELECT count(*) FROM webhook_deliveries WHERE source = '{source}' AND outcome = '{outcome}'"
        )
    };
    assert_eq!(c.b.count(&q("webhook", "recorded")).await, 1);
    assert_eq!(c.b.count(&q("webhook", "duplicate")).await, 1);
    assert_eq!(c.b.count(&q("webhook", "rejected")).await, 1);
    assert_eq!(c.b.count(&q("api", "recorded")).await, 106);
    assert_eq!(c.b.count(&q("api", "duplicate")).await, 1 + 107);
    assert_eq!(c.b.count("SELECT count(*) FROM webhook_deliveries WHERE outcome = 'rejected' AND event_id = 'evt_forged' AND reason <> ''").await, 1);
    assert!(page.body.contains("rejected") && page.body.contains("duplicate"));
    // A wrong key: a clear error, the key never shown.
    c.state = ConsoleState::new(
        c.b.store.clone(),
        ConsoleConfig {
            users: users(),
            stripe_api_key: Some(stagesub_bridge::config::Secret("rk_wrong_key".into())),
            stripe_api_base: stripe.base_url(),
            ..ConsoleConfig::default()
        },
        "127.0.0.1:1".parse().unwrap(),
        c.b.state.wake.clone(),
    );
    let a = c
        .request(
            "POST",
            "/console/deliveries/find-missed",
            PEER,
            &[("cookie", &cookie)],
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(a.status, 502, "{}", a.body);
    assert!(
        a.body.contains("401") && !a.body.contains("rk_wrong_key"),
        "{}",
        a.body
    );
}

#[tokio::test]
async fn hostile_inputs_get_a_reason_not_a_server_error() {
    let c = Console::with_users().await;
    send(
        &c.b,
        &customer_checkout(
            "evt_z1",
            unix_now(),
            "cus_z",
            "z@x.test",
            "zeta-hall",
            "Zeta",
        ),
    )
    .await;
    let (cookie, csrf) = c.login(PEER).await;
    let auth_headers = [("cookie", cookie.as_str())];
    for uri in [
        "/console/tenants/no%00pe",
        "/console/tenants/nobody-here",
        "/console/tenants/zeta-hall/confirm/explode",
        "/console/tenants/zeta-hall/confirm/release-held",
        "/console/tenants?state=%00",
        "/console/tenants?state=bogus",
    ] {
        let a = c.request("GET", uri, PEER, &auth_headers, &[]).await;
        assert!(
            (400..500).contains(&a.status),
            "{uri}: {} {}",
            a.status,
            a.body
        );
    }
    let a = c
        .request(
            "GET",
            "/console/tenants?q=%00%27%22%3C",
            PEER,
            &auth_headers,
            &[],
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    for (uri, form) in [
        (
            "/console/tenants/no%00pe/retry-publish",
            vec![("csrf", csrf.as_str())],
        ),
        (
            "/console/tenants/zeta-hall/release-held",
            vec![("csrf", csrf.as_str()), ("event", "evt\0x")],
        ),
        (
            "/console/tenants/zeta-hall/assign-held",
            vec![("csrf", csrf.as_str()), ("event", "evt_z1")],
        ),
        (
            "/console/tenants/zeta-hall/link-owner",
            vec![("csrf", csrf.as_str()), ("customer", "cus_\0")],
        ),
        (
            "/console/tenants/zeta-hall/mark-manual",
            vec![("csrf", csrf.as_str()), ("import_id", "x\"; drop")],
        ),
        (
            "/console/tenants/zeta-hall/resend-welcome",
            vec![("csrf", csrf.as_str())],
        ),
        (
            "/console/tenants/zeta-hall/explode",
            vec![("csrf", csrf.as_str())],
        ),
    ] {
        let a = c.request("POST", uri, PEER, &auth_headers, &form).await;
        assert!(
            (400..500).contains(&a.status),
            "{uri}: {} {}",
            a.status,
            a.body
        );
    }
    let a = c.try_login(PEER, "ali\0ce", "x").await;
    assert_eq!(a.status, 401);
    assert_eq!(
        c.b.count("SELECT count(*) FROM tenants WHERE import_id IS NOT NULL")
            .await,
        0
    );
}

#[tokio::test]
async fn lists_filter_and_pending_put_late_ones_first() {
    use stagesub_bridge::store::{TenantQuery, list_tenants, timeline};
    let c = Console::with_users().await;
    let t = unix_now();
    for (i, sub) in ["aa-hall", "bb-hall", "cc-hall", "dd-hall"]
        .iter()
        .enumerate()
    {
        let name = format!("Hall {}", sub.to_uppercase());
        send(
            &c.b,
            &customer_checkout(
                &format!("evt_f{i}"),
                t,
                &format!("cus_{i}"),
                "f@x.test",
                sub,
                &name,
            ),
        )
        .await;
    }
    let age = |sub: &str, hours: i32| {
        format!(
            "WITH u AS (UPDATE tenants SET created_at = now() - make_interval(hours => {hours}) WHERE subdomain = '{sub}' RETURNING 1) SELECT count(*) FROM u"
        )
    };
    c.b.count(&age("aa-hall", 30)).await;
    c.b.count(&age("bb-hall", 50)).await;
    c.b.count(&age("cc-hall", 40)).await;
    c.b.count("WITH u AS (UPDATE tenants SET archived = true, created_at = now() - interval '90 hours' WHERE subdomain = 'dd-hall' RETURNING 1) SELECT count(*) FROM u").await;
    let (status, _) =
        c.b.request(
            "POST",
            "/api/tenants/cc-hall/ready",
            &[("authorization", "Bearer test-api-token")],
            vec![],
        )
        .await;
    assert_eq!(status, 200);
    let pooled = c.b.store.client().await.unwrap();
    let client: &tokio_postgres::Client = &pooled;
    let sla = 24 * 3600;
    let list = |q: TenantQuery| async move {
        list_tenants(client, &q, sla)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.subdomain, r.past_sla))
            .collect::<Vec<_>>()
    };
    // Pending: not ready, not archived; late first (oldest first among them).
    let pending = list(TenantQuery {
        pending_only: true,
        ..TenantQuery::default()
    })
    .await;
    assert_eq!(
        pending,
        [("bb-hall".to_owned(), true), ("aa-hall".to_owned(), true)]
    );
    let ready = list(TenantQuery {
        state: Some("ready".into()),
        ..TenantQuery::default()
    })
    .await;
    assert_eq!(
        ready,
        [("cc-hall".to_owned(), false)],
        "ready is never late"
    );
    let archived = list(TenantQuery {
        state: Some("archived".into()),
        ..TenantQuery::default()
    })
    .await;
    assert_eq!(archived, [("dd-hall".to_owned(), false)]);
    let found = list(TenantQuery {
        search: Some("HALL BB".into()),
        ..TenantQuery::default()
    })
    .await;
    assert_eq!(found, [("bb-hall".to_owned(), true)]);
    let by_customer = list(TenantQuery {
        search: Some("cus_0".into()),
        ..TenantQuery::default()
    })
    .await;
    assert_eq!(by_customer.len(), 1);
    for wild in ["%", "a_hall", "\\", "aa%"] {
        let none = list(TenantQuery {
            search: Some(wild.into()),
            ..TenantQuery::default()
        })
        .await;
        assert!(
            none.is_empty(),
            "{wild:?} is a character, not a pattern: {none:?}"
        );
    }
    // The timeline of a ready tenant, in order.
    let entries = timeline(client, "cc-hall").await.unwrap();
    let kinds: Vec<&str> = entries.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["stripe", "commit", "ci"], "{entries:?}");
    assert!(entries.windows(2).all(|w| w[0].at <= w[1].at));
}
