//! A minimal in-process stand-in for the Management API: records every request and can
//! inject 429s, 5xx bursts, dropped connections and slowness.

#![allow(dead_code, unreachable_pub)]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use serde_json::{Value, json};
use stagesub_supabase::{BackoffPolicy, Client, ClientConfig, RateLimit, RetryPolicy, Secret};
use tokio::time::Instant;

mod routes;

/// A token shaped like a real personal access token.
pub const TOKEN: &str = "sbp_0123456789abcdef0123456789abcdef01234567";

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
    pub authorization: Option<String>,
    pub at: Instant,
}

impl Recorded {
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// What a fault does to a matching request.
#[derive(Debug, Clone)]
pub enum Action {
    /// Answer with this status, headers and body instead of the real handler.
    Status {
        code: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Start answering, then drop the connection.
    Drop,
    /// Wait this long, then answer normally.
    Slow(Duration),
    /// Handle the request (its effects happen), then wait this long before answering.
    HandleThenStall(Duration),
    /// Handle the request, then drop the connection instead of answering.
    HandleThenDrop,
    /// Answer normally, adding these headers.
    AddHeaders(Vec<(String, String)>),
}

#[derive(Debug, Clone)]
struct Fault {
    method: String,
    path: String,
    action: Action,
    remaining: usize,
}

/// A project the fake holds.
#[derive(Debug, Clone)]
pub struct FakeProject {
    pub project_ref: String,
    pub name: String,
    pub organization_slug: String,
    pub region: String,
    pub status: String,
    pub created_at: String,
}

impl FakeProject {
    fn full(&self) -> Value {
        json!({
            "id": self.project_ref, "ref": self.project_ref,
            "organization_id": self.organization_slug, "organization_slug": self.organization_slug,
            "name": self.name, "region": self.region, "created_at": self.created_at,
            "status": self.status,
            "database": {"host": format!("db.{}.supabase.co", self.project_ref), "version": "17.4.1",
                         "postgres_engine": "17", "release_channel": "ga"}
        })
    }

    fn listed(&self) -> Value {
        json!({
            "ref": self.project_ref, "name": self.name, "cloud_provider": "AWS",
            "region": self.region, "is_branch": false, "status": self.status,
            "inserted_at": self.created_at,
            "databases": [{"infra_compute_size": "micro", "region": self.region,
                           "status": "ACTIVE_HEALTHY", "cloud_provider": "AWS",
                           "identifier": self.project_ref, "type": "PRIMARY"}]
        })
    }
}

/// One service's health answer: (service, status, error).
pub type ServiceAnswer = (String, String, Option<String>);

/// The fake's whole state, open to tests.
#[derive(Debug, Default)]
pub struct State {
    pub projects: Vec<FakeProject>,
    pub requests: Vec<Recorded>,
    faults: Vec<Fault>,
    /// Answer 404 on `GET /v1/organizations/{slug}/projects`.
    pub org_endpoint_missing: bool,
    /// Statuses served by successive `GET /v1/projects/{ref}` (the last one stays).
    pub status_script: HashMap<String, VecDeque<String>>,
    /// Health answers served by successive health calls (the last one stays):
    /// (service, status, error).
    pub health_script: HashMap<String, VecDeque<Vec<ServiceAnswer>>>,
    pub ssl: HashMap<String, bool>,
    pub cidrs: HashMap<String, Value>,
    next_ref: u64,
}

impl State {
    pub fn add_project(&mut self, org: &str, name: &str, status: &str) -> String {
        let project_ref = self.new_ref();
        self.projects.push(FakeProject {
            project_ref: project_ref.clone(),
            name: name.to_owned(),
            organization_slug: org.to_owned(),
            region: "eu-central-1".to_owned(),
            status: status.to_owned(),
            created_at: format!("2026-01-01T00:00:{:02}Z", self.next_ref % 60),
        });
        project_ref
    }

    fn new_ref(&mut self) -> String {
        self.next_ref += 1;
        let mut n = self.next_ref;
        let mut s = String::new();
        for _ in 0..20 {
            s.push((b'a' + (n % 26) as u8) as char);
            n /= 26;
        }
        s
    }

    fn project_mut(&mut self, r: &str) -> Option<&mut FakeProject> {
        self.projects.iter_mut().find(|p| p.project_ref == r)
    }
}

/// A running fake.
#[derive(Debug, Clone)]
pub struct Fake {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl Fake {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let app = Router::new()
            .fallback(routes::handle)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            url: format!("http://{addr}"),
            state,
        }
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    /// Applies `action` to the next `times` requests of `method` whose path starts with `path`.
    pub fn fault(&self, method: &str, path: &str, times: usize, action: Action) {
        self.state().faults.push(Fault {
            method: method.to_owned(),
            path: path.to_owned(),
            action,
            remaining: times,
        });
    }

    pub fn fail_with(&self, method: &str, path: &str, times: usize, code: u16) {
        self.fault(
            method,
            path,
            times,
            Action::Status {
                code,
                headers: vec![],
                body: json!({"message": format!("injected {code}")}).to_string(),
            },
        );
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state().requests.clone()
    }

    /// Recorded requests of `method` whose path starts with `path`.
    pub fn count(&self, method: &str, path: &str) -> usize {
        self.state()
            .requests
            .iter()
            .filter(|r| r.method == method && r.path.starts_with(path))
            .count()
    }

    /// A client for this fake with fast retries and no client-side rate limit.
    pub fn client(&self) -> Client {
        Client::new(self.config()).unwrap()
    }

    pub fn config(&self) -> ClientConfig {
        ClientConfig {
            api_url: self.url.clone(),
            access_token: Secret::new(TOKEN),
            user_agent: "stagesub-supabase-tests".into(),
            retry: RetryPolicy {
                max_attempts: 4,
                max_elapsed: Duration::from_secs(10),
                backoff: BackoffPolicy {
                    initial: Duration::from_millis(5),
                    max: Duration::from_millis(40),
                    multiplier: 2.0,
                    jitter: true,
                },
                max_rate_limit_wait: Duration::from_secs(5),
            },
            request_timeout: Duration::from_millis(800),
            rate_limit: RateLimit {
                per_minute: 0,
                burst: 1,
            },
            poll: BackoffPolicy::constant(Duration::from_millis(10)),
        }
    }
}
