//! The project cache: one paginated load serves a refresh of 1,000 tenants.

mod support;

use std::sync::Arc;

use stagesub_supabase::{CreateProjectBody, ProjectStatus, Region, Secret};
use support::Fake;
use tokio::task::JoinSet;

fn seed(fake: &Fake, n: usize) -> Vec<String> {
    let mut st = fake.state();
    (0..n)
        .map(|i| st.add_project("org", &format!("orchestra-{i:04}"), "ACTIVE_HEALTHY"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_refreshes_cost_ten_list_calls() {
    let fake = Fake::start().await;
    let refs = seed(&fake, 1000);
    let cache = Arc::new(fake.client().project_cache("org").with_direct_lookups(0));
    let mut tasks = JoinSet::new();
    for (i, r) in refs.iter().enumerate() {
        let cache = cache.clone();
        let r = r.clone();
        tasks.spawn(async move {
            let p = cache.get(&r).await.unwrap().unwrap();
            assert_eq!(p.project_ref, r);
            assert_eq!(p.name, format!("orchestra-{i:04}"));
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    assert_eq!(
        cache.load_count(),
        1,
        "concurrent first callers share one load"
    );
    assert_eq!(cache.len(), 1000);
    assert_eq!(fake.count("GET", "/v1/organizations/org/projects"), 10);
    assert_eq!(fake.requests().len(), 10, "no per-project GETs");

    let by_name = cache.by_name("orchestra-0500").await.unwrap().unwrap();
    assert_eq!(by_name.project_ref, refs[500]);
    assert_eq!(fake.requests().len(), 10);
}

#[tokio::test]
async fn unknown_refs_fall_back_to_a_get_and_are_remembered() {
    let fake = Fake::start().await;
    seed(&fake, 3);
    let client = fake.client();
    let cache = client.project_cache("org").with_direct_lookups(0);
    assert_eq!(cache.len(), 0);
    cache.get("zzzzzzzzzzzzzzzzzzzz").await.unwrap();
    assert_eq!(
        fake.requests().len(),
        2,
        "one list, one GET for the missing ref"
    );

    // A project created after the load is found and then served from memory.
    let late = fake
        .state()
        .add_project("org", "orchestra-late", "COMING_UP");
    assert_eq!(
        cache.get(&late).await.unwrap().unwrap().name,
        "orchestra-late"
    );
    cache.get(&late).await.unwrap();
    assert_eq!(fake.count("GET", &format!("/v1/projects/{late}")), 1);
    assert_eq!(cache.load_count(), 1);

    // Another organization's project is not ours.
    let foreign = fake
        .state()
        .add_project("other", "orchestra-foreign", "ACTIVE_HEALTHY");
    assert!(cache.get(&foreign).await.unwrap().is_none());
}

#[tokio::test]
async fn writes_update_the_cache() {
    let fake = Fake::start().await;
    let refs = seed(&fake, 2);
    let client = fake.client();
    let cache = client.project_cache("org");
    assert_eq!(
        cache.get(&refs[0]).await.unwrap().unwrap().status,
        ProjectStatus::ActiveHealthy
    );

    let created = client
        .create_project(&CreateProjectBody {
            name: "orchestra-new".into(),
            organization_slug: "org".into(),
            db_pass: Secret::new("pw-pw-pw"),
            region: Region::parse("apac").unwrap(),
            desired_instance_size: None,
        })
        .await
        .unwrap();
    cache.upsert_project(&created);
    let requests_before = fake.requests().len();
    let p = cache.by_name("orchestra-new").await.unwrap().unwrap();
    assert_eq!(p.project_ref, created.project_ref);
    assert_eq!(p.status, ProjectStatus::ComingUp);
    assert_eq!(
        fake.requests().len(),
        requests_before,
        "served from the cache"
    );

    assert!(client.delete_project(&refs[1]).await.unwrap());
    cache.remove(&refs[1]);
    assert!(cache.get(&refs[1]).await.unwrap().is_none());
    assert!(cache.by_name("orchestra-0001").await.unwrap().is_none());
    assert!(
        !client.delete_project(&refs[1]).await.unwrap(),
        "already gone"
    );
}

#[tokio::test]
async fn a_failed_load_is_retried_by_the_next_caller() {
    let fake = Fake::start().await;
    let refs = seed(&fake, 5);
    fake.fail_with("GET", "/v1/organizations/", 4, 503);
    let cache = fake.client().project_cache("org").with_direct_lookups(0);
    let err = cache.get(&refs[0]).await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(
        cache.get(&refs[0]).await.unwrap().unwrap().project_ref,
        refs[0]
    );
    assert_eq!(cache.load_count(), 2);
    assert_eq!(cache.len(), 5);
}

#[tokio::test]
async fn a_few_look_ups_cost_one_call_each_whatever_the_organization_size() {
    let fake = Fake::start().await;
    let refs = seed(&fake, 1000);
    let cache = fake.client().project_cache("org");
    // One tenant's root module refreshes one project: one GET, not ten pages of the list.
    let p = cache.get(&refs[700]).await.unwrap().unwrap();
    assert_eq!(p.name, "orchestra-0700");
    assert_eq!(fake.requests().len(), 1, "{:?}", fake.requests());
    assert_eq!(fake.count("GET", "/v1/organizations/org/projects"), 0);
    // Served from memory the second time.
    cache.get(&refs[700]).await.unwrap().unwrap();
    assert_eq!(fake.requests().len(), 1);
    // A name look-up searches for that name only (one list call with `search`).
    let q = cache.by_name("orchestra-0042").await.unwrap().unwrap();
    assert_eq!(q.project_ref, refs[42]);
    assert_eq!(fake.requests().len(), 2);
    assert_eq!(cache.load_count(), 0);

    // Past DIRECT_LOOKUPS look-ups the whole list pays: it is loaded once, then serves the rest.
    for r in &refs[..stagesub_supabase::DIRECT_LOOKUPS + 20] {
        assert_eq!(cache.get(r).await.unwrap().unwrap().project_ref, *r);
    }
    assert_eq!(cache.load_count(), 1);
    assert_eq!(fake.count("GET", "/v1/organizations/org/projects"), 1 + 10);
    assert!(
        fake.requests().len() <= 2 + stagesub_supabase::DIRECT_LOOKUPS + 10,
        "{}",
        fake.requests().len()
    );
}
