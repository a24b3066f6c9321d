//! The JSON shapes Microsoft Graph answers with, and their mapping to the domain.
//!
//! Pure: no HTTP, no clock reads except the `now` handed in. Every element of a page is
//! decoded on its own, so one malformed user or presence is skipped without losing the
//! rest of the page. Availability and activity are open strings: values unknown here map
//! to unknown while their raw text travels on. Must never fail a page for an unknown value.

use std::time::{Duration, SystemTime};

use serde::Deserialize;

use presence_domain::text::single_line;
use presence_domain::{Colleague, OutOfOffice, Presence, StatusMessage};

/// Longest status or out-of-office message kept, in characters.
pub const MAX_MESSAGE_CHARS: usize = 500;

/// Why a body could not be decoded at all.
#[derive(Debug, thiserror::Error)]
#[error("malformed JSON from Graph: {0}")]
pub struct MalformedBody(#[from] serde_json::Error);

/// One page of `GET /v1.0/users`.
#[derive(Debug, Default)]
pub struct UsersPage {
    pub users: Vec<Colleague>,
    /// Elements of `value` that were not users (skipped).
    pub skipped: usize,
    /// `@odata.nextLink`: the full URL of the next page.
    pub next_link: Option<String>,
}

/// One answer of `POST /v1.0/communications/getPresencesByUserId`.
#[derive(Debug, Default)]
pub struct PresencePage {
    /// `(Entra object id, presence without its UPN yet)`.
    pub presences: Vec<(String, GraphPresence)>,
    pub skipped: usize,
}

#[derive(Deserialize)]
struct Page {
    value: Vec<serde_json::Value>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphUser {
    id: String,
    user_principal_name: Option<String>,
    display_name: Option<String>,
    given_name: Option<String>,
    surname: Option<String>,
    mail: Option<String>,
}

/// A presence as Graph reports it (the fields this gateway uses).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct GraphPresence {
    pub id: String,
    #[serde(default)]
    pub availability: Option<String>,
    #[serde(default)]
    pub activity: Option<String>,
    #[serde(default)]
    pub status_message: Option<GraphStatusMessage>,
    #[serde(default)]
    pub out_of_office_settings: Option<GraphOutOfOffice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct GraphStatusMessage {
    #[serde(default)]
    pub message: Option<ItemBody>,
    #[serde(default)]
    pub expiry_date_time: Option<DateTimeTimeZone>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ItemBody {
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DateTimeTimeZone {
    #[serde(default)]
    pub date_time: Option<String>,
    #[serde(default)]
    pub time_zone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct GraphOutOfOffice {
    #[serde(default)]
    pub is_out_of_office: Option<bool>,
    #[serde(default)]
    pub message: Option<String>,
}

/// Decodes a page of users. Users without an id or UPN are skipped.
pub fn parse_users_page(body: &[u8]) -> Result<UsersPage, MalformedBody> {
    let page: Page = serde_json::from_slice(body)?;
    let mut out = UsersPage {
        next_link: page.next_link.filter(|link| !link.is_empty()),
        ..UsersPage::default()
    };
    for element in page.value {
        match serde_json::from_value::<GraphUser>(element) {
            Ok(user) => match colleague_from(user) {
                Some(colleague) => out.users.push(colleague),
                None => out.skipped += 1,
            },
            Err(_) => out.skipped += 1,
        }
    }
    Ok(out)
}

fn colleague_from(user: GraphUser) -> Option<Colleague> {
    let upn = single_line(user.user_principal_name.as_deref()?.trim(), 320);
    if user.id.trim().is_empty() || upn.is_empty() {
        return None;
    }
    let text = |value: Option<String>| single_line(value.as_deref().unwrap_or(""), 256);
    let display_name = match text(user.display_name) {
        name if name.is_empty() => upn.clone(),
        name => name,
    };
    // User.ReadBasic.All cannot read department, job title, office or phones: they stay
    // empty rather than being guessed.
    Some(Colleague {
        id: user.id,
        upn,
        display_name,
        given_name: text(user.given_name),
        surname: text(user.surname),
        mail: text(user.mail),
        ..Colleague::default()
    })
}

/// Decodes an answer of `getPresencesByUserId`. Elements without an id are skipped.
pub fn parse_presence_page(body: &[u8]) -> Result<PresencePage, MalformedBody> {
    let page: Page = serde_json::from_slice(body)?;
    let mut out = PresencePage::default();
    for element in page.value {
        match serde_json::from_value::<GraphPresence>(element) {
            Ok(presence) if !presence.id.is_empty() => {
                out.presences.push((presence.id.clone(), presence));
            }
            _ => out.skipped += 1,
        }
    }
    Ok(out)
}

impl GraphPresence {
    /// The domain presence of `upn`; `since` is left to the caller (Graph does not say).
    pub fn to_domain(&self, upn: &str) -> Presence {
        let mut presence = Presence::from_graph_strings(
            upn,
            self.availability.as_deref().unwrap_or(""),
            self.activity.as_deref().unwrap_or(""),
        );
        presence.status_message = self.status_message.as_ref().and_then(status_message_from);
        if let Some(oof) = &self.out_of_office_settings {
            presence.out_of_office = OutOfOffice {
                is_out_of_office: oof.is_out_of_office.unwrap_or(false),
                message: single_line(oof.message.as_deref().unwrap_or(""), MAX_MESSAGE_CHARS),
            };
        }
        presence
    }
}

fn status_message_from(message: &GraphStatusMessage) -> Option<StatusMessage> {
    let body = message.message.as_ref()?;
    let content = body.content.as_deref().unwrap_or("");
    let is_html = body
        .content_type
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("html"));
    let text = if is_html {
        html_to_text(content)
    } else {
        content.to_owned()
    };
    let text = single_line(&text, MAX_MESSAGE_CHARS);
    if text.trim().is_empty() {
        return None;
    }
    Some(StatusMessage {
        text,
        expires_at: message.expiry_date_time.as_ref().and_then(expiry_from),
    })
}

/// Graph's `dateTimeTimeZone` as a point in time. Presence expiries come in UTC; other
/// zones cannot be converted without a time-zone database, so they count as no expiry.
/// Graph writes "never" as a date in year 9999, which is kept as no expiry.
fn expiry_from(value: &DateTimeTimeZone) -> Option<SystemTime> {
    let zone = value.time_zone.as_deref().unwrap_or("UTC");
    if !(zone.eq_ignore_ascii_case("UTC") || zone.eq_ignore_ascii_case("Etc/UTC")) {
        return None;
    }
    let raw = value.date_time.as_deref()?.trim().trim_end_matches('Z');
    let parsed = chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    let secs = parsed.and_utc().timestamp();
    if chrono::Datelike::year(&parsed) >= 9999 || secs < 0 {
        return None;
    }
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs as u64))
}

/// Removes tags and decodes the common entities of a status message written as HTML.
fn html_to_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut is_in_tag = false;
    for c in html.chars() {
        match c {
            '<' => is_in_tag = true,
            '>' if is_in_tag => {
                is_in_tag = false;
                text.push(' ');
            }
            _ if !is_in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use presence_domain::{Activity, Availability};

    #[test]
    fn users_page_skips_bad_elements_and_keeps_next_link() {
        let body = br#"{"@odata.nextLink":"https://graph/next","value":[
            {"id":"1","userPrincipalName":"anna@contoso.com","displayName":"Anna Rossi",
             "givenName":"Anna","surname":"Rossi","mail":"anna@contoso.com"},
            {"id":"2","displayName":"No UPN"},
            {"id":3},
            {"id":"4","userPrincipalName":"room@contoso.com","displayName":null}
        ]}"#;
        let page = parse_users_page(body).expect("valid page");
        assert_eq!(page.next_link.as_deref(), Some("https://graph/next"));
        assert_eq!(page.skipped, 2);
        assert_eq!(page.users.len(), 2);
        assert_eq!(page.users[0].display_name, "Anna Rossi");
        assert_eq!(page.users[0].department, "");
        assert_eq!(page.users[1].display_name, "room@contoso.com");
        assert!(parse_users_page(b"{\"value\":").is_err());
    }

    #[test]
    fn presence_maps_known_unknown_and_extras() {
        let body = br#"{"value":[
            {"id":"1","availability":"Busy","activity":"InACall"},
            {"id":"2","availability":"Hibernating","activity":"Gardening",
             "statusMessage":{"message":{"content":"<p>Back at <b>3</b> &amp; later</p>","contentType":"html"},
                              "expiryDateTime":{"dateTime":"2030-01-02T03:04:05.0000000","timeZone":"UTC"}},
             "outOfOfficeSettings":{"isOutOfOffice":true,"message":"On leave"}},
            {"availability":"Busy"},
            {"id":"4","availability":7}
        ]}"#;
        let page = parse_presence_page(body).expect("valid page");
        assert_eq!(page.skipped, 2);
        let busy = page.presences[0].1.to_domain("a@x");
        assert_eq!(busy.availability, Availability::Busy);
        assert_eq!(busy.activity, Activity::InACall);
        let odd = page.presences[1].1.to_domain("b@x");
        assert_eq!(odd.availability, Availability::PresenceUnknown);
        assert_eq!(odd.availability_raw.as_deref(), Some("Hibernating"));
        assert_eq!(odd.activity.graph_name(), "Gardening");
        let message = odd.status_message.expect("status message");
        assert_eq!(message.text, "Back at 3 & later");
        assert_eq!(
            message.expires_at,
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_553_445))
        );
        assert!(odd.out_of_office.is_out_of_office);
        assert_eq!(odd.out_of_office.message, "On leave");
    }

    #[test]
    fn never_expiring_message_has_no_expiry() {
        let never = DateTimeTimeZone {
            date_time: Some("9999-12-30T23:00:00.0000000".into()),
            time_zone: Some("UTC".into()),
        };
        assert_eq!(expiry_from(&never), None);
        let local = DateTimeTimeZone {
            date_time: Some("2030-01-01T00:00:00".into()),
            time_zone: Some("W. Europe Standard Time".into()),
        };
        assert_eq!(expiry_from(&local), None);
    }
}
