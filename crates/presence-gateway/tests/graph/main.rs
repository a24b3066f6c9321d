//! The Microsoft Graph source against a local fake of the identity platform and Graph
//! (an HTTP server on 127.0.0.1:0 answering with the documented JSON shapes and checking
//! what it is sent), then through a real gateway to a real tonic client.
// A test crate: an `expect` in a helper fails the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use presence_test_support as common;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use presence_contract::proto;
use presence_domain::{Activity, Availability, SourceState, Technology};
use presence_hub::{HubSettings, PresenceHub};
use presence_sources::graph::{
    self, AuthError, Backoff, GraphConfig, IdentitySettings, LoginRequest, PollBudget,
    ProxySetting, Secret, StoredCredentials, credentials,
};
use serde_json::{Value, json};

const TENANT: &str = "contoso.onmicrosoft.com";
const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";

/// What the fake answers the next presence request with, instead of presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scripted {
    Throttle { status: u16, retry_after_secs: u64 },
    Unauthorized,
    Malformed,
    ServerError,
}

#[derive(Debug, Clone)]
struct PresenceCall {
    at: Instant,
    ids: Vec<String>,
    authorization: String,
}

#[derive(Default)]
struct FakeState {
    base_url: String,
    // Identity platform.
    device_script: VecDeque<&'static str>,
    device_code_forms: Vec<HashMap<String, String>>,
    device_polls: Vec<(Instant, HashMap<String, String>)>,
    refresh_forms: Vec<HashMap<String, String>>,
    issued: u32,
    access_token: String,
    refresh_token: String,
    is_refresh_revoked: bool,
    is_token_endpoint_down: bool,
    refresh_attempts: Vec<Instant>,
    expires_in_secs: u64,
    // Graph.
    users: Vec<(String, String, String)>,
    page_size: usize,
    user_queries: Vec<HashMap<String, String>>,
    user_query_times: Vec<Instant>,
    presence: HashMap<String, Value>,
    presence_calls: Vec<PresenceCall>,
    script: VecDeque<Scripted>,
    is_hanging: bool,
    problems: Vec<String>,
}

#[derive(Clone)]
struct Fake {
    state: Arc<Mutex<FakeState>>,
    addr: SocketAddr,
}

impl Fake {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("fake binds");
        let addr = listener.local_addr().expect("fake address");
        let state = Arc::new(Mutex::new(FakeState {
            base_url: format!("http://{addr}"),
            page_size: 999,
            access_token: "access-0".into(),
            refresh_token: "refresh-0".into(),
            expires_in_secs: 3599,
            ..FakeState::default()
        }));
        let app = Router::new()
            .route("/{tenant}/oauth2/v2.0/devicecode", post(device_code))
            .route("/{tenant}/oauth2/v2.0/token", post(token))
            .route("/v1.0/users", get(users))
            .route("/v1.0/communications/getPresencesByUserId", post(presences))
            .with_state(state.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake serves");
        });
        Self { state, addr }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn with<T>(&self, f: impl FnOnce(&mut FakeState) -> T) -> T {
        f(&mut self.state.lock().expect("fake state"))
    }

    fn add_users(&self, range: std::ops::Range<usize>) {
        self.with(|s| {
            for n in range {
                let id = format!("{n:08}-0000-4000-8000-000000000000");
                s.users.push((
                    id.clone(),
                    format!("user{n}@contoso.com"),
                    format!("User {n}"),
                ));
                s.presence.insert(
                    id.clone(),
                    json!({"id": id, "availability": "Available", "activity": "Available"}),
                );
            }
        });
    }

    fn id(n: usize) -> String {
        format!("{n:08}-0000-4000-8000-000000000000")
    }

    fn set_presence(&self, n: usize, value: Value) {
        self.with(|s| s.presence.insert(Self::id(n), value));
    }

    fn assert_no_problems(&self) {
        let problems = self.with(|s| s.problems.clone());
        assert!(problems.is_empty(), "the fake saw: {problems:?}");
    }
}

fn oauth_error(code: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({
            "error": code,
            "error_description": format!("AADSTS0000: {code}.\r\nTrace ID: 0\r\nCorrelation ID: 0"),
            "error_codes": [0],
        })),
    )
        .into_response()
}

async fn device_code(
    State(state): State<Arc<Mutex<FakeState>>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    state
        .lock()
        .expect("fake state")
        .device_code_forms
        .push(form);
    axum::Json(json!({
        "device_code": "device-code-secret",
        "user_code": "ABCD-EFGH",
        "verification_uri": "https://microsoft.com/devicelogin",
        "expires_in": 900,
        "interval": 1,
        "message": "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code ABCD-EFGH to authenticate."
    }))
    .into_response()
}

fn grant(s: &mut FakeState) -> Response {
    s.issued += 1;
    s.access_token = format!("access-{}", s.issued);
    s.refresh_token = format!("refresh-{}", s.issued);
    axum::Json(json!({
        "token_type": "Bearer",
        "scope": "Presence.Read.All User.ReadBasic.All",
        "expires_in": s.expires_in_secs,
        "ext_expires_in": s.expires_in_secs,
        "access_token": s.access_token,
        "refresh_token": s.refresh_token,
    }))
    .into_response()
}

async fn token(
    State(state): State<Arc<Mutex<FakeState>>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut s = state.lock().expect("fake state");
    if form.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        s.problems
            .push(format!("token request without client id: {form:?}"));
    }
    match form.get("grant_type").map(String::as_str) {
        Some("urn:ietf:params:oauth:grant-type:device_code") => {
            if form.get("device_code").map(String::as_str) != Some("device-code-secret") {
                s.problems.push("device code missing".into());
            }
            s.device_polls.push((Instant::now(), form));
            match s.device_script.pop_front() {
                Some("ok") | None => grant(&mut s),
                Some(code) => oauth_error(code),
            }
        }
        Some("refresh_token") => {
            let scope_ok = form
                .get("scope")
                .is_some_and(|scope| scope.contains("Presence.Read.All"));
            if !scope_ok {
                s.problems.push(format!("refresh without scope: {form:?}"));
            }
            s.refresh_attempts.push(Instant::now());
            if s.is_token_endpoint_down {
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    axum::Json(json!({"error": "temporarily_unavailable",
                                      "error_description": "AADSTS50000: try again later."})),
                )
                    .into_response();
            }
            let presented = form.get("refresh_token").cloned().unwrap_or_default();
            s.refresh_forms.push(form);
            if s.is_refresh_revoked || presented != s.refresh_token {
                return oauth_error("invalid_grant");
            }
            grant(&mut s)
        }
        other => {
            s.problems.push(format!("unexpected grant type {other:?}"));
            oauth_error("unsupported_grant_type")
        }
    }
}

fn is_authorized(s: &mut FakeState, headers: &HeaderMap) -> bool {
    let expected = format!("Bearer {}", s.access_token);
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == expected)
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(json!({"error": {"code": "InvalidAuthenticationToken", "message": "Access token has expired or is not yet valid."}})),
    )
        .into_response()
}

async fn users(
    State(state): State<Arc<Mutex<FakeState>>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if state.lock().expect("fake state").is_hanging {
        std::future::pending::<()>().await;
    }
    let mut s = state.lock().expect("fake state");
    if !is_authorized(&mut s, &headers) {
        return unauthorized();
    }
    let select = query.get("$select").cloned().unwrap_or_default();
    let mut fields: Vec<&str> = select.split(',').collect();
    fields.sort_unstable();
    if fields
        != [
            "displayName",
            "givenName",
            "id",
            "mail",
            "surname",
            "userPrincipalName",
        ]
    {
        s.problems.push(format!("unexpected $select {select:?}"));
    }
    if query.get("$top").map(String::as_str) != Some("999") {
        s.problems.push(format!("unexpected $top {query:?}"));
    }
    let start: usize = query
        .get("$skiptoken")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    s.user_queries.push(query);
    s.user_query_times.push(Instant::now());
    let end = (start + s.page_size).min(s.users.len());
    let value: Vec<Value> = s.users[start.min(end)..end]
        .iter()
        .map(|(id, upn, name)| {
            json!({"id": id, "displayName": name, "givenName": "User", "surname": name,
                   "mail": upn, "userPrincipalName": upn})
        })
        .collect();
    let mut body = json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(id,displayName)",
        "value": value,
    });
    if end < s.users.len() {
        body["@odata.nextLink"] = json!(format!(
            "{}/v1.0/users?$select=id,displayName,givenName,surname,mail,userPrincipalName&$top=999&$skiptoken={end}",
            s.base_url
        ));
    }
    axum::Json(body).into_response()
}

async fn presences(
    State(state): State<Arc<Mutex<FakeState>>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    if state.lock().expect("fake state").is_hanging {
        std::future::pending::<()>().await;
    }
    let mut s = state.lock().expect("fake state");
    let ids: Vec<String> = match serde_json::from_str::<Value>(&body) {
        Ok(v) => v["ids"]
            .as_array()
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| id.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        Err(err) => {
            s.problems.push(format!("presence body is not JSON: {err}"));
            Vec::new()
        }
    };
    if ids.is_empty() || ids.len() > 650 {
        s.problems
            .push(format!("presence request with {} ids", ids.len()));
    }
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    s.presence_calls.push(PresenceCall {
        at: Instant::now(),
        ids: ids.clone(),
        authorization,
    });
    if !is_authorized(&mut s, &headers) {
        return unauthorized();
    }
    match s.script.pop_front() {
        Some(Scripted::Throttle {
            status,
            retry_after_secs,
        }) => {
            return (
                StatusCode::from_u16(status).expect("status"),
                [("retry-after", retry_after_secs.to_string())],
                axum::Json(
                    json!({"error": {"code": "TooManyRequests", "message": "Too many requests"}}),
                ),
            )
                .into_response();
        }
        Some(Scripted::Unauthorized) => {
            // The token was revoked: only a refreshed one works now.
            s.access_token = "revoked".into();
            return unauthorized();
        }
        Some(Scripted::ServerError) => {
            return (StatusCode::BAD_GATEWAY, "upstream failed").into_response();
        }
        Some(Scripted::Malformed) => {
            return (
                [("content-type", "application/json")],
                "{\"value\":[{\"id\":",
            )
                .into_response();
        }
        None => {}
    }
    let value: Vec<Value> = ids
        .iter()
        .filter_map(|id| s.presence.get(id).cloned())
        .collect();
    axum::Json(json!({"value": value})).into_response()
}

/// A fake identity platform and Graph, and a stored sign-in for it.
async fn signed_in_fake() -> (Fake, tempfile::TempDir, PathBuf) {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = store_credentials(dir.path(), &fake);
    (fake, dir, path)
}

fn store_credentials(dir: &Path, fake: &Fake) -> PathBuf {
    let path = dir.join(credentials::CREDENTIALS_FILE);
    credentials::save(
        &path,
        &StoredCredentials {
            tenant: TENANT.into(),
            client_id: CLIENT_ID.into(),
            authority_url: fake.url(),
            refresh_token: Secret::new("refresh-0"),
        },
    )
    .expect("credentials stored");
    path
}

fn fast_config(fake: &Fake, credentials_path: PathBuf) -> GraphConfig {
    GraphConfig {
        graph_base_url: fake.url(),
        proxy: ProxySetting::Direct,
        request_timeout: Duration::from_millis(700),
        directory_refresh: Duration::from_millis(300),
        budget: PollBudget {
            min_cycle: Duration::from_millis(200),
            ..PollBudget::default()
        },
        backoff: Backoff {
            base: Duration::from_millis(50),
            max: Duration::from_millis(200),
        },
        throttle_grace: Duration::from_secs(30),
        sign_in_recheck: Duration::from_millis(200),
        ..GraphConfig::new(credentials_path)
    }
}

fn new_hub() -> Arc<PresenceHub> {
    PresenceHub::new(HubSettings {
        winning_technology: presence_domain::WinningTechnology::MsTeams,
        ms_teams_enabled: true,
    })
}

async fn eventually(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn teams_health(hub: &PresenceHub) -> (SourceState, String) {
    let view = hub.view();
    let health = view
        .sources()
        .iter()
        .find(|s| s.technology == Technology::MsTeams)
        .expect("teams health");
    (health.state, health.detail.clone())
}

fn shown(hub: &PresenceHub, upn: &str) -> Option<presence_domain::Presence> {
    let view = hub.view();
    let slot = view.slot_of(upn)?;
    view.entry(slot).map(|e| e.presence.clone())
}

/// Everything logged on this test's thread (the test runtime is single-threaded, so the
/// source, the fake and the HTTP client all log here), at every level, every crate.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("logs")).into_owned()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("logs").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() -> (Logs, tracing::subscriber::DefaultGuard) {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
}

fn assert_no_tokens(logs: &str) {
    for secret in [
        "access-0",
        "access-1",
        "access-2",
        "refresh-0",
        "refresh-1",
        "refresh-2",
        "refresh-new",
        "device-code-secret",
    ] {
        assert!(!logs.contains(secret), "{secret} logged:\n{logs}");
    }
}

fn login_request(fake: &Fake, path: PathBuf) -> LoginRequest {
    LoginRequest {
        identity: IdentitySettings {
            authority_url: fake.url(),
            tenant: TENANT.into(),
            client_id: CLIENT_ID.into(),
            scope: graph::graph_scopes("https://graph.microsoft.com"),
        },
        credentials_path: path,
        protocol_second: Duration::from_millis(50),
    }
}

#[tokio::test]
async fn device_code_sign_in_end_to_end() {
    let fake = Fake::start().await;
    fake.with(|s| {
        s.device_script = ["authorization_pending", "slow_down", "ok"].into();
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("data").join(credentials::CREDENTIALS_FILE);
    let http =
        graph::http::build_client(&ProxySetting::Direct, Duration::from_secs(5)).expect("client");
    let mut prompt = None;
    let stored = graph::login(&http, &login_request(&fake, path.clone()), |p| {
        prompt = Some(p.clone())
    })
    .await
    .expect("signed in");
    let prompt = prompt.expect("prompt shown");
    assert_eq!(prompt.user_code, "ABCD-EFGH");
    assert_eq!(prompt.verification_uri, "https://microsoft.com/devicelogin");

    let (forms, polls) = fake.with(|s| (s.device_code_forms.clone(), s.device_polls.clone()));
    assert_eq!(forms.len(), 1);
    assert_eq!(forms[0]["client_id"], CLIENT_ID);
    assert_eq!(
        forms[0]["scope"],
        "https://graph.microsoft.com/Presence.Read.All https://graph.microsoft.com/User.ReadBasic.All offline_access"
    );
    assert_eq!(polls.len(), 3, "pending, slow_down, granted");
    // interval 1 (50 ms here); after slow_down, 1 + 5 = 6 (300 ms here).
    let after_pending = polls[1].0 - polls[0].0;
    let after_slow_down = polls[2].0 - polls[1].0;
    assert!(
        after_pending >= Duration::from_millis(50),
        "{after_pending:?}"
    );
    assert!(
        after_slow_down >= Duration::from_millis(300),
        "slow_down honoured: {after_slow_down:?}"
    );

    assert_eq!(stored.refresh_token.expose(), "refresh-1");
    let on_disk = credentials::load(&path).expect("readable").expect("stored");
    assert_eq!(on_disk, stored);
    assert_eq!(on_disk.tenant, TENANT);
    assert_eq!(on_disk.client_id, CLIENT_ID);
    let text = std::fs::read_to_string(&path).expect("file");
    assert!(
        !text.contains("access-1"),
        "the access token is never stored"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    fake.assert_no_problems();
}

#[tokio::test]
async fn device_code_sign_in_expired_and_declined() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(credentials::CREDENTIALS_FILE);
    let http =
        graph::http::build_client(&ProxySetting::Direct, Duration::from_secs(5)).expect("client");
    fake.with(|s| s.device_script = ["authorization_pending", "expired_token"].into());
    let err = graph::login(&http, &login_request(&fake, path.clone()), |_| {})
        .await
        .expect_err("expired");
    assert!(matches!(err, AuthError::CodeExpired), "{err:?}");
    assert!(err.to_string().contains("presence-gateway login"));
    fake.with(|s| s.device_script = ["access_denied"].into());
    let err = graph::login(&http, &login_request(&fake, path.clone()), |_| {})
        .await
        .expect_err("declined");
    assert!(matches!(err, AuthError::Declined { .. }), "{err:?}");
    assert!(!path.exists(), "nothing stored without a sign-in");
}

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
    credentials::save(
        &path,
        &StoredCredentials {
            tenant: TENANT.into(),
            client_id: CLIENT_ID.into(),
            authority_url: fake.url(),
            refresh_token: Secret::new("refresh-new"),
        },
    )
    .expect("stored");
    eventually("live after the new sign-in", Duration::from_secs(5), || {
        teams_health(&hub).0 == SourceState::Live && hub.view().len() == 2
    })
    .await;
    task.abort();
    let logs = logs.text();
    assert!(logs.contains("invalid_grant"), "{logs}");
    assert_no_tokens(&logs);
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

/// A child process killed when the test ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `presence-gateway login` and `presence-gateway --source graph`, the real binary.
#[tokio::test]
async fn binary_logs_in_then_serves_graph_presence() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};

    let fake = Fake::start().await;
    fake.add_users(0..3);
    fake.set_presence(
        0,
        json!({"id": Fake::id(0), "availability": "Away", "activity": "Away"}),
    );
    fake.with(|s| s.device_script = ["ok"].into());
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(credentials::CREDENTIALS_FILE);
    let exe = env!("CARGO_BIN_EXE_presence-gateway");

    let login = {
        let (url, path) = (fake.url(), path.clone());
        tokio::task::spawn_blocking(move || {
            Command::new(exe)
                .args(["login", "--tenant", TENANT, "--client-id", CLIENT_ID])
                .args(["--authority-url", &url, "--graph-base-url", &url])
                .arg("--credentials-file")
                .arg(&path)
                .env_remove("HTTPS_PROXY")
                .output()
                .expect("login runs")
        })
        .await
        .expect("login finished")
    };
    let stdout = String::from_utf8_lossy(&login.stdout);
    assert!(
        login.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&login.stderr)
    );
    assert!(
        stdout.contains("https://microsoft.com/devicelogin"),
        "{stdout}"
    );
    assert!(stdout.contains("ABCD-EFGH"), "{stdout}");
    assert!(stdout.contains("Signed in"), "{stdout}");
    assert!(!stdout.contains("refresh-1") && !stdout.contains("access-1"));
    let scope = fake.with(|s| s.device_code_forms[0]["scope"].clone());
    assert_eq!(
        scope,
        format!(
            "{0}/Presence.Read.All {0}/User.ReadBasic.All offline_access",
            fake.url()
        )
    );

    let other_tenant = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || {
            Command::new(exe)
                .args(["--source", "graph", "--listen", "127.0.0.1:0"])
                .args(["--tenant", "fabrikam.onmicrosoft.com"])
                .arg("--credentials-file")
                .arg(&path)
                .output()
                .expect("gateway runs")
        })
        .await
        .expect("gateway finished")
    };
    assert!(!other_tenant.status.success());
    let stderr = String::from_utf8_lossy(&other_tenant.stderr);
    assert!(
        stderr.contains("is for tenant contoso.onmicrosoft.com"),
        "{stderr}"
    );

    let mut serve = Command::new(exe)
        .args(["--source", "graph", "--listen", "127.0.0.1:0"])
        .args(["--graph-base-url", &fake.url(), "--proxy", &fake.url()])
        .arg("--credentials-file")
        .arg(&path)
        .args(["--heartbeat-secs", "1", "--log-level", "warn"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map(Child)
        .expect("gateway starts");
    let stdout = serve.0.stdout.take().expect("stdout");
    let endpoint = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("a line");
        line.trim()
            .strip_prefix("presence-gateway listening on ")
            .expect("listening line")
            .to_owned()
    })
    .await
    .expect("endpoint");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let report = presence_gateway::check::check(&endpoint, None, Duration::from_secs(5)).await;
        if report.as_ref().is_ok_and(|r| r.directory_size == 3) {
            break;
        }
        assert!(Instant::now() < deadline, "no directory: {report:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut client = presence_contract::connect(&endpoint, None)
        .await
        .expect("client connects");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut subscription = common::subscribe(&mut client).await;
        subscription
            .send(common::watch(&["user0@contoso.com"]))
            .await;
        let (presences, _, _) = subscription.snapshot().await;
        if presences
            .first()
            .is_some_and(|p| p.availability() == proto::Availability::Away)
        {
            break;
        }
        assert!(Instant::now() < deadline, "no presence: {presences:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let calls = fake.with(|s| s.presence_calls.clone());
    assert!(calls.iter().all(|c| c.authorization == "Bearer access-2"));
    fake.assert_no_problems();
    drop(serve);
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
