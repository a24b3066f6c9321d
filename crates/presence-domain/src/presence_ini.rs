//! The UCX `Presence.ini` settings that the gateway honours.
//!
//! - `MSTeamsPresence.Enable` (`1`/`0`, default `0`): whether Teams presence is used.
//! - `RichPresence.WinningTechnology` (`MSTeams` or `SipSimple`, default `SipSimple`):
//!   which technology is shown when both report for a colleague.
//!
//! Lines are `Key=Value`; `;` and `#` start comments; `[Section]` headers are allowed
//! and do not change key names. A line that cannot be understood is an error naming the
//! file and line. Keys this gateway does not use are kept aside with a warning, since
//! the same file also configures other UCX services.

use std::path::{Path, PathBuf};

use crate::WinningTechnology;

/// The settings the gateway takes from `Presence.ini`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PresenceIni {
    pub ms_teams_enabled: bool,
    pub winning_technology: WinningTechnology,
    /// Keys this gateway does not use, with their line numbers.
    pub ignored_keys: Vec<(usize, String)>,
}

/// What is wrong with a `Presence.ini`.
#[derive(Debug, thiserror::Error)]
pub enum PresenceIniError {
    #[error("{path}:{line}: {message}")]
    BadLine {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// The settings used when no `Presence.ini` is given: Teams presence on and winning, as
/// this gateway exists to serve Teams presence. A file that is given starts from the
/// UCX defaults instead (Teams off, SIP SIMPLE winning).
pub const EMBEDDED_DEFAULT: &str = "\
; Embedded default of the UCX presence gateway.
MSTeamsPresence.Enable=1
RichPresence.WinningTechnology=MSTeams
";

impl PresenceIni {
    /// Parses the bytes of a file as read from disk; `path` only names it in errors.
    pub fn from_bytes(bytes: Vec<u8>, path: &Path) -> Result<Self, PresenceIniError> {
        // UCX writes these files on Windows: accept a UTF-8 BOM and Latin-1 bytes.
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(err) => err.into_bytes().iter().map(|&b| b as char).collect(),
        };
        Self::parse(&text, path)
    }

    /// The embedded default settings.
    pub fn embedded_default() -> Self {
        Self::parse(EMBEDDED_DEFAULT, Path::new("<embedded Presence.ini>")).unwrap_or(Self {
            ms_teams_enabled: true,
            winning_technology: WinningTechnology::MsTeams,
            ignored_keys: Vec::new(),
        })
    }

    /// Parses the text of a file; `path` only names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, PresenceIniError> {
        let mut settings = Self::default();
        let bad = |line: usize, message: String| PresenceIniError::BadLine {
            path: path.to_owned(),
            line,
            message,
        };
        for (index, raw_line) in text.lines().enumerate() {
            let line_number = index + 1;
            let line = raw_line.trim_start_matches('\u{feff}').trim();
            if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
                continue;
            }
            if line.starts_with('[') {
                if !line.ends_with(']') || line.len() < 3 {
                    return Err(bad(
                        line_number,
                        format!("malformed section header {line:?}"),
                    ));
                }
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(bad(
                    line_number,
                    format!("expected Key=Value, found {:?}", shorten(line)),
                ));
            };
            let key = key.trim();
            let value = strip_inline_comment(value).trim().trim_matches('"');
            if key.is_empty() {
                return Err(bad(line_number, "a line has a value but no key".to_owned()));
            }
            if key.eq_ignore_ascii_case("MSTeamsPresence.Enable") {
                settings.ms_teams_enabled = match value.to_ascii_lowercase().as_str() {
                    "1" | "true" | "yes" | "on" => true,
                    "0" | "false" | "no" | "off" => false,
                    _ => {
                        return Err(bad(
                            line_number,
                            format!(
                                "MSTeamsPresence.Enable must be 1 or 0, not {:?}",
                                shorten(value)
                            ),
                        ));
                    }
                };
            } else if key.eq_ignore_ascii_case("RichPresence.WinningTechnology") {
                settings.winning_technology = match value.to_ascii_lowercase().as_str() {
                    "msteams" => WinningTechnology::MsTeams,
                    "sipsimple" => WinningTechnology::SipSimple,
                    _ => {
                        return Err(bad(
                            line_number,
                            format!(
                                "RichPresence.WinningTechnology must be MSTeams or SipSimple, not {:?}",
                                shorten(value)
                            ),
                        ));
                    }
                };
            } else {
                settings.ignored_keys.push((line_number, shorten(key)));
            }
        }
        Ok(settings)
    }
}

fn strip_inline_comment(value: &str) -> &str {
    match value.find([';', '#']) {
        Some(at) if value[..at].ends_with(char::is_whitespace) => &value[..at],
        _ => value,
    }
}

fn shorten(text: &str) -> String {
    crate::text::single_line(text, 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<PresenceIni, PresenceIniError> {
        PresenceIni::parse(text, Path::new("Presence.ini"))
    }

    #[test]
    fn defaults_and_values() {
        let s = parse("").expect("empty is fine");
        assert!(!s.ms_teams_enabled);
        assert_eq!(s.winning_technology, WinningTechnology::SipSimple);
        let s = parse("\u{feff}[Presence]\nMSTeamsPresence.Enable = 1 ; on\nRichPresence.WinningTechnology=MSTeams\nOther.Key=5\n")
            .expect("valid");
        assert!(s.ms_teams_enabled);
        assert_eq!(s.winning_technology, WinningTechnology::MsTeams);
        assert_eq!(s.ignored_keys, vec![(4, "Other.Key".to_owned())]);
        let d = PresenceIni::embedded_default();
        assert!(d.ms_teams_enabled);
        assert_eq!(d.winning_technology, WinningTechnology::MsTeams);
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        let err = parse("MSTeamsPresence.Enable=1\nthis is not a setting\n").expect_err("bad");
        assert_eq!(
            err.to_string(),
            "Presence.ini:2: expected Key=Value, found \"this is not a setting\""
        );
        let err = parse("\n\nRichPresence.WinningTechnology=Skype").expect_err("bad");
        assert!(
            err.to_string()
                .starts_with("Presence.ini:3: RichPresence.WinningTechnology must be")
        );
        let err = parse("MSTeamsPresence.Enable=maybe").expect_err("bad");
        assert!(err.to_string().contains(":1:"));
    }
}
