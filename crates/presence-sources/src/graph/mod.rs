//! The Microsoft Graph source: real Teams presence of a whole tenant.
//!
//! `presence-gateway login` signs in once with the device-code flow ([`identity`]) and
//! stores the refresh token ([`credentials`]); the running gateway lists the directory
//! (`GET /v1.0/users`, refreshed periodically and diffed, [`directory`]) and polls
//! `POST /v1.0/communications/getPresencesByUserId` in batches of at most 650 ids on a
//! schedule that stays well inside Graph's request limit ([`schedule`]). Answers are
//! decoded leniently ([`wire`]); faults are waited out as Graph asks ([`http`]), and
//! while presence cannot flow the Teams source is reported stale to subscribers.
//!
//! Only `identity`, `http` and `source` speak HTTP; `wire`, `directory` and `schedule`
//! are pure. Must never log a token, never exceed the request budget, and never show
//! presence as live while Graph is failing.

pub mod credentials;
pub mod directory;
pub mod http;
pub mod identity;
pub mod schedule;
pub mod secret;
pub mod source;
pub mod wire;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use credentials::StoredCredentials;
pub use http::{Backoff, ProxySetting};
pub use identity::{
    AuthError, DEFAULT_AUTHORITY_URL, DEFAULT_GRAPH_BASE_URL, DeviceCodePrompt, IdentitySettings,
    LoginRequest, graph_scopes, login,
};
pub use schedule::{PollBudget, PollPlan};
pub use secret::Secret;

use presence_hub::PresenceHub;

/// Everything the running source needs.
#[derive(Debug, Clone)]
pub struct GraphConfig {
    /// Graph's root, `https://graph.microsoft.com` in the public cloud.
    pub graph_base_url: String,
    /// The identity platform to refresh tokens with; `None` uses the one stored at sign-in.
    pub authority_override: Option<String>,
    /// The stored sign-in ([`credentials::default_path`] unless told otherwise).
    pub credentials_path: PathBuf,
    pub proxy: ProxySetting,
    /// Longest wait for one HTTP answer.
    pub request_timeout: Duration,
    /// How often the directory is listed again.
    pub directory_refresh: Duration,
    pub budget: PollBudget,
    /// Backoff for 5xx and network faults; its `max` is also the pause after a
    /// non-transient fault (403, a 401 that a refresh did not cure).
    pub backoff: Backoff,
    /// Throttling (429/503 with `Retry-After`) marks the source stale only once no
    /// request has succeeded for this long.
    pub throttle_grace: Duration,
    /// While not signed in (or the sign-in was revoked), how often the stored sign-in
    /// is read again (so `presence-gateway login` cures a running gateway).
    pub sign_in_recheck: Duration,
}

impl GraphConfig {
    /// The public cloud's defaults, with the sign-in stored at `credentials_path`.
    pub fn new(credentials_path: PathBuf) -> Self {
        Self {
            graph_base_url: DEFAULT_GRAPH_BASE_URL.to_owned(),
            authority_override: None,
            credentials_path,
            proxy: ProxySetting::FromEnvironment,
            request_timeout: Duration::from_secs(30),
            directory_refresh: Duration::from_secs(15 * 60),
            budget: PollBudget::default(),
            backoff: Backoff::default(),
            throttle_grace: Duration::from_secs(30),
            sign_in_recheck: Duration::from_secs(30),
        }
    }
}

/// Why the source could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum GraphSetupError {
    #[error(transparent)]
    Client(#[from] http::ClientBuildError),
    #[error("invalid Graph base URL {url:?}: {detail}")]
    BaseUrl { url: String, detail: String },
}

/// Starts the Graph source feeding `hub`. When `MSTeamsPresence.Enable=0`, nothing is
/// started (the hub keeps Teams disabled) and the returned task ends at once.
pub fn spawn(
    hub: Arc<PresenceHub>,
    config: GraphConfig,
) -> Result<tokio::task::JoinHandle<()>, GraphSetupError> {
    if !hub.settings().ms_teams_enabled {
        tracing::info!(
            "MSTeamsPresence.Enable=0 in Presence.ini: the Microsoft Graph source is not started"
        );
        return Ok(tokio::spawn(async {}));
    }
    match reqwest::Url::parse(&config.graph_base_url) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => {}
        Ok(_) => {
            return Err(GraphSetupError::BaseUrl {
                url: config.graph_base_url.clone(),
                detail: "not an http(s) URL".to_owned(),
            });
        }
        Err(err) => {
            return Err(GraphSetupError::BaseUrl {
                url: config.graph_base_url.clone(),
                detail: err.to_string(),
            });
        }
    }
    let client = http::build_client(&config.proxy, config.request_timeout)?;
    let tokens = identity::TokenManager::new(
        client.clone(),
        config.credentials_path.clone(),
        config.authority_override.clone(),
        graph_scopes(&config.graph_base_url),
    );
    tracing::info!(
        graph = %config.graph_base_url,
        credentials = %config.credentials_path.display(),
        "Microsoft Graph source starting"
    );
    let poller = source::Poller::new(hub, config, client, tokens);
    Ok(tokio::spawn(poller.run()))
}
