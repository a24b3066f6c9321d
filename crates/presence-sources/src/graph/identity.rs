//! Sign-in with the Microsoft identity platform (v2 endpoints): the OAuth 2 device-code
//! flow for `presence-gateway login`, and the access tokens of a running gateway,
//! refreshed before they expire with the rotated refresh token stored at once.
//!
//! Must never log or return a token in an error: tokens are [`Secret`]s, and errors carry
//! only the platform's error code and the first line of its description.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use tokio::time::Instant;

use super::credentials::{self, CredentialsError, StoredCredentials};
use super::secret::Secret;

/// The public Microsoft cloud's identity platform.
pub const DEFAULT_AUTHORITY_URL: &str = "https://login.microsoftonline.com";
/// The public Microsoft cloud's Graph.
pub const DEFAULT_GRAPH_BASE_URL: &str = "https://graph.microsoft.com";
/// Share of an access token's lifetime after which it is refreshed.
pub const REFRESH_AT_SHARE: f64 = 0.8;
/// An access token this close to expiry (or within a tenth of its lifetime of it, if
/// less) is not used any more.
const EXPIRY_MARGIN: Duration = Duration::from_secs(30);
const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Which app signs in where, for what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentitySettings {
    pub authority_url: String,
    pub tenant: String,
    pub client_id: String,
    /// Space-separated scopes, see [`graph_scopes`].
    pub scope: String,
}

impl IdentitySettings {
    /// Checks what goes into URLs: a tenant is a GUID, a domain or `organizations`; a
    /// client id is a GUID (letters, digits and hyphens).
    pub fn validate(&self) -> Result<(), AuthError> {
        let is_tenant_ok = !self.tenant.is_empty()
            && self
                .tenant
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if !is_tenant_ok {
            return Err(AuthError::InvalidSetting(format!(
                "tenant {:?} is not a tenant id or domain",
                self.tenant
            )));
        }
        let is_client_ok = !self.client_id.is_empty()
            && self
                .client_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !is_client_ok {
            return Err(AuthError::InvalidSetting(format!(
                "client id {:?} is not an application id",
                self.client_id
            )));
        }
        match reqwest::Url::parse(&self.authority_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(()),
            _ => Err(AuthError::InvalidSetting(format!(
                "authority URL {:?} is not an http(s) URL",
                self.authority_url
            ))),
        }
    }

    fn endpoint(&self, name: &str) -> String {
        format!(
            "{}/{}/oauth2/v2.0/{name}",
            self.authority_url.trim_end_matches('/'),
            self.tenant.trim()
        )
    }

    pub fn device_code_url(&self) -> String {
        self.endpoint("devicecode")
    }

    pub fn token_url(&self) -> String {
        self.endpoint("token")
    }
}

/// The delegated scopes the gateway needs, for the Graph at `graph_base_url` (its
/// scheme and host are the resource: sovereign clouds have their own).
pub fn graph_scopes(graph_base_url: &str) -> String {
    let resource = match reqwest::Url::parse(graph_base_url) {
        Ok(url) => url.origin().ascii_serialization(),
        Err(_) => graph_base_url.trim_end_matches('/').to_owned(),
    };
    format!("{resource}/Presence.Read.All {resource}/User.ReadBasic.All offline_access")
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(
        "not signed in to Microsoft Graph (no {}): run `presence-gateway login --tenant <tenant> --client-id <application id>`",
        path.display()
    )]
    NotSignedIn { path: PathBuf },
    #[error(
        "the stored Microsoft sign-in is no longer valid ({code}: {description}); run `presence-gateway login` again"
    )]
    SignInRequired { code: String, description: String },
    #[error("the sign-in code expired before anyone used it; run `presence-gateway login` again")]
    CodeExpired,
    #[error("the sign-in was declined ({code}); run `presence-gateway login` again to retry")]
    Declined { code: String },
    #[error("cannot reach the Microsoft identity platform at {path}: {detail}")]
    Unreachable { path: String, detail: String },
    #[error("the Microsoft identity platform refused {path}: {code}: {description}")]
    Refused {
        path: String,
        code: String,
        description: String,
    },
    #[error("the Microsoft identity platform answered {path} with something unexpected: {detail}")]
    Malformed { path: String, detail: String },
    #[error(
        "the identity platform granted no refresh token: the app registration must allow the offline_access permission"
    )]
    NoRefreshToken,
    #[error("{0}")]
    InvalidSetting(String),
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    #[error("a background task failed: {0}")]
    Task(String),
}

impl AuthError {
    /// Whether retrying later, unchanged, may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unreachable { .. })
    }
}

/// What the operator must do to sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCodePrompt {
    pub verification_uri: String,
    pub user_code: String,
    /// The platform's own sentence ("To sign in, use a web browser to open ...").
    pub message: Option<String>,
    pub expires_in: Duration,
}

/// A device-code sign-in.
#[derive(Debug, Clone)]
pub struct LoginRequest {
    pub identity: IdentitySettings,
    pub credentials_path: PathBuf,
    /// How long one "second" of the protocol (`interval`, `expires_in`, the `slow_down`
    /// step) lasts: one second, except in tests.
    pub protocol_second: Duration,
}

#[derive(Deserialize)]
struct DeviceCodeResponse {
    device_code: Secret,
    user_code: String,
    verification_uri: String,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    interval: Option<u64>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: Secret,
    #[serde(default)]
    refresh_token: Option<Secret>,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct ErrorResponse {
    error: String,
    #[serde(default)]
    error_description: String,
}

/// A token endpoint's answer.
enum TokenAnswer {
    Granted(TokenResponse),
    Error { code: String, description: String },
}

/// The first line of the platform's description (the rest is trace and correlation ids).
/// With a hint for the set-up mistakes the platform reports most.
fn first_line(description: &str) -> String {
    let line = presence_domain::text::single_line(description.lines().next().unwrap_or(""), 300);
    match setup_hint(&line) {
        Some(hint) => format!("{line} ({hint})"),
        None => line,
    }
}

/// What to fix for the platform's most common set-up errors (AADSTS codes).
fn setup_hint(description: &str) -> Option<&'static str> {
    const HINTS: [(&str, &str); 5] = [
        (
            "AADSTS7000218",
            "turn on 'Allow public client flows' in the app registration's Authentication page",
        ),
        (
            "AADSTS65001",
            "an administrator must grant admin consent for the app's permissions",
        ),
        (
            "AADSTS700016",
            "check --client-id: no such application in this tenant",
        ),
        ("AADSTS90002", "check --tenant: no such tenant"),
        (
            "AADSTS50059",
            "check --tenant: give the tenant id or a verified domain",
        ),
    ];
    HINTS
        .iter()
        .find(|(code, _)| description.contains(&format!("{code}:")))
        .map(|(_, hint)| *hint)
}

async fn post_form(
    http: &reqwest::Client,
    url: &str,
    form: &[(&str, &str)],
) -> Result<(reqwest::StatusCode, Vec<u8>), AuthError> {
    let path = super::http::path_of(url);
    let unreachable = |detail: String| AuthError::Unreachable {
        path: path.clone(),
        detail,
    };
    let response = http
        .post(url)
        .form(form)
        .send()
        .await
        .map_err(|e| unreachable(e.without_url().to_string()))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| unreachable(e.without_url().to_string()))?;
    Ok((status, body.to_vec()))
}

async fn token_request(
    http: &reqwest::Client,
    url: &str,
    form: &[(&str, &str)],
) -> Result<TokenAnswer, AuthError> {
    let path = super::http::path_of(url);
    let (status, body) = post_form(http, url, form).await?;
    if status.is_success() {
        return serde_json::from_slice(&body)
            .map(TokenAnswer::Granted)
            .map_err(|e| AuthError::Malformed {
                path,
                detail: e.to_string(),
            });
    }
    match serde_json::from_slice::<ErrorResponse>(&body) {
        Ok(error) => Ok(TokenAnswer::Error {
            code: error.error,
            description: first_line(&error.error_description),
        }),
        Err(_) if status.is_server_error() => Err(AuthError::Unreachable {
            path,
            detail: format!("HTTP {status}"),
        }),
        Err(_) => Err(AuthError::Malformed {
            path,
            detail: format!("HTTP {status} without an OAuth error"),
        }),
    }
}

/// Runs the device-code flow: asks for a code, hands the prompt to `on_prompt`, polls
/// until the operator signs in, then stores the refresh token. Returns what was stored.
pub async fn login(
    http: &reqwest::Client,
    request: &LoginRequest,
    on_prompt: impl FnOnce(&DeviceCodePrompt),
) -> Result<StoredCredentials, AuthError> {
    let identity = &request.identity;
    identity.validate()?;
    let second = request.protocol_second;
    let url = identity.device_code_url();
    let path = super::http::path_of(&url);
    let (status, body) = post_form(
        http,
        &url,
        &[
            ("client_id", identity.client_id.as_str()),
            ("scope", identity.scope.as_str()),
        ],
    )
    .await?;
    if !status.is_success() {
        return Err(match serde_json::from_slice::<ErrorResponse>(&body) {
            Ok(error) => AuthError::Refused {
                path,
                code: error.error,
                description: first_line(&error.error_description),
            },
            Err(_) => AuthError::Malformed {
                path,
                detail: format!("HTTP {status}"),
            },
        });
    }
    let code: DeviceCodeResponse =
        serde_json::from_slice(&body).map_err(|e| AuthError::Malformed {
            path: path.clone(),
            detail: e.to_string(),
        })?;
    let expires_in = second * u32::try_from(code.expires_in.unwrap_or(900)).unwrap_or(900);
    on_prompt(&DeviceCodePrompt {
        verification_uri: code.verification_uri.clone(),
        user_code: code.user_code.clone(),
        message: code.message.clone(),
        expires_in,
    });
    let deadline = Instant::now() + expires_in;
    let mut interval_secs = code.interval.unwrap_or(5).clamp(1, 60) as u32;
    let token_url = identity.token_url();
    loop {
        tokio::time::sleep(second * interval_secs).await;
        if Instant::now() >= deadline {
            return Err(AuthError::CodeExpired);
        }
        let answer = token_request(
            http,
            &token_url,
            &[
                ("grant_type", DEVICE_CODE_GRANT),
                ("client_id", identity.client_id.as_str()),
                ("device_code", code.device_code.expose()),
            ],
        )
        .await;
        match answer {
            Ok(TokenAnswer::Granted(grant)) => {
                let refresh_token = grant.refresh_token.ok_or(AuthError::NoRefreshToken)?;
                let stored = StoredCredentials {
                    tenant: identity.tenant.clone(),
                    client_id: identity.client_id.clone(),
                    authority_url: identity.authority_url.clone(),
                    refresh_token,
                };
                save(request.credentials_path.clone(), stored.clone()).await?;
                return Ok(stored);
            }
            Ok(TokenAnswer::Error { code, description }) => match code.as_str() {
                "authorization_pending" => {}
                "slow_down" => interval_secs += 5,
                "expired_token" | "code_expired" => return Err(AuthError::CodeExpired),
                "access_denied" | "authorization_declined" => {
                    return Err(AuthError::Declined { code });
                }
                _ => {
                    return Err(AuthError::Refused {
                        path: super::http::path_of(&token_url),
                        code,
                        description,
                    });
                }
            },
            Err(err) if err.is_transient() => {
                tracing::warn!(%err, "identity platform unreachable while waiting for sign-in; still waiting");
            }
            Err(err) => return Err(err),
        }
    }
}

async fn save(path: PathBuf, stored: StoredCredentials) -> Result<(), AuthError> {
    tokio::task::spawn_blocking(move || credentials::save(&path, &stored))
        .await
        .map_err(|e| AuthError::Task(e.to_string()))?
        .map_err(AuthError::from)
}

async fn load(path: PathBuf) -> Result<Option<StoredCredentials>, AuthError> {
    tokio::task::spawn_blocking(move || credentials::load(&path))
        .await
        .map_err(|e| AuthError::Task(e.to_string()))?
        .map_err(AuthError::from)
}

/// An access token and when to refresh it.
struct AccessToken {
    token: Secret,
    refresh_at: Instant,
    /// Expiry less a safety margin.
    usable_until: Instant,
}

/// Access tokens for a running gateway, from the stored sign-in.
pub struct TokenManager {
    http: reqwest::Client,
    credentials_path: PathBuf,
    /// Used instead of the stored authority when set (`--authority-url`).
    authority_override: Option<String>,
    scope: String,
    stored: Option<StoredCredentials>,
    access: Option<AccessToken>,
    /// The refresh token the platform rejected: not retried until the file changes.
    rejected: Option<Secret>,
}

impl TokenManager {
    pub fn new(
        http: reqwest::Client,
        credentials_path: PathBuf,
        authority_override: Option<String>,
        scope: String,
    ) -> Self {
        Self {
            http,
            credentials_path,
            authority_override,
            scope,
            stored: None,
            access: None,
            rejected: None,
        }
    }

    /// A valid access token, refreshed first when 80% of its lifetime has passed. When
    /// the identity platform cannot be reached, the current token is used for as long
    /// as it is valid (refreshing is retried on each call).
    pub async fn access_token(&mut self) -> Result<Secret, AuthError> {
        let now = Instant::now();
        if let Some(access) = &self.access
            && now < access.refresh_at
        {
            return Ok(access.token.clone());
        }
        match self.refresh().await {
            Ok(()) => {}
            Err(err) if err.is_transient() => match &self.access {
                Some(access) if now < access.usable_until => {
                    tracing::warn!(%err, "cannot refresh the access token yet; the current one is still valid");
                    return Ok(access.token.clone());
                }
                _ => return Err(err),
            },
            Err(err) => return Err(err),
        }
        match &self.access {
            Some(access) => Ok(access.token.clone()),
            None => Err(AuthError::NoRefreshToken),
        }
    }

    /// Forgets the access token (Graph refused it): the next call refreshes.
    pub fn invalidate(&mut self) {
        self.access = None;
    }

    /// Redeems the refresh token for a new access token and stores the rotated refresh
    /// token. Rereads the file first when there is no usable sign-in in memory, so a
    /// `presence-gateway login` run while the gateway runs is picked up.
    pub async fn refresh(&mut self) -> Result<(), AuthError> {
        if self.stored.is_none() || self.rejected.is_some() {
            let path = self.credentials_path.clone();
            let Some(stored) = load(path.clone()).await? else {
                return Err(AuthError::NotSignedIn { path });
            };
            if self.rejected.as_ref() == Some(&stored.refresh_token) {
                return Err(AuthError::SignInRequired {
                    code: "invalid_grant".to_owned(),
                    description: "the refresh token was revoked or has expired".to_owned(),
                });
            }
            self.rejected = None;
            self.stored = Some(stored);
        }
        let Some(stored) = self.stored.clone() else {
            return Err(AuthError::NotSignedIn {
                path: self.credentials_path.clone(),
            });
        };
        let identity = IdentitySettings {
            authority_url: self
                .authority_override
                .clone()
                .unwrap_or_else(|| stored.authority_url.clone()),
            tenant: stored.tenant.clone(),
            client_id: stored.client_id.clone(),
            scope: self.scope.clone(),
        };
        let url = identity.token_url();
        let requested_at = Instant::now();
        let answer = token_request(
            &self.http,
            &url,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", identity.client_id.as_str()),
                ("refresh_token", stored.refresh_token.expose()),
                ("scope", identity.scope.as_str()),
            ],
        )
        .await?;
        let grant = match answer {
            TokenAnswer::Granted(grant) => grant,
            TokenAnswer::Error { code, description }
                if code == "temporarily_unavailable" || code == "server_error" =>
            {
                return Err(AuthError::Unreachable {
                    path: super::http::path_of(&url),
                    detail: format!("{code}: {description}"),
                });
            }
            TokenAnswer::Error { code, description } => {
                self.access = None;
                if code == "invalid_grant" || code == "interaction_required" {
                    self.rejected = Some(stored.refresh_token);
                    return Err(AuthError::SignInRequired { code, description });
                }
                return Err(AuthError::Refused {
                    path: super::http::path_of(&url),
                    code,
                    description,
                });
            }
        };
        let lifetime = Duration::from_secs(grant.expires_in.unwrap_or(3600).max(1));
        self.access = Some(AccessToken {
            token: grant.access_token,
            refresh_at: requested_at + lifetime.mul_f64(REFRESH_AT_SHARE),
            usable_until: requested_at + lifetime - EXPIRY_MARGIN.min(lifetime / 10),
        });
        if let Some(rotated) = grant.refresh_token
            && rotated != stored.refresh_token
        {
            // A `presence-gateway login` run since this sign-in was read (perhaps for
            // another account) is newer than this rotation: never overwrite it. The
            // next refresh reads it instead.
            let on_disk = load(self.credentials_path.clone()).await.ok().flatten();
            if on_disk.as_ref() != Some(&stored) {
                tracing::warn!(
                    path = %self.credentials_path.display(),
                    "the stored sign-in changed while the gateway ran (a new login?); it is kept and used from the next refresh"
                );
                self.stored = None;
                return Ok(());
            }
            let updated = StoredCredentials {
                refresh_token: rotated,
                ..stored
            };
            // Keep using the new token even if storing it fails: the old one usually
            // stays valid until it expires, so a restart can still sign in.
            if let Err(err) = save(self.credentials_path.clone(), updated.clone()).await {
                tracing::error!(%err, "cannot store the rotated refresh token");
            }
            self.stored = Some(updated);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_and_scopes() {
        let identity = IdentitySettings {
            authority_url: "https://login.microsoftonline.us/".into(),
            tenant: "contoso.onmicrosoft.com".into(),
            client_id: "c".into(),
            scope: graph_scopes("https://graph.microsoft.us/"),
        };
        assert_eq!(
            identity.device_code_url(),
            "https://login.microsoftonline.us/contoso.onmicrosoft.com/oauth2/v2.0/devicecode"
        );
        assert_eq!(
            identity.token_url(),
            "https://login.microsoftonline.us/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        assert_eq!(
            identity.scope,
            "https://graph.microsoft.us/Presence.Read.All https://graph.microsoft.us/User.ReadBasic.All offline_access"
        );
        assert_eq!(
            graph_scopes("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080/Presence.Read.All http://127.0.0.1:8080/User.ReadBasic.All offline_access"
        );
        assert!(identity.validate().is_ok());
        let bad = IdentitySettings {
            tenant: "contoso/../x".into(),
            ..identity.clone()
        };
        assert!(matches!(bad.validate(), Err(AuthError::InvalidSetting(_))));
        let bad = IdentitySettings {
            client_id: "".into(),
            ..identity.clone()
        };
        assert!(bad.validate().is_err());
        assert_eq!(
            first_line(
                "AADSTS7000218: The request body must contain client_assertion.\r\nTrace ID: 1"
            ),
            "AADSTS7000218: The request body must contain client_assertion. (turn on 'Allow public client flows' in the app registration's Authentication page)"
        );
        assert_eq!(
            first_line("AADSTS70000: The grant was revoked.\r\nTrace ID: 1"),
            "AADSTS70000: The grant was revoked."
        );
    }
}
