//! What a SIP presence server says about one colleague, read from its NOTIFY bodies:
//! PIDF (RFC 3863) with RPID activities (RFC 4480), and dialog-info (RFC 4235) for the
//! telephony state; then mapped to the contract's availability and activity.
//!
//! Pure: no I/O. Elements are matched by their local names inside the right parents, so
//! servers that prefix namespaces differently (`rpid:`, `rp:`, `dm:`) read the same.

use presence_domain::{Activity, Availability};

/// Largest body read (a PIDF of one person is a few hundred bytes).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Largest RLS NOTIFY body read (a full state of a large list).
pub const MAX_LIST_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The rich presence of one PIDF document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RichPresence {
    /// Any tuple (or the person) said `<basic>open</basic>`.
    pub is_open: bool,
    /// Whether any `<basic>` was there at all.
    pub has_basic: bool,
    /// RPID activities, lower case local names (`on-the-phone`, `away`...); `other`
    /// carries its text.
    pub activities: Vec<String>,
    /// `<note>` texts (Asterisk puts its line state there).
    pub notes: Vec<String>,
}

/// Why a body could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BodyError {
    #[error("body of {0} bytes is too large")]
    TooLarge(usize),
    #[error("not XML: {0}")]
    NotXml(String),
    #[error("not a {0} document")]
    WrongDocument(&'static str),
}

fn parse<'a>(body: &'a str, root: &'static str) -> Result<roxmltree::Document<'a>, BodyError> {
    parse_within(body, root, MAX_BODY_BYTES, 10_000)
}

fn parse_within<'a>(
    body: &'a str,
    root: &'static str,
    max_bytes: usize,
    max_nodes: u32,
) -> Result<roxmltree::Document<'a>, BodyError> {
    if body.len() > max_bytes {
        return Err(BodyError::TooLarge(body.len()));
    }
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: max_nodes,
        ..roxmltree::ParsingOptions::default()
    };
    let document = roxmltree::Document::parse_with_options(body, options)
        .map_err(|err| BodyError::NotXml(err.to_string()))?;
    if document.root_element().tag_name().name() != root {
        return Err(BodyError::WrongDocument(root));
    }
    Ok(document)
}

fn text_of(node: roxmltree::Node<'_, '_>) -> String {
    node.descendants()
        .filter(roxmltree::Node::is_text)
        .filter_map(|n| n.text())
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Reads a PIDF document.
pub fn parse_pidf(body: &str) -> Result<RichPresence, BodyError> {
    let document = parse(body, "presence")?;
    let mut rich = RichPresence::default();
    for node in document.descendants().filter(roxmltree::Node::is_element) {
        match node.tag_name().name() {
            "basic" => {
                rich.has_basic = true;
                if text_of(node).eq_ignore_ascii_case("open") {
                    rich.is_open = true;
                }
            }
            "activities" => {
                for activity in node.children().filter(roxmltree::Node::is_element) {
                    let name = activity.tag_name().name().to_ascii_lowercase();
                    let name = if name == "other" {
                        let text = text_of(activity);
                        if text.is_empty() { name } else { text }
                    } else {
                        name
                    };
                    if !rich.activities.contains(&name) {
                        rich.activities.push(name);
                    }
                }
            }
            "note" => {
                let text = text_of(node);
                if !text.is_empty() && !rich.notes.contains(&text) {
                    rich.notes.push(text);
                }
            }
            _ => {}
        }
    }
    Ok(rich)
}

/// One resource of a resource list NOTIFY (RFC 4662).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListResource {
    /// The resource's SIP URI, as the list names it.
    pub uri: String,
    /// Its subscription: `active`, `pending` or `terminated` (empty when not said).
    pub state: String,
    /// Its presence, when the NOTIFY carried a readable PIDF part for it.
    pub rich: Option<RichPresence>,
}

/// A resource list NOTIFY: `multipart/related` with an RLMI part and one part per
/// resource instance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListNotify {
    /// `fullState="true"`: every resource of the list is here.
    pub is_full: bool,
    pub resources: Vec<ListResource>,
}

/// A MIME parameter of a `Content-Type` value (`boundary`, `type`, `start`).
fn content_type_param(content_type: &str, name: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().trim_matches('"').to_owned())
    })
}

/// The parts of a multipart body: (headers, body) each, headers lower-cased by name.
fn multipart_parts<'a>(body: &'a str, boundary: &str) -> Vec<(Vec<(String, String)>, &'a str)> {
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    for chunk in body.split(delimiter.as_str()).skip(1) {
        if chunk.starts_with("--") {
            break;
        }
        let chunk = chunk.trim_start_matches(['\r', '\n']);
        let (head, content) = chunk
            .split_once("\r\n\r\n")
            .or_else(|| chunk.split_once("\n\n"))
            .unwrap_or(("", chunk));
        let headers = head
            .lines()
            .filter_map(|line| {
                let (name, value) = line.split_once(':')?;
                Some((name.trim().to_ascii_lowercase(), value.trim().to_owned()))
            })
            .collect();
        parts.push((headers, content.trim_end_matches(['\r', '\n'])));
    }
    parts
}

/// Reads a resource list NOTIFY body.
pub fn parse_list_notify(content_type: &str, body: &str) -> Result<ListNotify, BodyError> {
    if body.len() > MAX_LIST_BODY_BYTES {
        return Err(BodyError::TooLarge(body.len()));
    }
    let boundary = content_type_param(content_type, "boundary")
        .filter(|b| !b.is_empty())
        .ok_or(BodyError::WrongDocument("multipart/related"))?;
    let parts = multipart_parts(body, &boundary);
    let header = |headers: &[(String, String)], name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let rlmi = parts
        .iter()
        .find(|(headers, _)| {
            header(headers, "content-type")
                .to_ascii_lowercase()
                .contains("rlmi+xml")
        })
        .ok_or(BodyError::WrongDocument("rlmi"))?;
    let max_nodes = u32::try_from(rlmi.1.len() / 4)
        .unwrap_or(u32::MAX)
        .max(10_000);
    let document = parse_within(rlmi.1, "list", MAX_LIST_BODY_BYTES, max_nodes)?;
    let root = document.root_element();
    let mut notify = ListNotify {
        is_full: root
            .attribute("fullState")
            .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1"),
        resources: Vec::new(),
    };
    let by_cid: std::collections::HashMap<String, &str> = parts
        .iter()
        .map(|(headers, content)| {
            let cid = header(headers, "content-id");
            (cid.trim_matches(['<', '>']).to_owned(), *content)
        })
        .collect();
    for resource in root
        .children()
        .filter(|n| n.is_element() && n.tag_name().name() == "resource")
    {
        let Some(uri) = resource.attribute("uri") else {
            continue;
        };
        let instance = resource
            .children()
            .find(|n| n.is_element() && n.tag_name().name() == "instance");
        let state = instance
            .and_then(|i| i.attribute("state"))
            .unwrap_or_default()
            .to_ascii_lowercase();
        let rich = instance
            .and_then(|i| i.attribute("cid"))
            .and_then(|cid| by_cid.get(cid.trim_matches(['<', '>'])))
            .and_then(|content| parse_pidf(content).ok());
        notify.resources.push(ListResource {
            uri: uri.to_owned(),
            state,
            rich,
        });
    }
    Ok(notify)
}

/// One dialog of a dialog-info document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialogState {
    pub id: String,
    /// `trying`, `proceeding`, `early`, `confirmed` or `terminated`.
    pub state: String,
}

/// A dialog-info document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DialogInfo {
    /// `state="full"`: these are all the dialogs; otherwise only the changed ones.
    pub is_full: bool,
    pub version: u64,
    pub dialogs: Vec<DialogState>,
}

/// Reads a dialog-info document.
pub fn parse_dialog_info(body: &str) -> Result<DialogInfo, BodyError> {
    let document = parse(body, "dialog-info")?;
    let root = document.root_element();
    let mut info = DialogInfo {
        is_full: root.attribute("state") != Some("partial"),
        version: root
            .attribute("version")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0),
        dialogs: Vec::new(),
    };
    for dialog in root
        .children()
        .filter(|n| n.is_element() && n.tag_name().name() == "dialog")
    {
        let state = dialog
            .children()
            .find(|n| n.is_element() && n.tag_name().name() == "state")
            .map(text_of)
            .unwrap_or_default()
            .to_ascii_lowercase();
        info.dialogs.push(DialogState {
            id: dialog.attribute("id").unwrap_or_default().to_owned(),
            state,
        });
    }
    Ok(info)
}

/// The dialogs of one colleague as the NOTIFYs so far describe them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DialogTracker {
    version: Option<u64>,
    /// Dialogs not terminated, by id.
    active: Vec<String>,
}

/// Most dialogs kept for one colleague (a line has a handful).
const MAX_DIALOGS: usize = 32;

impl DialogTracker {
    /// Applies a document; one not newer than the last (a late one) is ignored.
    pub fn apply(&mut self, info: &DialogInfo) {
        if let Some(last) = self.version
            && info.version != 0
            && info.version <= last
        {
            return;
        }
        if info.version != 0 {
            self.version = Some(info.version);
        }
        if info.is_full {
            self.active.clear();
        }
        for dialog in &info.dialogs {
            let is_active = !dialog.state.is_empty() && dialog.state != "terminated";
            self.active.retain(|id| id != &dialog.id);
            if is_active && self.active.len() < MAX_DIALOGS {
                self.active.push(dialog.id.clone());
            }
        }
    }

    /// A call in progress: trying, proceeding, ringing (early) or confirmed.
    pub fn is_on_the_phone(&self) -> bool {
        !self.active.is_empty()
    }

    /// Forgets everything (the subscription ended).
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// A new subscription numbers its documents from the start again.
    pub fn forget_version(&mut self) {
        self.version = None;
    }
}

/// What the SIP source reports for one colleague.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipState {
    pub availability: Availability,
    pub activity: Activity,
}

impl SipState {
    pub fn unknown() -> Self {
        Self {
            availability: Availability::PresenceUnknown,
            activity: Activity::PresenceUnknown,
        }
    }
}

/// Asterisk's notes on a closed tuple that mean the line is in use.
fn note_means_on_the_phone(note: &str) -> bool {
    let note = note.to_ascii_lowercase();
    ["on the phone", "ringing", "on hold", "in use", "busy"]
        .iter()
        .any(|n| note.contains(n))
}

/// Maps what is known of a colleague (rich presence, if any body came; the line) to
/// the contract's availability and activity. A busy line wins over any rich presence.
pub fn sip_state(rich: Option<&RichPresence>, is_on_the_phone: bool) -> SipState {
    let busy_call = SipState {
        availability: Availability::Busy,
        activity: Activity::InACall,
    };
    if is_on_the_phone {
        return busy_call;
    }
    let Some(rich) = rich else {
        return SipState::unknown();
    };
    let state = |availability, activity| SipState {
        availability,
        activity,
    };
    // Several devices may report at once (the server aggregates their documents): the
    // most telling activity wins, whatever its place.
    let rank = |activity: &str| -> Option<(u8, SipState)> {
        Some(match activity {
            "on-the-phone" => (0, busy_call.clone()),
            "presentation" | "performance" => {
                (1, state(Availability::DoNotDisturb, Activity::Presenting))
            }
            "meeting" | "appointment" => (2, state(Availability::Busy, Activity::InAMeeting)),
            "busy" => (3, state(Availability::Busy, Activity::Busy)),
            "vacation" | "holiday" => (4, state(Availability::Away, Activity::OutOfOffice)),
            "away" | "lunch" | "in-transit" | "travel" | "steering" | "sleeping" => {
                (5, state(Availability::Away, Activity::Away))
            }
            "permanent-absence" => (6, state(Availability::Offline, Activity::OffWork)),
            _ => return None,
        })
    };
    if let Some((_, mapped)) = rich
        .activities
        .iter()
        .filter_map(|a| rank(a))
        .min_by_key(|(rank, _)| *rank)
    {
        return mapped;
    }
    if rich.notes.iter().any(|n| note_means_on_the_phone(n)) {
        return busy_call;
    }
    if !rich.has_basic && rich.activities.is_empty() {
        return SipState::unknown();
    }
    let unknown_activity = rich
        .activities
        .iter()
        .find(|a| a.as_str() != "unknown")
        .map(|raw| Activity::Other(presence_domain::text::single_line(raw, 64)));
    if rich.is_open {
        state(
            Availability::Available,
            unknown_activity.unwrap_or(Activity::Available),
        )
    } else {
        state(
            Availability::Offline,
            unknown_activity.unwrap_or(Activity::Offline),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pidf(tuple: &str, person: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"
  xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="sip:anna.rossi@contoso.com">
  <tuple id="t1"><status><basic>{tuple}</basic></status></tuple>
  <dm:person id="p1">{person}</dm:person>
</presence>"#
        )
    }

    fn state_of(body: &str) -> SipState {
        let rich = parse_pidf(body).expect("PIDF");
        sip_state(Some(&rich), false)
    }

    #[test]
    fn rpid_activities_map_as_the_issue_lists() {
        let cases = [
            ("open", "", Availability::Available, Activity::Available),
            (
                "open",
                "<rpid:activities><rpid:on-the-phone/></rpid:activities>",
                Availability::Busy,
                Activity::InACall,
            ),
            (
                "open",
                "<rpid:activities><rpid:meeting/></rpid:activities>",
                Availability::Busy,
                Activity::InAMeeting,
            ),
            (
                "open",
                "<rpid:activities><rpid:appointment/></rpid:activities>",
                Availability::Busy,
                Activity::InAMeeting,
            ),
            (
                "open",
                "<rpid:activities><rpid:busy/></rpid:activities>",
                Availability::Busy,
                Activity::Busy,
            ),
            (
                "open",
                "<rpid:activities><rpid:presentation/></rpid:activities>",
                Availability::DoNotDisturb,
                Activity::Presenting,
            ),
            (
                "open",
                "<rpid:activities><rpid:away/></rpid:activities>",
                Availability::Away,
                Activity::Away,
            ),
            (
                "open",
                "<rpid:activities><rpid:lunch/></rpid:activities>",
                Availability::Away,
                Activity::Away,
            ),
            (
                "open",
                "<rpid:activities><rpid:in-transit/></rpid:activities>",
                Availability::Away,
                Activity::Away,
            ),
            (
                "closed",
                "<rpid:activities><rpid:vacation/></rpid:activities>",
                Availability::Away,
                Activity::OutOfOffice,
            ),
            (
                "open",
                "<rpid:activities><rpid:holiday/></rpid:activities>",
                Availability::Away,
                Activity::OutOfOffice,
            ),
            ("closed", "", Availability::Offline, Activity::Offline),
        ];
        for (basic, person, availability, activity) in cases {
            let state = state_of(&pidf(basic, person));
            assert_eq!(
                (state.availability, state.activity),
                (availability, activity),
                "{basic} {person}"
            );
        }
    }

    #[test]
    fn asterisk_style_closed_with_a_note_is_on_the_phone() {
        for note in ["On the phone", "Ringing", "On hold"] {
            let body = format!(
                r#"<?xml version="1.0" encoding="ISO-8859-1"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:pp="urn:ietf:params:xml:ns:pidf:person"
 xmlns:es="urn:ietf:params:xml:ns:pidf:rpid:status:rpid-status" entity="sip:201@pbx">
<pp:person><status></status></pp:person>
<note>{note}</note>
<tuple id="201"><contact priority="1">sip:201@pbx</contact><status><basic>closed</basic></status></tuple>
</presence>"#
            );
            let state = state_of(&body);
            assert_eq!(state.availability, Availability::Busy, "{note}");
            assert_eq!(state.activity, Activity::InACall, "{note}");
        }
        let ready = pidf("open", "").replace("</presence>", "<note>Ready</note></presence>");
        assert_eq!(state_of(&ready).availability, Availability::Available);
        let gone = pidf("closed", "").replace("</presence>", "<note>Unavailable</note></presence>");
        assert_eq!(state_of(&gone).availability, Availability::Offline);
    }

    #[test]
    fn unknown_activities_travel_raw_and_nothing_known_is_unknown() {
        let state = state_of(&pidf(
            "open",
            "<rpid:activities><rpid:other>Skiing</rpid:other></rpid:activities>",
        ));
        assert_eq!(state.availability, Availability::Available);
        assert_eq!(state.activity, Activity::Other("Skiing".into()));
        let state = state_of(&pidf(
            "open",
            "<rpid:activities><rpid:worship/></rpid:activities>",
        ));
        assert_eq!(state.activity, Activity::Other("worship".into()));

        assert_eq!(sip_state(None, false), SipState::unknown(), "no body");
        let empty =
            parse_pidf(r#"<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:a@b"/>"#)
                .expect("PIDF");
        assert_eq!(sip_state(Some(&empty), false), SipState::unknown());
    }

    #[test]
    fn the_most_telling_activity_of_several_devices_wins() {
        let state = state_of(&pidf(
            "open",
            "<rpid:activities><rpid:lunch/><rpid:on-the-phone/></rpid:activities>",
        ));
        assert_eq!(state.activity, Activity::InACall);
    }

    #[test]
    fn a_busy_line_wins_over_idle_rich_presence() {
        let rich = parse_pidf(&pidf("open", "")).expect("PIDF");
        let state = sip_state(Some(&rich), true);
        assert_eq!(state.availability, Availability::Busy);
        assert_eq!(state.activity, Activity::InACall);
        assert_eq!(sip_state(None, true).activity, Activity::InACall);
    }

    #[test]
    fn dialogs_confirmed_then_terminated_full_and_partial() {
        let doc = |version: u64, state: &str, dialogs: &str| {
            format!(
                r#"<?xml version="1.0"?>
<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="{version}" state="{state}" entity="sip:201@pbx">{dialogs}</dialog-info>"#
            )
        };
        let mut line = DialogTracker::default();
        line.apply(&parse_dialog_info(&doc(1, "full", "")).expect("doc"));
        assert!(!line.is_on_the_phone());
        line.apply(
            &parse_dialog_info(&doc(
                2,
                "partial",
                r#"<dialog id="a" direction="recipient"><state>early</state></dialog>"#,
            ))
            .expect("doc"),
        );
        assert!(line.is_on_the_phone(), "ringing");
        line.apply(
            &parse_dialog_info(&doc(
                3,
                "partial",
                r#"<dialog id="a"><state>confirmed</state></dialog>"#,
            ))
            .expect("doc"),
        );
        assert!(line.is_on_the_phone());
        // An old document arriving late changes nothing.
        line.apply(
            &parse_dialog_info(&doc(
                2,
                "partial",
                r#"<dialog id="a"><state>terminated</state></dialog>"#,
            ))
            .expect("doc"),
        );
        assert!(line.is_on_the_phone());
        line.apply(
            &parse_dialog_info(&doc(
                4,
                "partial",
                r#"<dialog id="a"><state>terminated</state></dialog>"#,
            ))
            .expect("doc"),
        );
        assert!(!line.is_on_the_phone());
    }

    #[test]
    fn a_resource_list_notify_is_read_part_by_part() {
        let anna = pidf("open", "<rpid:activities><rpid:away/></rpid:activities>");
        let body = format!(
            "--b1\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <rlmi@x>\r\nContent-Type: application/rlmi+xml;charset=\"UTF-8\"\r\n\r\n\
<?xml version=\"1.0\"?><list xmlns=\"urn:ietf:params:xml:ns:rlmi\" uri=\"sip:desk@contoso.com\" version=\"0\" fullState=\"true\">\
<resource uri=\"sip:anna.rossi@contoso.com\"><instance id=\"i1\" state=\"active\" cid=\"a1@x\"/></resource>\
<resource uri=\"sip:marco.rossi@contoso.com\"><instance id=\"i2\" state=\"pending\"/></resource></list>\r\n\
--b1\r\nContent-ID: <a1@x>\r\nContent-Type: application/pidf+xml\r\n\r\n{anna}\r\n--b1--\r\n"
        );
        let notify = parse_list_notify(
            "Multipart/Related;type=\"application/rlmi+xml\";start=\"<rlmi@x>\";Boundary=\"b1\"",
            &body,
        )
        .expect("list");
        assert!(notify.is_full);
        assert_eq!(notify.resources.len(), 2);
        assert_eq!(notify.resources[0].uri, "sip:anna.rossi@contoso.com");
        let state = sip_state(notify.resources[0].rich.as_ref(), false);
        assert_eq!(state.availability, Availability::Away);
        assert_eq!(notify.resources[1].state, "pending");
        assert!(notify.resources[1].rich.is_none());
        assert!(
            parse_list_notify("multipart/related", &body).is_err(),
            "no boundary"
        );
    }

    #[test]
    fn hostile_bodies_are_refused_not_trusted() {
        assert!(matches!(parse_pidf("<presence"), Err(BodyError::NotXml(_))));
        assert!(matches!(
            parse_pidf("<dialog-info xmlns='x'/>"),
            Err(BodyError::WrongDocument("presence"))
        ));
        let huge = format!("<presence>{}</presence>", "<note>x</note>".repeat(10_000));
        assert!(matches!(parse_pidf(&huge), Err(BodyError::TooLarge(_))));
        let entities = r#"<!DOCTYPE presence [<!ENTITY a "aaaa">]><presence>&a;</presence>"#;
        assert!(parse_pidf(entities).is_err(), "no DTDs");
    }
}
