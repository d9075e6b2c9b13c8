//! Shared helpers: start the test provider (`examples/test_provider.rs`) the way Terraform does, read
//! its handshake, and connect gRPC clients over its Unix socket, plain or with AutoMTLS.

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use stagesub_plugin::serve::{MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE};
use stagesub_plugin::{Type, Value, codec};
use stagesub_tfplugin6::tfplugin6 as pb;
use tonic::transport::{Channel, Endpoint, Uri};

/// The example binary cargo built for this package: `<target>/<profile>/examples/test_provider`
/// (beside `deps/`, where this test binary lives). `cargo test -p stagesub-plugin` and
/// `cargo nextest run` build examples with the tests; `--test <name>` alone does not, so a binary
/// older than the plugin's sources is refused rather than silently tested.
pub fn provider_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary lives in <target>/<profile>/deps")
        .join("examples")
        .join("test_provider");
    let build = "build it with `cargo build -p stagesub-plugin --example test_provider` \
                 (`cargo test -p stagesub-plugin` / `cargo nextest run -p stagesub-plugin` do)";
    let built = std::fs::metadata(&bin)
        .and_then(|m| m.modified())
        .unwrap_or_else(|e| panic!("{} is missing ({e}): {build}", bin.display()));
    let sources = Path::new(env!("CARGO_MANIFEST_DIR"));
    let newest_source = ["src", "examples"]
        .iter()
        .flat_map(|d| walk(&sources.join(d)))
        .max();
    if let Some(src) = newest_source {
        assert!(
            src <= built,
            "{} is older than the plugin's sources: {build}",
            bin.display()
        );
    }
    bin
}

fn walk(dir: &Path) -> Vec<std::time::SystemTime> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if let Ok(m) = entry.metadata().and_then(|m| m.modified()) {
            out.push(m);
        }
    }
    out
}

/// A `Command` for the test provider with a clean environment: no inherited plugin or log variables.
pub fn command() -> Command {
    let mut cmd = Command::new(provider_binary());
    for var in [
        MAGIC_COOKIE_KEY,
        "PLUGIN_PROTOCOL_VERSIONS",
        "PLUGIN_CLIENT_CERT",
        "PLUGIN_UNIX_SOCKET_DIR",
        "TF_LOG",
        "TF_LOG_PROVIDER",
        "TF_REATTACH_PROVIDERS",
    ] {
        cmd.env_remove(var);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// A running provider process; killed on drop.
pub struct Plugin {
    pub child: Child,
    /// The first stdout line (the handshake, or the first line in debug mode).
    pub lines: mpsc::Receiver<String>,
    stderr: Arc<Mutex<String>>,
    stderr_thread: Option<std::thread::JoinHandle<()>>,
    pub socket_dir: tempfile::TempDir,
}

impl Plugin {
    /// Starts the provider as Terraform would: cookie, `PLUGIN_PROTOCOL_VERSIONS=5,6`, plus `env`.
    pub fn start(env: &[(&str, &str)]) -> Plugin {
        let mut cmd = command();
        cmd.env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "5,6");
        Self::spawn(cmd, env)
    }

    /// Starts the provider with exactly `cmd`'s settings plus `env` and a private socket directory.
    pub fn spawn(mut cmd: Command, env: &[(&str, &str)]) -> Plugin {
        let socket_dir = tempfile::tempdir().expect("tempdir");
        cmd.env("PLUGIN_UNIX_SOCKET_DIR", socket_dir.path());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawning the test provider");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let mut err = child.stderr.take().expect("stderr");
        let stderr_thread = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    return;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Plugin {
            child,
            lines,
            stderr,
            stderr_thread: Some(stderr_thread),
            socket_dir,
        }
    }

    /// The next stdout line, waiting up to 30 s.
    pub fn next_line(&mut self) -> String {
        match self.lines.recv_timeout(Duration::from_secs(30)) {
            Ok(l) => l,
            Err(e) => panic!(
                "no stdout line from the provider ({e}); stderr:\n{}",
                self.stderr()
            ),
        }
    }

    /// The parsed handshake line.
    pub fn handshake(&mut self) -> Handshake {
        let line = self.next_line();
        Handshake::parse(&line)
    }

    /// Everything the provider wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits for the process to exit; None after `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // All of stderr, now that the writer is gone.
                if let Some(t) = self.stderr_thread.take() {
                    let _ = t.join();
                }
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// go-plugin's handshake line: `core|app|network|address|protocol|cert`.
#[derive(Debug)]
pub struct Handshake {
    pub raw: String,
    pub fields: Vec<String>,
}

impl Handshake {
    pub fn parse(line: &str) -> Handshake {
        let fields: Vec<String> = line.split('|').map(str::to_string).collect();
        assert_eq!(fields.len(), 6, "handshake line {line:?} needs 6 fields");
        Handshake {
            raw: line.to_string(),
            fields,
        }
    }

    pub fn socket(&self) -> PathBuf {
        PathBuf::from(&self.fields[3])
    }

    pub fn cert_base64(&self) -> &str {
        &self.fields[5]
    }
}

/// A plaintext gRPC channel over the Unix socket at `path`.
pub async fn plain_channel(path: PathBuf) -> Result<Channel, tonic::transport::Error> {
    Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let p = path.clone();
            async move {
                Ok::<_, std::io::Error>(TokioIo::new(tokio::net::UnixStream::connect(p).await?))
            }
        }))
        .await
}

/// A client identity for AutoMTLS, made the way go-plugin makes Terraform's: a self-signed CA
/// certificate for `localhost` on an ECDSA P-521 key, usable for client and server auth.
pub struct ClientIdentity {
    pub cert_pem: String,
    pub cert_der: Vec<u8>,
    pub key_der: Vec<u8>,
}

impl ClientIdentity {
    pub fn generate() -> ClientIdentity {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).expect("P-521 key");
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "localhost");
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "HashiCorp");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::DigitalSignature,
            rcgen::KeyUsagePurpose::KeyEncipherment,
            rcgen::KeyUsagePurpose::KeyAgreement,
            rcgen::KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![
            rcgen::ExtendedKeyUsagePurpose::ClientAuth,
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        ];
        let cert = params.self_signed(&key).expect("self-signed client cert");
        ClientIdentity {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            key_der: key.serialize_der(),
        }
    }
}

/// Accepts exactly one server certificate (the one from the handshake line), still checking the
/// handshake signatures, as go-plugin's client does with its pinned root.
#[derive(Debug)]
struct PinnedServer {
    expected: Vec<u8>,
    algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "server certificate is not the one from the handshake".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A gRPC channel over TLS on the Unix socket, pinning `server_der` and presenting `client`
/// (or no certificate at all).
pub async fn tls_channel(
    path: PathBuf,
    server_der: Vec<u8>,
    client: Option<&ClientIdentity>,
) -> Result<Channel, tonic::transport::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(PinnedServer {
        expected: server_der,
        algorithms: provider.signature_verification_algorithms,
    });
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match client {
        Some(id) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from(id.cert_der.clone())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(id.key_der.clone())),
            )
            .expect("client auth cert"),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let p = path.clone();
            let connector = connector.clone();
            async move {
                let tcp = tokio::net::UnixStream::connect(p).await?;
                let tls = connector
                    .connect(ServerName::try_from("localhost").unwrap(), tcp)
                    .await?;
                Ok::<_, std::io::Error>(TokioIo::new(tls))
            }
        }))
        .await
}

/// A provider client with Terraform's 256 MiB message limits.
pub fn provider_client(ch: Channel) -> pb::provider_client::ProviderClient<Channel> {
    pb::provider_client::ProviderClient::new(ch)
        .max_decoding_message_size(256 << 20)
        .max_encoding_message_size(256 << 20)
}

/// The object type of `tiny_thing` as the provider's schema announces it on the wire.
pub async fn thing_type(client: &mut pb::provider_client::ProviderClient<Channel>) -> Type {
    let schema = client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema")
        .into_inner();
    let block = schema.resource_schemas["tiny_thing"]
        .block
        .clone()
        .expect("block");
    Type::Object(
        block
            .attributes
            .iter()
            .map(|a| {
                let j: serde_json::Value = serde_json::from_slice(&a.r#type).expect("type JSON");
                (a.name.clone(), Type::from_json(&j).expect("cty type"))
            })
            .collect(),
    )
}

/// A `tiny_thing` object value with the given attributes (the rest null).
pub fn thing(ty: &Type, pairs: &[(&str, Value)]) -> Value {
    let Type::Object(attrs) = ty else {
        panic!("not an object type")
    };
    let mut v = Value::Object(attrs.keys().map(|k| (k.clone(), Value::Null)).collect());
    for (k, x) in pairs {
        v.set_attr(k, x.clone());
    }
    v
}

/// msgpack `DynamicValue` of `v`.
pub fn dv(v: &Value, ty: &Type) -> pb::DynamicValue {
    pb::DynamicValue {
        msgpack: codec::to_msgpack(v, ty).expect("encode"),
        json: Vec::new(),
    }
}

/// Decodes a `DynamicValue` answer.
pub fn undv(v: Option<pb::DynamicValue>, ty: &Type) -> Value {
    codec::from_msgpack(&v.expect("a value").msgpack, ty).expect("decode")
}
