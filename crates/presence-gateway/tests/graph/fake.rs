//! The fake Microsoft identity platform and Microsoft Graph: one axum server on
//! 127.0.0.1:0 that records what it is sent, and the helpers that aim the source at it.

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
use presence_sources::graph::{
    Backoff, GraphConfig, PollBudget, ProxySetting, Secret, StoredCredentials, credentials,
};
use serde_json::{Value, json};

pub(crate) const TENANT: &str = "contoso.onmicrosoft.com";
pub(crate) const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";

/// What the fake answers the next presence request with, instead of presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scripted {
    Throttle { status: u16, retry_after_secs: u64 },
    Unauthorized,
    Malformed,
    ServerError,
}

#[derive(Debug, Clone)]
pub(crate) struct PresenceCall {
    pub(crate) at: Instant,
    pub(crate) ids: Vec<String>,
    pub(crate) authorization: String,
}

#[derive(Default)]
pub(crate) struct FakeState {
    pub(crate) base_url: String,
    // Identity platform.
    pub(crate) device_script: VecDeque<&'static str>,
    pub(crate) device_code_forms: Vec<HashMap<String, String>>,
    pub(crate) device_polls: Vec<(Instant, HashMap<String, String>)>,
    pub(crate) refresh_forms: Vec<HashMap<String, String>>,
    issued: u32,
    access_token: String,
    pub(crate) refresh_token: String,
    pub(crate) is_refresh_revoked: bool,
    pub(crate) is_token_endpoint_down: bool,
    pub(crate) refresh_attempts: Vec<Instant>,
    pub(crate) expires_in_secs: u64,
    // Graph.
    pub(crate) users: Vec<(String, String, String)>,
    pub(crate) page_size: usize,
    pub(crate) user_queries: Vec<HashMap<String, String>>,
    pub(crate) user_query_times: Vec<Instant>,
    /// How long each directory page takes to answer (a big tenant's slow listing).
    pub(crate) users_page_delay: Duration,
    presence: HashMap<String, Value>,
    pub(crate) presence_calls: Vec<PresenceCall>,
    pub(crate) script: VecDeque<Scripted>,
    pub(crate) is_hanging: bool,
    problems: Vec<String>,
}

#[derive(Clone)]
pub(crate) struct Fake {
    state: Arc<Mutex<FakeState>>,
    addr: SocketAddr,
}

impl Fake {
    pub(crate) async fn start() -> Self {
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

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut FakeState) -> T) -> T {
        f(&mut self.state.lock().expect("fake state"))
    }

    pub(crate) fn add_users(&self, range: std::ops::Range<usize>) {
        self.with(|s| {
            for n in range {
                let id = Self::id(n);
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

    pub(crate) fn id(n: usize) -> String {
        format!("{n:08}-0000-4000-8000-000000000000")
    }

    pub(crate) fn set_presence(&self, n: usize, value: Value) {
        self.with(|s| s.presence.insert(Self::id(n), value));
    }

    pub(crate) fn assert_no_problems(&self) {
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

fn is_authorized(s: &FakeState, headers: &HeaderMap) -> bool {
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
    let delay = state.lock().expect("fake state").users_page_delay;
    tokio::time::sleep(delay).await;
    let mut s = state.lock().expect("fake state");
    if !is_authorized(&s, &headers) {
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
    if !is_authorized(&s, &headers) {
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
pub(crate) async fn signed_in_fake() -> (Fake, tempfile::TempDir, PathBuf) {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = store_credentials(dir.path(), &fake);
    (fake, dir, path)
}

/// Stores a sign-in to the fake with the first refresh token in `dir`.
pub(crate) fn store_credentials(dir: &Path, fake: &Fake) -> PathBuf {
    let path = dir.join(credentials::CREDENTIALS_FILE);
    save_sign_in(&path, fake, "refresh-0");
    path
}

/// Writes a sign-in to the fake holding `refresh_token` to `path`, as `login` would.
pub(crate) fn save_sign_in(path: &Path, fake: &Fake, refresh_token: &str) {
    credentials::save(
        path,
        &StoredCredentials {
            tenant: TENANT.into(),
            client_id: CLIENT_ID.into(),
            authority_url: fake.url(),
            refresh_token: Secret::new(refresh_token),
        },
    )
    .expect("credentials stored");
}

pub(crate) fn fast_config(fake: &Fake, credentials_path: PathBuf) -> GraphConfig {
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
