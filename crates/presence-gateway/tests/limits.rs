//! What one client can make the gateway hold is bounded: subscriptions in total and per
//! connection (RESOURCE_EXHAUSTED with a message), and a subscriber that stops reading
//! is cut off, its place given back. Real server on 127.0.0.1:0, real clients.
// A test crate: an `expect` in a helper fails the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use presence_contract::{PresenceClient, connect, proto};
use presence_domain::WinningTechnology;
use presence_gateway::{GatewayConfig, GatewayLimits, RunningGateway, server};
use presence_hub::PresenceHub;
use presence_test_support::{hub_with, watch_all};
use tokio_stream::wrappers::ReceiverStream;

async fn start_with(hub: Arc<PresenceHub>, limits: GatewayLimits) -> RunningGateway {
    server::start(
        hub,
        GatewayConfig {
            limits,
            heartbeat_interval: Duration::from_millis(200),
            ..GatewayConfig::loopback_ephemeral()
        },
    )
    .await
    .expect("gateway starts")
}

/// Opens a watch-all subscription; the request stream stays open while the sender
/// lives.
async fn try_subscribe(
    client: &mut PresenceClient,
) -> Result<
    (
        tokio::sync::mpsc::Sender<proto::SubscribeRequest>,
        tonic::Streaming<proto::SubscribeResponse>,
    ),
    tonic::Status,
> {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tx.send(watch_all(None)).await.expect("request queued");
    let stream = client
        .subscribe(ReceiverStream::new(rx))
        .await?
        .into_inner();
    Ok((tx, stream))
}

/// Retries until a subscription is admitted (a place is given back asynchronously).
async fn subscribe_within(client: &mut PresenceClient, limit: Duration) -> tonic::Status {
    let started = Instant::now();
    loop {
        match try_subscribe(client).await {
            Ok(_) => return tonic::Status::ok("admitted"),
            Err(status) if started.elapsed() < limit => {
                assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(status) => return status,
        }
    }
}

#[tokio::test]
async fn subscriptions_are_capped_in_total_and_per_connection() {
    let hub = hub_with(10, WinningTechnology::MsTeams);
    let gateway = start_with(
        hub,
        GatewayLimits {
            max_subscriptions: 3,
            max_subscriptions_per_connection: 2,
            ..GatewayLimits::default()
        },
    )
    .await;
    let url = gateway.endpoint_url();
    let mut first = connect(&url, None).await.expect("connects");
    let mut second = connect(&url, None).await.expect("connects");

    let a1 = try_subscribe(&mut first).await.expect("1st");
    let _a2 = try_subscribe(&mut first)
        .await
        .expect("2nd on the same connection");
    let refused = try_subscribe(&mut first)
        .await
        .expect_err("3rd on one connection");
    assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
    assert!(refused.message().contains("one connection"), "{refused}");

    let _b1 = try_subscribe(&mut second)
        .await
        .expect("another connection");
    let refused = try_subscribe(&mut second).await.expect_err("4th in all");
    assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
    assert!(
        refused.message().contains("at most 3 subscriptions"),
        "{refused}"
    );

    // One leaves: its place is given back.
    drop(a1);
    let admitted = subscribe_within(&mut second, Duration::from_secs(5)).await;
    assert_eq!(admitted.code(), tonic::Code::Ok, "{admitted}");
    gateway.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn a_subscriber_that_stops_reading_is_cut_off_and_its_place_given_back() {
    // A snapshot of 60,000 presences is far more than the client's HTTP/2 windows and
    // the server's buffers: a client that reads nothing blocks its subscription.
    let hub = hub_with(60_000, WinningTechnology::MsTeams);
    let gateway = start_with(
        hub,
        GatewayLimits {
            max_subscriptions: 1,
            stalled_subscriber_timeout: Duration::from_millis(500),
            ..GatewayLimits::default()
        },
    )
    .await;
    let url = gateway.endpoint_url();
    let mut stuck = connect(&url, None).await.expect("connects");
    let (_requests, _unread) = try_subscribe(&mut stuck).await.expect("admitted");

    let mut patient = connect(&url, None).await.expect("connects");
    let refused = try_subscribe(&mut patient)
        .await
        .expect_err("the only place is taken");
    assert!(
        refused.message().contains("at most 1 subscriptions"),
        "{refused}"
    );
    let started = Instant::now();
    let admitted = subscribe_within(&mut patient, Duration::from_secs(10)).await;
    assert_eq!(
        admitted.code(),
        tonic::Code::Ok,
        "the stuck subscriber was cut off: {admitted}"
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300),
        "not before it stalled: {waited:?}"
    );
    gateway.shutdown().await.expect("shutdown");
}
