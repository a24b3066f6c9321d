//! The panel's link to the presence gateway: a task on the app's tokio runtime that
//! connects, lists the directory, subscribes to everyone, and hands domain events to
//! the UI through a bounded channel, waking it on every send. It never blocks the UI:
//! when the UI is slow the channel fills, the task waits, and the gateway coalesces.
//!
//! On any loss (refused, reset, no heartbeat, shutdown) it reconnects with exponential
//! backoff and jitter, capped at a few seconds, and resumes: the snapshot after a
//! reconnect carries only what changed, and the directory is listed again only when
//! it changed (or the gateway restarted).
//!
//! With several gateways (in order of preference) it fails over: when one cannot be
//! reached or drops the link, the next is tried at once; after a whole round fails, the
//! backoff applies. While a later gateway serves, the preferred ones are probed every
//! [`PREFERRED_RETRY`], and the link moves back to the first that answers.

mod event_outbox;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use presence_contract::{AccessToken, ClientTls, PresenceClient, connect_with, proto};
use presence_domain::{Colleague, Presence, SourceHealth};

use self::event_outbox::EventOutbox;

/// Events buffered between the transport and the UI.
pub const EVENT_CHANNEL_CAPACITY: usize = 4;
/// Colleagues per directory page (small enough for the UI to index within a frame).
pub const DIRECTORY_PAGE: u32 = 500;
/// Longest wait between reconnect attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(4);
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// Silence on a live stream longer than this means the link is dead.
pub const SILENCE_LIMIT: Duration = Duration::from_secs(20);
/// While a backup gateway serves, how often the preferred ones are tried.
pub const PREFERRED_RETRY: Duration = Duration::from_secs(10);
/// How long a probe of a gateway may take (connect, authorise, first directory page).
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

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
    /// Only the UPN is kept: the rest of the colleague is dropped on the link's thread,
    /// which made it (freeing it on the UI thread costs a dozen frees a colleague).
    Removed {
        upn: String,
    },
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
        /// How many colleagues the whole listing holds, as the gateway says (0: not said).
        total: usize,
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
    /// The gateway the link is now trying (or using).
    Gateway(GatewayInUse),
}

/// Which of the configured gateways the link is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayInUse {
    pub endpoint: String,
    /// Its place in the list: 0 is the preferred one.
    pub index: usize,
    /// How many gateways are configured.
    pub count: usize,
}

/// Where and how to connect.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionConfig {
    /// Gateways in order of preference (at least one).
    pub endpoints: Vec<String>,
    pub token_file: Option<PathBuf>,
    /// With `https://`: an extra CA and a client certificate, if any.
    pub tls: ClientTls,
}

/// Starts links and probes on the app's runtime, each waking the UI when it has news:
/// the app keeps one to start its link again when its settings change.
#[derive(Clone)]
pub struct Connector {
    runtime: tokio::runtime::Handle,
    wake: Arc<dyn Fn() + Send + Sync>,
}

impl Connector {
    pub fn new(runtime: tokio::runtime::Handle, wake: Arc<dyn Fn() + Send + Sync>) -> Self {
        Self { runtime, wake }
    }

    /// Starts a link with `config`.
    pub fn start(&self, config: ConnectionConfig) -> ConnectionHandle {
        ConnectionHandle::start(&self.runtime, config, self.wake.clone())
    }

    /// Probes each of `endpoints` in turn (see [`probe`]); the answers arrive together.
    pub fn probe_all(
        &self,
        endpoints: Vec<String>,
        token_file: Option<PathBuf>,
        tls: ClientTls,
    ) -> ProbeHandle {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let wake = self.wake.clone();
        let task = self.runtime.spawn(async move {
            let mut answers = Vec::with_capacity(endpoints.len());
            for endpoint in endpoints {
                let answer = probe(&endpoint, token_file.as_deref(), &tls).await;
                answers.push((endpoint, answer));
            }
            let _ = tx.send(answers);
            wake();
        });
        ProbeHandle { answers: rx, task }
    }
}

/// Each gateway probed, with what it answered.
pub type ProbeAnswers = Vec<(String, Result<ProbeReport, String>)>;

/// Probes under way; dropping it abandons them.
pub struct ProbeHandle {
    answers: tokio::sync::oneshot::Receiver<ProbeAnswers>,
    task: tokio::task::JoinHandle<()>,
}

impl ProbeHandle {
    /// The answers once all are in (then `Some` once; never blocks).
    pub fn try_answers(&mut self) -> Option<ProbeAnswers> {
        self.answers.try_recv().ok()
    }
}

impl Drop for ProbeHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
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
        let mut config = config;
        if config.endpoints.is_empty() {
            config
                .endpoints
                .push(presence_contract::DEFAULT_ENDPOINT.to_owned());
        }
        let link = Link {
            config,
            outbox: EventOutbox::default(),
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
    /// Events read but not yet taken by the UI.
    outbox: EventOutbox,
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
    /// A more preferred gateway answers again: move to it at once.
    MoveTo(usize),
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

/// What waiting on the gateway gave.
enum Received<T> {
    Message(T),
    /// The stream ended.
    End,
    Failed(tonic::Status),
    /// No word for [`SILENCE_LIMIT`].
    Silence,
}

/// What woke [`Link::next_message`].
enum Woke<'a, T> {
    Preferred(usize),
    UiTakes(Result<mpsc::Permit<'a, PanelEvent>, mpsc::error::SendError<()>>),
    Message(Result<Result<Option<T>, tonic::Status>, tokio::time::error::Elapsed>),
}

/// Why a session stopped early.
enum Interrupted {
    UiClosed,
    Failed(LinkFailure),
    MoveTo(usize),
}

impl From<LinkFailure> for Interrupted {
    fn from(failure: LinkFailure) -> Self {
        Self::Failed(failure)
    }
}

impl Link {
    /// Hands an event to the UI, after everything queued before it.
    async fn emit(&mut self, event: PanelEvent) -> Result<(), Interrupted> {
        self.outbox.push(event);
        while let Some(event) = self.outbox.pop() {
            self.tx
                .send(event)
                .await
                .map_err(|_| Interrupted::UiClosed)?;
            (self.wake)();
        }
        Ok(())
    }

    /// Waits for the next message of `stream`, meanwhile handing queued events to the
    /// UI as it takes them (and reading on only while the outbox has room). `preferred`
    /// says when a preferred gateway answers again.
    async fn next_message<T>(
        &mut self,
        stream: &mut tonic::Streaming<T>,
        mut preferred: Option<&mut mpsc::Receiver<usize>>,
    ) -> Result<Received<T>, Interrupted> {
        loop {
            let has_events = !self.outbox.is_empty();
            let has_room = !self.outbox.is_full();
            let preferred_answers = async {
                match preferred.as_deref_mut() {
                    Some(answers) => answers.recv().await,
                    None => std::future::pending().await,
                }
            };
            let woke = tokio::select! {
                biased;
                Some(index) = preferred_answers => Woke::Preferred(index),
                permit = self.tx.reserve(), if has_events => Woke::UiTakes(permit),
                next = tokio::time::timeout(SILENCE_LIMIT, stream.message()), if has_room => {
                    Woke::Message(next)
                }
            };
            match woke {
                Woke::Preferred(index) => return Err(Interrupted::MoveTo(index)),
                Woke::UiTakes(Err(_)) => return Err(Interrupted::UiClosed),
                Woke::UiTakes(Ok(permit)) => {
                    if let Some(event) = self.outbox.pop() {
                        permit.send(event);
                        (self.wake)();
                    }
                }
                Woke::Message(Err(_)) => return Ok(Received::Silence),
                Woke::Message(Ok(Err(status))) => return Ok(Received::Failed(status)),
                Woke::Message(Ok(Ok(None))) => return Ok(Received::End),
                Woke::Message(Ok(Ok(Some(message)))) => return Ok(Received::Message(message)),
            }
        }
    }

    async fn run(mut self) {
        let count = self.config.endpoints.len();
        let mut attempt = 1u32;
        let mut index = 0usize;
        let mut is_first = true;
        loop {
            let gateway = GatewayInUse {
                endpoint: self.config.endpoints[index].clone(),
                index,
                count,
            };
            if self.emit(PanelEvent::Gateway(gateway)).await.is_err() {
                return;
            }
            if is_first {
                is_first = false;
                if self
                    .emit(PanelEvent::State(ConnectionState::Connecting { attempt }))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            let (failure, was_live) = match self.session(index).await {
                SessionEnd::UiClosed => return,
                SessionEnd::MoveTo(preferred) => {
                    tracing::info!(
                        endpoint = %self.config.endpoints[preferred],
                        "a preferred presence gateway answers again; moving back to it"
                    );
                    let state = ConnectionState::Reconnecting {
                        attempt: 1,
                        last_error: format!(
                            "moving back to the preferred gateway {}",
                            self.config.endpoints[preferred]
                        ),
                        retry_at: Instant::now(),
                    };
                    if self.emit(PanelEvent::State(state)).await.is_err() {
                        return;
                    }
                    index = preferred;
                    attempt = 1;
                    continue;
                }
                SessionEnd::Failed { failure, was_live } => (failure, was_live),
            };
            if was_live {
                attempt = 1;
            }
            let LinkFailure {
                message,
                is_unauthorized,
            } = failure;
            let message = if count > 1 {
                format!("{}: {message}", self.config.endpoints[index])
            } else {
                message
            };
            // The next gateway at once; after a whole round, the backoff.
            let is_round_over = index + 1 >= count;
            let delay = if is_round_over {
                backoff(attempt)
            } else {
                Duration::ZERO
            };
            let retry_at = Instant::now() + delay;
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
            if is_round_over {
                index = 0;
                attempt = attempt.saturating_add(1);
            } else {
                index += 1;
            }
        }
    }

    /// One connection to the gateway at `index`: from connecting to the end of the
    /// subscription.
    async fn session(&mut self, index: usize) -> SessionEnd {
        self.is_session_live = false;
        let failure = match self.subscribe_and_follow(index).await {
            Ok(()) => LinkFailure::new("the gateway closed the subscription"),
            Err(Interrupted::UiClosed) => return SessionEnd::UiClosed,
            Err(Interrupted::MoveTo(preferred)) => return SessionEnd::MoveTo(preferred),
            Err(Interrupted::Failed(failure)) => failure,
        };
        SessionEnd::Failed {
            failure,
            was_live: self.is_session_live,
        }
    }

    async fn subscribe_and_follow(&mut self, index: usize) -> Result<(), Interrupted> {
        let token = match &self.config.token_file {
            Some(path) => Some(
                AccessToken::from_file(path)
                    .map_err(|e| LinkFailure::unauthorized(e.to_string()))?,
            ),
            None => None,
        };
        let endpoint = &self.config.endpoints[index];
        let mut client = connect_with(endpoint, token.as_ref(), &self.config.tls)
            .await
            .map_err(|e| LinkFailure::new(error_chain(&e)))?;
        // On a backup: a task that says when a preferred gateway answers (aborted with
        // the session).
        let (preferred_tx, mut preferred_rx) = mpsc::channel::<usize>(1);
        let _prober = AbortOnDrop((index > 0).then(|| {
            tokio::spawn(watch_preferred(
                self.config.endpoints[..index].to_vec(),
                token.clone(),
                self.config.tls.clone(),
                preferred_tx.clone(),
            ))
        }));

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
            let message = match self
                .next_message(&mut stream, Some(&mut preferred_rx))
                .await?
            {
                Received::Message(message) => message,
                Received::End => return Ok(()),
                Received::Failed(status) => return Err(status_failure(&status).into()),
                Received::Silence => {
                    return Err(LinkFailure::new(format!(
                        "no word from the gateway for {} s",
                        SILENCE_LIMIT.as_secs()
                    ))
                    .into());
                }
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
                    self.outbox.push(PanelEvent::Snapshot {
                        presences,
                        is_delta: snapshot.is_delta,
                        is_last,
                    });
                    if is_last {
                        // Only a whole snapshot is a point to resume from.
                        self.resume.instance_id = snapshot.gateway_instance_id;
                        self.resume.complete_through = snapshot.complete_through_version;
                    }
                    if is_last && !self.is_session_live {
                        self.is_session_live = true;
                        self.outbox.push(PanelEvent::State(ConnectionState::Live));
                    }
                }
                Some(Event::Updates(batch)) => {
                    let presences = self.presences_from_wire(batch.presences);
                    if !presences.is_empty() {
                        self.outbox.push(PanelEvent::Presences(presences));
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
                        self.outbox.push(PanelEvent::DirectoryChanges(changes));
                    }
                }
                Some(Event::Heartbeat(heartbeat)) => {
                    let sources = heartbeat.sources.iter().map(SourceHealth::from).collect();
                    self.outbox.push(PanelEvent::SourceHealth(sources));
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
            let page = match self.next_message(&mut pages, None).await? {
                Received::Message(page) => page,
                Received::Silence => {
                    return Err(LinkFailure::new("the directory listing stalled").into());
                }
                Received::Failed(status) => return Err(status_failure(&status).into()),
                Received::End => {
                    return Err(LinkFailure::new("the directory listing ended early").into());
                }
            };
            let colleagues: Vec<Colleague> = page
                .colleagues
                .into_iter()
                .filter_map(|c| Colleague::try_from(c).ok())
                .collect();
            let is_last = page.last_page;
            let revision = page.directory_revision;
            self.outbox.push(PanelEvent::DirectoryPage {
                colleagues,
                is_first,
                is_last,
                total: page.total_count as usize,
            });
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

/// Aborts its task when dropped.
struct AbortOnDrop(Option<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(task) = &self.0 {
            task.abort();
        }
    }
}

/// Every [`PREFERRED_RETRY`], probes `preferred` (in order) and sends the index of the
/// first that answers.
async fn watch_preferred(
    preferred: Vec<String>,
    token: Option<AccessToken>,
    tls: ClientTls,
    found: mpsc::Sender<usize>,
) {
    loop {
        tokio::time::sleep(PREFERRED_RETRY).await;
        for (index, endpoint) in preferred.iter().enumerate() {
            if probe_with(endpoint, token.as_ref(), &tls).await.is_ok() {
                let _ = found.send(index).await;
                return;
            }
        }
    }
}

/// What a gateway that answers says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    /// Colleagues in its directory.
    pub colleagues: u32,
}

/// Whether `endpoint` serves presence to this panel: connects (TLS as configured),
/// authorises with the token and reads the first directory page, within
/// [`PROBE_TIMEOUT`]. The error is one line for a person to read.
pub async fn probe(
    endpoint: &str,
    token_file: Option<&std::path::Path>,
    tls: &ClientTls,
) -> Result<ProbeReport, String> {
    let token = token_file
        .map(AccessToken::from_file)
        .transpose()
        .map_err(|e| e.to_string())?;
    probe_with(endpoint, token.as_ref(), tls).await
}

async fn probe_with(
    endpoint: &str,
    token: Option<&AccessToken>,
    tls: &ClientTls,
) -> Result<ProbeReport, String> {
    let attempt = async {
        let mut client = connect_with(endpoint, token, tls)
            .await
            .map_err(|e| error_chain(&e))?;
        let mut pages = client
            .list_directory(proto::ListDirectoryRequest { page_size: 1 })
            .await
            .map_err(|status| status_failure(&status).message)?
            .into_inner();
        match pages.message().await {
            Ok(Some(page)) => Ok(ProbeReport {
                colleagues: page.total_count,
            }),
            Ok(None) => Err("the gateway ended the directory listing at once".to_owned()),
            Err(status) => Err(status_failure(&status).message),
        }
    };
    tokio::time::timeout(PROBE_TIMEOUT, attempt)
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {} s", PROBE_TIMEOUT.as_secs())))
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
        proto::DirectoryChangeKind::Removed => {
            Some(DirectoryChange::Removed { upn: colleague.upn })
        }
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
