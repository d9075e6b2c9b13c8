//! `GIT_BACKEND=github`: the publisher built from the environment talks to the GitHub REST stand-in
//! (a real bare repository behind it): one branch, one pull request, repeated deliveries add nothing.

mod support;

use std::collections::HashMap;

use github_standin::StandinConfig;
use stagesub_bridge::config::Config;
use stagesub_bridge::signature::unix_now;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_backend_opens_one_pull_request_per_tenant() {
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
    let env: HashMap<&str, String> = [
        ("STRIPE_WEBHOOK_SECRET", SECRET.to_owned()),
        ("DATABASE_URL", b.db.url.clone()),
        ("GIT_BACKEND", "github".into()),
        ("GITHUB_API_URL", standin.url()),
        ("GITHUB_REPOSITORY", "orchestras/infra".into()),
        ("GITHUB_TOKEN", "ghp_standin_token".into()),
    ]
    .into_iter()
    .collect();
    let config = Config::from_lookup(|k| env.get(k).cloned()).unwrap();
    assert!(!format!("{config:?}").contains("ghp_standin_token"));
    b.ctx.publisher = stagesub_bridge::build_publisher(&config).unwrap();

    let t = unix_now();
    let checkout = checkout_event(
        "evt_gh1",
        t,
        "cus_gh",
        Some("sub_gh"),
        metadata("hub-band", "Hub \"${Band}\""),
    );
    let payload = checkout.to_string();
    let sig = sign_one(&payload, SECRET, None);
    for _ in 0..3 {
        assert_eq!(b.deliver(&payload, &sig).await.0, 200);
        b.drain().await;
    }
    let cancel = subscription_event(
        "evt_gh2",
        "customer.subscription.deleted",
        t + 5,
        "sub_gh",
        "cus_gh",
        "canceled",
    );
    assert_eq!(b.deliver_signed(&cancel.to_string()).await.0, 200);
    b.drain().await;

    let pulls = standin.pull_requests();
    assert_eq!(pulls.len(), 1, "{pulls:?}");
    assert_eq!(
        (pulls[0].head.as_str(), pulls[0].base.as_str()),
        ("stagesub/hub-band", "main")
    );
    assert!(
        pulls[0].title.contains("hub-band") && pulls[0].body.contains("cus_gh"),
        "{:?}",
        pulls[0]
    );
    let text = String::from_utf8(
        standin
            .repo()
            .read("stagesub/hub-band", "tenants/hub-band/main.tf")
            .await
            .unwrap(),
    )
    .unwrap();
    assert_terraform_fmt_clean(&text);
    let (_, attrs) = read_tenant_file(&text);
    assert_eq!(
        hcl_str(&attrs, "orchestra_name").as_deref(),
        Some("Hub \"${Band}\"")
    );
    assert_eq!(attrs["archived"], hcl::Value::Bool(true));
    assert!(
        standin
            .repo()
            .read("main", "tenants/hub-band/main.tf")
            .await
            .is_none(),
        "main untouched until merge"
    );
    assert_eq!(
        b.count("SELECT count(*) FROM tenants WHERE pull_request_url IS NOT NULL")
            .await,
        1
    );
    standin.shutdown().await;
}
