//! `GET /v1/organizations/{slug}/projects` pages, sorts, searches and filters; `GET /v1/projects` does not page.
//! Uses metadata-only projects from `/_standin/bulk-projects`.

mod common;

use common::Api;
use reqwest::StatusCode;
use serde_json::{Value, json};
use supabase_standin::FaultsPatch;

fn names(page: &Value) -> Vec<String> {
    page["projects"]
        .as_array()
        .expect("projects")
        .iter()
        .map(|project| project["name"].as_str().expect("name").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organization_projects_are_paginated() {
    let standin = common::start(FaultsPatch::default()).await;
    let api = Api::new(&standin);
    let (status, bulk) = api
        .post(
            "/_standin/bulk-projects",
            json!({"count": 250, "name_prefix": "orchestra-", "organization_slug": "big-org"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{bulk}");
    assert_eq!(bulk["refs"].as_array().map(Vec::len), Some(250));
    let (status, _) = api
        .post(
            "/_standin/bulk-projects",
            json!({"count": 3, "name_prefix": "other-", "organization_slug": "small-org"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = api
        .post(
            "/_standin/bulk-projects",
            json!({"count": 1, "name_prefix": "orchestra-", "organization_slug": "big-org"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "names stay unique per organization"
    );

    let (status, first) = api.get("/v1/organizations/big-org/projects").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        first["pagination"],
        json!({"count": 250, "limit": 100, "offset": 0})
    );
    assert_eq!(
        first["projects"].as_array().map(Vec::len),
        Some(100),
        "default limit is 100"
    );
    let item = &first["projects"][0];
    for field in [
        "ref",
        "name",
        "cloud_provider",
        "region",
        "is_branch",
        "status",
        "inserted_at",
        "databases",
    ] {
        assert!(!item[field].is_null(), "item lacks {field}: {item}");
    }
    assert_eq!(item["status"], "ACTIVE_HEALTHY");

    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let (status, page) = api
            .get(&format!(
                "/v1/organizations/big-org/projects?limit=40&offset={offset}&sort=created_asc"
            ))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["pagination"]["offset"], offset);
        let page_names = names(&page);
        if page_names.is_empty() {
            break;
        }
        offset += page_names.len();
        seen.extend(page_names);
    }
    let expected: Vec<String> = (1..=250).map(|n| format!("orchestra-{n}")).collect();
    assert_eq!(
        seen, expected,
        "created_asc pages walk every project once, in order"
    );

    let (_, desc) = api
        .get("/v1/organizations/big-org/projects?limit=3&sort=name_desc")
        .await;
    assert_eq!(
        names(&desc),
        ["orchestra-99", "orchestra-98", "orchestra-97"]
    );
    let (_, newest) = api
        .get("/v1/organizations/big-org/projects?limit=1&sort=created_desc")
        .await;
    assert_eq!(names(&newest), ["orchestra-250"]);
    let (_, found) = api
        .get("/v1/organizations/big-org/projects?search=ORCHESTRA-24")
        .await;
    assert_eq!(
        found["pagination"]["count"], 11,
        "search is a case-insensitive name match: {found}"
    );
    let (_, inactive) = api
        .get("/v1/organizations/big-org/projects?statuses=INACTIVE")
        .await;
    assert_eq!(inactive["pagination"]["count"], 0);
    let (_, active) = api
        .get("/v1/organizations/big-org/projects?statuses=ACTIVE_HEALTHY,INACTIVE&limit=1")
        .await;
    assert_eq!(active["pagination"]["count"], 250);

    for bad in [
        "limit=0",
        "limit=101",
        "offset=-1",
        "sort=size",
        "statuses=SLEEPING",
    ] {
        let (status, body) = api
            .get(&format!("/v1/organizations/big-org/projects?{bad}"))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }

    let (_, all) = api.get("/v1/projects").await;
    assert_eq!(
        all.as_array().map(Vec::len),
        Some(253),
        "GET /v1/projects is not paginated"
    );
    assert!(all[0]["database"]["host"].is_string());

    // Metadata-only projects delete without a database behind them.
    let some_ref = bulk["refs"][0].as_str().unwrap();
    let (status, deleted) = api
        .call(
            reqwest::Method::DELETE,
            &format!("/v1/projects/{some_ref}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
    assert_eq!(
        api.get("/v1/organizations/big-org/projects").await.1["pagination"]["count"],
        249
    );
    standin.shutdown().await.expect("clean shutdown");
}
