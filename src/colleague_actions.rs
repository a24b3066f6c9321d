//! What the operator can do with a colleague besides watching them: copy their UPN, mail
//! or phone number, open a Teams chat or call (Teams deep links), dial their number
//! through the OS's `tel:` handler (the operator's softphone).
//!
//! URLs are built here (pure) and opened by a [`LinkOpener`]: the system's (through the
//! OS, never a shell command line) or, in tests, one that records what would be opened.

use std::sync::Mutex;

/// An action on one colleague.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColleagueAction {
    CopyUpn,
    CopyMail,
    CopyPhone,
    TeamsChat,
    TeamsCall,
    DialPhone,
}

impl ColleagueAction {
    pub const ALL: [ColleagueAction; 6] = [
        ColleagueAction::TeamsChat,
        ColleagueAction::TeamsCall,
        ColleagueAction::DialPhone,
        ColleagueAction::CopyUpn,
        ColleagueAction::CopyMail,
        ColleagueAction::CopyPhone,
    ];

    /// The button's label.
    pub fn label(self) -> &'static str {
        match self {
            ColleagueAction::CopyUpn => "Copy UPN",
            ColleagueAction::CopyMail => "Copy mail",
            ColleagueAction::CopyPhone => "Copy phone",
            ColleagueAction::TeamsChat => "Chat in Teams",
            ColleagueAction::TeamsCall => "Call in Teams",
            ColleagueAction::DialPhone => "Dial phone",
        }
    }
}

/// The Teams deep link that opens a chat with `upn`.
pub fn teams_chat_url(upn: &str) -> String {
    format!(
        "https://teams.microsoft.com/l/chat/0/0?users={}",
        query_encode(upn.trim())
    )
}

/// The Teams deep link that starts an audio call with `upn`.
pub fn teams_call_url(upn: &str) -> String {
    format!(
        "https://teams.microsoft.com/l/call/0/0?users={}",
        query_encode(upn.trim())
    )
}

/// A `tel:` URL (RFC 3966) for a number as directories write it ("+44 20 7946 0018",
/// "(030) 1234-567", "+1 555 0100 ext. 12"); `None` when it holds no digits.
pub fn tel_url(phone: &str) -> Option<String> {
    let lower = phone.to_lowercase();
    // The earliest marker wins (the longest where two start at one place: ";ext=").
    let (main, extension) = match [";ext=", "ext.", "ext", "x"]
        .iter()
        .filter_map(|mark| lower.find(mark).map(|at| (at, mark.len())))
        .min_by_key(|&(at, len)| (at, usize::MAX - len))
    {
        Some((at, len)) => (&lower[..at], Some(&lower[at + len..])),
        None => (lower.as_str(), None),
    };
    let mut number = String::new();
    for (i, c) in main.trim().chars().enumerate() {
        match c {
            '0'..='9' | '*' | '#' => number.push(c),
            '+' if i == 0 => number.push(c),
            ' ' | '-' | '.' | '(' | ')' | '/' | '\u{a0}' => {}
            _ => return None,
        }
    }
    if !number.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    // '#' is a fragment marker in a URL: RFC 3966 wants it escaped.
    let mut url = format!("tel:{}", number.replace('#', "%23"));
    if let Some(extension) = extension {
        let digits: String = extension.chars().filter(char::is_ascii_digit).collect();
        if !digits.is_empty() {
            url.push_str(";ext=");
            url.push_str(&digits);
        }
    }
    Some(url)
}

/// Percent-encodes everything but unreserved characters and `@` (which Teams expects
/// plain in `users=`).
fn query_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'@' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Opens a URL the panel built (https or tel).
pub trait LinkOpener: Send + Sync {
    /// Starts opening `url`; never blocks the caller.
    fn open(&self, url: &str);
}

/// Opens through the OS: the registered handler of the URL's scheme (the browser or the
/// Teams app for Teams links, the softphone for `tel:`), with the URL passed as one
/// argument, never through a shell.
#[derive(Debug, Default)]
pub struct SystemLinkOpener;

impl LinkOpener for SystemLinkOpener {
    fn open(&self, url: &str) {
        if !(url.starts_with("https://") || url.starts_with("tel:")) {
            tracing::warn!(%url, "refusing to open a URL the panel did not build");
            return;
        }
        let url = url.to_owned();
        let spawned = std::thread::Builder::new()
            .name("link-opener".into())
            .spawn(move || {
                if let Err(err) = open::that_detached(&url) {
                    tracing::warn!(%err, %url, "cannot open the link");
                }
            });
        if let Err(err) = spawned {
            tracing::warn!(%err, "cannot start opening the link");
        }
    }
}

/// Records what would be opened, for tests.
#[derive(Debug, Default)]
pub struct RecordingLinkOpener {
    opened: Mutex<Vec<String>>,
}

impl RecordingLinkOpener {
    pub fn opened(&self) -> Vec<String> {
        self.opened.lock().map(|o| o.clone()).unwrap_or_default()
    }
}

impl LinkOpener for RecordingLinkOpener {
    fn open(&self, url: &str) {
        if let Ok(mut opened) = self.opened.lock() {
            opened.push(url.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teams_deep_links_carry_the_upn() {
        assert_eq!(
            teams_chat_url("anna.rossi@contoso.com"),
            "https://teams.microsoft.com/l/chat/0/0?users=anna.rossi@contoso.com"
        );
        assert_eq!(
            teams_call_url(" o'neil+desk@contoso.com "),
            "https://teams.microsoft.com/l/call/0/0?users=o%27neil%2Bdesk@contoso.com"
        );
    }

    #[test]
    fn phone_numbers_become_tel_urls_or_nothing() {
        assert_eq!(
            tel_url("+44 20 7946 0018").as_deref(),
            Some("tel:+442079460018")
        );
        assert_eq!(tel_url("(030) 1234-567").as_deref(), Some("tel:0301234567"));
        assert_eq!(
            tel_url("+1 555 0100 ext. 12").as_deref(),
            Some("tel:+15550100;ext=12")
        );
        assert_eq!(tel_url("*21#").as_deref(), Some("tel:*21%23"));
        assert_eq!(
            tel_url("+44 20 7946 0018;ext=12").as_deref(),
            Some("tel:+442079460018;ext=12")
        );
        assert_eq!(tel_url("555 0100 x7").as_deref(), Some("tel:5550100;ext=7"));
        assert_eq!(tel_url(""), None);
        assert_eq!(tel_url("call me"), None);
        assert_eq!(
            tel_url("123; rm -rf /"),
            None,
            "nothing but a number passes"
        );
        assert_eq!(tel_url("12+3"), None);
    }
}
