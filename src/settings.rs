//! The panel's persisted settings: one TOML file in the per-user config folder
//! (`%APPDATA%\UCX\Presence Panel\config\settings.toml` on Windows,
//! `~/.config/presencepanel/settings.toml` on Linux).
//!
//! A damaged file never stops the panel: it starts on defaults and shows a warning.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::machine_defaults::{MachineDefaults, check_endpoint};
use crate::persisted_file::{move_aside, project_dirs, write_atomically};

pub use presence_contract::DEFAULT_ENDPOINT;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ThemeChoice {
    #[default]
    Light,
    Dark,
    System,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    /// Best match first, then by name.
    #[default]
    Relevance,
    /// Who can take a call first.
    Status,
}

/// How much the list and the board fit on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Density {
    /// Two lines a colleague: status message, UPN, department and title.
    #[default]
    Comfortable,
    /// One line a colleague: over 40 rows on a 1080p screen.
    Compact,
}

/// Most gateways a panel fails over between.
pub const MAX_ENDPOINTS: usize = 8;

/// Text sizes offered (egui's zoom factor).
pub const TEXT_SCALES: [f32; 5] = [0.85, 1.0, 1.15, 1.3, 1.5];

/// Everything the panel remembers between runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PanelSettings {
    /// The presence gateways, preferred first, e.g. `https://ucx01:50051`. Empty: the
    /// administrator's (see [`MachineDefaults`]), else `http://127.0.0.1:50051`.
    pub endpoints: Vec<String>,
    /// `endpoint`, the single gateway of files written before `endpoints`: read (and
    /// moved into `endpoints`), never written.
    #[serde(rename = "endpoint", skip_serializing)]
    pub legacy_endpoint: Option<String>,
    /// A file holding the gateway's access token (never the token itself).
    pub token_file: Option<PathBuf>,
    /// With an `https://` gateway: a PEM file of extra CA certificates (a company CA).
    pub ca_file: Option<PathBuf>,
    /// With an `https://` gateway that asks for one: a PEM client certificate and key.
    pub client_cert_file: Option<PathBuf>,
    pub client_key_file: Option<PathBuf>,
    pub window_width: f32,
    pub window_height: f32,
    pub theme: ThemeChoice,
    pub sort: SortOrder,
    pub available_only: bool,
    pub density: Density,
    /// The size of everything drawn, 1.0 as designed (one of [`TEXT_SCALES`]).
    pub text_scale: f32,
    /// Whether the board of favourites and groups is shown beside the list.
    pub is_board_shown: bool,
    /// The board's width, in points.
    pub board_width: f32,
    /// Who is at this console, shown in the title bar (empty: nobody named).
    pub operator_name: String,
    /// Start the panel when the user signs in.
    pub start_at_sign_in: bool,
}

/// Longest operator name kept.
pub const MAX_OPERATOR_NAME_CHARS: usize = 64;

impl Default for PanelSettings {
    fn default() -> Self {
        Self {
            endpoints: Vec::new(),
            legacy_endpoint: None,
            token_file: None,
            ca_file: None,
            client_cert_file: None,
            client_key_file: None,
            window_width: 1100.0,
            window_height: 760.0,
            theme: ThemeChoice::Light,
            sort: SortOrder::Relevance,
            available_only: false,
            density: Density::Comfortable,
            text_scale: 1.0,
            is_board_shown: true,
            board_width: 380.0,
            operator_name: String::new(),
            start_at_sign_in: false,
        }
    }
}

/// Where the link connects, and why there (for the settings dialog).
#[derive(Debug, Clone, PartialEq)]
pub struct EffectiveConnection {
    pub endpoints: Vec<String>,
    pub token_file: Option<PathBuf>,
    pub tls: presence_contract::ClientTls,
}

/// Settings as loaded, with a warning to show when the file was damaged.
#[derive(Debug, Clone)]
pub struct LoadedSettings {
    pub settings: PanelSettings,
    pub warning: Option<String>,
    /// Where to save them; `None` when saving would destroy a file that could not be
    /// read or moved aside.
    pub path: Option<PathBuf>,
}

/// The settings file's path in the per-user config folder.
pub fn default_path() -> Option<PathBuf> {
    project_dirs().map(|dirs| dirs.config_dir().join("settings.toml"))
}

impl PanelSettings {
    /// Loads from `path`; a missing file means defaults. A damaged one is moved aside
    /// (never overwritten: it may hold an endpoint someone typed) and means defaults
    /// plus a warning saying where it went; an unreadable one means defaults, a
    /// warning, and no saving.
    pub fn load(path: Option<&Path>) -> LoadedSettings {
        let Some(path) = path else {
            return LoadedSettings {
                settings: Self::default(),
                warning: Some("No per-user config folder: settings will not be saved.".to_owned()),
                path: None,
            };
        };
        let unsaved = |warning: String| LoadedSettings {
            settings: Self::default(),
            warning: Some(warning),
            path: None,
        };
        let (settings, warning) = match std::fs::read_to_string(path) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => (Self::default(), None),
            Err(err) => {
                return unsaved(format!(
                    "Cannot read settings from {}: {err}. Using defaults; settings will not be saved.",
                    path.display()
                ));
            }
            Ok(text) => match toml::from_str::<Self>(&text) {
                Ok(settings) => settings.sanitized(),
                Err(err) => {
                    let reason = presence_domain::text::single_line(err.message(), 120);
                    match move_aside(path) {
                        Ok(aside) => (
                            Self::default(),
                            Some(format!(
                                "Settings file {} was damaged ({reason}). It is kept as {}; the panel uses defaults.",
                                path.display(),
                                aside.display()
                            )),
                        ),
                        Err(move_err) => {
                            return unsaved(format!(
                                "Settings file {} is damaged ({reason}) and cannot be moved aside ({move_err}). Using defaults; settings will not be saved.",
                                path.display()
                            ));
                        }
                    }
                }
            },
        };
        LoadedSettings {
            settings,
            warning,
            path: Some(path.to_owned()),
        }
    }

    /// Clamps absurd values back into range.
    fn sanitized(mut self) -> (Self, Option<String>) {
        let mut problems = Vec::new();
        if !(self.window_width.is_finite() && (320.0..=10_000.0).contains(&self.window_width)) {
            self.window_width = Self::default().window_width;
            problems.push("window_width");
        }
        if !(self.window_height.is_finite() && (240.0..=10_000.0).contains(&self.window_height)) {
            self.window_height = Self::default().window_height;
            problems.push("window_height");
        }
        if !(self.text_scale.is_finite() && (0.5..=3.0).contains(&self.text_scale)) {
            self.text_scale = 1.0;
            problems.push("text_scale");
        }
        if !(self.board_width.is_finite() && (160.0..=4_000.0).contains(&self.board_width)) {
            self.board_width = Self::default().board_width;
            problems.push("board_width");
        }
        if let Some(legacy) = self.legacy_endpoint.take()
            && self.endpoints.is_empty()
        {
            self.endpoints.push(legacy);
        }
        let count = self.endpoints.len();
        self.endpoints.retain(|url| check_endpoint(url).is_ok());
        self.endpoints.truncate(MAX_ENDPOINTS);
        if self.endpoints.len() != count {
            problems.push("endpoints");
        }
        let name = presence_domain::text::single_line(&self.operator_name, MAX_OPERATOR_NAME_CHARS);
        if name != self.operator_name {
            self.operator_name = name;
            problems.push("operator_name");
        }
        let warning = (!problems.is_empty()).then(|| {
            format!(
                "Settings out of range were reset to defaults: {}.",
                problems.join(", ")
            )
        });
        (self, warning)
    }

    /// Where to connect: the administrator's values where they are locked or where the
    /// user set nothing, the user's otherwise, and the built-in default last.
    pub fn effective_connection(&self, machine: &MachineDefaults) -> EffectiveConnection {
        let is_user_allowed = !machine.is_locked;
        let endpoints = if is_user_allowed && !self.endpoints.is_empty() {
            self.endpoints.clone()
        } else if !machine.endpoints.is_empty() {
            machine.endpoints.clone()
        } else if !self.endpoints.is_empty() {
            // Locked, but the administrator named no gateway: the user's stand.
            self.endpoints.clone()
        } else {
            vec![DEFAULT_ENDPOINT.to_owned()]
        };
        let pick = |user: &Option<PathBuf>, admin: &Option<PathBuf>| match (
            is_user_allowed,
            user,
            admin,
        ) {
            (_, _, Some(admin)) if !is_user_allowed => Some(admin.clone()),
            (_, Some(user), _) => Some(user.clone()),
            (_, None, admin) => admin.clone(),
        };
        EffectiveConnection {
            endpoints,
            token_file: pick(&self.token_file, &machine.token_file),
            tls: presence_contract::ClientTls {
                ca_file: pick(&self.ca_file, &machine.ca_file),
                client_cert_file: self.client_cert_file.clone(),
                client_key_file: self.client_key_file.clone(),
            },
        }
    }

    /// Writes the settings atomically (temp file, then rename).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let text = toml::to_string_pretty(self).map_err(std::io::Error::other)?;
        write_atomically(path, &text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_missing_and_damaged() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("settings.toml");
        let loaded = PanelSettings::load(Some(&path));
        assert_eq!(loaded.settings, PanelSettings::default());
        assert!(loaded.warning.is_none());

        let settings = PanelSettings {
            theme: ThemeChoice::Dark,
            endpoints: vec!["https://ucx01:50051".into(), "https://ucx02:50051".into()],
            operator_name: "Front desk".into(),
            start_at_sign_in: true,
            density: Density::Compact,
            text_scale: 1.15,
            is_board_shown: false,
            board_width: 512.0,
            ..PanelSettings::default()
        };
        settings.save(&path).expect("saved");
        assert_eq!(PanelSettings::load(Some(&path)).settings, settings);

        std::fs::write(&path, "endpoint = [not toml").expect("write");
        let loaded = PanelSettings::load(Some(&path));
        assert_eq!(loaded.settings, PanelSettings::default());
        assert!(loaded.warning.expect("warned").contains("damaged"));

        std::fs::write(
            &path,
            "window_width = 1e30\ntext_scale = -4.0\ntheme = \"dark\"\n",
        )
        .expect("write");
        let loaded = PanelSettings::load(Some(&path));
        assert_eq!(
            loaded.settings.window_width,
            PanelSettings::default().window_width
        );
        assert_eq!(loaded.settings.theme, ThemeChoice::Dark);
        assert_eq!(loaded.settings.text_scale, 1.0);
        assert!(loaded.warning.expect("warned").contains("text_scale"));
    }

    #[test]
    fn a_file_with_one_endpoint_is_read_as_a_list() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("settings.toml");
        std::fs::write(&path, "endpoint = \"https://ucx01:50051\"\n").expect("write");
        let loaded = PanelSettings::load(Some(&path));
        assert_eq!(loaded.settings.endpoints, vec!["https://ucx01:50051"]);
        assert!(loaded.warning.is_none());
        loaded.settings.save(&path).expect("saved");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(
            text.contains("endpoints = [\"https://ucx01:50051\"]"),
            "{text}"
        );
        assert!(!text.contains("endpoint ="), "{text}");

        std::fs::write(&path, "endpoints = [\"ucx01\", \"https://ucx02:50051\"]\n").expect("write");
        let loaded = PanelSettings::load(Some(&path));
        assert_eq!(loaded.settings.endpoints, vec!["https://ucx02:50051"]);
        assert!(loaded.warning.expect("warned").contains("endpoints"));
    }

    #[test]
    fn the_administrators_defaults_apply_where_the_user_set_nothing_or_they_are_locked() {
        let machine = MachineDefaults {
            endpoints: vec!["https://ucx01:50051".into(), "https://ucx02:50051".into()],
            token_file: Some(PathBuf::from("/etc/ucx/token")),
            ca_file: Some(PathBuf::from("/etc/ucx/ca.pem")),
            ..MachineDefaults::default()
        };
        let nothing_set = PanelSettings::default();
        let effective = nothing_set.effective_connection(&machine);
        assert_eq!(effective.endpoints, machine.endpoints);
        assert_eq!(effective.token_file, machine.token_file);
        assert_eq!(effective.tls.ca_file, machine.ca_file);
        assert_eq!(
            nothing_set
                .effective_connection(&MachineDefaults::default())
                .endpoints,
            vec![DEFAULT_ENDPOINT]
        );

        let user = PanelSettings {
            endpoints: vec!["https://mine:50051".into()],
            token_file: Some(PathBuf::from("/home/me/token")),
            ..PanelSettings::default()
        };
        let effective = user.effective_connection(&machine);
        assert_eq!(effective.endpoints, vec!["https://mine:50051"]);
        assert_eq!(effective.token_file, user.token_file);
        assert_eq!(
            effective.tls.ca_file, machine.ca_file,
            "not set by the user"
        );

        let locked = MachineDefaults {
            is_locked: true,
            ..machine.clone()
        };
        let effective = user.effective_connection(&locked);
        assert_eq!(effective.endpoints, machine.endpoints);
        assert_eq!(effective.token_file, machine.token_file);
    }

    #[test]
    fn a_damaged_file_is_kept_aside_never_overwritten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("settings.toml");
        let damaged = "endpoint = \"https://ucx01:50051\"\ntheme = [oops\n";
        for round in 1..=2 {
            std::fs::write(&path, damaged).expect("write");
            let loaded = PanelSettings::load(Some(&path));
            assert_eq!(loaded.settings, PanelSettings::default());
            let warning = loaded.warning.expect("warned");
            assert!(warning.contains("It is kept as"), "{warning}");
            assert_eq!(
                loaded.path.as_deref(),
                Some(path.as_path()),
                "saving is safe"
            );
            assert!(!path.exists(), "moved away before anything is saved");
            let kept: Vec<_> = std::fs::read_dir(dir.path())
                .expect("list")
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().contains(".damaged-"))
                .collect();
            assert_eq!(kept.len(), round, "each damaged copy is kept");
            for entry in kept {
                assert_eq!(
                    std::fs::read_to_string(entry.path()).expect("read"),
                    damaged
                );
            }
        }
        // What cannot be read is not overwritten either.
        let unreadable = dir.path().join("folder.toml");
        std::fs::create_dir(&unreadable).expect("mkdir");
        let loaded = PanelSettings::load(Some(&unreadable));
        assert!(loaded.path.is_none(), "settings will not be saved");
        assert!(
            loaded
                .warning
                .expect("warned")
                .contains("will not be saved")
        );
    }
}
