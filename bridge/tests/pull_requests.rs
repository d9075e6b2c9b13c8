//! The default commit mode: each tenant on its own branch `stagesub/<subdomain>` (a pull request on
//! GitHub), later changes on the same branch, the base branch untouched.

mod support;

use std::sync::Arc;

use stagesub_bridge::signature::unix_now;
use stagesub_gitops::CommitMode;
use support::*;

#[tokio::test]
async fn tenants_get_their_own_branch_and_repeat_deliveries_add_nothing() {
    let mut b = Bridge::new().await;
    b.ctx.publisher = Arc::new(b.remote.publisher(CommitMode::PullRequest));
    let t = unix_now();
    let checkout = checkout_event(
        "evt_pr1",
        t,
        "cus_pr",
        Some("sub_pr"),
        metadata("branchy", "Branchy Band"),
    );
    let payload = checkout.to_string();
    let sig = sign_one(&payload, SECRET, None);
    for _ in 0..3 {
        assert_eq!(b.deliver(&payload, &sig).await.0, 200);
        b.drain().await;
    }
    assert_eq!(
        b.remote.commit_count("main"),
        1,
        "the base branch is untouched"
    );
    assert_eq!(
        b.remote
            .commits_touching("stagesub/branchy", "tenants/branchy/main.tf")
            .len(),
        1
    );
    let cancel = subscription_event(
        "evt_pr2",
        "customer.subscription.deleted",
        t + 10,
        "sub_pr",
        "cus_pr",
        "canceled",
    );
    assert_eq!(b.deliver_signed(&cancel.to_string()).await.0, 200);
    b.drain().await;
    let commits = b
        .remote
        .commits_touching("stagesub/branchy", "tenants/branchy/main.tf");
    assert_eq!(commits.len(), 2);
    let (_, attrs) = read_tenant_file(
        &b.remote
            .file("stagesub/branchy", "tenants/branchy/main.tf")
            .unwrap(),
    );
    assert_eq!(attrs["archived"], hcl::Value::Bool(true));
    let message = git(
        &b.remote.bare(),
        &["log", "-1", "--format=%B", "stagesub/branchy"],
    );
    assert!(
        message.starts_with("Archive orchestra tenant branchy") && message.contains("evt_pr2"),
        "{message}"
    );
}
