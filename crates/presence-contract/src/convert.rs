//! Conversions between generated protobuf types and domain types.
//!
//! Decoding is lenient where the domain is open (unknown enum numbers become
//! "unknown", raw strings travel on) and strict where a value is required (a presence
//! without a UPN is an error).

use std::time::{Duration, SystemTime};

use presence_domain::text::single_line;
use presence_domain::{
    Activity, Availability, Colleague, OutOfOffice, Presence, SourceHealth, SourceState,
    StatusMessage, Technology,
};

use crate::proto;

/// A wire message that cannot become a domain value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConversionError {
    #[error("{0} is missing its UPN")]
    MissingUpn(&'static str),
}

pub fn timestamp_from_system_time(time: SystemTime) -> prost_types::Timestamp {
    match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => prost_types::Timestamp {
            seconds: d.as_secs() as i64,
            nanos: d.subsec_nanos() as i32,
        },
        Err(_) => prost_types::Timestamp::default(),
    }
}

/// The last second a protobuf `Timestamp` may hold: 9999-12-31T23:59:59Z.
pub const MAX_TIMESTAMP_SECONDS: i64 = 253_402_300_799;

/// A wire timestamp as a time; one outside what a `Timestamp` may hold (before 1970 or
/// after 9999) is not a time at all and reads as the epoch, which the domain takes as
/// "not known".
pub fn system_time_from_timestamp(ts: &prost_types::Timestamp) -> SystemTime {
    if !(0..=MAX_TIMESTAMP_SECONDS).contains(&ts.seconds) {
        return SystemTime::UNIX_EPOCH;
    }
    let nanos = ts.nanos.clamp(0, 999_999_999) as u32;
    SystemTime::UNIX_EPOCH
        .checked_add(Duration::new(ts.seconds as u64, nanos))
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

impl From<Technology> for proto::Technology {
    fn from(value: Technology) -> Self {
        match value {
            Technology::MsTeams => Self::MsTeams,
            Technology::SipSimple => Self::SipSimple,
        }
    }
}

fn technology_from_wire(value: i32) -> Technology {
    match proto::Technology::try_from(value) {
        Ok(proto::Technology::SipSimple) => Technology::SipSimple,
        _ => Technology::MsTeams,
    }
}

impl From<Availability> for proto::Availability {
    fn from(value: Availability) -> Self {
        match value {
            Availability::Available => Self::Available,
            Availability::AvailableIdle => Self::AvailableIdle,
            Availability::Away => Self::Away,
            Availability::BeRightBack => Self::BeRightBack,
            Availability::Busy => Self::Busy,
            Availability::BusyIdle => Self::BusyIdle,
            Availability::DoNotDisturb => Self::DoNotDisturb,
            Availability::Offline => Self::Offline,
            Availability::PresenceUnknown => Self::PresenceUnknown,
        }
    }
}

fn availability_from_wire(value: i32) -> Availability {
    use proto::Availability as W;
    match W::try_from(value) {
        Ok(W::Available) => Availability::Available,
        Ok(W::AvailableIdle) => Availability::AvailableIdle,
        Ok(W::Away) => Availability::Away,
        Ok(W::BeRightBack) => Availability::BeRightBack,
        Ok(W::Busy) => Availability::Busy,
        Ok(W::BusyIdle) => Availability::BusyIdle,
        Ok(W::DoNotDisturb) => Availability::DoNotDisturb,
        Ok(W::Offline) => Availability::Offline,
        Ok(W::PresenceUnknown | W::Unspecified) | Err(_) => Availability::PresenceUnknown,
    }
}

fn activity_to_wire(value: &Activity) -> proto::Activity {
    use proto::Activity as W;
    match value {
        Activity::Available => W::Available,
        Activity::Away => W::Away,
        Activity::BeRightBack => W::BeRightBack,
        Activity::Busy => W::Busy,
        Activity::DoNotDisturb => W::DoNotDisturb,
        Activity::InACall => W::InACall,
        Activity::InAConferenceCall => W::InAConferenceCall,
        Activity::Inactive => W::Inactive,
        Activity::InAMeeting => W::InAMeeting,
        Activity::Offline => W::Offline,
        Activity::OffWork => W::OffWork,
        Activity::OutOfOffice => W::OutOfOffice,
        Activity::PresenceUnknown => W::PresenceUnknown,
        Activity::Presenting => W::Presenting,
        Activity::UrgentInterruptionsOnly => W::UrgentInterruptionsOnly,
        Activity::Focusing => W::Focusing,
        Activity::Other(_) => W::Other,
    }
}

fn activity_from_wire(value: i32, raw: &str) -> Activity {
    use proto::Activity as W;
    match W::try_from(value) {
        Ok(W::Available) => Activity::Available,
        Ok(W::Away) => Activity::Away,
        Ok(W::BeRightBack) => Activity::BeRightBack,
        Ok(W::Busy) => Activity::Busy,
        Ok(W::DoNotDisturb) => Activity::DoNotDisturb,
        Ok(W::InACall) => Activity::InACall,
        Ok(W::InAConferenceCall) => Activity::InAConferenceCall,
        Ok(W::Inactive) => Activity::Inactive,
        Ok(W::InAMeeting) => Activity::InAMeeting,
        Ok(W::Offline) => Activity::Offline,
        Ok(W::OffWork) => Activity::OffWork,
        Ok(W::OutOfOffice) => Activity::OutOfOffice,
        Ok(W::Presenting) => Activity::Presenting,
        Ok(W::UrgentInterruptionsOnly) => Activity::UrgentInterruptionsOnly,
        Ok(W::Focusing) => Activity::Focusing,
        Ok(W::PresenceUnknown | W::Unspecified) => Activity::PresenceUnknown,
        // A newer gateway may know values this client does not: use the raw string.
        Ok(W::Other) | Err(_) if raw.trim().is_empty() => Activity::PresenceUnknown,
        Ok(W::Other) | Err(_) => Activity::from_graph(raw),
    }
}

impl From<&Presence> for proto::Presence {
    fn from(p: &Presence) -> Self {
        Self {
            upn: p.upn.clone(),
            availability: proto::Availability::from(p.availability) as i32,
            availability_raw: p
                .availability_raw
                .clone()
                .unwrap_or_else(|| p.availability.graph_name().to_owned()),
            activity: activity_to_wire(&p.activity) as i32,
            activity_raw: p.activity.graph_name().to_owned(),
            status_message: p.status_message.as_ref().map(|m| proto::StatusMessage {
                text: m.text.clone(),
                expires_at: m.expires_at.map(timestamp_from_system_time),
            }),
            out_of_office: p.out_of_office.is_out_of_office,
            out_of_office_message: p.out_of_office.message.clone(),
            since: Some(timestamp_from_system_time(p.since)),
            technology: proto::Technology::from(p.technology) as i32,
            version: p.version,
        }
    }
}

impl TryFrom<proto::Presence> for Presence {
    type Error = ConversionError;

    fn try_from(p: proto::Presence) -> Result<Self, Self::Error> {
        if p.upn.trim().is_empty() {
            return Err(ConversionError::MissingUpn("presence"));
        }
        let availability = availability_from_wire(p.availability);
        let is_raw_unknown = availability == Availability::PresenceUnknown
            && !p.availability_raw.is_empty()
            && Availability::from_graph(&p.availability_raw).is_none();
        Ok(Self {
            availability,
            availability_raw: is_raw_unknown.then_some(p.availability_raw),
            activity: activity_from_wire(p.activity, &p.activity_raw),
            status_message: p.status_message.map(|m| StatusMessage {
                text: m.text,
                expires_at: m.expires_at.as_ref().map(system_time_from_timestamp),
            }),
            out_of_office: OutOfOffice {
                is_out_of_office: p.out_of_office,
                message: p.out_of_office_message,
            },
            since: p
                .since
                .as_ref()
                .map(system_time_from_timestamp)
                .unwrap_or(SystemTime::UNIX_EPOCH),
            technology: technology_from_wire(p.technology),
            version: p.version,
            upn: p.upn,
        })
    }
}

impl From<&Colleague> for proto::Colleague {
    fn from(c: &Colleague) -> Self {
        Self {
            id: c.id.clone(),
            upn: c.upn.clone(),
            display_name: c.display_name.clone(),
            given_name: c.given_name.clone(),
            surname: c.surname.clone(),
            mail: c.mail.clone(),
            department: c.department.clone(),
            job_title: c.job_title.clone(),
            office: c.office.clone(),
            business_phones: c.business_phones.clone(),
            mobile_phone: c.mobile_phone.clone(),
        }
    }
}

impl TryFrom<proto::Colleague> for Colleague {
    type Error = ConversionError;

    fn try_from(c: proto::Colleague) -> Result<Self, Self::Error> {
        if c.upn.trim().is_empty() {
            return Err(ConversionError::MissingUpn("colleague"));
        }
        Ok(Self {
            id: c.id,
            upn: c.upn,
            display_name: c.display_name,
            given_name: c.given_name,
            surname: c.surname,
            mail: c.mail,
            department: c.department,
            job_title: c.job_title,
            office: c.office,
            business_phones: c.business_phones,
            mobile_phone: c.mobile_phone,
        })
    }
}

impl From<&SourceHealth> for proto::SourceHealth {
    fn from(health: &SourceHealth) -> Self {
        Self {
            technology: proto::Technology::from(health.technology) as i32,
            state: match health.state {
                SourceState::Live => proto::SourceState::Live,
                SourceState::Stale => proto::SourceState::Stale,
                SourceState::Disabled => proto::SourceState::Disabled,
            } as i32,
            detail: health.detail.clone(),
            since: Some(timestamp_from_system_time(health.since)),
        }
    }
}

/// Lenient: an unknown state is taken as stale (never shown as live).
impl From<&proto::SourceHealth> for SourceHealth {
    fn from(health: &proto::SourceHealth) -> Self {
        Self {
            technology: technology_from_wire(health.technology),
            state: match proto::SourceState::try_from(health.state) {
                Ok(proto::SourceState::Live) => SourceState::Live,
                Ok(proto::SourceState::Disabled) => SourceState::Disabled,
                _ => SourceState::Stale,
            },
            detail: single_line(&health.detail, 200),
            since: health
                .since
                .as_ref()
                .map(system_time_from_timestamp)
                .unwrap_or(SystemTime::UNIX_EPOCH),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presence_round_trip_keeps_unknown_values() {
        let mut p = Presence::from_graph_strings("a@b.c", "Snoozing", "Gardening");
        p.version = 7;
        p.since = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let back = Presence::try_from(proto::Presence::from(&p)).expect("valid");
        assert_eq!(back, p);
        let wire = proto::Presence {
            upn: String::new(),
            ..Default::default()
        };
        assert!(Presence::try_from(wire).is_err());
    }

    #[test]
    fn timestamps_beyond_the_calendar_read_as_not_known() {
        let at =
            |seconds| system_time_from_timestamp(&prost_types::Timestamp { seconds, nanos: 0 });
        assert_eq!(at(i64::MAX), SystemTime::UNIX_EPOCH);
        assert_eq!(at(MAX_TIMESTAMP_SECONDS + 1), SystemTime::UNIX_EPOCH);
        assert_eq!(at(-1), SystemTime::UNIX_EPOCH);
        assert_eq!(
            at(MAX_TIMESTAMP_SECONDS),
            SystemTime::UNIX_EPOCH + Duration::from_secs(MAX_TIMESTAMP_SECONDS as u64)
        );
    }

    #[test]
    fn unknown_enum_numbers_are_unknown() {
        let wire = proto::Presence {
            upn: "a@b".into(),
            availability: 999,
            activity: 999,
            ..Default::default()
        };
        let p = Presence::try_from(wire).expect("valid");
        assert_eq!(p.availability, Availability::PresenceUnknown);
        assert_eq!(p.activity, Activity::PresenceUnknown);
    }
}
