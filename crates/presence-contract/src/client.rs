//! Connecting to a presence gateway as a client: the endpoint, an optional bearer
//! token, and the message limits that match the server's.

use std::time::Duration;

use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

use crate::access_token::AccessToken;
use crate::limits::MAX_RESPONSE_BYTES;
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

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{0:?} is not a valid endpoint URL (expected e.g. http://127.0.0.1:50051)")]
    BadUrl(String),
    #[error("cannot connect to {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: tonic::transport::Error,
    },
}

/// Connects to `url` (e.g. `http://127.0.0.1:50051`).
pub async fn connect(
    url: &str,
    token: Option<&AccessToken>,
) -> Result<PresenceClient, ConnectError> {
    let endpoint = Endpoint::from_shared(url.to_owned())
        .map_err(|_| ConnectError::BadUrl(url.to_owned()))?
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
            .max_decoding_message_size(MAX_RESPONSE_BYTES),
    )
}
