//! The settings dialog's fields as typed, and their checks: pure, so the rules are
//! tested without a window. Applying a draft that passes gives the new
//! [`PanelSettings`]; each field that fails has a message of its own.

use std::path::{Path, PathBuf};

use crate::machine_defaults::{MachineDefaults, check_endpoint, split_endpoints};
use crate::settings::{
    Density, MAX_ENDPOINTS, MAX_OPERATOR_NAME_CHARS, PanelSettings, ThemeChoice,
};

/// Largest CA file read (a bundle of a few hundred certificates).
const MAX_CA_FILE_BYTES: u64 = 1 << 20;

/// What the operator typed in the settings dialog.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingsDraft {
    /// Gateways, one a line (or separated by commas), preferred first.
    pub endpoints: String,
    pub token_file: String,
    pub ca_file: String,
    pub operator_name: String,
    pub theme: ThemeChoice,
    pub density: Density,
    pub start_at_sign_in: bool,
}

/// What is wrong with a draft, field by field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DraftProblems {
    pub endpoints: Option<String>,
    pub token_file: Option<String>,
    pub ca_file: Option<String>,
    pub operator_name: Option<String>,
}

impl DraftProblems {
    pub fn is_empty(&self) -> bool {
        self.endpoints.is_none()
            && self.token_file.is_none()
            && self.ca_file.is_none()
            && self.operator_name.is_none()
    }
}

impl SettingsDraft {
    /// The dialog's fields for `settings` (the user's own values: empty where the
    /// administrator's or the built-in ones apply).
    pub fn from_settings(settings: &PanelSettings) -> Self {
        let path = |p: &Option<PathBuf>| {
            p.as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        };
        Self {
            endpoints: settings.endpoints.join("\n"),
            token_file: path(&settings.token_file),
            ca_file: path(&settings.ca_file),
            operator_name: settings.operator_name.clone(),
            theme: settings.theme,
            density: settings.density,
            start_at_sign_in: settings.start_at_sign_in,
        }
    }

    /// The gateways typed, in order.
    pub fn endpoint_list(&self) -> Vec<String> {
        split_endpoints(&self.endpoints)
    }

    /// Checks every field; the new settings (`current` with the draft applied), or
    /// what is wrong. Fields the administrator locked are neither checked nor applied.
    pub fn apply_to(
        &self,
        current: &PanelSettings,
        machine: &MachineDefaults,
    ) -> Result<PanelSettings, DraftProblems> {
        let mut problems = DraftProblems::default();
        let mut settings = current.clone();
        if !machine.is_locked {
            let endpoints = self.endpoint_list();
            let token_file = optional_path(&self.token_file);
            problems.endpoints = check_endpoints(&endpoints, token_file.is_some());
            problems.token_file = token_file.as_deref().and_then(check_token_file);
            let ca_file = optional_path(&self.ca_file);
            problems.ca_file = ca_file.as_deref().and_then(check_ca_file);
            settings.endpoints = endpoints;
            settings.token_file = token_file;
            settings.ca_file = ca_file;
        }
        let name = self.operator_name.trim();
        if name.chars().count() > MAX_OPERATOR_NAME_CHARS {
            problems.operator_name = Some(format!("At most {MAX_OPERATOR_NAME_CHARS} characters."));
        } else if name.chars().any(char::is_control) {
            problems.operator_name = Some("One line, without control characters.".to_owned());
        }
        settings.operator_name = name.to_owned();
        settings.theme = self.theme;
        settings.density = self.density;
        settings.start_at_sign_in = self.start_at_sign_in;
        if problems.is_empty() {
            Ok(settings)
        } else {
            Err(problems)
        }
    }
}

fn optional_path(text: &str) -> Option<PathBuf> {
    let text = text.trim().trim_matches('"');
    (!text.is_empty()).then(|| PathBuf::from(text))
}

fn check_endpoints(endpoints: &[String], has_token: bool) -> Option<String> {
    if endpoints.len() > MAX_ENDPOINTS {
        return Some(format!("At most {MAX_ENDPOINTS} gateways."));
    }
    for url in endpoints {
        if let Err(why) = check_endpoint(url) {
            return Some(format!("{url}: {why}."));
        }
        if has_token && url.starts_with("http://") && !is_loopback_url(url) {
            return Some(format!(
                "{url}: the token would cross the network in clear text; use https://."
            ));
        }
    }
    None
}

fn is_loopback_url(url: &str) -> bool {
    let Ok(uri) = url.parse::<tonic::codegen::http::Uri>() else {
        return false;
    };
    let host = uri.host().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn check_token_file(path: &Path) -> Option<String> {
    presence_contract::AccessToken::from_file(path)
        .err()
        .map(|err| format!("{err}."))
}

fn check_ca_file(path: &Path) -> Option<String> {
    let size = match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => meta.len(),
        Ok(_) => return Some(format!("{} is not a file.", path.display())),
        Err(err) => return Some(format!("Cannot read {}: {err}.", path.display())),
    };
    if size > MAX_CA_FILE_BYTES {
        return Some(format!(
            "{} is {size} bytes: too large for a file of CA certificates.",
            path.display()
        ));
    }
    match std::fs::read(path) {
        Ok(bytes) if contains(&bytes, b"-----BEGIN CERTIFICATE-----") => None,
        Ok(_) => Some(format!(
            "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----).",
            path.display()
        )),
        Err(err) => Some(format!("Cannot read {}: {err}.", path.display())),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> SettingsDraft {
        SettingsDraft::from_settings(&PanelSettings::default())
    }

    #[test]
    fn a_valid_draft_becomes_the_settings() {
        let dir = tempfile::tempdir().expect("tempdir");
        let token = dir.path().join("token.txt");
        std::fs::write(&token, "s3cret-token-of-enough-length\n").expect("write");
        let ca = dir.path().join("ca.pem");
        std::fs::write(
            &ca,
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        )
        .expect("write");
        let typed = SettingsDraft {
            endpoints: "https://ucx01:50051\n\nhttps://ucx02:50051/\n".into(),
            token_file: token.display().to_string(),
            ca_file: format!("\"{}\"", ca.display()),
            operator_name: "  Front desk 2 ".into(),
            theme: ThemeChoice::Dark,
            density: Density::Compact,
            start_at_sign_in: true,
        };
        let settings = typed
            .apply_to(&PanelSettings::default(), &MachineDefaults::default())
            .expect("valid");
        assert_eq!(
            settings.endpoints,
            vec!["https://ucx01:50051", "https://ucx02:50051"]
        );
        assert_eq!(settings.token_file.as_deref(), Some(token.as_path()));
        assert_eq!(settings.ca_file.as_deref(), Some(ca.as_path()));
        assert_eq!(settings.operator_name, "Front desk 2");
        assert_eq!(settings.theme, ThemeChoice::Dark);
        assert!(settings.start_at_sign_in);
        assert_eq!(
            SettingsDraft::from_settings(&settings).endpoint_list(),
            settings.endpoints
        );
    }

    #[test]
    fn each_bad_field_has_its_message() {
        let dir = tempfile::tempdir().expect("tempdir");
        let not_pem = dir.path().join("ca.txt");
        std::fs::write(&not_pem, "hello").expect("write");
        let typed = SettingsDraft {
            endpoints: "ucx01:50051".into(),
            token_file: dir.path().join("missing.txt").display().to_string(),
            ca_file: not_pem.display().to_string(),
            operator_name: "x".repeat(65),
            ..draft()
        };
        let problems = typed
            .apply_to(&PanelSettings::default(), &MachineDefaults::default())
            .expect_err("invalid");
        assert!(
            problems
                .endpoints
                .expect("endpoint")
                .contains("http:// or https://")
        );
        assert!(problems.token_file.is_some());
        assert!(problems.ca_file.expect("ca").contains("no PEM certificate"));
        assert!(problems.operator_name.is_some());
    }

    #[test]
    fn a_token_is_never_sent_in_clear_text_off_this_machine() {
        let dir = tempfile::tempdir().expect("tempdir");
        let token = dir.path().join("token.txt");
        std::fs::write(&token, "s3cret-token-of-enough-length\n").expect("write");
        let with_token = |endpoints: &str| SettingsDraft {
            endpoints: endpoints.into(),
            token_file: token.display().to_string(),
            ..draft()
        };
        let machine = MachineDefaults::default();
        let current = PanelSettings::default();
        let refused = with_token("http://ucx01:50051")
            .apply_to(&current, &machine)
            .expect_err("clear text");
        assert!(refused.endpoints.expect("why").contains("https://"));
        assert!(
            with_token("http://127.0.0.1:50051")
                .apply_to(&current, &machine)
                .is_ok()
        );
        assert!(
            with_token("http://localhost:50051")
                .apply_to(&current, &machine)
                .is_ok()
        );
        assert!(
            with_token("https://ucx01:50051")
                .apply_to(&current, &machine)
                .is_ok()
        );
    }

    #[test]
    fn locked_fields_are_neither_checked_nor_applied() {
        let machine = MachineDefaults {
            endpoints: vec!["https://ucx01:50051".into()],
            is_locked: true,
            ..MachineDefaults::default()
        };
        let typed = SettingsDraft {
            endpoints: "not a url".into(),
            operator_name: "Desk 1".into(),
            ..draft()
        };
        let settings = typed
            .apply_to(&PanelSettings::default(), &machine)
            .expect("the locked field is not checked");
        assert!(settings.endpoints.is_empty());
        assert_eq!(settings.operator_name, "Desk 1");
    }
}
