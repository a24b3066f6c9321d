//! The panel's link to the presence gateway: a task on the app's tokio runtime that
//! connects, lists the directory, subscribes to everyone, and hands domain events to
//! the UI through a bounded channel, waking it on every send. It never blocks the UI:
//! when the UI is slow the channel fills, the task waits, and the gateway coalesces.
//!
//! On any loss (refused, reset, no heartbeat, shutdown) it reconnects with exponential
//! backoff and jitter, capped at a few seconds, and resumes: the snapshot after a
//! reconnect carries only what changed, and the directory is listed again only when
//! it changed (or the gateway restarted).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use presence_contract::{AccessToken, ClientTls, PresenceClient, connect_with, proto};
use presence_domain::{Colleague, Presence, SourceHealth};

/// Events buffered between the transport and the UI.
pub const EVENT_CHANNEL_CAPACITY: usize = 4;
/// Colleagues per directory page (small enough for the UI to index within a frame).
pub const DIRECTORY_PAGE: u32 = 500;
/// Longest wait between reconnect attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(4);
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// Silence on a live stream longer than this means the link is dead.
pub const SILENCE_LIMIT: Duration = Duration::from_secs(20);

/// What the status bar shows about the link.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectionState {
    Connecting {
        attempt: u32,
    },
    /// Snapshot received; updates flow.
    Live,
    Reconnecting {
        attempt: u32,
        last_error: String,
        retry_at: Instant,
    },
    /// The gateway refused the access token; retried in case the file is fixed.
    Unauthorized {
        message: String,
        retry_at: Instant,
    },
}

impl ConnectionState {
    pub fn is_live(&self) -> bool {
        matches!(self, Self::Live)
    }
}

/// A directory change as the UI applies it.
#[derive(Debug, Clone, PartialEq)]
pub enum DirectoryChange {
    Added(Colleague),
    Changed(Colleague),
    Removed(Colleague),
}

/// What the transport tells the UI.
#[derive(Debug, Clone)]
pub enum PanelEvent {
    State(ConnectionState),
    /// A page of a full directory listing; rows not listed by the last page are gone.
    DirectoryPage {
        colleagues: Vec<Colleague>,
        is_first: bool,
        is_last: bool,
    },
    /// A page of a presence snapshot. A full (non-delta) snapshot is authoritative.
    Snapshot {
        presences: Vec<Presence>,
        is_delta: bool,
        is_last: bool,
    },
    Presences(Vec<Presence>),
    DirectoryChanges(Vec<DirectoryChange>),
    SourceHealth(Vec<SourceHealth>),
}

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct ConnectionConfig {
    pub endpoint: String,
    pub token_file: Option<PathBuf>,
    /// With `https://`: an extra CA and a client certificate, if any.
    pub tls: ClientTls,
}

/// The UI's end of the link.
pub struct ConnectionHandle {
    pub events: mpsc::Receiver<PanelEvent>,
    task: tokio::task::JoinHandle<()>,
}

impl ConnectionHandle {
    /// Starts the link on `runtime`; `wake` is called after every event (request a
    /// repaint with it).
    pub fn start(
        runtime: &tokio::runtime::Handle,
        config: ConnectionConfig,
        wake: Arc<dyn Fn() + Send + Sync>,
    ) -> Self {
        let (tx, rx) = mpsc::channel(EVENT_CHANNEL_CAPACITY);
        let link = Link {
            config,
            tx,
            wake,
            resume: ResumePoint::default(),
            is_session_live: false,
        };
        let task = runtime.spawn(link.run());
        Self { events: rx, task }
    }
}

impl Drop for ConnectionHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What the link remembers across reconnects to resume cheaply.
#[derive(Debug, Default, Clone)]
struct ResumePoint {
    instance_id: String,
    /// The last `complete_through_version` received: everything up to it is held.
    complete_through: u64,
    /// The revision of the directory held, when known.
    directory_revision: Option<u64>,
}

struct Link {
    config: ConnectionConfig,
    tx: mpsc::Sender<PanelEvent>,
    wake: Arc<dyn Fn() + Send + Sync>,
    resume: ResumePoint,
    /// Whether the current session has delivered a whole snapshot (reached Live).
    is_session_live: bool,
}

/// Why a session ended.
enum SessionEnd {
    /// The UI is gone: stop for good.
    UiClosed,
    /// The link failed; `was_live` says whether the session had reached Live (the
    /// backoff then starts again from its first step).
    Failed {
        failure: LinkFailure,
        was_live: bool,
    },
}

/// What went wrong with the link, for the status bar.
#[derive(Debug)]
struct LinkFailure {
    message: String,
    /// The gateway refused the access token (or the token file is unusable).
    is_unauthorized: bool,
}

impl LinkFailure {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            is_unauthorized: false,
        }
    }

    fn unauthorized(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            is_unauthorized: true,
        }
    }
}

/// Why a session stopped early.
enum Interrupted {
    UiClosed,
    Failed(LinkFailure),
}

impl From<LinkFailure> for Interrupted {
    fn from(failure: LinkFailure) -> Self {
        Self::Failed(failure)
    }
}

impl Link {
    async fn emit(&self, event: PanelEvent) -> Result<(), Interrupted> {
        self.tx
            .send(event)
            .await
            .map_err(|_| Interrupted::UiClosed)?;
        (self.wake)();
        Ok(())
    }

    async fn run(mut self) {
        let mut attempt = 1u32;
        loop {
            if attempt == 1
                && self
                    .emit(PanelEvent::State(ConnectionState::Connecting { attempt }))
                    .await
                    .is_err()
            {
                return;
            }
            let (failure, was_live) = match self.session().await {
                SessionEnd::UiClosed => return,
                SessionEnd::Failed { failure, was_live } => (failure, was_live),
            };
            if was_live {
                attempt = 1;
            }
            let delay = backoff(attempt);
            let retry_at = Instant::now() + delay;
            let LinkFailure {
                message,
                is_unauthorized,
            } = failure;
            tracing::info!(attempt, %message, "presence gateway link lost; retrying");
            let state = if is_unauthorized {
                ConnectionState::Unauthorized { message, retry_at }
            } else {
                ConnectionState::Reconnecting {
                    attempt,
                    last_error: message,
                    retry_at,
                }
            };
            // Tell the UI its sources are no longer live before waiting.
            if self.emit(PanelEvent::State(state)).await.is_err() {
                return;
            }
            tokio::time::sleep(delay).await;
            attempt = attempt.saturating_add(1);
        }
    }

    /// One connection: from connecting to the end of the subscription.
    async fn session(&mut self) -> SessionEnd {
        self.is_session_live = false;
        let failure = match self.subscribe_and_follow().await {
            Ok(()) => LinkFailure::new("the gateway closed the subscription"),
            Err(Interrupted::UiClosed) => return SessionEnd::UiClosed,
            Err(Interrupted::Failed(failure)) => failure,
        };
        SessionEnd::Failed {
            failure,
            was_live: self.is_session_live,
        }
    }

    async fn subscribe_and_follow(&mut self) -> Result<(), Interrupted> {
        let token = match &self.config.token_file {
            Some(path) => Some(
                AccessToken::from_file(path)
                    .map_err(|e| LinkFailure::unauthorized(e.to_string()))?,
            ),
            None => None,
        };
        let mut client = connect_with(&self.config.endpoint, token.as_ref(), &self.config.tls)
            .await
            .map_err(|e| LinkFailure::new(error_chain(&e)))?;

        let (request_tx, request_rx) = mpsc::channel(4);
        let resume = (!self.resume.instance_id.is_empty()).then(|| proto::ResumeFrom {
            gateway_instance_id: self.resume.instance_id.clone(),
            after_version: self.resume.complete_through,
        });
        let watch_all = proto::SubscribeRequest {
            request: Some(proto::subscribe_request::Request::WatchAll(
                proto::WatchAllRequest { resume },
            )),
        };
        request_tx
            .send(watch_all)
            .await
            .map_err(|_| LinkFailure::new("cannot send the subscription"))?;
        let mut stream = client
            .subscribe(ReceiverStream::new(request_rx))
            .await
            .map_err(|status| status_failure(&status))?
            .into_inner();

        let mut is_directory_checked = false;
        loop {
            let message = match tokio::time::timeout(SILENCE_LIMIT, stream.message()).await {
                Err(_) => {
                    return Err(LinkFailure::new(format!(
                        "no word from the gateway for {} s",
                        SILENCE_LIMIT.as_secs()
                    ))
                    .into());
                }
                Ok(Err(status)) => return Err(status_failure(&status).into()),
                Ok(Ok(None)) => return Ok(()),
                Ok(Ok(Some(message))) => message,
            };
            use proto::subscribe_response::Event;
            match message.event {
                None => {}
                Some(Event::Snapshot(snapshot)) => {
                    if !is_directory_checked {
                        is_directory_checked = true;
                        let is_same_gateway =
                            snapshot.gateway_instance_id == self.resume.instance_id;
                        let is_same_directory =
                            self.resume.directory_revision == Some(snapshot.directory_revision);
                        if !(is_same_gateway && is_same_directory) {
                            self.resume.directory_revision = None;
                            let listed = self.list_directory(&mut client).await?;
                            self.resume.directory_revision = Some(listed);
                        }
                    }
                    let presences = self.presences_from_wire(snapshot.presences);
                    let is_last = snapshot.last_page;
                    self.emit(PanelEvent::Snapshot {
                        presences,
                        is_delta: snapshot.is_delta,
                        is_last,
                    })
                    .await?;
                    if is_last {
                        // Only a whole snapshot is a point to resume from.
                        self.resume.instance_id = snapshot.gateway_instance_id;
                        self.resume.complete_through = snapshot.complete_through_version;
                    }
                    if is_last && !self.is_session_live {
                        self.is_session_live = true;
                        self.emit(PanelEvent::State(ConnectionState::Live)).await?;
                    }
                }
                Some(Event::Updates(batch)) => {
                    let presences = self.presences_from_wire(batch.presences);
                    if !presences.is_empty() {
                        self.emit(PanelEvent::Presences(presences)).await?;
                    }
                    if batch.complete_through_version != 0 {
                        self.resume.complete_through = batch.complete_through_version;
                    }
                }
                Some(Event::Directory(changes)) => {
                    self.resume.directory_revision = Some(changes.directory_revision);
                    let changes: Vec<DirectoryChange> = changes
                        .changes
                        .into_iter()
                        .filter_map(directory_change_from_wire)
                        .collect();
                    if !changes.is_empty() {
                        self.emit(PanelEvent::DirectoryChanges(changes)).await?;
                    }
                }
                Some(Event::Heartbeat(heartbeat)) => {
                    let sources = heartbeat.sources.iter().map(SourceHealth::from).collect();
                    self.emit(PanelEvent::SourceHealth(sources)).await?;
                }
            }
        }
    }

    async fn list_directory(&mut self, client: &mut PresenceClient) -> Result<u64, Interrupted> {
        let mut pages = client
            .list_directory(proto::ListDirectoryRequest {
                page_size: DIRECTORY_PAGE,
            })
            .await
            .map_err(|status| status_failure(&status))?
            .into_inner();
        let mut is_first = true;
        loop {
            let page = match tokio::time::timeout(SILENCE_LIMIT, pages.message()).await {
                Err(_) => {
                    return Err(LinkFailure::new("the directory listing stalled").into());
                }
                Ok(Err(status)) => return Err(status_failure(&status).into()),
                Ok(Ok(None)) => {
                    return Err(LinkFailure::new("the directory listing ended early").into());
                }
                Ok(Ok(Some(page))) => page,
            };
            let colleagues: Vec<Colleague> = page
                .colleagues
                .into_iter()
                .filter_map(|c| Colleague::try_from(c).ok())
                .collect();
            let is_last = page.last_page;
            let revision = page.directory_revision;
            self.emit(PanelEvent::DirectoryPage {
                colleagues,
                is_first,
                is_last,
            })
            .await?;
            is_first = false;
            if is_last {
                return Ok(revision);
            }
        }
    }

    fn presences_from_wire(&self, wire: Vec<proto::Presence>) -> Vec<Presence> {
        let mut out = Vec::with_capacity(wire.len());
        for p in wire {
            match Presence::try_from(p) {
                Ok(presence) => out.push(presence),
                Err(err) => tracing::warn!(%err, "skipping a malformed presence from the gateway"),
            }
        }
        out
    }
}

fn status_failure(status: &tonic::Status) -> LinkFailure {
    let message = if status.message().is_empty() {
        format!("{:?}", status.code())
    } else {
        presence_domain::text::single_line(status.message(), 200)
    };
    if status.code() == tonic::Code::Unauthenticated {
        LinkFailure::unauthorized(message)
    } else {
        LinkFailure::new(message)
    }
}

/// An error and its causes on one line ("cannot connect to ...: tcp connect error: Connection refused").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    presence_domain::text::single_line(&text, 200)
}

/// Exponential backoff with jitter: 250 ms, 500 ms, 1 s, 2 s, 4 s (cap), each between
/// half and all of that.
pub fn backoff(attempt: u32) -> Duration {
    let exponential = FIRST_BACKOFF.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    let capped = exponential.min(MAX_BACKOFF);
    let jitter = 0.5 + 0.5 * pseudo_random_unit();
    capped.mul_f64(jitter)
}

fn pseudo_random_unit() -> f64 {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut rng =
        presence_domain::rng::SeededRng::new(u64::from(nanos) ^ u64::from(std::process::id()));
    rng.unit()
}

fn directory_change_from_wire(change: proto::DirectoryChange) -> Option<DirectoryChange> {
    let colleague = Colleague::try_from(change.colleague?).ok()?;
    match proto::DirectoryChangeKind::try_from(change.kind).ok()? {
        proto::DirectoryChangeKind::Added => Some(DirectoryChange::Added(colleague)),
        proto::DirectoryChangeKind::Changed => Some(DirectoryChange::Changed(colleague)),
        proto::DirectoryChangeKind::Removed => Some(DirectoryChange::Removed(colleague)),
        proto::DirectoryChangeKind::Unspecified => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_a_cap_with_jitter() {
        for attempt in 1..40 {
            let d = backoff(attempt);
            let nominal = FIRST_BACKOFF
                .saturating_mul(1 << (attempt - 1).min(16))
                .min(MAX_BACKOFF);
            assert!(d >= nominal / 2 && d <= nominal, "attempt {attempt}: {d:?}");
        }
        assert!(backoff(30) <= MAX_BACKOFF);
    }
}
