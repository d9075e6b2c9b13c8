//! Every answer the stand-in gives on `/v1` matches the response schema of the OpenAPI subset
//! (`tests/spec/`, a copy of `shared/reference/supabase-management-api.subset.json`): required fields,
//! types, enums, string lengths, and no fields the schema does not name.

mod common;

use common::Api;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use supabase_standin::FaultsPatch;

fn spec() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/spec/supabase-management-api.subset.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("the spec copy")).expect("spec JSON")
}

/// Problems of `value` against `schema`, each prefixed with its JSON path.
fn check(spec: &Value, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return check(
            spec,
            &spec["components"]["schemas"][name],
            value,
            at,
            problems,
        );
    }
    if let Some(variants) = schema["oneOf"].as_array() {
        let fits = variants.iter().any(|variant| {
            let mut variant_problems = Vec::new();
            check(spec, variant, value, at, &mut variant_problems);
            variant_problems.is_empty()
        });
        if !fits {
            problems.push(format!("{at}: fits no oneOf variant: {value}"));
        }
        return;
    }
    if value.is_null() && schema["nullable"] == true {
        return;
    }
    let kind = schema["type"].as_str().unwrap_or("");
    let type_ok = match kind {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        _ => true,
    };
    if !type_ok {
        problems.push(format!("{at}: expected {kind}, got {value}"));
        return;
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        problems.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let Some(text) = value.as_str() {
        let length = text.chars().count() as u64;
        if schema["minLength"].as_u64().is_some_and(|min| length < min)
            || schema["maxLength"].as_u64().is_some_and(|max| length > max)
        {
            problems.push(format!("{at}: length {length} out of bounds"));
        }
    }
    if let (Some(object), Some(properties)) = (value.as_object(), schema["properties"].as_object())
    {
        for required in schema["required"].as_array().into_iter().flatten() {
            let name = required.as_str().expect("required names");
            if !object.contains_key(name) {
                problems.push(format!("{at}: missing required {name}"));
            }
        }
        for (name, field) in object {
            match properties.get(name) {
                Some(field_schema) => {
                    check(spec, field_schema, field, &format!("{at}.{name}"), problems)
                }
                None => problems.push(format!("{at}: {name} is not in the schema")),
            }
        }
    }
    if let Some(items) = value.as_array() {
        for (index, item) in items.iter().enumerate() {
            check(
                spec,
                &schema["items"],
                item,
                &format!("{at}[{index}]"),
                problems,
            );
        }
    }
}

/// Calls the stand-in and checks the answer against `spec_path`'s schema for the answered status.
async fn call_checked(
    api: &Api,
    spec: &Value,
    method: Method,
    path: &str,
    spec_path: &str,
    body: Option<Value>,
    expected: StatusCode,
) -> Value {
    let (status, answer) = api.call(method.clone(), path, body).await;
    assert_eq!(status, expected, "{method} {path} answered {answer}");
    let operation = &spec["paths"][spec_path][method.as_str().to_lowercase()];
    assert!(
        operation.is_object(),
        "{method} {spec_path} is not in the spec"
    );
    let response = &operation["responses"][status.as_str()];
    assert!(
        response.is_object(),
        "{method} {spec_path} does not document {status}"
    );
    let schema = &response["content"]["application/json"]["schema"];
    if schema.is_null() {
        return answer;
    }
    let mut problems = Vec::new();
    check(spec, schema, &answer, "$", &mut problems);
    assert!(
        problems.is_empty(),
        "{method} {path}: {problems:#?}\n{answer:#}"
    );
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_matches_the_spec() {
    let spec = spec();
    let standin = common::start(FaultsPatch {
        pooler_lag_ms: Some(60_000),
        ..Default::default()
    })
    .await;
    let api = Api::new(&standin);
    let project = call_checked(
        &api,
        &spec,
        Method::POST,
        "/v1/projects",
        "/v1/projects",
        Some(json!({
            "name": "orchestra-shapes", "organization_slug": "shapes-org", "db_pass": "shapes-pass",
            "region_selection": {"type": "specific", "code": "eu-west-2"}, "desired_instance_size": "micro",
        })),
        StatusCode::CREATED,
    )
    .await;
    let project_ref = project["ref"].as_str().unwrap().to_string();
    let base = format!("/v1/projects/{project_ref}");
    let health_path = format!("{base}/health?services=db&services=pooler&services=auth");
    let coming_up = call_checked(
        &api,
        &spec,
        Method::GET,
        &health_path,
        "/v1/projects/{ref}/health",
        None,
        StatusCode::OK,
    )
    .await;
    assert_eq!(coming_up[0]["status"], "COMING_UP");
    api.wait_for_status(&project_ref, "ACTIVE_HEALTHY").await;

    let checks: Vec<(Method, String, &str, Option<Value>, StatusCode)> = vec![
        (
            Method::GET,
            "/v1/projects".into(),
            "/v1/projects",
            None,
            StatusCode::OK,
        ),
        (
            Method::GET,
            base.clone(),
            "/v1/projects/{ref}",
            None,
            StatusCode::OK,
        ),
        (
            Method::GET,
            health_path.clone(),
            "/v1/projects/{ref}/health",
            None,
            StatusCode::OK,
        ),
        (
            Method::GET,
            format!("{base}/config/database/pooler"),
            "/v1/projects/{ref}/config/database/pooler",
            None,
            StatusCode::OK,
        ),
        (
            Method::PATCH,
            format!("{base}/database/password"),
            "/v1/projects/{ref}/database/password",
            Some(json!({"password": "rotated-pass"})),
            StatusCode::OK,
        ),
        (
            Method::GET,
            format!("{base}/ssl-enforcement"),
            "/v1/projects/{ref}/ssl-enforcement",
            None,
            StatusCode::OK,
        ),
        (
            Method::PUT,
            format!("{base}/ssl-enforcement"),
            "/v1/projects/{ref}/ssl-enforcement",
            Some(json!({"requestedConfig": {"database": true}})),
            StatusCode::OK,
        ),
        (
            Method::GET,
            format!("{base}/network-restrictions"),
            "/v1/projects/{ref}/network-restrictions",
            None,
            StatusCode::OK,
        ),
        (
            Method::POST,
            format!("{base}/network-restrictions/apply"),
            "/v1/projects/{ref}/network-restrictions/apply",
            Some(json!({"dbAllowedCidrs": ["10.0.0.0/8"]})),
            StatusCode::CREATED,
        ),
        (
            Method::GET,
            format!("{base}/network-restrictions"),
            "/v1/projects/{ref}/network-restrictions",
            None,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/v1/organizations".into(),
            "/v1/organizations",
            None,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/v1/organizations/shapes-org".into(),
            "/v1/organizations/{slug}",
            None,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/v1/organizations/shapes-org/projects?limit=10&sort=created_desc".into(),
            "/v1/organizations/{slug}/projects",
            None,
            StatusCode::OK,
        ),
        (
            Method::GET,
            format!("{base}/billing/addons"),
            "/v1/projects/{ref}/billing/addons",
            None,
            StatusCode::OK,
        ),
        (
            Method::PATCH,
            format!("{base}/billing/addons"),
            "/v1/projects/{ref}/billing/addons",
            Some(json!({"addon_type": "pitr", "addon_variant": "pitr_14"})),
            StatusCode::OK,
        ),
        (
            Method::GET,
            format!("{base}/billing/addons"),
            "/v1/projects/{ref}/billing/addons",
            None,
            StatusCode::OK,
        ),
        (
            Method::POST,
            format!("{base}/pause"),
            "/v1/projects/{ref}/pause",
            None,
            StatusCode::OK,
        ),
    ];
    for (method, path, spec_path, body, expected) in checks {
        call_checked(&api, &spec, method, &path, spec_path, body, expected).await;
    }
    let health = api.get(&health_path).await.1;
    let mut problems = Vec::new();
    check(
        &spec,
        &spec["paths"]["/v1/projects/{ref}/health"]["get"]["responses"]["200"]["content"]["application/json"]
            ["schema"],
        &health,
        "$",
        &mut problems,
    );
    assert!(problems.is_empty(), "paused health: {problems:?}");
    api.wait_for_status(&project_ref, "INACTIVE").await;
    let (_, listing) = api.get("/v1/organizations/shapes-org/projects").await;
    let mut problems = Vec::new();
    check(
        &spec,
        &json!({"$ref": "#/components/schemas/OrganizationProjectsResponse"}),
        &listing,
        "$",
        &mut problems,
    );
    assert!(
        problems.is_empty(),
        "listing of a paused project: {problems:?}"
    );
    call_checked(
        &api,
        &spec,
        Method::POST,
        &format!("{base}/restore"),
        "/v1/projects/{ref}/restore",
        None,
        StatusCode::OK,
    )
    .await;
    let deleted = call_checked(
        &api,
        &spec,
        Method::DELETE,
        &base,
        "/v1/projects/{ref}",
        None,
        StatusCode::OK,
    )
    .await;
    assert_eq!(deleted["ref"], project_ref.as_str());
    standin.shutdown().await.expect("clean shutdown");
}

#[test]
fn the_checker_catches_wrong_shapes() {
    let spec = spec();
    let schema = json!({"$ref": "#/components/schemas/V1ProjectRefResponse"});
    let mut problems = Vec::new();
    check(
        &spec,
        &schema,
        &json!({"id": "1", "ref": "abc", "name": "n", "extra": 1}),
        "$",
        &mut problems,
    );
    assert_eq!(problems.len(), 2, "{problems:?}");
    let mut problems = Vec::new();
    check(
        &spec,
        &schema,
        &json!({"ref": "abc", "name": "n"}),
        "$",
        &mut problems,
    );
    assert_eq!(problems, ["$: missing required id"]);
}
