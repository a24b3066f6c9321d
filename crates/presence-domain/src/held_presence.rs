//! A presence as a client keeps it for each of many colleagues: the common part inline
//! in 24 bytes, the rare texts (status message, out-of-office note, values not known
//! here) in one box only for those who have them. A [`Presence`] is over four times
//! that size, which a panel holding 100,000 colleagues feels.

use std::time::{Duration, SystemTime};

use super::presence::{Activity, Availability, OutOfOffice, Presence, StatusMessage, Technology};

/// Stands for [`Activity::Other`] in [`HeldPresence::activity`].
const OTHER_ACTIVITY: u8 = u8::MAX;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldPresence {
    version: u64,
    /// Seconds since the Unix epoch (0: not known, as [`SystemTime::UNIX_EPOCH`] means
    /// in a [`Presence`]); a `SystemTime` takes four times the room on Linux. Good until
    /// 2106; later times are kept as the last second it holds.
    since_unix_secs: u32,
    availability: Availability,
    technology: Technology,
    /// Position in [`Activity::KNOWN`], or [`OTHER_ACTIVITY`].
    activity: u8,
    is_out_of_office: bool,
    notes: Option<Box<Notes>>,
}

/// The parts few colleagues have.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Notes {
    availability_raw: Option<String>,
    other_activity: String,
    status_message: Option<StatusMessage>,
    out_of_office_message: String,
}

impl HeldPresence {
    /// Keeps `presence`, all but its UPN (the holder knows whose it is).
    pub fn new(presence: Presence) -> Self {
        let Presence {
            upn: _,
            availability,
            availability_raw,
            activity,
            status_message,
            out_of_office,
            since,
            technology,
            version,
        } = presence;
        let (activity, other_activity) = match activity {
            Activity::Other(raw) => (OTHER_ACTIVITY, raw),
            known => (
                Activity::KNOWN
                    .iter()
                    .position(|a| *a == known)
                    .map_or(OTHER_ACTIVITY, |i| i as u8),
                String::new(),
            ),
        };
        let notes = Notes {
            availability_raw,
            other_activity,
            status_message,
            out_of_office_message: out_of_office.message,
        };
        Self {
            version,
            since_unix_secs: since
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX)),
            availability,
            technology,
            activity,
            is_out_of_office: out_of_office.is_out_of_office,
            notes: (notes != Notes::default()).then(|| Box::new(notes)),
        }
    }

    /// The whole presence again, with `upn`.
    pub fn to_presence(&self, upn: &str) -> Presence {
        let notes = self.notes.as_deref();
        let activity = match Activity::KNOWN.get(usize::from(self.activity)) {
            Some(known) => known.clone(),
            None => Activity::Other(notes.map(|n| n.other_activity.clone()).unwrap_or_default()),
        };
        Presence {
            upn: upn.to_owned(),
            availability: self.availability,
            availability_raw: notes.and_then(|n| n.availability_raw.clone()),
            activity,
            status_message: notes.and_then(|n| n.status_message.clone()),
            out_of_office: OutOfOffice {
                is_out_of_office: self.is_out_of_office,
                message: notes
                    .map(|n| n.out_of_office_message.clone())
                    .unwrap_or_default(),
            },
            since: self.since(),
            technology: self.technology,
            version: self.version,
        }
    }

    #[inline]
    pub fn version(&self) -> u64 {
        self.version
    }

    /// When the colleague entered this state (to the second: the panel shows minutes).
    #[inline]
    pub fn since(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(self.since_unix_secs))
    }

    #[inline]
    pub fn availability(&self) -> Availability {
        self.availability
    }

    #[inline]
    pub fn technology(&self) -> Technology {
        self.technology
    }

    /// Whether the colleague is out of office (flag or activity), as
    /// [`Presence::is_out_of_office`] says.
    #[inline]
    pub fn is_out_of_office(&self) -> bool {
        self.is_out_of_office
            || Activity::KNOWN.get(usize::from(self.activity)) == Some(&Activity::OutOfOffice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_everything_but_the_upn_in_little_room() {
        assert!(std::mem::size_of::<Option<HeldPresence>>() <= 24);
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let plain = Presence {
            availability: Availability::BusyIdle,
            activity: Activity::InACall,
            technology: Technology::SipSimple,
            since: now,
            version: 42,
            ..Presence::unknown("a@x")
        };
        let held = HeldPresence::new(plain.clone());
        assert!(held.notes.is_none(), "nothing rare, nothing boxed");
        assert_eq!(held.to_presence("a@x"), plain);
        assert_eq!(held.version(), 42);
        assert_eq!(held.availability(), Availability::BusyIdle);
        assert_eq!(held.technology(), Technology::SipSimple);

        let mut rich = Presence::from_graph_strings("b@x", "Snoozing", "Gardening");
        rich.status_message = Some(StatusMessage {
            text: "Back at 3".into(),
            expires_at: Some(now),
        });
        rich.out_of_office = OutOfOffice {
            is_out_of_office: true,
            message: "On leave".into(),
        };
        let held = HeldPresence::new(rich.clone());
        assert_eq!(held.to_presence("b@x"), rich);
        assert!(held.is_out_of_office());

        let away = Presence {
            activity: Activity::OutOfOffice,
            ..Presence::unknown("c@x")
        };
        assert!(HeldPresence::new(away).is_out_of_office());
    }
}
