//! A real Prometheus server (Debian package `prometheus`, installed by scripts/setup-tools.sh)
//! started with a generated configuration on a free loopback port, and queried through its HTTP API.
//! Included with `#[path = "support/prometheus.rs"] mod prometheus;` (needs `support/http.rs` as
//! `http`).
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::http;

pub fn binary(name: &str) -> PathBuf {
    let found = ["/usr/bin", "/usr/local/bin", "/usr/sbin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists());
    found.unwrap_or_else(|| {
        panic!(
            "{name} not found: install Debian's prometheus package (scripts/setup-tools.sh does)"
        )
    })
}

pub struct Prometheus {
    child: Child,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
}

impl Prometheus {
    /// Scrapes `target` (host:port) every second at `/metrics` with `token` as bearer token, and
    /// loads `rule_files`.
    pub fn start(target: SocketAddr, token: Option<&str>, rule_files: &[PathBuf]) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        let auth = match token {
            Some(t) => {
                let file = dir.path().join("token");
                std::fs::write(&file, t).unwrap();
                format!(
                    "    authorization:\n      type: Bearer\n      credentials_file: {}\n",
                    file.display()
                )
            }
            None => String::new(),
        };
        let rules: String = rule_files
            .iter()
            .map(|f| format!("  - {}\n", f.display()))
            .collect();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n{rules}\
             scrape_configs:\n  - job_name: stagesub-bridge\n    scrape_interval: 1s\n    scrape_timeout: 1s\n\
             {auth}    static_configs:\n      - targets: ['{target}']\n",
            rules = if rules.is_empty() {
                "  []\n".to_owned()
            } else {
                rules
            },
        );
        let config_file = dir.path().join("prometheus.yml");
        std::fs::write(&config_file, &config).unwrap();
        let addr: SocketAddr = format!("127.0.0.1:{}", http::free_port()).parse().unwrap();
        let child = Command::new(binary("prometheus"))
            .arg(format!("--config.file={}", config_file.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut p = Prometheus { child, addr, dir };
        let start = Instant::now();
        loop {
            if let Ok(a) = http::request(addr, "GET", "/-/ready", &[], b"")
                && a.status == 200
            {
                break;
            }
            assert!(
                p.child.try_wait().unwrap().is_none(),
                "prometheus exited at start-up; config:\n{config}"
            );
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "prometheus not ready"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        p
    }

    /// `GET /api/v1/<path>?query=<promql>`: the `data` of a successful answer.
    pub fn api(&self, path: &str, query: Option<&str>) -> Value {
        let uri = match query {
            Some(q) => format!("/api/v1/{path}?query={}", http::encode(q)),
            None => format!("/api/v1/{path}"),
        };
        let a = http::get(self.addr, &uri, &[]);
        assert_eq!(a.status, 200, "{uri}: {}", a.body);
        let v: Value = serde_json::from_str(&a.body).unwrap();
        assert_eq!(v["status"], "success", "{v}");
        v["data"].clone()
    }

    /// The value of an instant query that yields one sample (None when it yields none).
    pub fn value(&self, promql: &str) -> Option<f64> {
        let data = self.api("query", Some(promql));
        let result = data["result"].as_array()?;
        assert!(result.len() <= 1, "{promql}: more than one series: {data}");
        result.first()?["value"][1].as_str()?.parse().ok()
    }

    /// Waits (up to `limit`) until `promql` yields `want`; returns the last value seen.
    pub fn wait_for(&self, promql: &str, want: f64, limit: Duration) -> Option<f64> {
        let start = Instant::now();
        loop {
            let v = self.value(promql);
            if v == Some(want) || start.elapsed() > limit {
                return v;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
