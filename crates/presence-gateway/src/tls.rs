//! TLS for the gateway (rustls with the ring provider): the certificate and key are
//! read from PEM files and read again when the files change, so a renewed certificate
//! is served without a restart; optional client certificates (mutual TLS). Each
//! handshake runs in a task of its own with a time limit, so a client that never
//! finishes its handshake holds up nobody else.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use rustls::crypto::ring::{default_provider, sign::any_supported_type};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::server::{GatewayError, ServerTls, TLS_HANDSHAKE_TIMEOUT};

/// How often the certificate files are looked at for a renewal (on a handshake).
pub const RELOAD_CHECK_INTERVAL: Duration = Duration::from_secs(2);
/// Connections whose handshake is done, waiting for the server to take them.
const ACCEPTED_BUFFER: usize = 64;

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, GatewayError> {
    Ok(presence_contract::read_pem(what, path)?)
}

fn bad(detail: String) -> GatewayError {
    GatewayError::TlsSetup(detail)
}

/// Reads a certificate chain and its key into what rustls serves.
fn certified_key(cert_file: &Path, key_file: &Path) -> Result<Arc<CertifiedKey>, GatewayError> {
    let cert_pem = read("the TLS certificate", cert_file)?;
    let key_pem = read("the TLS key", key_file)?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| bad(format!("{}: {e}", cert_file.display())))?;
    if chain.is_empty() {
        return Err(bad(format!(
            "{}: no certificate in it",
            cert_file.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| bad(format!("{}: {e}", key_file.display())))?;
    let signing_key =
        any_supported_type(&key).map_err(|e| bad(format!("{}: {e}", key_file.display())))?;
    let certified = CertifiedKey::new(chain, signing_key);
    certified
        .keys_match()
        .map_err(|e| bad(format!("the key does not match the certificate: {e}")))?;
    Ok(Arc::new(certified))
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The certificate served, read again when its files change.
#[derive(Debug)]
struct ReloadingCertificate {
    cert_file: PathBuf,
    key_file: PathBuf,
    state: Mutex<Served>,
}

#[derive(Debug)]
struct Served {
    key: Arc<CertifiedKey>,
    stamps: (Option<SystemTime>, Option<SystemTime>),
    checked_at: Instant,
}

impl ReloadingCertificate {
    fn new(cert_file: PathBuf, key_file: PathBuf) -> Result<Self, GatewayError> {
        let key = certified_key(&cert_file, &key_file)?;
        let stamps = (modified(&cert_file), modified(&key_file));
        Ok(Self {
            cert_file,
            key_file,
            state: Mutex::new(Served {
                key,
                stamps,
                checked_at: Instant::now(),
            }),
        })
    }

    /// The key to serve, read again first when the files changed (a renewal half
    /// written, or broken, keeps the last good one and says so in the log).
    fn current(&self) -> Option<Arc<CertifiedKey>> {
        let mut served = self.state.lock().ok()?;
        if served.checked_at.elapsed() >= RELOAD_CHECK_INTERVAL {
            served.checked_at = Instant::now();
            let stamps = (modified(&self.cert_file), modified(&self.key_file));
            if stamps != served.stamps {
                match certified_key(&self.cert_file, &self.key_file) {
                    Ok(key) => {
                        tracing::info!(cert = %self.cert_file.display(), "TLS certificate reloaded");
                        served.key = key;
                        served.stamps = stamps;
                    }
                    Err(err) => tracing::warn!(
                        %err,
                        "the TLS certificate files changed but cannot be used; still serving the previous certificate"
                    ),
                }
            }
        }
        Some(served.key.clone())
    }
}

impl ResolvesServerCert for ReloadingCertificate {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current()
    }
}

/// The rustls configuration for `tls`: HTTP/2 by ALPN, client certificates when asked.
pub fn acceptor(tls: &ServerTls) -> Result<TlsAcceptor, GatewayError> {
    let resolver = ReloadingCertificate::new(tls.cert_file.clone(), tls.key_file.clone())?;
    let provider = Arc::new(default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?;
    let builder = match &tls.client_ca_file {
        Some(ca_file) => {
            let pem = read("the client CA file", ca_file)?;
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|e| bad(format!("{}: {e}", ca_file.display())))?;
                roots
                    .add(cert)
                    .map_err(|e| bad(format!("{}: {e}", ca_file.display())))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| bad(format!("{}: {e}", ca_file.display())))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Accepts TCP connections and completes their TLS handshakes, each in a task of its
/// own limited to [`TLS_HANDSHAKE_TIMEOUT`]; yields the connections ready to serve.
pub fn incoming(
    listener: TcpListener,
    acceptor: TlsAcceptor,
) -> mpsc::Receiver<Result<TlsStream<TcpStream>, std::io::Error>> {
    let (tx, rx) = mpsc::channel(ACCEPTED_BUFFER);
    tokio::spawn(async move {
        loop {
            let (stream, peer) = tokio::select! {
                () = tx.closed() => return,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        tracing::debug!(%err, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let _ = stream.set_nodelay(true);
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => {
                        let _ = tx.send(Ok(tls)).await;
                    }
                    Ok(Err(err)) => tracing::debug!(%peer, %err, "TLS handshake failed"),
                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                }
            });
        }
    });
    rx
}
