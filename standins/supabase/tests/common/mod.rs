//! Shared helpers: an in-process stand-in on 127.0.0.1:0, an HTTP client with a valid token, and
//! connections to the projects' real databases.
#![allow(dead_code)] // each test binary uses a different subset

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::Value;
use supabase_standin::{Config, FaultsPatch, RunningStandin};

/// A token of the personal-access-token shape the stand-in accepts by default.
pub(crate) const TOKEN: &str = "sbp_0123456789abcdef0123456789abcdef01234567";

/// The admin URL of the test PostgreSQL server.
pub(crate) fn database_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Starts a stand-in with fast lifecycle timings, then applies `patch`.
pub(crate) async fn start(patch: FaultsPatch) -> RunningStandin {
    let mut config = Config::new(database_url());
    config.faults.healthy_after_ms = 150;
    config.faults.pooler_lag_ms = 0;
    config.faults.pause_ms = 150;
    config.faults.apply(&patch).expect("valid test knobs");
    supabase_standin::start(config)
        .await
        .expect("the stand-in starts")
}

/// An HTTP client for one stand-in.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    client: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Api {
    /// A client that sends [`TOKEN`].
    pub(crate) fn new(standin: &RunningStandin) -> Api {
        Api {
            client: http_client(),
            base: standin.base_url().to_string(),
            token: Some(TOKEN.to_string()),
        }
    }

    /// The same client with another token (or none).
    pub(crate) fn with_token(&self, token: Option<&str>) -> Api {
        Api {
            token: token.map(str::to_string),
            ..self.clone()
        }
    }

    /// Sends a request; `body` is sent as JSON when given.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("the stand-in answers")
    }

    /// Sends a request and returns the status and the JSON body (`Null` when empty).
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let response = self.send(method, path, body).await;
        let status = response.status();
        let text = response.text().await.expect("a body");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON body, got {text:?}"))
        };
        (status, value)
    }

    /// `GET path`.
    pub(crate) async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    /// `POST path` with a JSON body.
    pub(crate) async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    /// Creates a project in organization `org` and returns the 201 answer.
    pub(crate) async fn create_project(&self, org: &str, name: &str, password: &str) -> Value {
        let (status, body) = self
            .post(
                "/v1/projects",
                serde_json::json!({"name": name, "organization_slug": org, "db_pass": password, "region": "eu-central-1"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "create answered {body}");
        body
    }

    /// Polls `GET /v1/projects/{ref}` until its status is `wanted` (at most 20 s), returning the project.
    pub(crate) async fn wait_for_status(&self, project_ref: &str, wanted: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (status, project) = self.get(&format!("/v1/projects/{project_ref}")).await;
            assert_eq!(status, StatusCode::OK, "get answered {project}");
            if project["status"] == wanted {
                return project;
            }
            assert!(
                Instant::now() < deadline,
                "project never reached {wanted}: {project}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The pooler entry of `mode` (`session` or `transaction`).
    pub(crate) async fn pooler_entry(&self, project_ref: &str, mode: &str) -> Value {
        let (status, entries) = self
            .get(&format!(
                "/v1/projects/{project_ref}/config/database/pooler"
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "pooler answered {entries}");
        entries
            .as_array()
            .expect("an array")
            .iter()
            .find(|entry| entry["pool_mode"] == mode)
            .unwrap_or_else(|| panic!("no {mode} entry in {entries}"))
            .clone()
    }
}

/// Connects with the credentials of a pooler entry and `password`.
pub(crate) async fn connect(
    entry: &Value,
    password: &str,
) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let mut config = tokio_postgres::Config::new();
    config
        .host(entry["db_host"].as_str().expect("db_host"))
        .port(entry["db_port"].as_u64().expect("db_port") as u16)
        .user(entry["db_user"].as_str().expect("db_user"))
        .dbname(entry["db_name"].as_str().expect("db_name"))
        .password(password)
        .connect_timeout(Duration::from_secs(5));
    let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// Asks the admin server whether a database named `name` exists.
pub(crate) async fn database_exists(name: &str) -> bool {
    let (client, connection) = tokio_postgres::connect(&database_url(), tokio_postgres::NoTls)
        .await
        .expect("admin connection");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .await
        .expect("pg_database")
        .get::<_, i64>(0)
        == 1
}

/// Asks the admin server whether a role named `name` exists.
pub(crate) async fn role_exists(name: &str) -> bool {
    let (client, connection) = tokio_postgres::connect(&database_url(), tokio_postgres::NoTls)
        .await
        .expect("admin connection");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
        .query_one("SELECT count(*) FROM pg_roles WHERE rolname = $1", &[&name])
        .await
        .expect("pg_roles")
        .get::<_, i64>(0)
        == 1
}

/// Whether `password` is the password stored for `role` (checked against the SCRAM-SHA-256 or MD5
/// verifier in `pg_authid`, because the test server trusts local connections without a password).
pub(crate) async fn password_matches(role: &str, password: &str) -> bool {
    use base64::Engine as _;
    use hmac::digest::Digest as _;

    let (client, connection) = tokio_postgres::connect(&database_url(), tokio_postgres::NoTls)
        .await
        .expect("admin connection");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let stored: String = client
        .query_one(
            "SELECT rolpassword FROM pg_authid WHERE rolname = $1",
            &[&role],
        )
        .await
        .expect("pg_authid row")
        .get(0);
    if let Some(hex) = stored.strip_prefix("md5") {
        let digest = md5::Md5::digest(format!("{password}{role}").as_bytes());
        let computed: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
        return computed == hex;
    }
    let rest = stored
        .strip_prefix("SCRAM-SHA-256$")
        .unwrap_or_else(|| panic!("unexpected verifier format for {role}"));
    let (params, keys) = rest.split_once('$').expect("SCRAM verifier keys");
    let (iterations, salt) = params.split_once(':').expect("SCRAM verifier parameters");
    let (stored_key, server_key) = keys.split_once(':').expect("SCRAM verifier keys");
    let b64 = base64::engine::general_purpose::STANDARD;
    let salt = b64.decode(salt).expect("salt");
    let iterations: u32 = iterations.parse().expect("iterations");
    // RFC 5802: SaltedPassword = Hi(password, salt, i); StoredKey = H(HMAC(SaltedPassword, "Client Key")).
    let mut block = hmac_sha256(
        password.as_bytes(),
        &[salt.as_slice(), &1u32.to_be_bytes()].concat(),
    );
    let mut salted = block.clone();
    for _ in 1..iterations {
        block = hmac_sha256(password.as_bytes(), &block);
        salted
            .iter_mut()
            .zip(&block)
            .for_each(|(acc, byte)| *acc ^= byte);
    }
    let computed_stored = sha2::Sha256::digest(hmac_sha256(&salted, b"Client Key"));
    let computed_server = hmac_sha256(&salted, b"Server Key");
    b64.decode(stored_key).expect("stored key") == computed_stored.as_slice()
        && b64.decode(server_key).expect("server key") == computed_server
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    use hmac::{KeyInit as _, Mac as _};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// An HTTP client for the tests. Built with the rest of the workspace, reqwest has TLS enabled with no
/// crypto provider chosen (the Supabase client picks ring itself), so install one before building it.
pub(crate) fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
