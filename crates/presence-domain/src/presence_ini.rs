//! The UCX `Presence.ini` settings that the gateway honours.
//!
//! - `MSTeamsPresence.Enable` (`1`/`0`, default `0`): whether Teams presence is used.
//! - `RichPresence.WinningTechnology` (`MSTeams` or `SipSimple`, default `SipSimple`):
//!   which technology is shown when both report for a colleague.
//!
//! Lines are `Key=Value`; `;` and `#` start comments. Under a `[Section]` header a key
//! without a dot is read as `Section.Key` (`[MSTeamsPresence]` then `Enable=1`); dotted
//! keys keep their names. A line that cannot be understood, or a setting given twice, is
//! an error naming the file and line. Keys this gateway does not use are kept aside with
//! a warning, since the same file also configures other UCX services. Files may be
//! UTF-8 (with or without a BOM), UTF-16 with a BOM (what Windows Notepad writes), or
//! Latin-1.

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
    #[error("{path}: the file starts with a UTF-16 byte-order mark but is not valid UTF-16")]
    BadEncoding { path: PathBuf },
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
        let text = decode(bytes).ok_or_else(|| PresenceIniError::BadEncoding {
            path: path.to_owned(),
        })?;
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
        let mut section = String::new();
        let mut enable_line: Option<usize> = None;
        let mut winning_line: Option<usize> = None;
        let once = |seen: &mut Option<usize>, key: &str, line: usize| match *seen {
            Some(first) => Err(bad(
                line,
                format!("{key} is set again (first on line {first}); keep one of the two"),
            )),
            None => {
                *seen = Some(line);
                Ok(())
            }
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
                section = line[1..line.len() - 1].trim().to_owned();
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
            let qualified;
            let key = if section.is_empty() || key.contains('.') {
                key
            } else {
                qualified = format!("{section}.{key}");
                qualified.as_str()
            };
            if key.eq_ignore_ascii_case("MSTeamsPresence.Enable") {
                once(&mut enable_line, "MSTeamsPresence.Enable", line_number)?;
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
                once(
                    &mut winning_line,
                    "RichPresence.WinningTechnology",
                    line_number,
                )?;
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

/// The text of a file: UTF-16 (little or big endian) after its byte-order mark, else
/// UTF-8 (a BOM is skipped by the parser), else Latin-1. `None`: a UTF-16 BOM followed
/// by something that is not UTF-16.
fn decode(bytes: Vec<u8>) -> Option<String> {
    let utf16 = |rest: &[u8], from_bytes: fn([u8; 2]) -> u16| {
        if !rest.len().is_multiple_of(2) {
            return None;
        }
        let units = rest
            .chunks_exact(2)
            .map(|pair| from_bytes([pair[0], pair[1]]));
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .ok()
    };
    match bytes.as_slice() {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        _ => Some(match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(err) => err.into_bytes().iter().map(|&b| char::from(b)).collect(),
        }),
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

    fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
        let mut bytes = if big_endian {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for unit in text.encode_utf16() {
            bytes.extend(if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            });
        }
        bytes
    }

    #[test]
    fn notepad_utf16_files_are_read_as_written() {
        let text = "; Ünïcode note\r\nMSTeamsPresence.Enable=1\r\nRichPresence.WinningTechnology=MSTeams\r\n";
        for big_endian in [false, true] {
            let s = PresenceIni::from_bytes(utf16(text, big_endian), Path::new("Presence.ini"))
                .expect("valid UTF-16");
            assert!(s.ms_teams_enabled, "big endian: {big_endian}");
            assert_eq!(s.winning_technology, WinningTechnology::MsTeams);
        }
        let mut broken = utf16("MSTeamsPresence.Enable=1", false);
        broken.push(0x41);
        let err =
            PresenceIni::from_bytes(broken, Path::new("Presence.ini")).expect_err("odd length");
        assert!(err.to_string().contains("not valid UTF-16"), "{err}");
        // UTF-8 with a BOM and Latin-1 still read.
        let s = PresenceIni::from_bytes(
            b"\xEF\xBB\xBFMSTeamsPresence.Enable=1\n".to_vec(),
            Path::new("Presence.ini"),
        )
        .expect("UTF-8 with BOM");
        assert!(s.ms_teams_enabled);
        let s = PresenceIni::from_bytes(
            b"; caf\xE9\nMSTeamsPresence.Enable=1\n".to_vec(),
            Path::new("Presence.ini"),
        )
        .expect("Latin-1");
        assert!(s.ms_teams_enabled);
    }

    #[test]
    fn section_forms_and_settings_given_twice() {
        let s = parse("[MSTeamsPresence]\nEnable=1\n[RichPresence]\nWinningTechnology=MSTeams\n")
            .expect("section form");
        assert!(s.ms_teams_enabled);
        assert_eq!(s.winning_technology, WinningTechnology::MsTeams);
        let s = parse("[Other]\nEnable=1\n").expect("another service's key");
        assert!(!s.ms_teams_enabled);
        assert_eq!(s.ignored_keys, vec![(2, "Other.Enable".to_owned())]);
        let err = parse("MSTeamsPresence.Enable=1\n; later\nMSTeamsPresence.Enable=0\n")
            .expect_err("twice");
        assert_eq!(
            err.to_string(),
            "Presence.ini:3: MSTeamsPresence.Enable is set again (first on line 1); keep one of the two"
        );
        let err = parse(
            "RichPresence.WinningTechnology=MSTeams\n[RichPresence]\nWinningTechnology=SipSimple\n",
        )
        .expect_err("twice, once in section form");
        assert!(err.to_string().starts_with("Presence.ini:3:"), "{err}");
    }
}
