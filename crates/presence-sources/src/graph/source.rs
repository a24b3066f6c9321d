//! The running Graph source: lists the directory, polls presence in paced batches, and
//! tells the hub what it learns and whether it is live.
//!
//! One task does everything in turn, so at most one Graph request is in flight and the
//! request budget holds by construction. A re-listing of the directory (minutes for a
//! big tenant) goes a page at a time between presence batches, so presence keeps being
//! polled while it runs. Must never publish presence of a colleague the
//! directory does not hold, diff a partial directory listing, follow a `@odata.nextLink`
//! to another host (it would receive the access token), or tell subscribers Teams is
//! live while Graph is failing.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::Method;
use tokio::time::Instant;

use super::GraphConfig;
use super::directory::DirectoryState;
use super::http::{self, Failure, path_of};
use super::identity::{AuthError, TokenManager};
use super::wire;
use presence_domain::rng::SeededRng;
use presence_domain::{Presence, SourceState, Technology};
use presence_hub::PresenceHub;

/// The `$select` of the directory listing: what User.ReadBasic.All may read.
pub const USER_FIELDS: &str = "id,displayName,givenName,surname,mail,userPrincipalName";
/// Most directory pages followed in one listing (999 users each).
const MAX_DIRECTORY_PAGES: usize = 20_000;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(
        "{0}, even after a token refresh: check that the app registration has the delegated permissions Presence.Read.All and User.ReadBasic.All with admin consent"
    )]
    Unauthorized(Failure),
    #[error("{0}")]
    Refused(Failure),
    #[error("malformed answer from Graph at {path}: {detail}")]
    Malformed { path: String, detail: String },
}

pub(super) struct Poller {
    hub: Arc<PresenceHub>,
    config: GraphConfig,
    http: reqwest::Client,
    tokens: TokenManager,
    directory: DirectoryState,
    /// The last presence published per object id (to publish changes only, and to keep
    /// `since` while the state holds).
    last: HashMap<String, Presence>,
    rng: SeededRng,
    next_request_at: Instant,
    last_success: Instant,
    /// The fault last reported, so a lasting fault is logged as an error once.
    last_fault: Option<String>,
    /// A directory listing under way.
    listing: Option<Listing>,
}

/// A directory listing under way: the next page to ask for and what came so far.
struct Listing {
    url: String,
    users: Vec<presence_domain::Colleague>,
    skipped: usize,
    pages: usize,
}

impl Poller {
    pub(super) fn new(
        hub: Arc<PresenceHub>,
        config: GraphConfig,
        http: reqwest::Client,
        tokens: TokenManager,
    ) -> Self {
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            ^ u64::from(std::process::id());
        Self {
            hub,
            config,
            http,
            tokens,
            directory: DirectoryState::default(),
            last: HashMap::new(),
            rng: SeededRng::new(seed),
            next_request_at: Instant::now(),
            last_success: Instant::now(),
            last_fault: None,
            listing: None,
        }
    }

    fn base(&self) -> &str {
        self.config.graph_base_url.trim_end_matches('/')
    }

    pub(super) async fn run(mut self) {
        let mut directory_due = Instant::now();
        loop {
            if self.listing.is_none() && Instant::now() >= directory_due {
                self.start_listing();
                directory_due = Instant::now() + self.config.directory_refresh;
            }
            if self.directory.is_empty() && self.listing.is_some() {
                // No one to poll yet: list all at once.
                if let Err(err) = self.list_to_the_end().await {
                    self.listing = None;
                    let pause = self.fault(&err, true);
                    directory_due = Instant::now() + pause;
                    tokio::time::sleep(pause).await;
                    continue;
                }
            }
            let plan = self.config.budget.plan(self.directory.len());
            let ids = self.directory.ids();
            let cycle_start = Instant::now();
            let mut spacing_at = cycle_start;
            for batch in ids.chunks(self.config.budget.ids_per_request()) {
                tokio::time::sleep_until(spacing_at).await;
                spacing_at += plan.spacing;
                if let Err(err) = self.poll_presence(batch).await {
                    let pause = self.fault(&err, true);
                    tokio::time::sleep(pause).await;
                    break;
                }
                // A re-listing goes a page at a time between presence batches.
                if self.listing.is_some()
                    && let Err(err) = self.list_next_page().await
                {
                    self.listing = None;
                    let pause = self.fault(&err, false);
                    directory_due = Instant::now() + pause;
                }
            }
            tokio::time::sleep_until(cycle_start + plan.cycle).await;
        }
    }

    /// Logs a fault, marks the source stale when it stops presence from flowing, and
    /// says how long to wait before trying again.
    fn fault(&mut self, err: &SourceError, is_blocking: bool) -> Duration {
        let message = err.to_string();
        match err {
            SourceError::Malformed { .. } => {
                tracing::warn!(%message, "skipped a malformed Graph answer; last known state kept")
            }
            _ if self.last_fault.as_deref() == Some(message.as_str()) => {
                tracing::debug!(%message, "Microsoft Graph source: still failing");
            }
            _ => tracing::error!(%message, "Microsoft Graph source"),
        }
        if !matches!(err, SourceError::Malformed { .. }) {
            self.last_fault = Some(message.clone());
        }
        let is_health_problem = !matches!(err, SourceError::Malformed { .. }) || is_blocking;
        if is_health_problem {
            self.hub
                .set_source_health(Technology::MsTeams, SourceState::Stale, &message);
        }
        match err {
            SourceError::Auth(AuthError::NotSignedIn { .. } | AuthError::SignInRequired { .. }) => {
                self.config.sign_in_recheck
            }
            _ => self.config.backoff.max,
        }
    }

    fn start_listing(&mut self) {
        self.listing = Some(Listing {
            url: format!("{}/v1.0/users?$select={USER_FIELDS}&$top=999", self.base()),
            users: Vec::new(),
            skipped: 0,
            pages: 0,
        });
    }

    /// Lists the rest of the directory in one go.
    async fn list_to_the_end(&mut self) -> Result<(), SourceError> {
        while self.listing.is_some() {
            self.list_next_page().await?;
        }
        Ok(())
    }

    /// Asks for the next page of the listing under way; the last one replaces the
    /// directory (never a partial listing). On an error the listing is dropped.
    async fn list_next_page(&mut self) -> Result<(), SourceError> {
        let Some(mut listing) = self.listing.take() else {
            return Ok(());
        };
        let origin = origin_of(self.base()).to_owned();
        let body = self.request(Method::GET, &listing.url, None).await?;
        let page = wire::parse_users_page(&body).map_err(|e| SourceError::Malformed {
            path: path_of(&listing.url),
            detail: e.to_string(),
        })?;
        listing.users.extend(page.users);
        listing.skipped += page.skipped;
        listing.pages += 1;
        let Some(next) = page.next_link else {
            self.finish_listing(listing);
            return Ok(());
        };
        if origin_of(&next) != origin {
            return Err(SourceError::Malformed {
                path: path_of(&listing.url),
                detail: "@odata.nextLink points to another host; not followed".to_owned(),
            });
        }
        if listing.pages >= MAX_DIRECTORY_PAGES {
            return Err(SourceError::Malformed {
                path: path_of(&listing.url),
                detail: format!("more than {MAX_DIRECTORY_PAGES} pages of users"),
            });
        }
        listing.url = next;
        self.listing = Some(listing);
        Ok(())
    }

    fn finish_listing(&mut self, listing: Listing) {
        if listing.skipped > 0 {
            tracing::warn!(
                skipped = listing.skipped,
                "directory entries without an id or UPN skipped"
            );
        }
        let updates = self.directory.replace(listing.users);
        let directory = &self.directory;
        self.last.retain(|id, _| directory.contains(id));
        tracing::info!(
            colleagues = self.directory.len(),
            changes = updates.len(),
            "directory listed from Microsoft Graph"
        );
        self.hub.apply_directory(updates);
        if self.directory.is_empty() {
            // No one to poll: a complete listing is all there is to be live about.
            self.hub
                .set_source_health(Technology::MsTeams, SourceState::Live, "");
        }
    }

    async fn poll_presence(&mut self, ids: &[String]) -> Result<(), SourceError> {
        let url = format!("{}/v1.0/communications/getPresencesByUserId", self.base());
        let body = serde_json::json!({ "ids": ids }).to_string();
        let answer = self.request(Method::POST, &url, Some(body)).await?;
        let page = match wire::parse_presence_page(&answer) {
            Ok(page) => page,
            Err(err) => {
                // Skipped, not fatal: the hub keeps the last known state, and the next
                // cycle asks again.
                tracing::warn!(path = %path_of(&url), ids = ids.len(), %err, "malformed presence answer skipped; last known state kept");
                return Ok(());
            }
        };
        if page.skipped > 0 {
            tracing::warn!(path = %path_of(&url), skipped = page.skipped, "presence entries without an id skipped");
        }
        let now = SystemTime::now();
        let mut changed = Vec::new();
        for (id, graph) in page.presences {
            let Some(upn) = self.directory.upn_of(&id) else {
                continue;
            };
            let mut presence = graph.to_domain(upn);
            match self.last.get(&id) {
                Some(previous) if previous.same_state(&presence) => continue,
                _ => presence.since = now,
            }
            self.last.insert(id, presence.clone());
            changed.push(presence);
        }
        if !changed.is_empty() {
            self.hub.publish(Technology::MsTeams, changed);
        }
        self.hub
            .set_source_health(Technology::MsTeams, SourceState::Live, "");
        if self.last_fault.take().is_some() {
            tracing::info!("Microsoft Graph source: presence flows again");
        }
        Ok(())
    }

    /// Sends one Graph request, waiting out throttling and transient faults (and
    /// marking the source stale while they last). Refreshes the token once on a 401.
    async fn request(
        &mut self,
        method: Method,
        url: &str,
        json_body: Option<String>,
    ) -> Result<Vec<u8>, SourceError> {
        let path = path_of(url);
        let mut attempt: u32 = 0;
        let mut is_refreshed = false;
        loop {
            let token = match self.tokens.access_token().await {
                Ok(token) => token,
                Err(err) if err.is_transient() => {
                    self.wait_out(&err.to_string(), None, false, attempt).await;
                    attempt += 1;
                    continue;
                }
                Err(err) => return Err(err.into()),
            };
            tokio::time::sleep_until(self.next_request_at).await;
            self.next_request_at = Instant::now() + self.config.budget.min_request_gap();
            let mut request = self
                .http
                .request(method.clone(), url)
                .bearer_auth(token.expose())
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(body) = &json_body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let failure = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    match response.bytes().await {
                        Ok(body) if status.is_success() => {
                            self.last_success = Instant::now();
                            return Ok(body.to_vec());
                        }
                        Ok(body) => http::classify(status, &headers, &body, &path),
                        Err(err) => http::network_failure(err, &path),
                    }
                }
                Err(err) => http::network_failure(err, &path),
            };
            match failure {
                Failure::Unauthorized { .. } if !is_refreshed => {
                    tracing::info!(%path, "Graph refused the access token; refreshing it once");
                    self.tokens.invalidate();
                    is_refreshed = true;
                }
                Failure::Unauthorized { .. } => return Err(SourceError::Unauthorized(failure)),
                Failure::Refused { .. } => return Err(SourceError::Refused(failure)),
                Failure::Throttled { retry_after, .. } => {
                    self.wait_out(&failure.to_string(), retry_after, true, attempt)
                        .await;
                    attempt += 1;
                }
                Failure::Server { .. } | Failure::Network { .. } => {
                    self.wait_out(&failure.to_string(), None, false, attempt)
                        .await;
                    attempt += 1;
                }
            }
        }
    }

    /// Waits `retry_after` (as Graph asked) or a backoff with jitter. Throttling marks
    /// the source stale only once presence has not flowed for the throttle grace; any
    /// other fault marks it stale at once.
    async fn wait_out(
        &mut self,
        reason: &str,
        retry_after: Option<Duration>,
        is_throttled: bool,
        attempt: u32,
    ) {
        let wait = retry_after.unwrap_or_else(|| self.config.backoff.delay(attempt, &mut self.rng));
        let is_stale =
            !is_throttled || Instant::now() + wait - self.last_success > self.config.throttle_grace;
        tracing::warn!(
            reason,
            wait_ms = wait.as_millis() as u64,
            "Graph request failed; retrying"
        );
        if is_stale {
            self.hub
                .set_source_health(Technology::MsTeams, SourceState::Stale, reason);
        }
        tokio::time::sleep(wait).await;
    }
}

fn origin_of(url: &str) -> Option<String> {
    reqwest::Url::parse(url)
        .ok()
        .map(|u| u.origin().ascii_serialization())
}
