//! Connecting to a presence gateway as a client: the endpoint, an optional bearer
//! token, TLS (`https://`: the system's roots plus an optional company CA, an optional
//! client certificate), and the message limits that match the server's. A token is
//! never sent in clear text to anything but loopback.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use crate::access_token::AccessToken;
use crate::limits::MAX_CLIENT_RESPONSE_BYTES;
use crate::proto::presence_service_client::PresenceServiceClient;

/// Adds `authorization: Bearer <token>` to every call when a token is set.
#[derive(Clone, Debug, Default)]
pub struct BearerInterceptor {
    header: Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>,
}

impl BearerInterceptor {
    pub fn new(token: Option<&AccessToken>) -> Self {
        Self {
            header: token.and_then(|t| t.bearer_header().parse().ok()),
        }
    }
}

impl tonic::service::Interceptor for BearerInterceptor {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(header) = &self.header {
            request
                .metadata_mut()
                .insert("authorization", header.clone());
        }
        Ok(request)
    }
}

pub type PresenceClient = PresenceServiceClient<InterceptedService<Channel, BearerInterceptor>>;

/// TLS settings of a client; all optional. With none, `https://` trusts the system's
/// certificate roots.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientTls {
    /// A PEM file of extra CA certificates to trust (a company CA).
    pub ca_file: Option<PathBuf>,
    /// A PEM certificate and key presented to gateways that ask for one (mutual TLS).
    pub client_cert_file: Option<PathBuf>,
    pub client_key_file: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{0:?} is not a valid endpoint URL (expected e.g. http://127.0.0.1:50051)")]
    BadUrl(String),
    #[error(
        "refusing to send the access token in clear text to {0}: use https:// (TLS) for a gateway that is not on this machine"
    )]
    TokenInClearText(String),
    #[error("{0} uses http://, but TLS settings were given: use https://")]
    TlsWithoutHttps(String),
    #[error("a client certificate needs both a certificate file and a key file")]
    HalfClientIdentity,
    #[error(transparent)]
    TlsFile(#[from] PemFileError),
    #[error("bad TLS settings: {0}")]
    Tls(#[source] tonic::transport::Error),
    #[error("cannot connect to {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: tonic::transport::Error,
    },
}

/// Connects to `url` (e.g. `http://127.0.0.1:50051`) with the system's TLS roots.
pub async fn connect(
    url: &str,
    token: Option<&AccessToken>,
) -> Result<PresenceClient, ConnectError> {
    connect_with(url, token, &ClientTls::default()).await
}

/// Whether `url` names this machine (`localhost`, `127.x`, `::1`).
pub fn is_loopback_url(url: &str) -> bool {
    let Ok(uri) = url.parse::<tonic::codegen::http::Uri>() else {
        return false;
    };
    let Some(host) = uri.host() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A PEM file (certificate, key, CA) that cannot be read, named in words.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {what} {path}: {source}")]
pub struct PemFileError {
    pub what: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Reads a PEM file; `what` names it in the error ("the CA file").
pub fn read_pem(what: &'static str, path: &Path) -> Result<Vec<u8>, PemFileError> {
    std::fs::read(path).map_err(|source| PemFileError {
        what,
        path: path.to_owned(),
        source,
    })
}

/// The TLS configuration for an `https://` endpoint.
pub fn client_tls_config(tls: &ClientTls) -> Result<ClientTlsConfig, ConnectError> {
    let mut config = ClientTlsConfig::new().with_native_roots();
    if let Some(path) = &tls.ca_file {
        config = config.ca_certificate(Certificate::from_pem(read_pem("the CA file", path)?));
    }
    match (&tls.client_cert_file, &tls.client_key_file) {
        (Some(cert), Some(key)) => {
            config = config.identity(Identity::from_pem(
                read_pem("the client certificate", cert)?,
                read_pem("the client key", key)?,
            ));
        }
        (None, None) => {}
        _ => return Err(ConnectError::HalfClientIdentity),
    }
    Ok(config)
}

/// Connects to `url`: `https://` with TLS as `tls` says, `http://` only without a token
/// or to loopback.
pub async fn connect_with(
    url: &str,
    token: Option<&AccessToken>,
    tls: &ClientTls,
) -> Result<PresenceClient, ConnectError> {
    let mut endpoint =
        Endpoint::from_shared(url.to_owned()).map_err(|_| ConnectError::BadUrl(url.to_owned()))?;
    let is_https = url
        .get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"));
    if is_https {
        endpoint = endpoint
            .tls_config(client_tls_config(tls)?)
            .map_err(ConnectError::Tls)?;
    } else {
        if token.is_some() && !is_loopback_url(url) {
            return Err(ConnectError::TokenInClearText(url.to_owned()));
        }
        if tls.client_cert_file.is_some() {
            return Err(ConnectError::TlsWithoutHttps(url.to_owned()));
        }
    }
    let endpoint = endpoint
        .connect_timeout(Duration::from_secs(3))
        .http2_keep_alive_interval(Duration::from_secs(20))
        .keep_alive_timeout(Duration::from_secs(10))
        .keep_alive_while_idle(true)
        .tcp_nodelay(true);
    let channel = endpoint
        .connect()
        .await
        .map_err(|source| ConnectError::Connect {
            url: url.to_owned(),
            source,
        })?;
    Ok(
        PresenceServiceClient::with_interceptor(channel, BearerInterceptor::new(token))
            .max_decoding_message_size(MAX_CLIENT_RESPONSE_BYTES),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls() {
        for url in [
            "http://127.0.0.1:50051",
            "http://localhost:1",
            "http://[::1]:50051",
            "https://127.5.6.7",
        ] {
            assert!(is_loopback_url(url), "{url}");
        }
        for url in [
            "http://10.0.0.5:50051",
            "http://ucx01:50051",
            "http://127.0.0.1.evil.example:1",
            "not a url",
        ] {
            assert!(!is_loopback_url(url), "{url}");
        }
    }

    #[tokio::test]
    async fn a_token_is_never_sent_in_clear_text_off_loopback() {
        let token = AccessToken::new("s3cret-token-value").expect("token");
        let refused = connect("http://10.0.0.5:50051", Some(&token)).await;
        assert!(
            matches!(refused, Err(ConnectError::TokenInClearText(_))),
            "{:?}",
            refused.err()
        );
        let message = connect("http://ucx01:50051", Some(&token))
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(message.contains("https://"), "{message}");
        assert!(
            !message.contains("s3cret"),
            "the token is never in a message"
        );
        let half = ClientTls {
            client_cert_file: Some("client.pem".into()),
            ..ClientTls::default()
        };
        assert!(matches!(
            connect_with("https://127.0.0.1:1", None, &half).await,
            Err(ConnectError::HalfClientIdentity)
        ));
    }
}
