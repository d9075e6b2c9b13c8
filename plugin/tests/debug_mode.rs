//! `--debug` (unmanaged) mode: the provider prints `TF_REATTACH_PROVIDERS`, serves plaintext on the
//! socket it names, and stays up until Ctrl-C (Terraform's `Shutdown` does not end it).

mod support;

use std::time::Duration;

use stagesub_tfplugin6::plugin as gp;
use stagesub_tfplugin6::tfplugin6 as pb;
use support::{Plugin, command, plain_channel, provider_client};

fn reattach_json(p: &mut Plugin) -> serde_json::Value {
    for _ in 0..10 {
        let line = p.next_line();
        if let Some(rest) = line.trim().strip_prefix("TF_REATTACH_PROVIDERS='") {
            let json = rest.strip_suffix('\'').expect("closing quote");
            return serde_json::from_str(json).expect("TF_REATTACH_PROVIDERS is JSON");
        }
    }
    panic!("no TF_REATTACH_PROVIDERS line; stderr: {}", p.stderr());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_mode_prints_reattach_json_and_stays_up() {
    let mut cmd = command();
    cmd.arg("--debug");
    let mut p = Plugin::spawn(cmd, &[]);
    let json = reattach_json(&mut p);
    let entry = &json["registry.terraform.io/stagesub/tiny"];
    assert_eq!(entry["Protocol"], "grpc", "{json}");
    assert_eq!(entry["ProtocolVersion"], 6, "{json}");
    assert_eq!(entry["Pid"], p.child.id(), "{json}");
    assert_eq!(entry["Addr"]["Network"], "unix", "{json}");
    let socket = entry["Addr"]["String"].as_str().expect("Addr.String");
    assert!(std::path::Path::new(socket).is_absolute(), "{socket}");

    // Plaintext even if a client certificate is in the environment: no AutoMTLS in debug mode.
    let ch = plain_channel(socket.into()).await.expect("connect");
    provider_client(ch.clone())
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema");
    // Each Terraform run ends with Shutdown; a debug-mode provider serves the next run too.
    gp::grpc_controller_client::GrpcControllerClient::new(ch.clone())
        .shutdown(gp::Empty {})
        .await
        .expect("Shutdown");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        p.child.try_wait().unwrap().is_none(),
        "debug-mode provider exited after Shutdown"
    );
    provider_client(ch.clone())
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("still serving after Shutdown");

    // Ctrl-C ends it, even with an (idle) client still connected: the graceful stop needs that
    // client's runtime to keep running, hence the multi-threaded test runtime.
    let pid = p.child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill -INT");
    assert!(killed.success());
    let status = tokio::task::block_in_place(|| p.wait_exit(Duration::from_secs(10)))
        .expect("exit after SIGINT");
    assert!(status.success(), "{status:?}");
    drop(ch);
}

#[tokio::test]
async fn debug_mode_ignores_client_certificates() {
    let mut cmd = command();
    cmd.arg("--debug").env("PLUGIN_CLIENT_CERT", "ignored");
    let mut p = Plugin::spawn(cmd, &[]);
    let json = reattach_json(&mut p);
    let socket = json["registry.terraform.io/stagesub/tiny"]["Addr"]["String"]
        .as_str()
        .unwrap()
        .to_string();
    let ch = plain_channel(socket.into()).await.expect("connect");
    provider_client(ch)
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("plaintext GetProviderSchema in debug mode");
}

#[test]
fn unknown_arguments_are_refused() {
    let out = command().arg("--frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--frobnicate") && stderr.contains("--help"),
        "{stderr}"
    );
    let out = command().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "terraform-provider-tiny 0.0.1"
    );
}
