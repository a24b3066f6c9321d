//! The simulated working day: what each person is doing as Teams reports it, how it
//! changes (calls, meetings, presenting, away, out of office, status messages), the
//! Teams idle decay of a closed client, and the desk phone's SIP SIMPLE state.

use std::cmp::Reverse;
use std::time::{Duration, SystemTime};

use presence_domain::rng::SeededRng;
use presence_domain::{
    Activity, Availability, Colleague, OutOfOffice, Presence, StatusMessage, Technology,
};

use super::Simulator;
use crate::names::STATUS_MESSAGES;

/// What one person is doing, as Teams would report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    Offline,
    AppearOffline,
    Available,
    InACall,
    InAConferenceCall,
    InAMeeting,
    Presenting,
    Busy,
    DoNotDisturb,
    Away,
    BeRightBack,
    AvailableIdle,
    BusyIdle,
    OutOfOffice,
}

impl State {
    pub(super) fn graph(self) -> (Availability, Activity) {
        use Activity as Ac;
        use Availability as Av;
        match self {
            Self::Offline => (Av::Offline, Ac::Offline),
            Self::AppearOffline => (Av::Offline, Ac::OffWork),
            Self::Available => (Av::Available, Ac::Available),
            Self::InACall => (Av::Busy, Ac::InACall),
            Self::InAConferenceCall => (Av::Busy, Ac::InAConferenceCall),
            Self::InAMeeting => (Av::Busy, Ac::InAMeeting),
            Self::Presenting => (Av::DoNotDisturb, Ac::Presenting),
            Self::Busy => (Av::Busy, Ac::Busy),
            Self::DoNotDisturb => (Av::DoNotDisturb, Ac::DoNotDisturb),
            Self::Away => (Av::Away, Ac::Away),
            Self::BeRightBack => (Av::BeRightBack, Ac::BeRightBack),
            Self::AvailableIdle => (Av::AvailableIdle, Ac::Available),
            Self::BusyIdle => (Av::BusyIdle, Ac::Busy),
            Self::OutOfOffice => (Av::Offline, Ac::OutOfOffice),
        }
    }

    pub(super) fn is_busy_like(self) -> bool {
        matches!(
            self,
            Self::InACall
                | Self::InAConferenceCall
                | Self::InAMeeting
                | Self::Presenting
                | Self::Busy
                | Self::DoNotDisturb
        )
    }
}

pub(super) struct Person {
    pub(super) colleague: Colleague,
    pub(super) is_employed: bool,
    pub(super) has_teams: bool,
    pub(super) has_sip: bool,
    pub(super) state: State,
    pub(super) since: SystemTime,
    pub(super) is_client_closed: bool,
    /// Bumped whenever a pending idle-decay timer must be ignored.
    pub(super) decay_epoch: u32,
    pub(super) status_message: Option<StatusMessage>,
    pub(super) out_of_office_message: Option<String>,
    pub(super) sip_state: State,
    pub(super) sip_since: SystemTime,
}

/// A pending idle-decay step: (due, person, epoch).
pub(super) type DecayTimer = Reverse<(SystemTime, usize, u32)>;

impl Simulator {
    /// One random change in one person's day. Returns whether anything changed.
    pub(super) fn advance_person(&mut self, index: usize, now: SystemTime) -> bool {
        let rng = &mut self.rng;
        let person = &mut self.people[index];
        if person.is_client_closed {
            // The only thing that happens to a closed client: it opens again.
            if rng.chance(0.3) {
                person.is_client_closed = false;
                person.decay_epoch += 1;
                set_state(person, State::Available, now);
                person.sip_state = sip_state_for(person, rng);
                return true;
            }
            return false;
        }
        let next = match person.state {
            State::Offline | State::AppearOffline => [
                State::Available,
                State::Available,
                State::Available,
                State::AppearOffline,
                State::Offline,
            ][rng.below(5)],
            State::OutOfOffice => {
                if rng.chance(0.1) {
                    person.out_of_office_message = None;
                    State::Available
                } else {
                    return false;
                }
            }
            State::Available => {
                let roll = rng.weighted(&[25, 4, 20, 3, 5, 2, 10, 10, 8, 2, 12]);
                match roll {
                    0 => State::InACall,
                    1 => State::InAConferenceCall,
                    2 => State::InAMeeting,
                    3 => State::Presenting,
                    4 => State::Busy,
                    5 => State::DoNotDisturb,
                    6 => State::Away,
                    7 => State::BeRightBack,
                    8 => return self.close_client(index, now),
                    9 => {
                        person.out_of_office_message = Some(out_of_office_message(rng));
                        State::OutOfOffice
                    }
                    _ => {
                        person.status_message = if person.status_message.is_some() {
                            None
                        } else {
                            Some(status_message(rng, now))
                        };
                        return true;
                    }
                }
            }
            State::InACall | State::InAConferenceCall => [
                State::Available,
                State::Available,
                State::Available,
                State::InAMeeting,
                State::Busy,
            ][rng.below(5)],
            State::InAMeeting => match rng.weighted(&[60, 15, 10, 8]) {
                0 => State::Available,
                1 => State::Presenting,
                2 => State::InACall,
                _ => return self.close_client(index, now),
            },
            State::Presenting => [State::InAMeeting, State::Available][rng.below(2)],
            State::Busy | State::DoNotDisturb => match rng.weighted(&[70, 15, 8]) {
                0 => State::Available,
                1 => State::InACall,
                _ => return self.close_client(index, now),
            },
            State::Away | State::BeRightBack => match rng.weighted(&[80, 10, 10]) {
                0 => State::Available,
                1 => State::Offline,
                _ => State::Away,
            },
            State::AvailableIdle | State::BusyIdle => State::Available,
        };
        if next == person.state {
            return false;
        }
        set_state(person, next, now);
        person.sip_state = sip_state_for(person, rng);
        person.sip_since = now;
        true
    }

    /// The Teams client closes (laptop shut): the last state stays until it decays.
    pub(super) fn close_client(&mut self, index: usize, now: SystemTime) -> bool {
        let person = &mut self.people[index];
        person.is_client_closed = true;
        person.decay_epoch += 1;
        self.schedule_decay(index, now);
        false
    }

    pub(super) fn schedule_decay(&mut self, index: usize, now: SystemTime) {
        let person = &self.people[index];
        let base = match person.state {
            State::AvailableIdle | State::BusyIdle => self.config.offline_after_idle,
            _ => self.config.idle_after,
        };
        // Microsoft documents no exact timing: vary it by up to half again.
        let jitter = base.mul_f64(self.rng.unit() * 0.5);
        self.decay_timers
            .push(Reverse((now + base + jitter, index, person.decay_epoch)));
    }

    /// One idle-decay step: active -> idle variant -> Offline.
    pub(super) fn decay(&mut self, index: usize, now: SystemTime) -> bool {
        let person = &mut self.people[index];
        if !person.is_client_closed || !person.is_employed {
            return false;
        }
        let next = match person.state {
            State::Available => State::AvailableIdle,
            s if s.is_busy_like() => State::BusyIdle,
            State::AvailableIdle | State::BusyIdle => State::Offline,
            _ => State::Offline,
        };
        set_state(person, next, now);
        if next == State::Offline {
            person.is_client_closed = false;
        } else {
            self.schedule_decay(index, now);
        }
        true
    }
}

pub(super) fn set_state(person: &mut Person, state: State, now: SystemTime) {
    person.state = state;
    person.since = now;
}

pub(super) fn initial_state(rng: &mut SeededRng) -> State {
    const STATES: [(State, u32); 13] = [
        (State::Available, 40),
        (State::InACall, 12),
        (State::InAConferenceCall, 2),
        (State::InAMeeting, 14),
        (State::Presenting, 2),
        (State::Busy, 3),
        (State::DoNotDisturb, 2),
        (State::Away, 6),
        (State::BeRightBack, 3),
        (State::AvailableIdle, 3),
        (State::BusyIdle, 2),
        (State::Offline, 8),
        (State::OutOfOffice, 3),
    ];
    let weights: Vec<u32> = STATES.iter().map(|(_, w)| *w).collect();
    STATES[rng.weighted(&weights)].0
}

pub(super) fn status_message(rng: &mut SeededRng, now: SystemTime) -> StatusMessage {
    StatusMessage {
        text: rng.pick(STATUS_MESSAGES).to_string(),
        expires_at: rng
            .chance(0.5)
            .then(|| now + Duration::from_secs(600 + rng.below(8 * 3600) as u64)),
    }
}

pub(super) fn out_of_office_message(rng: &mut SeededRng) -> String {
    const DAYS: [&str; 5] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"];
    format!(
        "I am out of the office until {} and have limited access to email. For urgent matters please call reception.",
        rng.pick(&DAYS)
    )
}

/// The desk phone follows the person: on the phone when in a call, free when at work.
pub(super) fn sip_state_for(person: &Person, rng: &mut SeededRng) -> State {
    if !person.has_teams {
        return [
            State::Available,
            State::Available,
            State::InACall,
            State::Away,
            State::Offline,
        ][rng.below(5)];
    }
    match person.state {
        State::InACall | State::InAConferenceCall => State::InACall,
        State::Offline | State::AppearOffline | State::OutOfOffice => State::Offline,
        State::Away | State::BeRightBack => State::Away,
        _ => State::Available,
    }
}

pub(super) fn teams_presence(person: &Person) -> Presence {
    let (availability, activity) = person.state.graph();
    let is_out_of_office =
        person.state == State::OutOfOffice || person.out_of_office_message.is_some();
    Presence {
        upn: person.colleague.upn.clone(),
        availability,
        availability_raw: None,
        activity,
        status_message: person.status_message.clone(),
        out_of_office: OutOfOffice {
            is_out_of_office,
            message: person.out_of_office_message.clone().unwrap_or_default(),
        },
        since: person.since,
        technology: Technology::MsTeams,
        version: 0,
    }
}

pub(super) fn sip_presence(person: &Person) -> Presence {
    let (availability, activity) = match person.sip_state {
        State::InACall => (Availability::Busy, Activity::InACall),
        State::Away => (Availability::Away, Activity::Away),
        State::Offline => (Availability::Offline, Activity::Offline),
        _ => (Availability::Available, Activity::Available),
    };
    Presence {
        upn: person.colleague.upn.clone(),
        availability,
        availability_raw: None,
        activity,
        status_message: None,
        out_of_office: OutOfOffice::default(),
        since: person.sip_since,
        technology: Technology::SipSimple,
        version: 0,
    }
}
