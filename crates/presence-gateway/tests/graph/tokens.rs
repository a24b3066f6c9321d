//! The stored sign-in at run time: refreshing access tokens, a revoked or missing
//! refresh token, and the identity platform down.

use std::time::Duration;

use presence_domain::SourceState;
use presence_sources::graph::{self, credentials};

use crate::fake::{Fake, fast_config, save_sign_in, signed_in_fake};
use crate::support::{assert_no_tokens, capture_logs, eventually, new_hub, teams_health};

/// A revoked refresh token: stale, with the words that tell the operator what to do;
/// a new sign-in while the gateway runs is picked up.
#[tokio::test]
async fn revoked_sign_in_asks_for_login_and_recovers() {
    let (logs, _guard) = capture_logs();
    let (fake, _dir, path) = signed_in_fake().await;
    fake.add_users(0..2);
    fake.with(|s| s.is_refresh_revoked = true);
    let hub = new_hub();
    let task = graph::spawn(hub.clone(), fast_config(&fake, path.clone())).expect("starts");
    eventually("stale with a login hint", Duration::from_secs(5), || {
        let (state, detail) = teams_health(&hub);
        state == SourceState::Stale && detail.contains("run `presence-gateway login` again")
    })
    .await;
    let (_, detail) = teams_health(&hub);
    assert!(detail.contains("invalid_grant"), "{detail}");
    assert!(!detail.contains("refresh-0"), "no token in the detail");
    let refreshes = fake.with(|s| s.refresh_forms.len());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        fake.with(|s| s.refresh_forms.len()),
        refreshes,
        "a rejected token is not sent again"
    );

    // The operator signs in again (a new refresh token lands in the file).
    fake.with(|s| {
        s.is_refresh_revoked = false;
        s.refresh_token = "refresh-new".into();
    });
    save_sign_in(&path, &fake, "refresh-new");
    eventually("live after the new sign-in", Duration::from_secs(5), || {
        teams_health(&hub).0 == SourceState::Live && hub.view().len() == 2
    })
    .await;
    task.abort();
    let logs = logs.text();
    assert!(logs.contains("invalid_grant"), "{logs}");
    assert_no_tokens(&logs);
}

/// A `presence-gateway login` for another account while a gateway runs is never
/// overwritten by that gateway's next token rotation.
#[tokio::test]
async fn a_fresh_login_is_not_overwritten_by_a_running_gateway() {
    let (fake, _dir, path) = signed_in_fake().await;
    fake.add_users(0..2);
    fake.with(|s| s.expires_in_secs = 1);
    let hub = new_hub();
    let task = graph::spawn(hub.clone(), fast_config(&fake, path.clone())).expect("starts");
    eventually("signed in and live", Duration::from_secs(5), || {
        teams_health(&hub).0 == SourceState::Live
    })
    .await;
    let fresh = credentials::StoredCredentials {
        tenant: "fabrikam.onmicrosoft.com".into(),
        client_id: "another-app".into(),
        authority_url: fake.url(),
        refresh_token: presence_sources::graph::secret::Secret::new("fabrikam-refresh"),
    };
    credentials::save(&path, &fresh).expect("the new login is stored");
    let refreshes = fake.with(|s| s.refresh_forms.len());
    eventually("two more refreshes", Duration::from_secs(5), || {
        fake.with(|s| s.refresh_forms.len() >= refreshes + 2)
    })
    .await;
    assert_eq!(
        credentials::load(&path).expect("readable"),
        Some(fresh),
        "the running gateway kept its hands off the new login"
    );
    task.abort();
}

/// Access tokens are refreshed at 80% of their lifetime, before Graph refuses them, and
/// each rotated refresh token is stored.
#[tokio::test]
async fn access_token_refreshed_before_expiry() {
    let (fake, _dir, path) = signed_in_fake().await;
    fake.add_users(0..2);
    fake.with(|s| s.expires_in_secs = 1);
    let hub = new_hub();
    let task = graph::spawn(hub.clone(), fast_config(&fake, path.clone())).expect("starts");
    eventually("three refreshes", Duration::from_secs(5), || {
        fake.with(|s| s.refresh_forms.len() >= 3)
    })
    .await;
    let (calls, current) = fake.with(|s| (s.presence_calls.clone(), s.refresh_token.clone()));
    let refused = calls
        .iter()
        .filter(|c| !c.authorization.starts_with("Bearer access-"))
        .count();
    assert_eq!(refused, 0);
    assert!(current.starts_with("refresh-"));
    eventually(
        "the newest refresh token stored",
        Duration::from_secs(2),
        || {
            let stored = credentials::load(&path).ok().flatten();
            let newest = fake.with(|s| s.refresh_token.clone());
            stored.is_some_and(|c| c.refresh_token.expose() == newest)
        },
    )
    .await;
    assert_eq!(teams_health(&hub).0, SourceState::Live);
    fake.assert_no_problems();
    task.abort();
}

#[tokio::test]
async fn not_signed_in_says_how_to_sign_in() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let hub = new_hub();
    let path = dir.path().join("missing.json");
    let task = graph::spawn(hub.clone(), fast_config(&fake, path)).expect("starts");
    eventually("stale with a login hint", Duration::from_secs(5), || {
        let (state, detail) = teams_health(&hub);
        state == SourceState::Stale && detail.contains("presence-gateway login --tenant")
    })
    .await;
    task.abort();
}

/// The identity platform down: the current access token serves until it expires, then
/// Teams is stale, and live again once the platform is back.
#[tokio::test]
async fn identity_platform_outage_uses_the_token_while_valid() {
    let (fake, _dir, path) = signed_in_fake().await;
    fake.add_users(0..2);
    fake.with(|s| s.expires_in_secs = 5);
    let hub = new_hub();
    let task = graph::spawn(hub.clone(), fast_config(&fake, path)).expect("starts");
    eventually("live", Duration::from_secs(5), || {
        teams_health(&hub).0 == SourceState::Live
    })
    .await;
    fake.with(|s| s.is_token_endpoint_down = true);
    // Refresh is due at 4 s (80%); the token is used until 4.5 s (expiry less a tenth).
    eventually(
        "stale once the token expired",
        Duration::from_secs(10),
        || {
            let (state, detail) = teams_health(&hub);
            state == SourceState::Stale && detail.contains("identity platform")
        },
    )
    .await;
    let (attempts, calls) = fake.with(|s| (s.refresh_attempts.clone(), s.presence_calls.clone()));
    let first_failed = attempts[1];
    let served_after_failure = calls
        .iter()
        .filter(|c| c.at > first_failed && c.authorization == "Bearer access-1")
        .count();
    assert!(
        served_after_failure >= 1,
        "the still-valid token kept presence flowing"
    );
    fake.with(|s| s.is_token_endpoint_down = false);
    eventually("live again", Duration::from_secs(5), || {
        teams_health(&hub).0 == SourceState::Live
    })
    .await;
    task.abort();
}
