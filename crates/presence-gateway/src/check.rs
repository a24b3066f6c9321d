//! `presence-gateway check`: connects to a gateway as a panel would, subscribes to
//! everyone, and reports what arrives. Exits non-zero when the gateway does not answer
//! with presence in time. Used by operators and by the Windows smoke test.

use std::time::Duration;

use tokio_stream::StreamExt;

use presence_contract::{AccessToken, ClientTls, ConnectError, connect_with, proto};

/// What a successful check saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    pub directory_size: u32,
    pub snapshot_presences: usize,
    pub gateway_instance_id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("the gateway answered with an error: {0}")]
    Status(#[from] tonic::Status),
    #[error("no presence arrived within {0} s")]
    Timeout(u64),
    #[error("the stream ended before a snapshot arrived")]
    Ended,
    #[error("the gateway answered, but its snapshot holds no presence (empty directory?)")]
    Empty,
}

/// Runs the check against `url`.
pub async fn check(
    url: &str,
    token: Option<&AccessToken>,
    tls: &ClientTls,
    timeout: Duration,
) -> Result<CheckReport, CheckError> {
    tokio::time::timeout(timeout, run(url, token, tls))
        .await
        .map_err(|_| CheckError::Timeout(timeout.as_secs()))?
}

async fn run(
    url: &str,
    token: Option<&AccessToken>,
    tls: &ClientTls,
) -> Result<CheckReport, CheckError> {
    let mut client = connect_with(url, token, tls).await?;
    let mut directory = client
        .list_directory(proto::ListDirectoryRequest { page_size: 0 })
        .await?
        .into_inner();
    let mut directory_size = 0;
    while let Some(page) = directory.message().await? {
        directory_size = page.total_count;
        if page.last_page {
            break;
        }
    }
    let request = proto::SubscribeRequest {
        request: Some(proto::subscribe_request::Request::WatchAll(
            proto::WatchAllRequest { resume: None },
        )),
    };
    let mut stream = client
        .subscribe(tokio_stream::iter([request]).chain(tokio_stream::pending()))
        .await?
        .into_inner();
    let mut presences = 0;
    while let Some(message) = stream.message().await? {
        if let Some(proto::subscribe_response::Event::Snapshot(snapshot)) = message.event {
            presences += snapshot.presences.len();
            if snapshot.last_page {
                if presences == 0 {
                    return Err(CheckError::Empty);
                }
                return Ok(CheckReport {
                    directory_size,
                    snapshot_presences: presences,
                    gateway_instance_id: snapshot.gateway_instance_id,
                });
            }
        }
    }
    Err(CheckError::Ended)
}
