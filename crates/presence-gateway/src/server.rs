//! Starting and stopping the gRPC server: presence service, health, reflection, access
//! control, TLS and message limits on one listener. Off loopback the gateway requires
//! TLS and a token (TLS can be waived, loudly, for a trusted network).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::{ReceiverStream, TcpListenerStream};

use presence_contract::AccessToken;
use presence_contract::limits::{MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES};
use presence_contract::proto::presence_service_server::PresenceServiceServer;
use presence_hub::PresenceHub;

use crate::auth::AuthInterceptor;
use crate::service::PresenceServiceImpl;
use crate::subscription_limits::GatewayLimits;

pub use presence_contract::DEFAULT_LISTEN;

/// How long a client may take to complete the TLS handshake.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a shutdown waits for connections to close after every stream was told.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// The server's TLS files (PEM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerTls {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// When set, clients must present a certificate issued by one of these CAs (mutual
    /// TLS).
    pub client_ca_file: Option<PathBuf>,
}

/// How to run the server.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub listen: SocketAddr,
    /// Required to listen on anything but loopback.
    pub token: Option<AccessToken>,
    /// Required to listen on anything but loopback, unless waived below.
    pub tls: Option<ServerTls>,
    /// Serve off loopback without TLS (a trusted network; logged as a warning).
    pub allow_plaintext_off_loopback: bool,
    pub heartbeat_interval: Duration,
    pub limits: GatewayLimits,
}

impl GatewayConfig {
    /// Loopback on an ephemeral port, no token: for tests and the panel's demo mode.
    pub fn loopback_ephemeral() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            token: None,
            tls: None,
            allow_plaintext_off_loopback: false,
            heartbeat_interval: Duration::from_secs(5),
            limits: GatewayLimits::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error(
        "refusing to listen on {0}, which is not a loopback address, without an access token: pass --token-file"
    )]
    TokenRequired(SocketAddr),
    #[error(
        "refusing to listen on {0}, which is not a loopback address, without TLS: pass --tls-cert and --tls-key (or, on a trusted network only, --allow-plaintext-off-loopback)"
    )]
    TlsRequired(SocketAddr),
    #[error(transparent)]
    TlsFile(#[from] presence_contract::PemFileError),
    #[error("bad TLS settings: {0}")]
    TlsSetup(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot build the reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("the gRPC server failed: {0}")]
    Serve(#[from] tonic::transport::Error),
}

/// A running server. Dropping it does not stop it; call [`RunningGateway::shutdown`].
pub struct RunningGateway {
    local_addr: SocketAddr,
    is_tls: bool,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<Result<(), tonic::transport::Error>>,
}

impl RunningGateway {
    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://ip:port` (or `https://` with TLS), for clients.
    pub fn endpoint_url(&self) -> String {
        let scheme = if self.is_tls { "https" } else { "http" };
        format!("{scheme}://{}", self.local_addr)
    }

    /// Ends every stream with UNAVAILABLE, stops accepting, and waits for the server.
    /// Connections still open [`SHUTDOWN_GRACE`] after that (a client that stopped
    /// reading holds its stream open) are closed without waiting further.
    pub async fn shutdown(mut self) -> Result<(), GatewayError> {
        let _ = self.shutdown.send(true);
        match tokio::time::timeout(SHUTDOWN_GRACE, &mut self.task).await {
            Ok(Ok(result)) => result.map_err(GatewayError::from),
            Ok(Err(join_error)) => {
                tracing::error!(%join_error, "the gRPC server task panicked");
                Ok(())
            }
            Err(_) => {
                tracing::warn!(
                    grace_secs = SHUTDOWN_GRACE.as_secs(),
                    "clients still connected after the shutdown grace; closing their connections"
                );
                self.task.abort();
                Ok(())
            }
        }
    }

    /// Stops at once without waiting (for tests that simulate a crash).
    pub fn abort(self) {
        self.task.abort();
    }
}

/// Binds and starts serving on the current tokio runtime.
pub async fn start(
    hub: Arc<PresenceHub>,
    config: GatewayConfig,
) -> Result<RunningGateway, GatewayError> {
    let is_loopback = config.listen.ip().is_loopback();
    if !is_loopback && config.token.is_none() {
        return Err(GatewayError::TokenRequired(config.listen));
    }
    if !is_loopback && config.tls.is_none() {
        if !config.allow_plaintext_off_loopback {
            return Err(GatewayError::TlsRequired(config.listen));
        }
        tracing::warn!(
            listen = %config.listen,
            "serving without TLS off loopback (--allow-plaintext-off-loopback): the access token and all presence cross the network in clear text"
        );
    }
    let tls = config.tls.as_ref().map(crate::tls::acceptor).transpose()?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| GatewayError::Bind {
            addr: config.listen,
            source,
        })?;
    let local_addr = listener.local_addr().map_err(|source| GatewayError::Bind {
        addr: config.listen,
        source,
    })?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);

    let service = PresenceServiceImpl::new(
        hub,
        config.heartbeat_interval,
        shutdown_rx.clone(),
        &config.limits,
    );
    let presence = PresenceServiceServer::new(service.clone())
        .max_decoding_message_size(MAX_REQUEST_BYTES)
        .max_encoding_message_size(MAX_RESPONSE_BYTES);
    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<PresenceServiceServer<PresenceServiceImpl>>()
        .await;
    // Both reflection versions: v1, and v1alpha for older tools and the Python
    // grpcio-reflection package.
    let reflection_builder = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(presence_contract::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection = reflection_builder().build_v1()?;
    let reflection_v1alpha = reflection_builder().build_v1alpha()?;

    let memory_task = {
        let service = service.clone();
        tokio::spawn(crate::memory::release_after_subscribers_change(move || {
            service.open_subscriptions()
        }))
    };
    let is_tls = tls.is_some();
    let router = tonic::transport::Server::builder()
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .max_concurrent_streams(config.limits.max_streams_per_connection)
        .layer(tonic::service::InterceptorLayer::new(AuthInterceptor::new(
            config.token,
        )))
        .add_service(health)
        .add_service(reflection)
        .add_service(reflection_v1alpha)
        .add_service(presence);
    // The server task owns the memory task: however it ends (an abort drops it), the
    // memory task ends with it.
    let memory_task = AbortOnDrop(memory_task);
    let task = match tls {
        Some(acceptor) => {
            let incoming = ReceiverStream::new(crate::tls::incoming(listener, acceptor));
            tokio::spawn(async move {
                let _memory_task = memory_task;
                router
                    .serve_with_incoming_shutdown(incoming, stopped(shutdown_rx))
                    .await
            })
        }
        None => tokio::spawn(async move {
            let _memory_task = memory_task;
            router
                .serve_with_incoming_shutdown(
                    TcpListenerStream::new(listener),
                    stopped(shutdown_rx),
                )
                .await
        }),
    };
    tracing::info!(%local_addr, tls = is_tls, "presence gateway listening");
    Ok(RunningGateway {
        local_addr,
        is_tls,
        shutdown: shutdown_tx,
        task,
    })
}

/// Aborts a task when dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Resolves once the gateway is told to stop, and a moment later (subscription tasks
/// send their final status before connections close).
async fn stopped(mut shutdown: watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|&stop| stop).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
}
