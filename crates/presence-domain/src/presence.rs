//! Teams presence values as Microsoft Graph defines them, and what they mean in words.
//!
//! Both `availability` and `activity` are open strings in Graph: new values appear. They
//! are parsed leniently: an unknown availability becomes [`Availability::PresenceUnknown`]
//! (its raw string kept), an unknown activity becomes [`Activity::Other`].

use std::time::{Duration, SystemTime};

/// Where a presence comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Technology {
    #[default]
    MsTeams,
    SipSimple,
}

impl Technology {
    pub fn label(self) -> &'static str {
        match self {
            Self::MsTeams => "Microsoft Teams",
            Self::SipSimple => "SIP SIMPLE",
        }
    }
}

/// Graph `availability`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Availability {
    Available,
    AvailableIdle,
    Away,
    BeRightBack,
    Busy,
    BusyIdle,
    DoNotDisturb,
    Offline,
    #[default]
    PresenceUnknown,
}

impl Availability {
    pub const ALL: [Self; 9] = [
        Self::Available,
        Self::AvailableIdle,
        Self::Away,
        Self::BeRightBack,
        Self::Busy,
        Self::BusyIdle,
        Self::DoNotDisturb,
        Self::Offline,
        Self::PresenceUnknown,
    ];

    /// Parses a Graph string (case-insensitive). `None` for values not known here.
    pub fn from_graph(raw: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.graph_name().eq_ignore_ascii_case(raw.trim()))
    }

    pub fn graph_name(self) -> &'static str {
        match self {
            Self::Available => "Available",
            Self::AvailableIdle => "AvailableIdle",
            Self::Away => "Away",
            Self::BeRightBack => "BeRightBack",
            Self::Busy => "Busy",
            Self::BusyIdle => "BusyIdle",
            Self::DoNotDisturb => "DoNotDisturb",
            Self::Offline => "Offline",
            Self::PresenceUnknown => "PresenceUnknown",
        }
    }

    /// How a person says it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Available => "Available",
            Self::AvailableIdle => "Available, idle",
            Self::Away => "Away",
            Self::BeRightBack => "Be right back",
            Self::Busy => "Busy",
            Self::BusyIdle => "Busy, idle",
            Self::DoNotDisturb => "Do not disturb",
            Self::Offline => "Offline",
            Self::PresenceUnknown => "Status unknown",
        }
    }

    /// The idle variant of an active state, as Teams shows it when a client stops
    /// reporting (Available -> AvailableIdle, Busy -> BusyIdle).
    pub fn idle(self) -> Self {
        match self {
            Self::Available => Self::AvailableIdle,
            Self::Busy | Self::DoNotDisturb => Self::BusyIdle,
            other => other,
        }
    }

    /// Order for "sort by status": who can take a call first.
    #[inline]
    pub fn reachability_rank(self) -> u8 {
        match self {
            Self::Available => 0,
            Self::AvailableIdle => 1,
            Self::BeRightBack => 2,
            Self::Away => 3,
            Self::Busy => 4,
            Self::BusyIdle => 5,
            Self::DoNotDisturb => 6,
            Self::Offline => 7,
            Self::PresenceUnknown => 8,
        }
    }
}

/// Graph `activity`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Activity {
    Available,
    Away,
    BeRightBack,
    Busy,
    DoNotDisturb,
    InACall,
    InAConferenceCall,
    Inactive,
    InAMeeting,
    Offline,
    OffWork,
    OutOfOffice,
    #[default]
    PresenceUnknown,
    Presenting,
    UrgentInterruptionsOnly,
    Focusing,
    /// A value not known here, kept as the source sent it.
    Other(String),
}

impl Activity {
    pub const KNOWN: [Self; 16] = [
        Self::Available,
        Self::Away,
        Self::BeRightBack,
        Self::Busy,
        Self::DoNotDisturb,
        Self::InACall,
        Self::InAConferenceCall,
        Self::Inactive,
        Self::InAMeeting,
        Self::Offline,
        Self::OffWork,
        Self::OutOfOffice,
        Self::PresenceUnknown,
        Self::Presenting,
        Self::UrgentInterruptionsOnly,
        Self::Focusing,
    ];

    /// Parses a Graph string (case-insensitive); unknown values are kept as `Other`.
    pub fn from_graph(raw: &str) -> Self {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            // No activity said (a missing field, or blanks) is no activity known: never
            // an "Other" with nothing to show.
            return Self::PresenceUnknown;
        }
        Self::KNOWN
            .into_iter()
            .find(|a| a.graph_name().eq_ignore_ascii_case(trimmed))
            .unwrap_or_else(|| Self::Other(trimmed.to_owned()))
    }

    pub fn graph_name(&self) -> &str {
        match self {
            Self::Available => "Available",
            Self::Away => "Away",
            Self::BeRightBack => "BeRightBack",
            Self::Busy => "Busy",
            Self::DoNotDisturb => "DoNotDisturb",
            Self::InACall => "InACall",
            Self::InAConferenceCall => "InAConferenceCall",
            Self::Inactive => "Inactive",
            Self::InAMeeting => "InAMeeting",
            Self::Offline => "Offline",
            Self::OffWork => "OffWork",
            Self::OutOfOffice => "OutOfOffice",
            Self::PresenceUnknown => "PresenceUnknown",
            Self::Presenting => "Presenting",
            Self::UrgentInterruptionsOnly => "UrgentInterruptionsOnly",
            Self::Focusing => "Focusing",
            Self::Other(raw) => raw,
        }
    }

    /// The activity in words, when it says more than the availability does.
    pub fn label(&self) -> Option<&str> {
        Some(match self {
            Self::InACall => "In a call",
            Self::InAConferenceCall => "In a conference call",
            Self::InAMeeting => "In a meeting",
            Self::Presenting => "Presenting",
            Self::OutOfOffice => "Out of office",
            Self::OffWork => "Off work",
            Self::Inactive => "Inactive",
            Self::UrgentInterruptionsOnly => "Urgent interruptions only",
            Self::Focusing => "Focusing",
            Self::Other(raw) if !raw.is_empty() => raw,
            _ => return None,
        })
    }
}

/// A status message a colleague set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusMessage {
    pub text: String,
    pub expires_at: Option<SystemTime>,
}

/// Out-of-office settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutOfOffice {
    pub is_out_of_office: bool,
    pub message: String,
}

/// The presence of one colleague.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presence {
    /// The colleague's UPN, as the directory spells it.
    pub upn: String,
    pub availability: Availability,
    /// The source's availability string when it was not one known here.
    pub availability_raw: Option<String>,
    pub activity: Activity,
    pub status_message: Option<StatusMessage>,
    pub out_of_office: OutOfOffice,
    /// When the colleague entered this availability and activity.
    pub since: SystemTime,
    pub technology: Technology,
    /// Grows with each change of this colleague's presence; assigned by the gateway.
    pub version: u64,
}

impl Presence {
    /// "We know nothing": the presence of a colleague no source has reported on.
    pub fn unknown(upn: &str) -> Self {
        Self {
            upn: upn.to_owned(),
            availability: Availability::PresenceUnknown,
            availability_raw: None,
            activity: Activity::PresenceUnknown,
            status_message: None,
            out_of_office: OutOfOffice::default(),
            since: SystemTime::UNIX_EPOCH,
            technology: Technology::MsTeams,
            version: 0,
        }
    }

    /// Builds a presence from Graph's two open strings.
    pub fn from_graph_strings(upn: &str, availability: &str, activity: &str) -> Self {
        let parsed = Availability::from_graph(availability);
        Self {
            availability: parsed.unwrap_or(Availability::PresenceUnknown),
            availability_raw: parsed.is_none().then(|| availability.to_owned()),
            activity: Activity::from_graph(activity),
            ..Self::unknown(upn)
        }
    }

    /// Whether the colleague is out of office (flag or activity).
    pub fn is_out_of_office(&self) -> bool {
        self.out_of_office.is_out_of_office || self.activity == Activity::OutOfOffice
    }

    /// The status in words: "Busy, in a call", "Available, idle", "Away, out of office".
    pub fn describe(&self) -> String {
        let availability = self.availability.label();
        match self.activity.label() {
            Some(activity) if !activity.eq_ignore_ascii_case(availability) => {
                format!("{availability}, {}", lowercase_first(activity))
            }
            _ if self.out_of_office.is_out_of_office => {
                format!("{availability}, out of office")
            }
            _ => availability.to_owned(),
        }
    }

    /// The activity in words for a list row: the activity when it says something
    /// ("In a call"), otherwise the availability ("Available, idle").
    pub fn headline(&self) -> String {
        if self.is_out_of_office() && self.activity.label().is_none() {
            return "Out of office".to_owned();
        }
        match self.activity.label() {
            Some(activity) => activity.to_owned(),
            None => self.availability.label().to_owned(),
        }
    }

    /// Whether the same state as `other` (ignoring version and since).
    #[inline]
    pub fn same_state(&self, other: &Self) -> bool {
        self.availability == other.availability
            && self.activity == other.activity
            && self.status_message == other.status_message
            && self.out_of_office == other.out_of_office
            && self.technology == other.technology
            && self.availability_raw == other.availability_raw
    }

    /// The status message if it has not expired at `now`.
    pub fn current_status_message(&self, now: SystemTime) -> Option<&str> {
        let message = self.status_message.as_ref()?;
        let is_live = message.expires_at.is_none_or(|expiry| expiry > now);
        (is_live && !message.text.trim().is_empty()).then_some(message.text.as_str())
    }
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Time in state, short: "now", "12 min", "2 h", "3 d".
pub fn format_elapsed_short(elapsed: Duration) -> String {
    let secs = elapsed.as_secs();
    match secs {
        0..60 => "now".to_owned(),
        60..3600 => format!("{} min", secs / 60),
        3600..86_400 => format!("{} h", secs / 3600),
        _ => format!("{} d", secs / 86_400),
    }
}

/// Time in state, spoken: "for 12 minutes", "for 2 hours".
pub fn format_elapsed_spoken(elapsed: Duration) -> String {
    let secs = elapsed.as_secs();
    let (n, unit) = match secs {
        0..60 => return "just now".to_owned(),
        60..3600 => (secs / 60, "minute"),
        3600..86_400 => (secs / 3600, "hour"),
        _ => (secs / 86_400, "day"),
    };
    let plural = if n == 1 { "" } else { "s" };
    format!("for {n} {unit}{plural}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_graph_strings_leniently() {
        let p = Presence::from_graph_strings("a@b", "busy", "InACall");
        assert_eq!(p.availability, Availability::Busy);
        assert_eq!(p.activity, Activity::InACall);
        assert_eq!(p.describe(), "Busy, in a call");
        let p = Presence::from_graph_strings("a@b", "Snoozing", "Gardening");
        assert_eq!(p.availability, Availability::PresenceUnknown);
        assert_eq!(p.availability_raw.as_deref(), Some("Snoozing"));
        assert_eq!(p.activity, Activity::Other("Gardening".into()));
        assert_eq!(p.headline(), "Gardening");
        // No activity (Graph left it out, or blanks) says the availability, never "".
        for blank in ["", "  "] {
            let p = Presence::from_graph_strings("a@b", "Busy", blank);
            assert_eq!(p.activity, Activity::PresenceUnknown);
            assert_eq!(p.headline(), "Busy");
        }
    }

    #[test]
    fn words() {
        let mut p = Presence::from_graph_strings("a@b", "AvailableIdle", "Available");
        assert_eq!(p.headline(), "Available, idle");
        assert_eq!(p.describe(), "Available, idle");
        p.activity = Activity::OutOfOffice;
        assert_eq!(p.headline(), "Out of office");
        assert_eq!(
            format_elapsed_short(Duration::from_secs(12 * 60 + 5)),
            "12 min"
        );
        assert_eq!(format_elapsed_short(Duration::from_secs(7300)), "2 h");
        assert_eq!(
            format_elapsed_spoken(Duration::from_secs(60)),
            "for 1 minute"
        );
        assert_eq!(
            format_elapsed_spoken(Duration::from_secs(720)),
            "for 12 minutes"
        );
    }

    #[test]
    fn expired_status_message_is_hidden() {
        let now = SystemTime::now();
        let mut p = Presence::unknown("a@b");
        p.status_message = Some(StatusMessage {
            text: "Back at 3".into(),
            expires_at: Some(now - Duration::from_secs(1)),
        });
        assert_eq!(p.current_status_message(now), None);
        p.status_message = Some(StatusMessage {
            text: "Back at 3".into(),
            expires_at: None,
        });
        assert_eq!(p.current_status_message(now), Some("Back at 3"));
    }
}
