//! `examples/monitoring/`: the alert rules pass `promtool check rules` and their unit tests
//! (`promtool test rules`), and every metric name in the rules and the Grafana dashboard is one
//! the bridge exports (read from a real scrape).

#[path = "support/http.rs"]
mod http;
#[path = "support/prometheus.rs"]
mod prometheus;
mod support;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use stagesub_bridge::metrics::http::{MetricsState, router};
use support::*;

fn monitoring_dir() -> std::path::PathBuf {
    repo_root().join("examples/monitoring")
}

fn promtool(args: &[&str]) {
    let out = Command::new(prometheus::binary("promtool"))
        .args(args)
        .current_dir(monitoring_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool {args:?}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn alert_rules_pass_promtool_check_and_their_unit_tests() {
    promtool(&["check", "rules", "alerts.yml"]);
    promtool(&["test", "rules", "alerts_test.yml"]);
    let rules = std::fs::read_to_string(monitoring_dir().join("alerts.yml")).unwrap();
    for alert in [
        "StagesubProvisionPastSLA",
        "StagesubPublishFailing",
        "StagesubParkedJobs",
        "StagesubWebhookSignatureFailures",
    ] {
        assert!(
            rules.contains(&format!("alert: {alert}")),
            "{alert} missing"
        );
    }
}

/// Names of the series a scrape exposes: sample names, plus what each `# TYPE` line implies (a
/// counter's `_total`, a histogram's `_bucket`, `_sum`, `_count`), so that labelled families with
/// no sample yet still count.
fn exported_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split_whitespace();
            let (name, kind) = (parts.next().unwrap(), parts.next().unwrap());
            match kind {
                // OpenMetrics names the family without `_total`, the classic format with it.
                "counter" => names.insert(format!("{}_total", name.trim_end_matches("_total"))),
                "histogram" => {
                    for suffix in ["_bucket", "_sum", "_count"] {
                        names.insert(format!("{name}{suffix}"));
                    }
                    true
                }
                _ => names.insert(name.to_owned()),
            };
        } else if !line.starts_with('#') && !line.is_empty() {
            let end = line.find(['{', ' ']).unwrap_or(line.len());
            names.insert(line[..end].to_owned());
        }
    }
    names
}

/// Every `stagesub_…` identifier in `text`.
fn referenced(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("stagesub_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        out.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    out
}

fn exprs(panel: &Value, out: &mut Vec<String>) {
    for target in panel["targets"].as_array().into_iter().flatten() {
        out.push(target["expr"].as_str().unwrap_or_default().to_owned());
    }
    for inner in panel["panels"].as_array().into_iter().flatten() {
        exprs(inner, out);
    }
}

#[tokio::test]
async fn dashboard_and_rules_use_only_exported_metric_names() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let app = router(MetricsState {
        store,
        token: None,
        sla: Duration::from_secs(3600),
    });
    use tower::ServiceExt;
    let response = app
        .oneshot(
            axum::http::Request::get("/metrics")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let exported = exported_names(&String::from_utf8_lossy(&body));
    assert!(
        exported.contains("stagesub_tenants_past_sla"),
        "{exported:?}"
    );
    assert!(exported.contains("stagesub_jobs"), "{exported:?}");

    let text = std::fs::read_to_string(monitoring_dir().join("grafana-dashboard.json")).unwrap();
    let dashboard: Value = serde_json::from_str(&text).expect("the dashboard is valid JSON");
    let mut all = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        exprs(panel, &mut all);
    }
    assert!(all.len() >= 10, "{all:?}");
    for expr in &all {
        let names = referenced(expr);
        assert!(!names.is_empty(), "no stagesub metric in {expr:?}");
        for name in names {
            assert!(
                exported.contains(&name),
                "{name} (in {expr:?}) is not exported"
            );
        }
    }
    // The dashboard shows every family the bridge exports, with its unit suffixes.
    let shown: BTreeSet<String> = all.iter().flat_map(|e| referenced(e)).collect();
    for family in [
        "stagesub_webhook_events_total",
        "stagesub_webhook_signature_failures_total",
        "stagesub_jobs",
        "stagesub_publish_attempts_total",
        "stagesub_publish_failures_total",
        "stagesub_publish_duration_seconds_bucket",
        "stagesub_payment_to_commit_seconds_bucket",
        "stagesub_payment_to_ready_seconds_bucket",
        "stagesub_tenants",
        "stagesub_tenants_past_sla",
        "stagesub_emails_sent_total",
        "stagesub_emails_failed_total",
    ] {
        assert!(shown.contains(family), "{family} not on the dashboard");
    }

    let rules = std::fs::read_to_string(monitoring_dir().join("alerts.yml")).unwrap();
    for name in referenced(&rules) {
        assert!(
            exported.contains(&name),
            "alerts.yml: {name} is not exported"
        );
    }
}
