//! The access token that callers present as `authorization: Bearer <token>`: read from
//! a file, compared in constant time, never printed (its `Debug` is redacted).

use std::path::Path;
use std::sync::Arc;

/// A shared secret that callers present as `authorization: Bearer <token>`.
#[derive(Clone)]
pub struct AccessToken(Arc<str>);

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

/// Why a token file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    #[error("cannot read token file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("token file {0} is empty")]
    Empty(String),
    #[error("token file {0} holds a token with spaces or control characters")]
    Malformed(String),
}

impl AccessToken {
    /// Wraps a token; it must be non-empty printable ASCII without spaces.
    pub fn new(token: &str) -> Option<Self> {
        let token = token.trim();
        let is_valid = !token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic());
        is_valid.then(|| Self(Arc::from(token)))
    }

    /// Reads a token from the first line of a file.
    pub fn from_file(path: &Path) -> Result<Self, TokenFileError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| TokenFileError::Read {
            path: name.clone(),
            source,
        })?;
        let first_line = text.lines().next().unwrap_or_default().trim();
        if first_line.is_empty() {
            return Err(TokenFileError::Empty(name));
        }
        warn_if_readable_by_others(path);
        Self::new(first_line).ok_or(TokenFileError::Malformed(name))
    }

    /// The `authorization` header value for clients.
    pub fn bearer_header(&self) -> String {
        format!("Bearer {}", self.0)
    }

    /// Whether `presented` (a whole `authorization` header value) carries this token.
    pub fn accepts_header(&self, presented: &[u8]) -> bool {
        let Some(token) = presented.strip_prefix(b"Bearer ") else {
            return false;
        };
        constant_time_eq(token, self.0.as_bytes())
    }
}

/// Compares without an early exit, so timing says nothing about where bytes differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u8 | u8::from(a.len() != b.len());
    for (i, &x) in a.iter().enumerate() {
        let y = b.get(i % b.len().max(1)).copied().unwrap_or(0);
        diff |= x ^ y;
    }
    std::hint::black_box(diff) == 0
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            path = %path.display(),
            "token file is readable by other users; restrict it with chmod 600"
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_the_exact_token() {
        let token = AccessToken::new("s3cret").expect("valid");
        assert!(token.accepts_header(b"Bearer s3cret"));
        assert!(!token.accepts_header(b"Bearer s3cre"));
        assert!(!token.accepts_header(b"Bearer s3cret2"));
        assert!(!token.accepts_header(b"bearer s3cret"));
        assert!(!token.accepts_header(b""));
        assert!(AccessToken::new("has space").is_none());
        assert_eq!(format!("{token:?}"), "AccessToken(<redacted>)");
    }
}
