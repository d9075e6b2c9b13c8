//! The fake's request handling: fault injection first, then the routes.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::State as AxState;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{Action, FakeProject, Recorded, State};

/// A body that fails on first poll, so the server drops the connection.
struct DroppingBody;

impl http_body::Body for DroppingBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::other(
            "fake drops the connection",
        ))))
    }
}

fn message(code: StatusCode, text: &str) -> Response {
    (code, axum::Json(json!({ "message": text }))).into_response()
}

pub(super) async fn handle(
    AxState(state): AxState<Arc<Mutex<State>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    let json_body: Option<Value> = if body.is_empty() {
        None
    } else {
        Some(
            serde_json::from_slice(&body)
                .unwrap_or(Value::String(String::from_utf8_lossy(&body).into())),
        )
    };
    let action = {
        let mut st = state.lock().unwrap();
        st.requests.push(Recorded {
            method: method.to_string(),
            path: path.clone(),
            query: query.clone(),
            body: json_body.clone(),
            authorization: headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            at: Instant::now(),
        });
        let hit = st
            .faults
            .iter_mut()
            .find(|f| f.remaining > 0 && f.method == method.as_str() && path.starts_with(&f.path));
        hit.map(|f| {
            f.remaining -= 1;
            f.action.clone()
        })
    };
    let mut extra_headers = Vec::new();
    match action {
        Some(Action::Status {
            code,
            headers,
            body,
        }) => {
            let mut resp = Response::builder().status(code);
            for (k, v) in headers {
                resp = resp.header(k, v);
            }
            return resp
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap();
        }
        Some(Action::Drop) => {
            return Response::builder()
                .status(200)
                .body(Body::new(DroppingBody))
                .unwrap();
        }
        Some(Action::Slow(d)) => tokio::time::sleep(d).await,
        Some(Action::AddHeaders(h)) => extra_headers = h,
        Some(Action::HandleThenStall(d)) => {
            let resp = route(&state, &method, &path, &query, json_body);
            tokio::time::sleep(d).await;
            return resp;
        }
        Some(Action::HandleThenDrop) => {
            let _ = route(&state, &method, &path, &query, json_body);
            return Response::builder()
                .status(200)
                .body(Body::new(DroppingBody))
                .unwrap();
        }
        None => {}
    }
    let mut resp = route(&state, &method, &path, &query, json_body);
    for (k, v) in extra_headers {
        resp.headers_mut().insert(
            axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    resp
}

const CREATE_FIELDS: [&str; 10] = [
    "db_pass",
    "name",
    "organization_id",
    "organization_slug",
    "plan",
    "region",
    "region_selection",
    "kps_enabled",
    "desired_instance_size",
    "template_url",
];

fn route(
    state: &Arc<Mutex<State>>,
    method: &Method,
    path: &str,
    query: &[(String, String)],
    body: Option<Value>,
) -> Response {
    let mut st = state.lock().unwrap();
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let param = |k: &str| query.iter().find(|(q, _)| q == k).map(|(_, v)| v.clone());
    match (method.as_str(), segs.as_slice()) {
        ("POST", ["v1", "projects"]) => {
            let body = body.unwrap_or(Value::Null);
            let Some(obj) = body.as_object() else {
                return message(StatusCode::BAD_REQUEST, "body must be an object");
            };
            if let Some(k) = obj.keys().find(|k| !CREATE_FIELDS.contains(&k.as_str())) {
                return message(
                    StatusCode::BAD_REQUEST,
                    &format!("property {k} should not exist"),
                );
            }
            if obj.contains_key("region") == obj.contains_key("region_selection") {
                return message(
                    StatusCode::BAD_REQUEST,
                    "exactly one of region or region_selection",
                );
            }
            let name = obj["name"].as_str().unwrap_or_default().to_owned();
            let org = obj["organization_slug"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if st
                .projects
                .iter()
                .any(|p| p.name == name && p.organization_slug == org)
            {
                return message(StatusCode::BAD_REQUEST, "project name already exists");
            }
            let region = obj
                .get("region")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| "eu-central-1".into());
            let r = st.add_project(&org, &name, "COMING_UP");
            if let Some(p) = st.project_mut(&r) {
                p.region = region;
            }
            let p = st.projects.last().unwrap().full();
            let mut answer = p.as_object().unwrap().clone();
            answer.remove("database");
            (StatusCode::CREATED, axum::Json(Value::Object(answer))).into_response()
        }
        ("GET", ["v1", "projects"]) => {
            let all: Vec<Value> = st.projects.iter().map(FakeProject::full).collect();
            axum::Json(Value::Array(all)).into_response()
        }
        ("GET", ["v1", "organizations", slug, "projects"]) => {
            if st.org_endpoint_missing {
                return message(StatusCode::NOT_FOUND, "Cannot GET");
            }
            let offset: usize = param("offset").and_then(|v| v.parse().ok()).unwrap_or(0);
            let limit: usize = param("limit").and_then(|v| v.parse().ok()).unwrap_or(100);
            if !(1..=100).contains(&limit) {
                return message(StatusCode::BAD_REQUEST, "limit must be between 1 and 100");
            }
            let search = param("search");
            let matching: Vec<&FakeProject> = st
                .projects
                .iter()
                .filter(|p| p.organization_slug == *slug)
                .filter(|p| search.as_ref().is_none_or(|s| p.name.contains(s.as_str())))
                .collect();
            let page: Vec<Value> = matching
                .iter()
                .skip(offset)
                .take(limit)
                .map(|p| p.listed())
                .collect();
            axum::Json(json!({"projects": page,
                "pagination": {"count": matching.len(), "limit": limit, "offset": offset}}))
            .into_response()
        }
        ("GET", ["v1", "projects", r]) => {
            let r = r.to_string();
            let next = st.status_script.get_mut(&r).and_then(|q| {
                if q.len() > 1 {
                    q.pop_front()
                } else {
                    q.front().cloned()
                }
            });
            match st.project_mut(&r) {
                Some(p) => {
                    if let Some(s) = next {
                        p.status = s;
                    }
                    axum::Json(p.full()).into_response()
                }
                None => message(StatusCode::NOT_FOUND, "Project not found"),
            }
        }
        ("DELETE", ["v1", "projects", r]) => {
            match st.projects.iter().position(|p| p.project_ref == *r) {
                Some(i) => {
                    let p = st.projects.remove(i);
                    axum::Json(json!({"id": i, "ref": p.project_ref, "name": p.name}))
                        .into_response()
                }
                None => message(StatusCode::NOT_FOUND, "Project not found"),
            }
        }
        (m, ["v1", "projects", r, rest @ ..]) => {
            let r = r.to_string();
            if st.project_mut(&r).is_none() {
                return message(StatusCode::NOT_FOUND, "Project not found");
            }
            match (m, rest) {
                ("GET", ["health"]) => {
                    let services: Vec<String> = query.iter().filter(|(k, _)| k == "services").map(|(_, v)| v.clone()).collect();
                    if services.is_empty() {
                        return message(StatusCode::BAD_REQUEST, "services is required");
                    }
                    let scripted = st.health_script.get_mut(&r).and_then(|q| {
                        if q.len() > 1 { q.pop_front() } else { q.front().cloned() }
                    });
                    let list: Vec<Value> = services
                        .iter()
                        .map(|s| {
                            let (status, error) = scripted
                                .as_ref()
                                .and_then(|v| v.iter().find(|(n, _, _)| n == s))
                                .map(|(_, st, e)| (st.clone(), e.clone()))
                                .unwrap_or(("ACTIVE_HEALTHY".into(), None));
                            let mut v = json!({"name": s, "healthy": status == "ACTIVE_HEALTHY", "status": status});
                            if let Some(e) = error {
                                v["error"] = json!(e);
                            }
                            v
                        })
                        .collect();
                    axum::Json(Value::Array(list)).into_response()
                }
                ("GET", ["config", "database", "pooler"]) => axum::Json(json!([{
                    "identifier": r, "database_type": "PRIMARY", "is_using_scram_auth": true,
                    "db_user": format!("postgres.{r}"), "db_host": "aws-0-eu-central-1.pooler.supabase.com",
                    "db_port": 6543, "db_name": "postgres",
                    "connection_string": format!("postgresql://postgres.{r}:[YOUR-PASSWORD]@aws-0-eu-central-1.pooler.supabase.com:6543/postgres"),
                    "connectionString": "", "default_pool_size": null, "max_client_conn": null,
                    "pool_mode": "transaction"}]))
                .into_response(),
                ("PATCH", ["database", "password"]) => {
                    let ok = body.as_ref().and_then(|b| b["password"].as_str()).is_some_and(|p| p.len() >= 4);
                    if !ok {
                        return message(StatusCode::BAD_REQUEST, "password too short");
                    }
                    axum::Json(json!({"message": "ok"})).into_response()
                }
                ("POST", ["cli", "login-role"]) => {
                    let read_only = body.as_ref().and_then(|b| b["read_only"].as_bool());
                    let Some(read_only) = read_only else {
                        return message(StatusCode::BAD_REQUEST, "read_only must be a boolean");
                    };
                    let role = if read_only { "cli_login_supabase_read_only_user" } else { "cli_login_postgres" };
                    (StatusCode::CREATED, axum::Json(json!({"role": role, "password": "tmp-Secret-0123456789", "ttl_seconds": 300}))).into_response()
                }
                ("POST", ["pause"]) => {
                    st.project_mut(&r).unwrap().status = "INACTIVE".into();
                    StatusCode::OK.into_response()
                }
                ("POST", ["restore"]) => {
                    st.project_mut(&r).unwrap().status = "ACTIVE_HEALTHY".into();
                    StatusCode::OK.into_response()
                }
                ("GET", ["ssl-enforcement"]) => {
                    let on = *st.ssl.get(&r).unwrap_or(&false);
                    axum::Json(json!({"currentConfig": {"database": on}, "appliedSuccessfully": true})).into_response()
                }
                ("PUT", ["ssl-enforcement"]) => {
                    let Some(on) = body.as_ref().and_then(|b| b["requestedConfig"]["database"].as_bool()) else {
                        return message(StatusCode::BAD_REQUEST, "requestedConfig.database is required");
                    };
                    st.ssl.insert(r, on);
                    axum::Json(json!({"currentConfig": {"database": on}, "appliedSuccessfully": true})).into_response()
                }
                ("GET", ["network-restrictions"]) => {
                    let config = st.cidrs.get(&r).cloned().unwrap_or(json!({"dbAllowedCidrs": ["0.0.0.0/0"], "dbAllowedCidrsV6": ["::/0"]}));
                    axum::Json(json!({"entitlement": "allowed", "config": config, "status": "applied"})).into_response()
                }
                ("POST", ["network-restrictions", "apply"]) => {
                    let config = body.unwrap_or(json!({}));
                    st.cidrs.insert(r, config.clone());
                    (StatusCode::CREATED, axum::Json(json!({"entitlement": "allowed", "config": config, "status": "stored"}))).into_response()
                }
                _ => message(StatusCode::NOT_FOUND, "no such route in the fake"),
            }
        }
        _ => message(StatusCode::NOT_FOUND, "no such route in the fake"),
    }
}
