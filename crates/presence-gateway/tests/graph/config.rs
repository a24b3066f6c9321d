//! How the source is set up: Teams switched off in Presence.ini, and `--proxy`.

use std::time::Duration;

use presence_domain::SourceState;
use presence_hub::{HubSettings, PresenceHub};
use presence_sources::graph::{self, ProxySetting};

use crate::fake::{fast_config, signed_in_fake};
use crate::support::{eventually, new_hub, teams_health};

#[tokio::test]
async fn teams_disabled_in_presence_ini_starts_nothing() {
    let (fake, _dir, path) = signed_in_fake().await;
    fake.add_users(0..2);
    let hub = PresenceHub::new(HubSettings {
        winning_technology: presence_domain::WinningTechnology::MsTeams,
        ms_teams_enabled: false,
    });
    let task = graph::spawn(hub.clone(), fast_config(&fake, path)).expect("spawned");
    task.await.expect("ends at once");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(teams_health(&hub).0, SourceState::Disabled);
    assert_eq!(
        fake.with(|s| s.refresh_forms.len() + s.user_queries.len()),
        0
    );
}

/// `--proxy`: every request goes to the proxy, which sees Graph's host name.
#[tokio::test]
async fn requests_go_through_the_proxy() {
    let (fake, _dir, path) = signed_in_fake().await;
    fake.add_users(0..2);
    fake.with(|s| s.base_url = "http://graph.example.invalid".into());
    let hub = new_hub();
    let mut config = fast_config(&fake, path);
    config.graph_base_url = "http://graph.example.invalid".into();
    config.authority_override = Some("http://login.example.invalid".into());
    config.proxy = ProxySetting::Url(fake.url());
    let task = graph::spawn(hub.clone(), config).expect("starts");
    eventually("live through the proxy", Duration::from_secs(5), || {
        teams_health(&hub).0 == SourceState::Live && hub.view().len() == 2
    })
    .await;
    task.abort();
}
