//! Running as a Terraform plugin: the go-plugin handshake, the listener (optionally AutoMTLS), the
//! go-plugin side services, and `--debug` (unmanaged) mode.

use std::io::Write as _;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use stagesub_tfplugin6::plugin as gp;
use stagesub_tfplugin6::tfplugin6::provider_server::ProviderServer;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::UnixListener;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::resource::Provider;
use crate::server::ProviderService;

/// The magic cookie Terraform (and OpenTofu) set for their plugins.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// Its value.
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// Terraform's gRPC message size limit, which we match in both directions.
pub const MAX_MESSAGE_BYTES: usize = 256 << 20;

/// How the plugin presents itself.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Registry address for `TF_REATTACH_PROVIDERS`, e.g. `registry.terraform.io/stagesub/stagesub`.
    pub address: String,
    /// Binary name for messages.
    pub name: String,
    /// Version for `--version`.
    pub version: String,
}

/// Why the plugin did not start.
#[derive(Debug)]
pub struct ServeError(pub String);

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ServeError {}

/// Picks protocol 6 from the client's `PLUGIN_PROTOCOL_VERSIONS` (e.g. `5,6`).
pub fn negotiate_version(offered: Option<&str>) -> Result<u32, ServeError> {
    let Some(offered) = offered.filter(|s| !s.trim().is_empty()) else {
        return Ok(6);
    };
    if offered.split(',').any(|v| v.trim() == "6") {
        Ok(6)
    } else {
        Err(ServeError(format!(
            "this provider speaks plugin protocol 6 only, but the client offered {offered:?}: use Terraform 1.0 or later (or OpenTofu)"
        )))
    }
}

/// The handshake line go-plugin clients read from stdout.
pub fn handshake_line(socket: &str, cert_base64: Option<&str>) -> String {
    match cert_base64 {
        Some(c) => format!("1|6|unix|{socket}|grpc|{c}"),
        None => format!("1|6|unix|{socket}|grpc|"),
    }
}

/// Runs the plugin according to the command line: `--debug`, `--version`, `--help`, or as a
/// Terraform-managed plugin. Returns the process exit code.
pub async fn main(provider: Arc<dyn Provider>, opts: ServeOptions) -> i32 {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--version" || a == "-v") {
        println!("{} {}", opts.name, opts.version);
        return 0;
    }
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print_human_help(&opts);
        return 0;
    }
    if let Some(bad) = args.iter().find(|a| *a != "--debug") {
        eprintln!("{}: unknown argument {bad:?}; run with --help", opts.name);
        return 2;
    }
    let debug = args.iter().any(|a| a == "--debug");
    crate::logging::init(&format!(
        "provider.{}",
        opts.name.trim_start_matches("terraform-provider-")
    ));
    if !debug && std::env::var(MAGIC_COOKIE_KEY).as_deref() != Ok(MAGIC_COOKIE_VALUE) {
        print_human_help(&opts);
        return 1;
    }
    match run(provider, &opts, debug).await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{}: {e}", opts.name);
            1
        }
    }
}

fn print_human_help(opts: &ServeOptions) {
    eprintln!(
        "This binary is a plugin. These are not meant to be executed directly.\n\
         {name} {version} is the stagesub Terraform provider ({address}).\n\
         Terraform runs it for you: install it (see the stagesub README) and run `terraform init`.\n\
         To debug it, run `{name} --debug` and set TF_REATTACH_PROVIDERS as it prints.",
        name = opts.name,
        version = opts.version,
        address = opts.address
    );
}

async fn run(
    provider: Arc<dyn Provider>,
    opts: &ServeOptions,
    debug: bool,
) -> Result<(), ServeError> {
    let version = if debug {
        6
    } else {
        negotiate_version(std::env::var("PLUGIN_PROTOCOL_VERSIONS").ok().as_deref())?
    };
    debug_assert_eq!(version, 6);

    let dir_base = std::env::var_os("PLUGIN_UNIX_SOCKET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::Builder::new()
        .prefix("plugin")
        .tempdir_in(&dir_base)
        .map_err(|e| {
            ServeError(format!(
                "creating the socket directory in {}: {e}",
                dir_base.display()
            ))
        })?;
    let socket = dir.path().join("provider.sock");
    let listener = UnixListener::bind(&socket)
        .map_err(|e| ServeError(format!("listening on {}: {e}", socket.display())))?;

    let tls = if debug {
        None
    } else {
        match std::env::var("PLUGIN_CLIENT_CERT") {
            Ok(pem) if !pem.trim().is_empty() => Some(
                crate::tls::auto_mtls(&pem).map_err(|e| ServeError(format!("AutoMTLS: {e}")))?,
            ),
            _ => None,
        }
    };

    let shutdown = CancellationToken::new();
    let incoming = accept_loop(
        listener,
        tls.as_ref()
            .map(|t| tokio_rustls::TlsAcceptor::from(t.config.clone())),
        shutdown.clone(),
    );

    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;

    let service = ProviderService::new(provider);
    let router = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(
            ProviderServer::new(service)
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(gp::grpc_controller_server::GrpcControllerServer::new(
            Controller {
                debug,
                socket_dir: dir.path().to_path_buf(),
                shutdown: shutdown.clone(),
            },
        ))
        .add_service(gp::grpc_stdio_server::GrpcStdioServer::new(Stdio))
        .add_service(gp::grpc_broker_server::GrpcBrokerServer::new(Broker));

    let socket_str = socket.display().to_string();
    if debug {
        let reattach = serde_json::json!({
            opts.address.clone(): {
                "Protocol": "grpc",
                "ProtocolVersion": 6,
                "Pid": std::process::id(),
                "Test": true,
                "Addr": {"Network": "unix", "String": socket_str},
            }
        });
        println!(
            "Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS environment variable with the following:\n\n\tTF_REATTACH_PROVIDERS='{reattach}'\n\nPress Ctrl-C to stop."
        );
    } else {
        println!(
            "{}",
            handshake_line(&socket_str, tls.as_ref().map(|t| t.cert_base64.as_str()))
        );
    }
    let _ = std::io::stdout().flush();

    let stop = shutdown.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        // Terraform forwards Ctrl-C to the whole process group, but cancellation arrives through
        // StopProvider; only in debug mode does Ctrl-C end the plugin.
        if debug {
            stop.cancel();
        }
    });
    router
        .serve_with_incoming_shutdown(incoming, shutdown.cancelled_owned())
        .await
        .map_err(|e| ServeError(format!("serving: {e}")))?;
    drop(dir);
    Ok(())
}

fn accept_loop(
    listener: UnixListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: CancellationToken,
) -> tokio_stream::wrappers::ReceiverStream<Result<Conn, std::io::Error>> {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                () = shutdown.cancelled() => return,
            };
            let (stream, _) = match accepted {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    continue;
                }
            };
            let tx = tx.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                let conn = match tls {
                    None => Ok(Conn(Box::new(stream))),
                    Some(acceptor) => {
                        match tokio::time::timeout(Duration::from_secs(30), acceptor.accept(stream))
                            .await
                        {
                            Ok(Ok(s)) => Ok(Conn(Box::new(s))),
                            Ok(Err(e)) => {
                                tracing::warn!("TLS handshake refused: {e}");
                                return;
                            }
                            Err(_) => return,
                        }
                    }
                };
                let _ = tx.send(conn).await;
            });
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

/// One accepted connection, plain or TLS.
struct Conn(Box<dyn Io>);

impl tonic::transport::server::Connected for Conn {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}

struct Controller {
    debug: bool,
    socket_dir: PathBuf,
    shutdown: CancellationToken,
}

#[tonic::async_trait]
impl gp::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(&self, _r: Request<gp::Empty>) -> Result<Response<gp::Empty>, Status> {
        tracing::debug!("GRPCController.Shutdown received");
        if !self.debug {
            // Answer first, then leave: the graceful stop sends this answer and ends the server
            // (and the process) once the client closes its connection, as go-plugin does right
            // after. A fixed short timer raced the answer on a loaded machine (connection reset).
            // A client that keeps the connection open still sees us go before its 2 s kill.
            self.shutdown.cancel();
            let dir = self.socket_dir.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let _ = std::fs::remove_dir_all(dir);
                std::process::exit(0);
            });
        }
        Ok(Response::new(gp::Empty {}))
    }
}

struct Stdio;

type Pending<T> = Pin<Box<dyn tokio_stream::Stream<Item = Result<T, Status>> + Send>>;

#[tonic::async_trait]
impl gp::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = Pending<gp::StdioData>;
    async fn stream_stdio(
        &self,
        _r: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        // stdout/stderr are not redirected (logs go to stderr directly): an open, silent stream.
        Ok(Response::new(Box::pin(tokio_stream::pending())))
    }
}

struct Broker;

#[tonic::async_trait]
impl gp::grpc_broker_server::GrpcBroker for Broker {
    type StartStreamStream = Pending<gp::ConnInfo>;
    async fn start_stream(
        &self,
        _r: Request<tonic::Streaming<gp::ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        Ok(Response::new(Box::pin(tokio_stream::pending())))
    }
}
