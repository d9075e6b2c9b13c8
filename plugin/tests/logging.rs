//! Logs on stderr are hclog JSON lines at the level `TF_LOG_PROVIDER` / `TF_LOG` asks for.

mod support;

use std::time::Duration;

use stagesub_plugin::Value;
use stagesub_tfplugin6::plugin as gp;
use stagesub_tfplugin6::tfplugin6 as pb;
use support::{Plugin, dv, plain_channel, provider_client, thing_type};

/// Configures the provider and stops it (which logs at info), shuts it down, returns its stderr.
async fn run_and_collect(env: &[(&str, &str)]) -> String {
    let mut p = Plugin::start(env);
    let ch = plain_channel(p.handshake().socket())
        .await
        .expect("connect");
    let mut c = provider_client(ch.clone());
    thing_type(&mut c).await;
    let provider_ty = stagesub_plugin::Type::Object(
        [("greeting".to_string(), stagesub_plugin::Type::String)]
            .into_iter()
            .collect(),
    );
    let mut cfg = Value::Object(Default::default());
    cfg.set_attr("greeting", Value::Null);
    c.configure_provider(pb::configure_provider::Request {
        terraform_version: "1.15.5".into(),
        config: Some(dv(&cfg, &provider_ty)),
        client_capabilities: None,
    })
    .await
    .expect("ConfigureProvider");
    c.stop_provider(pb::stop_provider::Request {})
        .await
        .expect("StopProvider");
    gp::grpc_controller_client::GrpcControllerClient::new(ch)
        .shutdown(gp::Empty {})
        .await
        .expect("Shutdown");
    p.wait_exit(Duration::from_secs(5)).expect("exit");
    p.stderr()
}

fn is_rfc3339_utc(ts: &str) -> bool {
    // 2026-11-25T19:54:37.123456Z
    let b = ts.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && ts.ends_with('Z')
        && ts[..4].chars().all(|c| c.is_ascii_digit())
}

#[tokio::test]
async fn debug_logs_are_hclog_json() {
    let stderr = run_and_collect(&[("TF_LOG_PROVIDER", "debug")]).await;
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "no logs at debug level");
    let mut messages = Vec::new();
    for line in &lines {
        let j: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        let level = j["@level"]
            .as_str()
            .unwrap_or_else(|| panic!("no @level: {line}"));
        assert!(
            ["trace", "debug", "info", "warn", "error"].contains(&level),
            "{line}"
        );
        assert_eq!(j["@module"], "provider.tiny", "{line}");
        let ts = j["@timestamp"]
            .as_str()
            .unwrap_or_else(|| panic!("no @timestamp: {line}"));
        assert!(is_rfc3339_utc(ts), "{ts}");
        messages.push((
            level.to_string(),
            j["@message"].as_str().expect("@message").to_string(),
        ));
    }
    assert!(
        messages
            .iter()
            .any(|(l, m)| l == "debug" && m == "configured by Terraform 1.15.5"),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|(l, m)| l == "info" && m.contains("StopProvider")),
        "{messages:?}"
    );
}

#[tokio::test]
async fn tf_log_is_the_fallback_and_the_default_is_quiet() {
    let stderr = run_and_collect(&[("TF_LOG", "DEBUG")]).await;
    assert!(stderr.contains("configured by Terraform"), "{stderr}");

    let quiet = run_and_collect(&[]).await;
    assert!(!quiet.contains("configured by Terraform"), "{quiet}");
    assert!(
        !quiet.contains("StopProvider"),
        "info is below the default level: {quiet}"
    );

    // TF_LOG_PROVIDER wins over TF_LOG.
    let off = run_and_collect(&[("TF_LOG", "TRACE"), ("TF_LOG_PROVIDER", "OFF")]).await;
    assert!(off.trim().is_empty(), "{off}");
}
