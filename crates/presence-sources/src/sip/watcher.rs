//! The SIP watcher: one endpoint (the `ezk-sip` stack: transactions over UDP or TCP),
//! a `presence` and (optionally) a `dialog` subscription per colleague of the hub's
//! directory, and the NOTIFYs they bring, published to the hub as SIP SIMPLE presence.
//!
//! - **Pacing.** One probe SUBSCRIBE goes first; only when the server accepts it (the
//!   password is right) does the rest follow, at most `subscribes_per_sec`, at most
//!   [`MAX_IN_FLIGHT`] at once.
//! - **Refresh** at a random point between half and four fifths of the time granted
//!   (the shorter of the 200's `Expires` and the NOTIFY's `Subscription-State`), so
//!   refreshes spread out.
//! - **Recovery.** A refresh answered 481, a transaction timeout, `terminated` in a
//!   NOTIFY (a restarted server) each start a new subscription, with backoff per
//!   colleague; `rejected`/`noresource`/404 leave the colleague Unknown and retry
//!   after [`GIVE_UP_RETRY`].
//! - **Digest.** 401 and 407 are answered once; a second challenge for the same request
//!   (a wrong password) stops everything but one probe every [`AUTH_RETRY`], and the
//!   source is stale with the reason.
//! - **Health.** Live while the server answers; stale with the reason when it does not
//!   (timeouts, refused password); the panels show SIP statuses as not live meanwhile.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytesstr::BytesStr;
use ezk_sip_auth::{ClientAuthenticator, DigestAuthenticator, DigestCredentials, DigestUser};
use ezk_sip_core::transport::{TargetTransportInfo, TpHandle};
use ezk_sip_core::{Endpoint, IncomingRequest, Layer, MayTake, Request};
use ezk_sip_types::header::typed::{
    CSeq, CallID, Contact, Event, Expires, FromTo, SubStateValue, SubscriptionState,
};
use ezk_sip_types::uri::{NameAddr, SipUri};
use ezk_sip_types::{Method, Name, StatusCode};
use tokio::sync::{Semaphore, mpsc};

use presence_domain::{Presence, SourceState, Technology};
use presence_hub::PresenceHub;

use super::pidf::{self, DialogTracker, RichPresence, SipState};
use super::{SipConfig, SipTransport};

/// SUBSCRIBE transactions open at once.
pub const MAX_IN_FLIGHT: usize = 256;
/// After a refused password, how often one probe tries again.
pub const AUTH_RETRY: Duration = Duration::from_secs(300);
/// After `rejected`, `noresource` or 404: when to try that colleague again.
pub const GIVE_UP_RETRY: Duration = Duration::from_secs(600);
/// Longest wait between retries of one colleague's subscription.
const MAX_BACKOFF: Duration = Duration::from_secs(120);
/// How often the directory is compared with the subscriptions.
const DIRECTORY_CHECK: Duration = Duration::from_secs(1);
/// NOTIFYs waiting for the watcher's task.
const NOTIFY_QUEUE: usize = 4096;
/// Two NOTIFYs of one subscription this close together may have been written at once
/// by two of the server's workers, and the later-numbered one may then carry the
/// older state (Kamailio reads the state, then numbers the NOTIFY): the subscription
/// is refreshed [`SETTLE_DELAY`] later, and the server's answer tells the state after
/// the burst.
const SETTLE_WINDOW: Duration = Duration::from_millis(250);
/// How long after a burst of NOTIFYs the subscription is refreshed.
const SETTLE_DELAY: Duration = Duration::from_millis(500);
/// Shortest subscription time honoured (a server granting less is asked again later).
const MIN_GRANTED: Duration = Duration::from_secs(10);

/// Why the SIP source could not start.
#[derive(Debug, thiserror::Error)]
pub enum SipSetupError {
    #[error("cannot resolve the SIP server {server}: {source}")]
    Resolve {
        server: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the SIP server {0} resolves to no address")]
    NoAddress(String),
    #[error("cannot open a SIP {transport} socket: {source}")]
    Bind {
        transport: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("the watcher's SIP URI {0:?} is not valid")]
    BadUri(String),
    #[error("cannot read the SIP server's CA file {path}: {reason}")]
    CaFile {
        path: std::path::PathBuf,
        reason: String,
    },
}

/// The two event packages watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum EventKind {
    Presence,
    Dialog,
}

impl EventKind {
    fn name(self) -> &'static str {
        match self {
            Self::Presence => "presence",
            Self::Dialog => "dialog",
        }
    }

    fn accept(self) -> &'static str {
        match self {
            Self::Presence => "application/pidf+xml",
            Self::Dialog => "application/dialog-info+xml",
        }
    }
}

type SubKey = (String, EventKind);

/// The key of the resource list subscription (no UPN is `*`).
const LIST_KEY: &str = "*";

/// Where one subscription stands.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// To be sent at `at` (a new subscription or a retry).
    Due { at: Instant },
    /// A SUBSCRIBE is in flight.
    Sending,
    /// Accepted: refreshed at `refresh_at`.
    Active { refresh_at: Instant },
}

#[derive(Debug)]
struct Subscription {
    uri: String,
    call_id: String,
    from_tag: String,
    to_tag: Option<String>,
    cseq: u32,
    /// The CSeq of the last NOTIFY applied.
    last_notify: Option<u32>,
    /// When the last NOTIFY arrived (applied or not).
    last_notify_at: Option<Instant>,
    /// A SUBSCRIBE went out and no NOTIFY has come since: the next one answers it and
    /// is taken whatever its number (a server that restarted numbers afresh).
    awaits_answer: bool,
    /// A refresh wanted sooner than the subscription's own, after a burst of NOTIFYs
    /// (see [`SETTLE_WINDOW`]).
    settle_at: Option<Instant>,
    phase: Phase,
    failures: u32,
}

/// What the watcher knows of one colleague.
#[derive(Debug, Default)]
struct Person {
    rich: Option<RichPresence>,
    dialogs: DialogTracker,
    published: Option<SipState>,
}

/// A NOTIFY, as the endpoint's layer hands it over.
#[derive(Debug)]
struct Notify {
    call_id: String,
    /// NOTIFYs of one subscription carry growing CSeqs: an older one arriving late
    /// (UDP, or a server with several workers) is ignored.
    cseq: u32,
    event: String,
    state: Option<SubscriptionState>,
    content_type: String,
    body: String,
    to_tag_of_server: Option<String>,
}

/// How a SUBSCRIBE transaction ended.
#[derive(Debug)]
enum Outcome {
    Accepted {
        expires: Option<Duration>,
        to_tag: Option<String>,
        /// The CSeq of the request accepted (an answered challenge takes one more).
        cseq: u32,
    },
    /// A refresh of a dialog the server no longer knows (481), or the server ended it.
    Gone,
    /// The colleague does not exist there, or watching them is not allowed.
    Refused(u16),
    /// The password was refused (a second challenge).
    Unauthorized,
    /// No answer, or the transport failed.
    Failed(String),
}

/// Receives out-of-dialog requests: NOTIFYs go to the watcher, everything is answered.
struct NotifyLayer {
    notifies: mpsc::Sender<Notify>,
}

#[async_trait::async_trait]
impl Layer for NotifyLayer {
    fn name(&self) -> &'static str {
        "presence-gateway-notify"
    }

    async fn receive(&self, endpoint: &Endpoint, request: MayTake<'_, IncomingRequest>) {
        if request.line.method != Method::NOTIFY {
            return;
        }
        let mut request = request.take();
        let header = |name: &Name| {
            request
                .headers
                .get_raw(name)
                .next()
                .map(|v| v.as_str().trim().to_owned())
                .unwrap_or_default()
        };
        let notify = Notify {
            call_id: request.base_headers.call_id.0.as_str().to_owned(),
            cseq: request.base_headers.cseq.cseq,
            event: header(&Name::EVENT)
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase(),
            state: request.headers.get_named::<SubscriptionState>().ok(),
            content_type: header(&Name::CONTENT_TYPE),
            body: String::from_utf8_lossy(&request.body).into_owned(),
            to_tag_of_server: request
                .base_headers
                .from
                .tag
                .as_ref()
                .map(|t| t.as_str().to_owned()),
        };
        let tsx = endpoint.create_server_tsx(&mut request);
        let response = endpoint.create_response(&request, StatusCode::OK, None);
        if let Err(err) = tsx.respond(response).await {
            tracing::debug!(%err, "cannot answer a NOTIFY");
        }
        // Waits when the watcher is behind: the endpoint then reads no more, and the
        // server retransmits (UDP) or its TCP window fills.
        let _ = self.notifies.send(notify).await;
    }
}

/// Starts the SIP source: the endpoint, then a task that watches the hub's directory.
pub async fn spawn(
    hub: Arc<PresenceHub>,
    config: SipConfig,
) -> Result<tokio::task::JoinHandle<()>, SipSetupError> {
    let server = tokio::net::lookup_host((config.server.as_str(), config.port))
        .await
        .map_err(|source| SipSetupError::Resolve {
            server: config.server.clone(),
            source,
        })?
        .next()
        .ok_or_else(|| SipSetupError::NoAddress(config.server.clone()))?;
    let local_ip = local_ip_towards(server).map_err(|source| SipSetupError::Bind {
        transport: "udp",
        source,
    })?;
    let (notify_tx, notify_rx) = mpsc::channel(NOTIFY_QUEUE);
    let mut builder = Endpoint::builder();
    builder.add_allow(Method::NOTIFY);
    builder.add_allow(Method::SUBSCRIBE);
    builder.user_agent("UCX presence gateway");
    builder.add_layer(NotifyLayer {
        notifies: notify_tx,
    });
    let local = match config.transport {
        SipTransport::Udp => {
            let handle = builder
                .bind_udp(SocketAddr::new(local_ip, 0))
                .await
                .map_err(|source| SipSetupError::Bind {
                    transport: "udp",
                    source,
                })?;
            handle.bound()
        }
        // Connections: NOTIFYs come back over the connection the SUBSCRIBE went out on
        // (its address is the Contact), so nothing listens.
        SipTransport::Tcp => SocketAddr::new(local_ip, 0),
        SipTransport::Tls => {
            builder.use_rustls_connector(tls_connector(config.tls_ca_file.as_deref())?);
            SocketAddr::new(local_ip, 0)
        }
    };
    let endpoint = builder.build();
    let own_uri = format!("sip:{}@{}", config.user, config.domain);
    if own_uri.parse::<SipUri>().is_err() {
        return Err(SipSetupError::BadUri(own_uri));
    }
    let transport_param = match config.transport {
        SipTransport::Udp => "",
        SipTransport::Tcp => ";transport=tcp",
        SipTransport::Tls => ";transport=tls",
    };
    let contact = ContactTemplate {
        user: config.user.clone(),
        transport_param,
    };
    // By name for TLS, so the certificate is checked against it.
    let server_uri = match config.transport {
        SipTransport::Tls => format!("sip:{}:{}{transport_param}", config.server, config.port),
        _ => format!("sip:{server}{transport_param}"),
    };
    let auth = config.password.as_ref().map(|password| {
        let mut credentials = DigestCredentials::new();
        credentials.set_default(DigestUser::new(
            config.user.clone(),
            password.expose().as_bytes().to_vec(),
        ));
        Arc::new(Mutex::new(DigestAuthenticator::new(credentials)))
    });
    tracing::info!(
        %server, transport = config.transport.name(), local = %local,
        template = config.uri_template.as_str(), "SIP SIMPLE source starting"
    );
    let watcher = Watcher {
        hub,
        endpoint,
        config,
        own_uri,
        contact,
        server_uri,
        auth,
        subs: HashMap::new(),
        by_call_id: HashMap::new(),
        people: HashMap::new(),
        upn_of_uri: HashMap::new(),
        in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
        directory_revision: None,
        is_authorised: false,
        auth_refused_at: None,
        is_probing: false,
        last_answer: None,
        last_failure: None,
        health: None,
        pending_publish: Vec::new(),
        tag_counter: 0,
    };
    Ok(tokio::spawn(watcher.run(notify_rx)))
}

/// The Contact of the watcher: its user at the address the request goes out from.
#[derive(Debug, Clone)]
struct ContactTemplate {
    user: String,
    transport_param: &'static str,
}

impl ContactTemplate {
    fn at(&self, local: SocketAddr) -> String {
        format!("sip:{}@{local}{}", self.user, self.transport_param)
    }
}

/// TLS as the gateway's other clients do it: rustls with ring, the system's roots and
/// an optional company CA.
fn tls_connector(
    ca_file: Option<&std::path::Path>,
) -> Result<tokio_rustls::TlsConnector, SipSetupError> {
    use rustls_pki_types::pem::PemObject;
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_file {
        let ca_error = |reason: String| SipSetupError::CaFile {
            path: path.to_owned(),
            reason,
        };
        let certs = rustls_pki_types::CertificateDer::pem_file_iter(path)
            .map_err(|e| ca_error(e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ca_error(e.to_string()))?;
        if certs.is_empty() {
            return Err(ca_error("no certificate in it".to_owned()));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| ca_error(e.to_string()))?;
        }
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SipSetupError::CaFile {
            path: std::path::PathBuf::new(),
            reason: e.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// The local address the system would use to reach `server` (no packet is sent).
fn local_ip_towards(server: SocketAddr) -> std::io::Result<IpAddr> {
    let unspecified: SocketAddr = if server.is_ipv4() {
        "0.0.0.0:0".parse().map_err(std::io::Error::other)?
    } else {
        "[::]:0".parse().map_err(std::io::Error::other)?
    };
    let socket = std::net::UdpSocket::bind(unspecified)?;
    socket.connect(server)?;
    Ok(socket.local_addr()?.ip())
}

struct Watcher {
    hub: Arc<PresenceHub>,
    endpoint: Endpoint,
    config: SipConfig,
    own_uri: String,
    contact: ContactTemplate,
    server_uri: String,
    /// Shared by every request: answers once learnt are reused (nonce counts grow).
    auth: Option<Arc<Mutex<DigestAuthenticator>>>,
    subs: HashMap<SubKey, Subscription>,
    by_call_id: HashMap<String, SubKey>,
    people: HashMap<String, Person>,
    /// Each watched SIP URI's colleague (lower case), for the resource list's NOTIFYs.
    upn_of_uri: HashMap<String, String>,
    in_flight: Arc<Semaphore>,
    directory_revision: Option<u64>,
    /// The server accepted a SUBSCRIBE (so the password, if any, is right).
    is_authorised: bool,
    /// When the password was last refused.
    auth_refused_at: Option<Instant>,
    /// The probe SUBSCRIBE is in flight.
    is_probing: bool,
    last_answer: Option<Instant>,
    last_failure: Option<String>,
    health: Option<(SourceState, String)>,
    pending_publish: Vec<Presence>,
    tag_counter: u64,
}

impl Watcher {
    async fn run(mut self, mut notifies: mpsc::Receiver<Notify>) {
        let (outcome_tx, mut outcomes) =
            mpsc::channel::<(SubKey, String, Outcome)>(MAX_IN_FLIGHT * 2);
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_directory_check = Instant::now() - DIRECTORY_CHECK;
        let mut sent_this_second = 0u32;
        let mut second_started = Instant::now();
        self.set_health(SourceState::Stale, "subscribing to the SIP server");
        loop {
            tokio::select! {
                Some(notify) = notifies.recv() => self.on_notify(notify),
                Some((key, call_id, outcome)) = outcomes.recv() => self.on_outcome(key, &call_id, outcome),
                _ = tick.tick() => {
                    let now = Instant::now();
                    if now.duration_since(last_directory_check) >= DIRECTORY_CHECK {
                        last_directory_check = now;
                        self.follow_directory();
                    }
                    if now.duration_since(second_started) >= Duration::from_secs(1) {
                        second_started = now;
                        sent_this_second = 0;
                    }
                    let budget = self.config.subscribes_per_sec.max(1).saturating_sub(sent_this_second);
                    sent_this_second += self.send_due(now, budget, &outcome_tx);
                    self.update_health(now);
                }
            }
            self.flush_publish();
        }
    }

    /// Adds subscriptions for colleagues who joined, drops those who left.
    fn follow_directory(&mut self) {
        let revision = self.hub.view().directory_revision();
        if self.directory_revision == Some(revision) {
            return;
        }
        self.directory_revision = Some(revision);
        let mut wanted: HashMap<String, String> = HashMap::new();
        {
            let view = self.hub.view();
            for slot in 0..view.slot_count() {
                if let Some(entry) = view.entry(slot)
                    && let Some(uri) = self
                        .config
                        .uri_template
                        .uri_for(entry.colleague, &self.config.domain)
                {
                    wanted.insert(entry.colleague.upn.to_ascii_lowercase(), uri);
                }
            }
        }
        let is_list = self.config.rls_uri.is_some();
        let events: &[EventKind] = match (is_list, self.config.watch_dialogs) {
            (false, true) => &[EventKind::Presence, EventKind::Dialog],
            (false, false) => &[EventKind::Presence],
            (true, true) => &[EventKind::Dialog],
            (true, false) => &[],
        };
        self.upn_of_uri = wanted
            .iter()
            .map(|(upn, uri)| (uri.to_ascii_lowercase(), upn.clone()))
            .collect();
        // Gone, or their URI changed: forget (their subscriptions lapse at the server).
        let stale: Vec<SubKey> = self
            .subs
            .iter()
            .filter(|((upn, _), sub)| upn != LIST_KEY && wanted.get(upn) != Some(&sub.uri))
            .map(|(key, _)| key.clone())
            .collect();
        for key in stale {
            if let Some(sub) = self.subs.remove(&key) {
                self.by_call_id.remove(&sub.call_id);
            }
            self.people.remove(&key.0);
        }
        let now = Instant::now();
        if let Some(list_uri) = self.config.rls_uri.clone() {
            self.add_subscription((LIST_KEY.to_owned(), EventKind::Presence), &list_uri, now);
        }
        for (upn, uri) in wanted {
            for &event in events {
                self.add_subscription((upn.clone(), event), &uri, now);
            }
            self.people.entry(upn).or_default();
        }
    }

    /// A new subscription to `uri`, due at `now`, unless `key` has one.
    fn add_subscription(&mut self, key: SubKey, uri: &str, now: Instant) {
        if self.subs.contains_key(&key) {
            return;
        }
        let call_id = self.new_tag("c");
        let sub = Subscription {
            uri: uri.to_owned(),
            call_id: call_id.clone(),
            from_tag: self.new_tag("f"),
            to_tag: None,
            cseq: 0,
            last_notify: None,
            last_notify_at: None,
            awaits_answer: false,
            settle_at: None,
            phase: Phase::Due { at: now },
            failures: 0,
        };
        self.by_call_id.insert(call_id, key.clone());
        self.subs.insert(key, sub);
    }

    fn new_tag(&mut self, kind: &str) -> String {
        self.tag_counter += 1;
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        format!(
            "{kind}{:x}{:x}{:x}",
            nanos,
            std::process::id(),
            self.tag_counter
        )
    }

    /// Sends what is due, within `budget` new requests; returns how many were sent.
    fn send_due(
        &mut self,
        now: Instant,
        budget: u32,
        outcomes: &mpsc::Sender<(SubKey, String, Outcome)>,
    ) -> u32 {
        let is_auth_paused = self
            .auth_refused_at
            .is_some_and(|at| now.duration_since(at) < AUTH_RETRY);
        // Until the server has accepted one SUBSCRIBE, only one goes out at a time.
        let limit = if self.is_authorised {
            budget
        } else {
            u32::from(!self.is_probing)
        };
        if is_auth_paused || limit == 0 {
            return 0;
        }
        let mut due: Vec<(SubKey, Instant)> = self
            .subs
            .iter()
            .filter_map(|(key, sub)| match sub.phase {
                Phase::Due { at } if at <= now => Some((key.clone(), at)),
                Phase::Active { refresh_at } => {
                    let at = sub.settle_at.map_or(refresh_at, |s| s.min(refresh_at));
                    (at <= now).then(|| (key.clone(), at))
                }
                _ => None,
            })
            .collect();
        due.sort_by_key(|(_, at)| *at);
        let mut sent = 0;
        for (key, _) in due {
            if sent >= limit {
                break;
            }
            let Ok(permit) = self.in_flight.clone().try_acquire_owned() else {
                break;
            };
            let Some(sub) = self.subs.get_mut(&key) else {
                continue;
            };
            let is_refresh = matches!(sub.phase, Phase::Active { .. });
            if !is_refresh {
                // A new subscription is a new dialog.
                sub.to_tag = None;
            }
            sub.cseq += 1;
            sub.phase = Phase::Sending;
            sub.awaits_answer = true;
            sub.settle_at = None;
            let request = SubscribeRequest {
                uri: sub.uri.clone(),
                call_id: sub.call_id.clone(),
                from_tag: sub.from_tag.clone(),
                to_tag: sub.to_tag.clone(),
                cseq: sub.cseq,
                event: key.1,
                expires: self.config.expires,
                own_uri: self.own_uri.clone(),
                contact: self.contact.clone(),
                server_uri: self.server_uri.clone(),
                is_refresh,
                is_list: key.0 == LIST_KEY,
            };
            if !self.is_authorised {
                self.is_probing = true;
            }
            let endpoint = self.endpoint.clone();
            let auth = self.auth.clone();
            let outcomes = outcomes.clone();
            let call_id = request.call_id.clone();
            tokio::spawn(async move {
                let outcome = request.send(&endpoint, auth).await;
                drop(permit);
                let _ = outcomes.send((key, call_id, outcome)).await;
            });
            sent += 1;
        }
        sent
    }

    fn on_outcome(&mut self, key: SubKey, call_id: &str, outcome: Outcome) {
        tracing::trace!(upn = %key.0, event = key.1.name(), ?outcome, "SUBSCRIBE ended");
        self.is_probing = false;
        let now = Instant::now();
        let Some(sub) = self.subs.get_mut(&key) else {
            return;
        };
        if sub.call_id != call_id {
            return;
        }
        let backoff = |failures: u32| {
            let secs = 1u64 << failures.min(7);
            Duration::from_secs(secs).min(MAX_BACKOFF)
        };
        match outcome {
            Outcome::Accepted {
                expires,
                to_tag,
                cseq,
            } => {
                sub.cseq = sub.cseq.max(cseq);
                self.last_answer = Some(now);
                self.is_authorised = true;
                self.auth_refused_at = None;
                sub.failures = 0;
                if to_tag.is_some() {
                    sub.to_tag = to_tag;
                }
                let granted = expires.unwrap_or(self.config.expires).max(MIN_GRANTED);
                // A NOTIFY may already have shortened it.
                let refresh_at = now + spread(granted, &sub.call_id, sub.cseq);
                sub.phase = match sub.phase {
                    Phase::Active { refresh_at: sooner } if sooner < refresh_at => {
                        Phase::Active { refresh_at: sooner }
                    }
                    _ => Phase::Active { refresh_at },
                };
            }
            Outcome::Gone => {
                self.last_answer = Some(now);
                self.restart(&key, Duration::ZERO);
            }
            Outcome::Refused(code) => {
                self.last_answer = Some(now);
                self.is_authorised = true;
                tracing::debug!(upn = %key.0, event = key.1.name(), code, "SIP server refused the subscription");
                self.forget_state(&key);
                self.restart(&key, GIVE_UP_RETRY);
            }
            Outcome::Unauthorized => {
                self.last_answer = Some(now);
                if self.auth_refused_at.is_none() {
                    tracing::warn!(
                        "the SIP server refused the watcher's password; trying again in {} s",
                        AUTH_RETRY.as_secs()
                    );
                }
                self.auth_refused_at = Some(now);
                self.is_authorised = false;
                self.last_failure = Some("the SIP server refused the password".to_owned());
                if let Some(sub) = self.subs.get_mut(&key) {
                    sub.phase = Phase::Due {
                        at: now + AUTH_RETRY,
                    };
                }
            }
            Outcome::Failed(why) => {
                sub.failures += 1;
                let delay = backoff(sub.failures);
                self.last_failure = Some(why);
                self.restart(&key, delay);
            }
        }
    }

    /// A new subscription (a new dialog) for `key` after `delay`.
    fn restart(&mut self, key: &SubKey, delay: Duration) {
        let call_id = self.new_tag("c");
        let from_tag = self.new_tag("f");
        if let Some(sub) = self.subs.get_mut(key) {
            self.by_call_id.remove(&sub.call_id);
            sub.call_id = call_id.clone();
            sub.from_tag = from_tag;
            sub.to_tag = None;
            sub.cseq = 0;
            sub.last_notify = None;
            sub.last_notify_at = None;
            sub.settle_at = None;
            sub.phase = Phase::Due {
                at: Instant::now() + delay,
            };
            self.by_call_id.insert(call_id, key.clone());
        }
        // A new subscription numbers its documents afresh.
        if key.1 == EventKind::Dialog
            && let Some(person) = self.people.get_mut(&key.0)
        {
            person.dialogs.forget_version();
        }
    }

    fn forget_state(&mut self, key: &SubKey) {
        if key.0 == LIST_KEY {
            let everyone: Vec<String> = self.people.keys().cloned().collect();
            for upn in everyone {
                if let Some(person) = self.people.get_mut(&upn) {
                    person.rich = None;
                }
                self.republish(&upn);
            }
            return;
        }
        if let Some(person) = self.people.get_mut(&key.0) {
            match key.1 {
                EventKind::Presence => person.rich = None,
                EventKind::Dialog => person.dialogs.clear(),
            }
        }
        self.republish(&key.0.clone());
    }

    fn on_notify(&mut self, notify: Notify) {
        let Some(key) = self.by_call_id.get(&notify.call_id).cloned() else {
            tracing::debug!(call_id = %notify.call_id, "NOTIFY for no subscription of ours");
            return;
        };
        tracing::trace!(upn = %key.0, cseq = notify.cseq, event = %notify.event, state = ?notify.state.as_ref().map(|s| s.state), body = %notify.body, "NOTIFY");
        self.last_answer = Some(Instant::now());
        if notify.event != key.1.name() {
            return;
        }
        let mut is_renumbered = false;
        if let Some(sub) = self.subs.get_mut(&key) {
            let now = Instant::now();
            let is_burst = sub
                .last_notify_at
                .is_some_and(|at| now.duration_since(at) < SETTLE_WINDOW);
            sub.last_notify_at = Some(now);
            // A whole list is not asked again for one burst: its server batches
            // changes anyway, and its answer would be everyone's state.
            if is_burst && key.0 != LIST_KEY && sub.settle_at.is_none() {
                tracing::debug!(upn = %key.0, event = key.1.name(), "NOTIFYs in a burst; the state is asked again");
                sub.settle_at = Some(now + SETTLE_DELAY);
            }
            let is_older = sub.last_notify.is_some_and(|last| notify.cseq <= last);
            if is_older && !sub.awaits_answer {
                tracing::debug!(upn = %key.0, cseq = notify.cseq, "an older NOTIFY arrived late; ignored");
                return;
            }
            is_renumbered = is_older;
            sub.awaits_answer = false;
            sub.last_notify = Some(notify.cseq);
            if sub.to_tag.is_none() {
                sub.to_tag = notify.to_tag_of_server.clone();
            }
        }
        // The server numbers afresh: its documents too.
        if is_renumbered
            && key.1 == EventKind::Dialog
            && let Some(person) = self.people.get_mut(&key.0)
        {
            person.dialogs.forget_version();
        }
        let state = notify.state.as_ref().map(|s| s.state);
        match state {
            Some(SubStateValue::Terminated) => {
                let reason = notify
                    .state
                    .as_ref()
                    .and_then(|s| s.reason.as_ref())
                    .map(ToString::to_string);
                let retry_after = notify.state.as_ref().and_then(|s| s.retry_after);
                let delay = match reason.as_deref() {
                    Some("rejected" | "noresource") => GIVE_UP_RETRY,
                    Some("giveup") => Duration::from_secs(u64::from(retry_after.unwrap_or(30))),
                    _ => Duration::from_secs(u64::from(retry_after.unwrap_or(0))),
                };
                self.forget_state(&key);
                self.restart(&key, delay);
                return;
            }
            Some(SubStateValue::Pending) => {
                // Not authorised yet at the server: nothing known.
                self.forget_state(&key);
            }
            _ => {}
        }
        if let Some(expires) = notify.state.as_ref().and_then(|s| s.expires)
            && let Some(sub) = self.subs.get_mut(&key)
            && let Phase::Active { refresh_at } = sub.phase
        {
            let granted = Duration::from_secs(u64::from(expires)).max(MIN_GRANTED);
            let sooner = Instant::now() + spread(granted, &sub.call_id, sub.cseq);
            if sooner < refresh_at {
                sub.phase = Phase::Active { refresh_at: sooner };
            }
        }
        if state == Some(SubStateValue::Pending) {
            return;
        }
        if key.0 == LIST_KEY {
            self.on_list_notify(&notify);
            return;
        }
        let body = notify.body.trim();
        let Some(person) = self.people.get_mut(&key.0) else {
            return;
        };
        match key.1 {
            EventKind::Presence => {
                person.rich = if body.is_empty() {
                    None
                } else {
                    match pidf::parse_pidf(body) {
                        Ok(rich) => Some(rich),
                        Err(err) => {
                            tracing::debug!(upn = %key.0, %err, content_type = %notify.content_type, "unreadable PIDF; presence unknown");
                            None
                        }
                    }
                };
            }
            EventKind::Dialog => {
                if body.is_empty() {
                    person.dialogs.clear();
                } else {
                    match pidf::parse_dialog_info(body) {
                        Ok(info) => person.dialogs.apply(&info),
                        Err(err) => tracing::debug!(upn = %key.0, %err, "unreadable dialog-info"),
                    }
                }
            }
        }
        self.republish(&key.0);
    }

    /// A resource list NOTIFY: each resource's presence, for the colleague it names.
    fn on_list_notify(&mut self, notify: &Notify) {
        if notify.body.trim().is_empty() {
            return;
        }
        let list = match pidf::parse_list_notify(&notify.content_type, &notify.body) {
            Ok(list) => list,
            Err(err) => {
                tracing::warn!(%err, "unreadable resource list NOTIFY");
                return;
            }
        };
        let mut named: std::collections::HashSet<String> =
            std::collections::HashSet::with_capacity(list.resources.len());
        for resource in list.resources {
            let Some(upn) = self
                .upn_of_uri
                .get(&resource.uri.to_ascii_lowercase())
                .cloned()
            else {
                continue;
            };
            if let Some(person) = self.people.get_mut(&upn) {
                person.rich = if resource.state == "terminated" {
                    None
                } else {
                    resource.rich
                };
            }
            self.republish(&upn);
            named.insert(upn);
        }
        if list.is_full {
            // Whoever the full state leaves out is not known through the list.
            let left_out: Vec<String> = self
                .people
                .keys()
                .filter(|upn| !named.contains(*upn))
                .cloned()
                .collect();
            for upn in left_out {
                if let Some(person) = self.people.get_mut(&upn) {
                    person.rich = None;
                }
                self.republish(&upn);
            }
        }
    }

    /// Queues the colleague's SIP presence for the hub if it changed.
    fn republish(&mut self, upn: &str) {
        let Some(person) = self.people.get_mut(upn) else {
            return;
        };
        let state = pidf::sip_state(person.rich.as_ref(), person.dialogs.is_on_the_phone());
        if person.published.as_ref() == Some(&state) {
            return;
        }
        person.published = Some(state.clone());
        self.pending_publish.push(Presence {
            availability: state.availability,
            activity: state.activity,
            since: SystemTime::now(),
            technology: Technology::SipSimple,
            ..Presence::unknown(upn)
        });
    }

    fn flush_publish(&mut self) {
        if !self.pending_publish.is_empty() {
            let presences = std::mem::take(&mut self.pending_publish);
            self.hub.publish(Technology::SipSimple, presences);
        }
    }

    fn update_health(&mut self, now: Instant) {
        let (state, detail) = if let Some(at) = self.auth_refused_at
            && now.duration_since(at) < AUTH_RETRY + Duration::from_secs(60)
        {
            (
                SourceState::Stale,
                format!(
                    "the SIP server {} refused the password of {}",
                    self.config.server, self.config.user
                ),
            )
        } else if self
            .last_answer
            .is_some_and(|at| now.duration_since(at) < Duration::from_secs(90))
            && self.is_authorised
        {
            (
                SourceState::Live,
                format!(
                    "watching {} colleagues at {}",
                    self.people.len(),
                    self.config.server
                ),
            )
        } else if self.subs.is_empty() {
            (SourceState::Stale, "no colleague to watch yet".to_owned())
        } else {
            (
                SourceState::Stale,
                format!(
                    "no answer from the SIP server {}{}",
                    self.config.server,
                    self.last_failure
                        .as_deref()
                        .map(|f| format!(": {f}"))
                        .unwrap_or_default()
                ),
            )
        };
        self.set_health(state, &detail);
    }

    fn set_health(&mut self, state: SourceState, detail: &str) {
        if self
            .health
            .as_ref()
            .is_some_and(|(s, d)| *s == state && d == detail)
        {
            return;
        }
        self.health = Some((state, detail.to_owned()));
        self.hub
            .set_source_health(Technology::SipSimple, state, detail);
    }
}

/// When to refresh within `granted`: between half and four fifths of it, spread by
/// the subscription's identity so refreshes do not all fall together.
fn spread(granted: Duration, call_id: &str, cseq: u32) -> Duration {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in call_id.bytes().chain(cseq.to_le_bytes()) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let fraction = 0.5 + 0.3 * (hash % 1000) as f64 / 1000.0;
    granted.mul_f64(fraction)
}

/// One SUBSCRIBE, ready to go.
struct SubscribeRequest {
    uri: String,
    call_id: String,
    from_tag: String,
    to_tag: Option<String>,
    cseq: u32,
    event: EventKind,
    expires: Duration,
    own_uri: String,
    contact: ContactTemplate,
    server_uri: String,
    is_refresh: bool,
    /// A resource list subscription (RFC 4662).
    is_list: bool,
}

impl SubscribeRequest {
    fn build(&self, cseq: u32, local: SocketAddr) -> Result<Request, String> {
        let contact = self.contact.at(local);
        let uri: SipUri = self
            .uri
            .parse()
            .map_err(|_| format!("{} is not a SIP URI", self.uri))?;
        let own: SipUri = self
            .own_uri
            .parse()
            .map_err(|_| format!("{} is not a SIP URI", self.own_uri))?;
        let contact: SipUri = contact
            .parse()
            .map_err(|_| format!("{contact} is not a SIP URI"))?;
        let mut request = Request::new(Method::SUBSCRIBE, uri.clone());
        let headers = &mut request.headers;
        headers.insert_type(
            Name::FROM,
            &FromTo::new(
                NameAddr::uri(own),
                Some(BytesStr::from(self.from_tag.as_str())),
            ),
        );
        headers.insert_type(
            Name::TO,
            &FromTo::new(
                NameAddr::uri(uri),
                self.to_tag.as_deref().map(BytesStr::from),
            ),
        );
        headers.insert_named(&CallID::new(BytesStr::from(self.call_id.as_str())));
        headers.insert_named(&CSeq::new(cseq, Method::SUBSCRIBE));
        headers.insert(Name::MAX_FORWARDS, "70");
        headers.insert_named(&Contact::new(NameAddr::uri(contact)));
        headers.insert_named(&Event::new(self.event.name()));
        if self.is_list {
            headers.insert(Name::SUPPORTED, "eventlist");
            headers.insert(
                Name::ACCEPT,
                "multipart/related, application/rlmi+xml, application/pidf+xml",
            );
        } else {
            headers.insert(Name::ACCEPT, self.event.accept());
        }
        headers.insert_named(&Expires(
            u32::try_from(self.expires.as_secs()).unwrap_or(3600),
        ));
        Ok(request)
    }

    async fn send(
        self,
        endpoint: &Endpoint,
        auth: Option<Arc<Mutex<DigestAuthenticator>>>,
    ) -> Outcome {
        let server: SipUri = match self.server_uri.parse() {
            Ok(uri) => uri,
            Err(_) => return Outcome::Failed(format!("{} is not a SIP URI", self.server_uri)),
        };
        let (transport, destination): (TpHandle, SocketAddr) =
            match endpoint.select_transport(&server).await {
                Ok(selected) => selected,
                Err(err) => return Outcome::Failed(format!("cannot reach the SIP server: {err}")),
            };
        let mut cseq = self.cseq;
        // The first attempt, and at most one answer to a challenge.
        for attempt in 0..2 {
            let mut request = match self.build(cseq, transport.bound()) {
                Ok(request) => request,
                Err(why) => return Outcome::Failed(why),
            };
            if let Some(auth) = &auth
                && let Ok(mut auth) = auth.lock()
            {
                auth.authorize_request(&mut request.headers);
            }
            let mut target = TargetTransportInfo {
                via_host_port: None,
                transport: Some((transport.clone(), destination)),
            };
            let mut tsx = match endpoint.send_request(request, &mut target).await {
                Ok(tsx) => tsx,
                Err(err) => return Outcome::Failed(format!("cannot send a SUBSCRIBE: {err}")),
            };
            let response = match tsx.receive_final().await {
                Ok(response) => response,
                Err(err) => return Outcome::Failed(format!("no answer to a SUBSCRIBE: {err}")),
            };
            let code = response.line.code.into_u16();
            match code {
                200..=299 => {
                    let expires = response
                        .headers
                        .get_named::<Expires>()
                        .ok()
                        .map(|e| Duration::from_secs(u64::from(e.0)));
                    let to_tag = response
                        .base_headers
                        .to
                        .tag
                        .as_ref()
                        .map(|t| t.as_str().to_owned());
                    return Outcome::Accepted {
                        expires,
                        to_tag,
                        cseq,
                    };
                }
                401 | 407 => {
                    let Some(authenticator) = &auth else {
                        return Outcome::Unauthorized;
                    };
                    if attempt > 0 {
                        return Outcome::Unauthorized;
                    }
                    let Ok(mut authenticator) = authenticator.lock() else {
                        return Outcome::Unauthorized;
                    };
                    let sent = tsx.request();
                    let rejected = ezk_sip_auth::RequestParts {
                        line: &sent.msg.line,
                        headers: &sent.msg.headers,
                        body: &sent.msg.body,
                    };
                    let rejection = ezk_sip_auth::ResponseParts {
                        line: &response.line,
                        headers: &response.headers,
                        body: &response.body,
                    };
                    if authenticator.handle_rejection(rejected, rejection).is_err() {
                        return Outcome::Unauthorized;
                    }
                    drop(authenticator);
                    cseq += 1;
                }
                481 if self.is_refresh => return Outcome::Gone,
                481 => return Outcome::Failed("the server lost the subscription (481)".to_owned()),
                403 | 404 | 489 | 603 => return Outcome::Refused(code),
                _ => return Outcome::Failed(format!("the SIP server answered {code}")),
            }
        }
        Outcome::Unauthorized
    }
}
