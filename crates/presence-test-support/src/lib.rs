//! Shared helpers for integration tests: a real gateway on 127.0.0.1:0 and real clients.
// Only tests use this crate: an `expect` here fails the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use presence_contract::proto;
use presence_contract::{PresenceClient, connect};
use presence_domain::{Availability, Colleague, Presence, Technology, WinningTechnology};
use presence_gateway::{GatewayConfig, RunningGateway, server};
use presence_hub::{DirectoryUpdate, HubSettings, PresenceHub};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;

pub fn colleague(n: usize) -> Colleague {
    Colleague {
        id: format!("id-{n}"),
        upn: format!("user{n}@contoso.com"),
        display_name: format!("User {n}"),
        given_name: "User".into(),
        surname: format!("{n}"),
        mail: format!("user{n}@contoso.com"),
        department: "Sales".into(),
        job_title: "Account Manager".into(),
        office: "Milan".into(),
        business_phones: vec![format!("+39 02 5550 {n:04}")],
        mobile_phone: String::new(),
    }
}

pub fn presence(n: usize, availability: Availability) -> Presence {
    Presence {
        availability,
        since: SystemTime::now(),
        ..Presence::unknown(&format!("user{n}@contoso.com"))
    }
}

pub fn hub_with(users: usize, winning: WinningTechnology) -> Arc<PresenceHub> {
    let hub = PresenceHub::new(HubSettings {
        winning_technology: winning,
        ms_teams_enabled: true,
    });
    hub.apply_directory(
        (0..users)
            .map(|n| DirectoryUpdate::Upsert(colleague(n)))
            .collect(),
    );
    hub.publish(
        Technology::MsTeams,
        (0..users)
            .map(|n| presence(n, Availability::Available))
            .collect(),
    );
    hub.set_source_health(Technology::MsTeams, presence_domain::SourceState::Live, "");
    hub
}

pub async fn start(hub: Arc<PresenceHub>) -> RunningGateway {
    let config = GatewayConfig {
        heartbeat_interval: Duration::from_millis(200),
        ..GatewayConfig::loopback_ephemeral()
    };
    server::start(hub, config).await.expect("gateway starts")
}

pub async fn client(gateway: &RunningGateway) -> PresenceClient {
    connect(&gateway.endpoint_url(), None)
        .await
        .expect("client connects")
}

/// An open subscription: send requests with `tx`, read events with `next`.
pub struct Subscription {
    pub tx: tokio::sync::mpsc::Sender<proto::SubscribeRequest>,
    pub stream: tonic::Streaming<proto::SubscribeResponse>,
}

pub async fn subscribe(client: &mut PresenceClient) -> Subscription {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let stream = client
        .subscribe(ReceiverStream::new(rx))
        .await
        .expect("subscribe")
        .into_inner();
    Subscription { tx, stream }
}

pub fn watch(upns: &[&str]) -> proto::SubscribeRequest {
    proto::SubscribeRequest {
        request: Some(proto::subscribe_request::Request::Watch(
            proto::WatchRequest {
                upns: upns.iter().map(|s| s.to_string()).collect(),
                resume: None,
            },
        )),
    }
}

pub fn watch_all(resume: Option<proto::ResumeFrom>) -> proto::SubscribeRequest {
    proto::SubscribeRequest {
        request: Some(proto::subscribe_request::Request::WatchAll(
            proto::WatchAllRequest { resume },
        )),
    }
}

pub fn unwatch(upns: &[&str]) -> proto::SubscribeRequest {
    proto::SubscribeRequest {
        request: Some(proto::subscribe_request::Request::Unwatch(
            proto::UnwatchRequest {
                upns: upns.iter().map(|s| s.to_string()).collect(),
            },
        )),
    }
}

impl Subscription {
    pub async fn send(&self, request: proto::SubscribeRequest) {
        self.tx.send(request).await.expect("request sent");
    }

    /// The next event other than a heartbeat, within 5 s.
    pub async fn next_event(&mut self) -> proto::subscribe_response::Event {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(5), self.stream.message())
                .await
                .expect("an event within 5 s")
                .expect("stream healthy")
                .expect("stream open");
            match message.event {
                Some(proto::subscribe_response::Event::Heartbeat(_)) | None => continue,
                Some(event) => return event,
            }
        }
    }

    /// The status that ends the stream, skipping heartbeats; fails on anything else.
    pub async fn refusal(&mut self) -> tonic::Status {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(5), self.stream.message())
                .await
                .expect("an answer within 5 s");
            match message {
                Err(status) => return status,
                Ok(Some(proto::SubscribeResponse {
                    event: Some(proto::subscribe_response::Event::Heartbeat(_)),
                })) => continue,
                Ok(other) => panic!("expected the stream to be refused, got {other:?}"),
            }
        }
    }

    /// Reads a whole snapshot (all pages).
    pub async fn snapshot(&mut self) -> (Vec<proto::Presence>, Vec<String>, proto::Snapshot) {
        let mut presences = Vec::new();
        let mut unknown = Vec::new();
        loop {
            match self.next_event().await {
                proto::subscribe_response::Event::Snapshot(page) => {
                    presences.extend(page.presences.iter().cloned());
                    unknown.extend(page.unknown_upns.iter().cloned());
                    if page.last_page {
                        return (presences, unknown, page);
                    }
                }
                other => panic!("expected a snapshot, got {other:?}"),
            }
        }
    }

    /// The next presence batch, skipping directory changes.
    pub async fn updates(&mut self) -> Vec<proto::Presence> {
        loop {
            if let proto::subscribe_response::Event::Updates(batch) = self.next_event().await {
                return batch.presences;
            }
        }
    }
}

pub async fn drain_stream<T>(stream: &mut (impl tokio_stream::Stream<Item = T> + Unpin)) -> Vec<T> {
    let mut out = Vec::new();
    while let Some(item) = stream.next().await {
        out.push(item);
    }
    out
}
