//! go-plugin AutoMTLS: with `PLUGIN_CLIENT_CERT` the provider serves TLS with a fresh certificate
//! (6th handshake field) and accepts only the client certificate it was given.

mod support;

use base64::Engine;
use stagesub_tfplugin6::tfplugin6 as pb;
use support::{ClientIdentity, Plugin, provider_client, tls_channel};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

fn server_cert(hs: &support::Handshake) -> Vec<u8> {
    let field = hs.cert_base64();
    assert!(!field.is_empty(), "no certificate in {}", hs.raw);
    assert!(
        !field.contains('='),
        "the certificate must be base64 WITHOUT padding: {field}"
    );
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(field)
        .unwrap_or_else(|e| panic!("6th field is not standard base64: {e}"))
}

#[tokio::test]
async fn tls_handshake_with_the_given_client_certificate() {
    let id = ClientIdentity::generate();
    let mut p = Plugin::start(&[("PLUGIN_CLIENT_CERT", &id.cert_pem)]);
    let hs = p.handshake();
    assert_eq!(&hs.fields[..3], ["1", "6", "unix"], "{}", hs.raw);
    let der = server_cert(&hs);
    // A DER certificate is a SEQUENCE; the server names itself localhost.
    assert_eq!(der[0], 0x30, "not DER");
    assert!(
        der.windows(9).any(|w| w == b"localhost"),
        "certificate does not name localhost"
    );

    let ch = tls_channel(hs.socket(), der, Some(&id))
        .await
        .expect("TLS connect");
    let schema = provider_client(ch.clone())
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema over TLS")
        .into_inner();
    assert!(schema.resource_schemas.contains_key("tiny_thing"));
    let health = HealthClient::new(ch)
        .check(HealthCheckRequest {
            service: "plugin".into(),
        })
        .await
        .expect("health over TLS")
        .into_inner();
    assert_eq!(health.status, ServingStatus::Serving as i32);
}

/// Connecting (or the first call) must fail: TLS 1.3 reports a refused client certificate only after
/// the client thinks the handshake is done.
async fn assert_refused(ch: Result<tonic::transport::Channel, tonic::transport::Error>, who: &str) {
    let Ok(ch) = ch else { return };
    let r = provider_client(ch)
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await;
    assert!(r.is_err(), "{who} was served: {r:?}");
}

#[tokio::test]
async fn other_or_missing_client_certificates_are_refused() {
    let id = ClientIdentity::generate();
    let mut p = Plugin::start(&[("PLUGIN_CLIENT_CERT", &id.cert_pem)]);
    let hs = p.handshake();
    let der = server_cert(&hs);

    let stranger = ClientIdentity::generate();
    assert_refused(
        tls_channel(hs.socket(), der.clone(), Some(&stranger)).await,
        "a client with another certificate",
    )
    .await;
    assert_refused(
        tls_channel(hs.socket(), der.clone(), None).await,
        "a client without a certificate",
    )
    .await;
    assert_refused(
        support::plain_channel(hs.socket()).await,
        "a plaintext client",
    )
    .await;

    // The rightful client still gets in afterwards.
    let ch = tls_channel(hs.socket(), der, Some(&id))
        .await
        .expect("TLS connect");
    provider_client(ch)
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("the right certificate is served");
}

#[test]
fn an_unreadable_client_certificate_is_a_clear_startup_error() {
    let out = support::command()
        .env(
            "TF_PLUGIN_MAGIC_COOKIE",
            stagesub_plugin::serve::MAGIC_COOKIE_VALUE,
        )
        .env("PLUGIN_PROTOCOL_VERSIONS", "6")
        .env("PLUGIN_CLIENT_CERT", "not a pem")
        .output()
        .expect("run provider");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("PLUGIN_CLIENT_CERT"), "{stderr}");
}
