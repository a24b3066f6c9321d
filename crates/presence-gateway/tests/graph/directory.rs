//! Directory changes and Teams health as a subscriber sees them: a removed colleague,
//! and Graph going silent then coming back.

use std::time::{Duration, Instant};

use presence_contract::proto;
use presence_domain::SourceState;
use presence_sources::graph;
use presence_test_support as common;

use crate::fake::{fast_config, signed_in_fake};
use crate::support::{eventually, new_hub, teams_health};

/// A removed user reaches subscribers; when Graph stops answering they are told the
/// Teams source is stale, and live again when it answers.
#[tokio::test]
async fn removal_reaches_subscribers_and_outage_marks_stale() {
    let (fake, _dir, path) = signed_in_fake().await;
    fake.add_users(0..3);
    let hub = new_hub();
    let task = graph::spawn(hub.clone(), fast_config(&fake, path)).expect("source starts");
    eventually(
        "the directory and live health",
        Duration::from_secs(10),
        || hub.view().len() == 3 && teams_health(&hub).0 == SourceState::Live,
    )
    .await;

    let gateway = common::start(hub.clone()).await;
    let mut client = common::client(&gateway).await;
    let mut subscription = common::subscribe(&mut client).await;
    subscription.send(common::watch_all(None)).await;
    let (presences, _, _) = subscription.snapshot().await;
    assert_eq!(presences.len(), 3);

    fake.with(|s| s.users.retain(|(_, upn, _)| upn != "user1@contoso.com"));
    let removed = loop {
        if let proto::subscribe_response::Event::Directory(changes) =
            subscription.next_event().await
        {
            break changes;
        }
    };
    assert_eq!(removed.changes.len(), 1);
    assert_eq!(
        removed.changes[0].kind(),
        proto::DirectoryChangeKind::Removed
    );
    assert_eq!(
        removed.changes[0]
            .colleague
            .as_ref()
            .map(|c| c.upn.as_str()),
        Some("user1@contoso.com")
    );

    // Graph stops answering: heartbeats say Teams is stale.
    fake.with(|s| s.is_hanging = true);
    let detail = teams_state_in_heartbeats(&mut subscription, proto::SourceState::Stale).await;
    assert!(detail.contains("cannot reach Graph"), "{detail}");
    fake.with(|s| s.is_hanging = false);
    teams_state_in_heartbeats(&mut subscription, proto::SourceState::Live).await;
    fake.assert_no_problems();
    task.abort();
    gateway.shutdown().await.expect("gateway stops");
}

async fn teams_state_in_heartbeats(
    subscription: &mut common::Subscription,
    wanted: proto::SourceState,
) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(
            Instant::now() < deadline,
            "no heartbeat with Teams {wanted:?}"
        );
        let message = tokio::time::timeout(Duration::from_secs(5), subscription.stream.message())
            .await
            .expect("a message")
            .expect("stream healthy")
            .expect("stream open");
        if let Some(proto::subscribe_response::Event::Heartbeat(beat)) = message.event
            && let Some(teams) = beat
                .sources
                .iter()
                .find(|s| s.technology() == proto::Technology::MsTeams)
            && teams.state() == wanted
        {
            return teams.detail.clone();
        }
    }
}
