//! The go-plugin handshake against the real (example) provider binary: cookie, version negotiation,
//! the handshake line, the plaintext gRPC services, `GRPCController.Shutdown` and `Unimplemented`.

mod support;

use std::time::Duration;

use stagesub_tfplugin6::plugin as gp;
use stagesub_tfplugin6::tfplugin6 as pb;
use support::{Plugin, command, plain_channel, provider_client};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

#[test]
fn without_the_magic_cookie_it_explains_itself_and_exits_1() {
    let out = command().output().expect("run provider");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("This binary is a plugin. These are not meant to be executed directly."),
        "{stderr}"
    );
    assert!(stderr.contains("terraform init"), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "no handshake without the cookie: {out:?}"
    );

    // A wrong cookie is no cookie.
    let out = command()
        .env("TF_PLUGIN_MAGIC_COOKIE", "not-the-cookie")
        .output()
        .expect("run provider");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}

#[test]
fn protocol_5_only_is_refused_with_a_clear_error() {
    let out = command()
        .env(
            "TF_PLUGIN_MAGIC_COOKIE",
            stagesub_plugin::serve::MAGIC_COOKIE_VALUE,
        )
        .env("PLUGIN_PROTOCOL_VERSIONS", "5")
        .output()
        .expect("run provider");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        out.stdout.is_empty(),
        "no handshake line for protocol 5: {out:?}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("plugin protocol 6 only"), "{stderr}");
    assert!(stderr.contains("Terraform 1.0 or later"), "{stderr}");
}

#[tokio::test]
async fn plaintext_handshake_schema_and_health() {
    let mut p = Plugin::start(&[]);
    let hs = p.handshake();
    assert_eq!(&hs.fields[..3], ["1", "6", "unix"], "{}", hs.raw);
    assert_eq!(hs.fields[4], "grpc", "{}", hs.raw);
    assert_eq!(
        hs.fields[5], "",
        "no certificate without PLUGIN_CLIENT_CERT: {}",
        hs.raw
    );
    assert!(hs.raw.ends_with("|grpc|"), "{}", hs.raw);
    let socket = hs.socket();
    assert!(
        socket.starts_with(p.socket_dir.path()),
        "socket {} honours PLUGIN_UNIX_SOCKET_DIR",
        socket.display()
    );

    let ch = plain_channel(socket).await.expect("plaintext connect");
    let schema = provider_client(ch.clone())
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema")
        .into_inner();
    let thing = schema.resource_schemas["tiny_thing"]
        .block
        .as_ref()
        .unwrap();
    let name = thing.attributes.iter().find(|a| a.name == "name").unwrap();
    assert!(name.required);
    assert_eq!(name.r#type, br#""string""#);
    assert!(schema.provider.is_some());
    let caps = schema.server_capabilities.expect("server capabilities");
    assert!(caps.get_provider_schema_optional && caps.plan_destroy);

    let health = HealthClient::new(ch)
        .check(HealthCheckRequest {
            service: "plugin".into(),
        })
        .await
        .expect("grpc.health.v1 Check")
        .into_inner();
    assert_eq!(health.status, ServingStatus::Serving as i32);
}

// Multi-threaded: the client's connection task must run (and close the connection, as go-plugin
// does after Shutdown) while this test blocks waiting for the process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controller_shutdown_ends_the_process_and_removes_the_socket() {
    let mut p = Plugin::start(&[]);
    let socket = p.handshake().socket();
    let ch = plain_channel(socket.clone()).await.expect("connect");
    gp::grpc_controller_client::GrpcControllerClient::new(ch)
        .shutdown(gp::Empty {})
        .await
        .expect("Shutdown answers before the process leaves");
    // Terraform kills plugins 2 s after Shutdown; we must be gone well before.
    let status = tokio::task::block_in_place(|| p.wait_exit(Duration::from_secs(2)))
        .expect("the provider did not exit within 2 s of GRPCController.Shutdown");
    assert!(status.success(), "{status:?}");
    assert!(!socket.exists(), "socket {} left behind", socket.display());
}

/// A client that keeps a stream open (go-plugin's stdio stream, which our side never ends) and its
/// connection with it, so the graceful stop cannot finish, still sees the provider leave before
/// go-plugin's 2 s kill.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_leaves_even_if_the_client_keeps_its_connection_open() {
    let mut p = Plugin::start(&[]);
    let socket = p.handshake().socket();
    let ch = plain_channel(socket.clone()).await.expect("connect");
    let stdio = gp::grpc_stdio_client::GrpcStdioClient::new(ch.clone())
        .stream_stdio(())
        .await
        .expect("StreamStdio opens");
    gp::grpc_controller_client::GrpcControllerClient::new(ch.clone())
        .shutdown(gp::Empty {})
        .await
        .expect("Shutdown");
    let status = tokio::task::block_in_place(|| p.wait_exit(Duration::from_secs(2)))
        .expect("the provider waited on an open stream past 2 s");
    assert!(status.success(), "{status:?}");
    assert!(!socket.exists(), "socket {} left behind", socket.display());
    drop((stdio, ch));
}

#[tokio::test(flavor = "multi_thread")]
async fn unimplemented_rpcs_answer_unimplemented_and_the_server_lives_on() {
    let mut p = Plugin::start(&[]);
    let ch = plain_channel(p.handshake().socket())
        .await
        .expect("connect");
    let mut c = provider_client(ch.clone());

    let e = c
        .call_function(pb::call_function::Request {
            name: "nope".into(),
            arguments: vec![],
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::Unimplemented, "{e:?}");

    let e = c
        .list_resource(pb::list_resource::Request {
            type_name: "tiny_thing".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::Unimplemented, "{e:?}");

    let e = c
        .move_resource_state(pb::move_resource_state::Request::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::Unimplemented, "{e:?}");

    let e = c
        .open_ephemeral_resource(pb::open_ephemeral_resource::Request::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::Unimplemented, "{e:?}");

    // go-plugin's stdio stream may be opened (it stays silent); the server is still healthy after all.
    let _stdio = gp::grpc_stdio_client::GrpcStdioClient::new(ch.clone())
        .stream_stdio(())
        .await
        .expect("StreamStdio opens");
    c.get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("still serving");
    assert!(p.child.try_wait().unwrap().is_none(), "provider crashed");
}
