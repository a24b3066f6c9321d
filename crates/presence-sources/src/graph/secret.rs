//! A token or other secret that must never reach a log: its `Debug` prints
//! `<redacted>`, and it has no `Display`. Read it only where it is sent.

use serde::{Deserialize, Serialize};

/// A secret string (access token, refresh token, device code).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place it is sent.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts() {
        let secret = Secret::new("eyJ0eXAiOiJKV1Qi");
        let shown = format!("{secret:?} {:?}", Some(&secret));
        assert!(!shown.contains("eyJ"));
        assert!(shown.contains("redacted"));
        assert_eq!(secret.expose(), "eyJ0eXAiOiJKV1Qi");
    }
}
