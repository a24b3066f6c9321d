//! The HTTP client of the Graph source and what its answers mean: TLS (rustls with the
//! ring provider, the platform's certificate verifier), proxy, `Retry-After`, backoff
//! with jitter, and Graph's error bodies in words.
//!
//! Must never put a token in an error or log line: URLs carry none (tokens travel in
//! headers and form bodies), and error texts are built from status codes and Graph's
//! own error codes and messages.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::Deserialize;

use presence_domain::rng::SeededRng;

/// How the gateway reaches the internet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ProxySetting {
    /// `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` and `NO_PROXY` from the environment.
    #[default]
    FromEnvironment,
    /// This proxy for every request (hosts in `NO_PROXY` excepted).
    Url(String),
    /// No proxy, whatever the environment says.
    Direct,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientBuildError {
    #[error("invalid proxy URL {url:?}: {detail}")]
    Proxy { url: String, detail: String },
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
}

/// Builds the client used for the identity platform and Graph.
pub fn build_client(
    proxy: &ProxySetting,
    request_timeout: Duration,
) -> Result<reqwest::Client, ClientBuildError> {
    // One process-wide TLS provider: ring. Installing fails harmlessly when it is
    // already installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .connect_timeout(request_timeout.min(Duration::from_secs(15)))
        .timeout(request_timeout)
        .user_agent(concat!("ucx-presence-gateway/", env!("CARGO_PKG_VERSION")))
        .pool_idle_timeout(Duration::from_secs(60));
    match proxy {
        ProxySetting::FromEnvironment => {}
        ProxySetting::Direct => builder = builder.no_proxy(),
        ProxySetting::Url(url) => {
            let proxy = reqwest::Proxy::all(url.as_str())
                .map_err(|e| ClientBuildError::Proxy {
                    url: url.clone(),
                    detail: e.to_string(),
                })?
                .no_proxy(reqwest::NoProxy::from_env());
            builder = builder.proxy(proxy);
        }
    }
    builder
        .build()
        .map_err(|e| ClientBuildError::Client(e.without_url().to_string()))
}

/// Exponential backoff with jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            max: Duration::from_secs(60),
        }
    }
}

impl Backoff {
    /// The wait before retry number `attempt` (0-based): half of `base * 2^attempt`
    /// (capped at `max`) plus a random part up to the other half, so many gateways that
    /// failed together do not retry together.
    pub fn delay(&self, attempt: u32, rng: &mut SeededRng) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32 << attempt.min(20))
            .min(self.max);
        let half = ceiling / 2;
        half + half.mul_f64(rng.unit())
    }
}

/// Longest `Retry-After` honoured as given; longer ones are cut to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

/// `Retry-After` in seconds (Graph's form). HTTP dates are not used by Graph and are
/// ignored (the caller backs off instead).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs).min(MAX_RETRY_AFTER))
}

/// What a failed Graph request means for the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// 429, or 503 with `Retry-After`: wait and retry.
    #[error("Graph is throttling requests (HTTP {status}), asked to wait {}", wait_words(*.retry_after))]
    Throttled {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// Other 5xx: back off and retry.
    #[error("Graph answered HTTP {status} to {path}{}", detail_words(detail))]
    Server {
        status: u16,
        path: String,
        detail: String,
    },
    /// No answer (DNS, connection, TLS, timeout): back off and retry.
    #[error("cannot reach Graph at {path}: {detail}")]
    Network { path: String, detail: String },
    /// 401: the access token was refused.
    #[error(
        "Graph refused the access token (HTTP 401) for {path}{}",
        detail_words(detail)
    )]
    Unauthorized { path: String, detail: String },
    /// Other 4xx: a problem retrying soon will not fix (permissions, a bad request).
    #[error("Graph refused {path} (HTTP {status}){}", detail_words(detail))]
    Refused {
        status: u16,
        path: String,
        detail: String,
    },
}

fn wait_words(wait: Option<Duration>) -> String {
    match wait {
        Some(wait) => format!("{:.0} s", wait.as_secs_f64().ceil()),
        None => "a while".to_owned(),
    }
}

fn detail_words(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

impl Failure {
    /// Whether waiting and retrying the same request may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Throttled { .. } | Self::Server { .. } | Self::Network { .. }
        )
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

/// Graph's `{"error":{"code","message"}}` in a few words, or nothing.
fn error_detail(body: &[u8]) -> String {
    let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body) else {
        return String::new();
    };
    let text = format!("{} {}", parsed.error.code, parsed.error.message);
    presence_domain::text::single_line(text.trim(), 300)
}

/// Classifies a non-success answer.
pub fn classify(status: StatusCode, headers: &HeaderMap, body: &[u8], path: &str) -> Failure {
    let retry_after = retry_after(headers);
    let detail = error_detail(body);
    let path = path.to_owned();
    match status.as_u16() {
        429 => Failure::Throttled {
            status: 429,
            retry_after,
        },
        503 if retry_after.is_some() => Failure::Throttled {
            status: 503,
            retry_after,
        },
        401 => Failure::Unauthorized { path, detail },
        code @ 500..=599 => Failure::Server {
            status: code,
            path,
            detail,
        },
        code => Failure::Refused {
            status: code,
            path,
            detail,
        },
    }
}

/// A transport error in words, without the URL (which is named separately).
pub fn network_failure(err: reqwest::Error, path: &str) -> Failure {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut detail = kind.to_owned();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    Failure::Network {
        path: path.to_owned(),
        detail: presence_domain::text::single_line(&detail, 300),
    }
}

/// The path of a URL (no query), for logs and errors.
pub fn path_of(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(parsed) => parsed.path().to_owned(),
        Err(_) => "(invalid URL)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderValue, RETRY_AFTER};

    #[test]
    fn retry_after_in_seconds() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("99999"));
        assert_eq!(retry_after(&headers), Some(MAX_RETRY_AFTER));
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn classifies_answers() {
        let mut headers = HeaderMap::new();
        let body = br#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges"}}"#;
        let failure = classify(StatusCode::FORBIDDEN, &headers, body, "/v1.0/users");
        assert!(!failure.is_transient());
        assert_eq!(
            failure.to_string(),
            "Graph refused /v1.0/users (HTTP 403): Authorization_RequestDenied Insufficient privileges"
        );
        assert!(classify(StatusCode::BAD_GATEWAY, &headers, b"", "/").is_transient());
        assert!(matches!(
            classify(StatusCode::SERVICE_UNAVAILABLE, &headers, b"", "/"),
            Failure::Server { status: 503, .. }
        ));
        headers.insert(RETRY_AFTER, reqwest::header::HeaderValue::from_static("2"));
        assert_eq!(
            classify(StatusCode::SERVICE_UNAVAILABLE, &headers, b"", "/"),
            Failure::Throttled {
                status: 503,
                retry_after: Some(Duration::from_secs(2))
            }
        );
    }

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let backoff = Backoff::default();
        let mut rng = SeededRng::new(7);
        for attempt in 0..30 {
            let ceiling = (Duration::from_secs(1) * 2u32.pow(attempt.min(10))).min(backoff.max);
            let delay = backoff.delay(attempt, &mut rng);
            assert!(
                delay >= ceiling / 2 && delay <= ceiling,
                "{attempt}: {delay:?}"
            );
        }
    }

    #[test]
    fn path_hides_query() {
        assert_eq!(
            path_of("https://graph.microsoft.com/v1.0/users?$skiptoken=abc"),
            "/v1.0/users"
        );
    }
}
