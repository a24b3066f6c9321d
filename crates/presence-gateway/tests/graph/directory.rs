//! Directory changes and Teams health as a subscriber sees them: a removed colleague,
//! and Graph going silent then coming back.

use std::time::{Duration, Instant};

use presence_contract::proto;
use presence_domain::SourceState;
use presence_sources::graph;
use presence_test_support as common;

use crate::fake::{fast_config, signed_in_fake};
use crate::support::{eventually, new_hub, teams_health};

/// A re-listing of the directory that takes several seconds (a big tenant) goes a page
/// at a time between presence polls: presence keeps being polled while it runs.
#[tokio::test]
async fn presence_is_polled_while_the_directory_is_listed_again() {
    let (fake, _dir, path) = signed_in_fake().await;
    fake.add_users(0..40);
    let hub = new_hub();
    let task = graph::spawn(hub.clone(), fast_config(&fake, path)).expect("source starts");
    eventually(
        "the directory and live health",
        Duration::from_secs(10),
        || hub.view().len() == 40 && teams_health(&hub).0 == SourceState::Live,
    )
    .await;
    // From now on a listing is 20 pages of 2 users, 150 ms each: 3 s.
    fake.with(|s| {
        s.page_size = 2;
        s.users_page_delay = Duration::from_millis(150);
    });
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (pages, polls) = fake.with(|s| {
        (
            s.user_query_times.iter().filter(|t| **t > started).count(),
            s.presence_calls.iter().filter(|c| c.at > started).count(),
        )
    });
    assert!(pages >= 15, "a listing under way: {pages} pages");
    // The polls of 40 colleagues every 200 ms would be 20 in 4 s; between pages of a
    // listing they are fewer, but never none for seconds.
    assert!(
        polls >= 10,
        "presence polled during the listing: {polls} polls"
    );
    assert_eq!(teams_health(&hub).0, SourceState::Live);
    task.abort();
}

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
