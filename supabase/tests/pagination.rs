//! Listing an organization's projects page by page, the fallback list, and look-up by name.

mod support;

use stagesub_supabase::ProjectStatus;
use support::Fake;

#[tokio::test]
async fn reads_every_page_of_100() {
    let fake = Fake::start().await;
    {
        let mut st = fake.state();
        for i in 0..250 {
            st.add_project("org", &format!("orchestra-{i:03}"), "ACTIVE_HEALTHY");
        }
        st.add_project("other-org", "orchestra-elsewhere", "ACTIVE_HEALTHY");
    }
    let all = fake
        .client()
        .list_organization_projects("org")
        .await
        .unwrap();
    assert_eq!(all.len(), 250);
    assert!(all.iter().all(|p| p.status == ProjectStatus::ActiveHealthy));
    assert_eq!(all[0].instance_size.as_deref(), Some("micro"));
    let pages: Vec<(String, String)> = fake
        .requests()
        .iter()
        .map(|r| {
            (
                r.param("offset").unwrap().to_owned(),
                r.param("limit").unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        pages,
        [("0", "100"), ("100", "100"), ("200", "100")].map(|(o, l)| (o.to_owned(), l.to_owned()))
    );
}

#[tokio::test]
async fn an_empty_organization_costs_one_call() {
    let fake = Fake::start().await;
    let all = fake
        .client()
        .list_organization_projects("org")
        .await
        .unwrap();
    assert!(all.is_empty());
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn falls_back_to_the_unpaginated_list_when_the_org_endpoint_is_missing() {
    let fake = Fake::start().await;
    {
        let mut st = fake.state();
        st.org_endpoint_missing = true;
        st.add_project("org", "orchestra-a", "ACTIVE_HEALTHY");
        st.add_project("other-org", "orchestra-b", "ACTIVE_HEALTHY");
        st.add_project("org", "orchestra-c", "INACTIVE");
    }
    let client = fake.client();
    let all = client.list_organization_projects("org").await.unwrap();
    let names: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["orchestra-a", "orchestra-c"]);
    assert_eq!(all[1].status, ProjectStatus::Inactive);
    assert_eq!(fake.count("GET", "/v1/organizations/org/projects"), 1);
    assert_eq!(fake.count("GET", "/v1/projects"), 1);

    let found = client
        .find_project_by_name("org", "orchestra-c")
        .await
        .unwrap();
    assert_eq!(found.unwrap().name, "orchestra-c");
    assert!(
        client
            .find_project_by_name("org", "orchestra-b")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn find_by_name_searches_then_matches_exactly() {
    let fake = Fake::start().await;
    let wanted = {
        let mut st = fake.state();
        st.add_project("org", "orchestra-berlin-phil", "ACTIVE_HEALTHY");
        let r = st.add_project("org", "orchestra-berlin", "COMING_UP");
        st.add_project("org", "orchestra-berlin2", "ACTIVE_HEALTHY");
        r
    };
    let client = fake.client();
    let found = client
        .find_project_by_name("org", "orchestra-berlin")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.project_ref, wanted);
    assert_eq!(found.status, ProjectStatus::ComingUp);
    let req = &fake.requests()[0];
    assert_eq!(req.param("search"), Some("orchestra-berlin"));
    assert!(
        client
            .find_project_by_name("org", "orchestra-ber")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        client
            .find_project_by_name("org", "orchestra-vienna")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn bad_slugs_are_refused_with_a_hint() {
    let fake = Fake::start().await;
    let err = fake
        .client()
        .list_organization_projects("my org/..")
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("SUPABASE_ORGANIZATION_SLUG"),
        "{err}"
    );
    assert!(fake.requests().is_empty());
}
