//! Graph answering badly: throttling (429, 503), 401, malformed JSON and 502.

use std::time::Duration;

use presence_domain::{Activity, Availability, SourceState};
use presence_sources::graph;
use serde_json::json;

use crate::fake::{Fake, Scripted, fast_config, store_credentials};
use crate::support::{assert_no_tokens, capture_logs, eventually, new_hub, shown, teams_health};

/// 429 with Retry-After, 401 then refresh, malformed JSON: each handled, nothing lost.
#[tokio::test]
async fn throttling_unauthorized_and_malformed_answers() {
    let (logs, _guard) = capture_logs();
    let fake = Fake::start().await;
    fake.add_users(0..3);
    fake.set_presence(
        0,
        json!({"id": Fake::id(0), "availability": "Busy", "activity": "InAMeeting"}),
    );
    fake.with(|s| {
        s.script = [Scripted::Throttle {
            status: 429,
            retry_after_secs: 1,
        }]
        .into()
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let path = store_credentials(dir.path(), &fake);
    let hub = new_hub();
    let mut config = fast_config(&fake, path);
    config.directory_refresh = Duration::from_secs(600);
    let task = graph::spawn(hub.clone(), config).expect("source starts");

    eventually("presence after throttling", Duration::from_secs(10), || {
        shown(&hub, "user0@contoso.com").is_some_and(|p| p.availability == Availability::Busy)
    })
    .await;
    let calls = fake.with(|s| s.presence_calls.clone());
    let gap = calls[1].at - calls[0].at;
    println!("429 with Retry-After: 1 -> next request after {gap:?}");
    assert!(
        gap >= Duration::from_secs(1),
        "Retry-After honoured: {gap:?}"
    );
    assert_eq!(
        teams_health(&hub).0,
        SourceState::Live,
        "a short throttle is not staleness"
    );

    // 401: one refresh, then the same request again with the new token.
    let before = fake.with(|s| {
        s.script = [Scripted::Unauthorized].into();
        s.presence_calls.len()
    });
    eventually("a refresh after the 401", Duration::from_secs(5), || {
        fake.with(|s| s.presence_calls.len() >= before + 2)
    })
    .await;
    let (calls, refreshes) = fake.with(|s| (s.presence_calls.clone(), s.refresh_forms.clone()));
    assert_eq!(refreshes.len(), 2, "startup and after the 401");
    assert_eq!(refreshes[1]["refresh_token"], "refresh-1");
    assert_eq!(calls[before].authorization, "Bearer access-1");
    assert_eq!(calls[before + 1].authorization, "Bearer access-2");
    assert_eq!(teams_health(&hub).0, SourceState::Live);

    // Malformed JSON: skipped, last known state kept (same version), next cycle fine.
    let version = shown(&hub, "user0@contoso.com").expect("user 0").version;
    let before = fake.with(|s| {
        s.script = [Scripted::Malformed].into();
        s.presence_calls.len()
    });
    eventually(
        "a cycle after the malformed answer",
        Duration::from_secs(5),
        || fake.with(|s| s.presence_calls.len() >= before + 2),
    )
    .await;
    let kept = shown(&hub, "user0@contoso.com").expect("user 0");
    assert_eq!(kept.availability, Availability::Busy);
    assert_eq!(kept.activity, Activity::InAMeeting);
    assert_eq!(kept.version, version);
    assert_eq!(teams_health(&hub).0, SourceState::Live);

    // 503 with Retry-After is throttling too; a 502 is retried after a backoff.
    let before = fake.with(|s| {
        s.script = [
            Scripted::Throttle {
                status: 503,
                retry_after_secs: 1,
            },
            Scripted::ServerError,
        ]
        .into();
        s.presence_calls.len()
    });
    eventually("retries after 503 and 502", Duration::from_secs(5), || {
        fake.with(|s| s.presence_calls.len() >= before + 3)
    })
    .await;
    let calls = fake.with(|s| s.presence_calls.clone());
    let after_503 = calls[before + 1].at - calls[before].at;
    let after_502 = calls[before + 2].at - calls[before + 1].at;
    println!("503 with Retry-After: 1 -> next request after {after_503:?}; 502 -> {after_502:?}");
    assert!(after_503 >= Duration::from_secs(1), "{after_503:?}");
    assert!(
        after_502 >= Duration::from_millis(25),
        "backoff: {after_502:?}"
    );
    eventually("live again", Duration::from_secs(5), || {
        teams_health(&hub).0 == SourceState::Live
    })
    .await;

    // A change in Graph reaches the hub.
    fake.set_presence(
        0,
        json!({"id": Fake::id(0), "availability": "Away", "activity": "Away"}),
    );
    eventually("the change", Duration::from_secs(5), || {
        shown(&hub, "user0@contoso.com").is_some_and(|p| p.availability == Availability::Away)
    })
    .await;
    fake.assert_no_problems();
    task.abort();
    let logs = logs.text();
    assert!(
        logs.contains("Retry") || logs.contains("retrying"),
        "{logs}"
    );
    assert!(logs.contains("malformed"), "{logs}");
    assert_no_tokens(&logs);
}
