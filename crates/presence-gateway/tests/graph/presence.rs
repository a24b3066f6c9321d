//! Presence polling: directory paging, batches, mapping to what a subscriber sees, and
//! the request budget.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use presence_contract::proto;
use presence_domain::{Activity, Availability, SourceState};
use presence_sources::graph::{self, PollBudget, credentials};
use presence_test_support as common;
use serde_json::json;

use crate::fake::{Fake, fast_config, signed_in_fake, store_credentials};
use crate::support::{eventually, new_hub, shown, teams_health};

/// Paging, batches of at most 650, and the presence a real tonic client sees.
#[tokio::test]
async fn directory_pages_batches_and_subscriber_sees_served_presence() {
    let fake = Fake::start().await;
    fake.add_users(0..1_500);
    fake.with(|s| s.page_size = 600);
    fake.set_presence(
        0,
        json!({"id": Fake::id(0), "availability": "Busy", "activity": "InACall"}),
    );
    fake.set_presence(
        1,
        json!({"id": Fake::id(1), "availability": "Hibernating", "activity": "Gardening",
               "statusMessage": {"message": {"content": "Back at 3", "contentType": "text"},
                                 "expiryDateTime": {"dateTime": "2030-01-02T03:04:05.0000000", "timeZone": "UTC"}},
               "outOfOfficeSettings": {"isOutOfOffice": true, "message": "On leave"}}),
    );
    fake.set_presence(
        2,
        json!({"id": Fake::id(2), "availability": "DoNotDisturb", "activity": "Presenting"}),
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let path = store_credentials(dir.path(), &fake);
    let hub = new_hub();
    let mut config = fast_config(&fake, path.clone());
    config.directory_refresh = Duration::from_secs(600);
    // Batches are spread evenly over the cycle: 3 batches, one every 500 ms.
    config.budget.min_cycle = Duration::from_millis(1_500);
    let task = graph::spawn(hub.clone(), config).expect("source starts");

    eventually("three presence batches", Duration::from_secs(10), || {
        fake.with(|s| s.presence_calls.len() >= 3)
    })
    .await;
    eventually("live Teams health", Duration::from_secs(5), || {
        teams_health(&hub).0 == SourceState::Live
    })
    .await;
    let (calls, queries) = fake.with(|s| (s.presence_calls[..3].to_vec(), s.user_queries.clone()));
    let spread = calls[2].at - calls[0].at;
    assert!(spread >= Duration::from_millis(900), "paced: {spread:?}");
    assert_eq!(
        queries.len(),
        3,
        "1,500 users in pages of 600 follow two nextLinks"
    );
    let sizes: Vec<usize> = calls.iter().map(|c| c.ids.len()).collect();
    assert_eq!(sizes, [650, 650, 200]);
    let mut all: Vec<String> = calls.iter().flat_map(|c| c.ids.clone()).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 1_500, "every colleague polled once a cycle");
    assert!(calls.iter().all(|c| c.authorization == "Bearer access-1"));
    assert_eq!(hub.view().len(), 1_500);
    // The rotated refresh token was stored.
    let on_disk = credentials::load(&path).expect("readable").expect("stored");
    assert_eq!(on_disk.refresh_token.expose(), "refresh-1");

    let odd = shown(&hub, "user1@contoso.com").expect("user 1");
    assert_eq!(odd.availability, Availability::PresenceUnknown);
    assert_eq!(odd.availability_raw.as_deref(), Some("Hibernating"));
    assert_eq!(odd.activity, Activity::Other("Gardening".into()));

    let gateway = common::start(hub.clone()).await;
    let mut client = common::client(&gateway).await;
    let mut subscription = common::subscribe(&mut client).await;
    subscription
        .send(common::watch(&[
            "user0@contoso.com",
            "user1@contoso.com",
            "user2@contoso.com",
            "user1499@contoso.com",
        ]))
        .await;
    let (presences, unknown, _) = subscription.snapshot().await;
    assert!(unknown.is_empty());
    let by_upn: HashMap<String, proto::Presence> =
        presences.into_iter().map(|p| (p.upn.clone(), p)).collect();
    assert_eq!(by_upn.len(), 4);
    let busy = &by_upn["user0@contoso.com"];
    assert_eq!(busy.availability(), proto::Availability::Busy);
    assert_eq!(busy.activity(), proto::Activity::InACall);
    assert_eq!(busy.technology(), proto::Technology::MsTeams);
    let odd = &by_upn["user1@contoso.com"];
    assert_eq!(odd.availability(), proto::Availability::PresenceUnknown);
    assert_eq!(odd.availability_raw, "Hibernating");
    assert_eq!(odd.activity(), proto::Activity::Other);
    assert_eq!(odd.activity_raw, "Gardening");
    assert_eq!(
        odd.status_message.as_ref().map(|m| m.text.as_str()),
        Some("Back at 3")
    );
    assert_eq!(
        odd.status_message
            .as_ref()
            .and_then(|m| m.expires_at.as_ref())
            .map(|t| t.seconds),
        Some(1_893_553_445)
    );
    assert!(odd.out_of_office);
    assert_eq!(odd.out_of_office_message, "On leave");
    let presenting = &by_upn["user2@contoso.com"];
    assert_eq!(presenting.availability(), proto::Availability::DoNotDisturb);
    assert_eq!(presenting.activity(), proto::Activity::Presenting);
    assert_eq!(
        by_upn["user1499@contoso.com"].availability(),
        proto::Availability::Available
    );
    fake.assert_no_problems();
    task.abort();
    gateway.shutdown().await.expect("gateway stops");
}

/// The request budget holds in a real run (scaled down: 20 requests per second instead of
/// 1,000 per 30 s), directory pages included, and a tenant too big for the minimum cycle
/// gets a longer one.
#[tokio::test]
async fn request_budget_holds_and_big_tenants_poll_less_often() {
    let (fake, _dir, path) = signed_in_fake().await;
    fake.add_users(0..13_000);
    let hub = new_hub();
    let mut config = fast_config(&fake, path);
    config.directory_refresh = Duration::from_millis(1_500);
    config.budget = PollBudget {
        max_requests_per_window: 20,
        window: Duration::from_secs(1),
        min_cycle: Duration::from_millis(100),
        ..PollBudget::default()
    };
    let plan = config.budget.plan(13_000);
    assert_eq!(plan.batches, 20);
    assert_eq!(
        plan.cycle,
        Duration::from_secs(1),
        "20 batches at 50 ms each"
    );
    let task = graph::spawn(hub.clone(), config).expect("starts");
    eventually("two and a half cycles", Duration::from_secs(15), || {
        fake.with(|s| s.presence_calls.len() >= 50)
    })
    .await;
    task.abort();
    let (presence_calls, user_times) =
        fake.with(|s| (s.presence_calls.clone(), s.user_query_times.clone()));
    assert!(user_times.len() >= 14, "13,000 users in pages of 999");
    let mut times: Vec<Instant> = presence_calls.iter().map(|c| c.at).collect();
    times.extend(user_times);
    times.sort();
    let busiest = times
        .iter()
        .map(|start| {
            times
                .iter()
                .filter(|t| **t >= *start && **t < *start + Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0);
    println!("busiest second: {busiest} requests (budget 20)");
    // The source spaces requests 50 ms apart when it sends them; arrival at the fake
    // jitters by a few milliseconds, which may squeeze one more into a window's edge.
    assert!(busiest <= 21, "{busiest} requests in one window");
    // Each colleague is polled once a cycle (1 s), not every 100 ms.
    let first = Fake::id(0);
    let polls: Vec<Instant> = presence_calls
        .iter()
        .filter(|c| c.ids.contains(&first))
        .map(|c| c.at)
        .collect();
    assert!(polls.len() >= 2);
    for pair in polls.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= Duration::from_millis(900),
            "polled again after {gap:?}"
        );
    }
    assert!(presence_calls.iter().all(|c| c.ids.len() <= 650));
    fake.assert_no_problems();
}
