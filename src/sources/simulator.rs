//! The simulated company: a seeded, reproducible directory and a realistic working day
//! of presence, so the gateway and the panel run out of the box.
//!
//! People take calls (Busy / InACall), sit in meetings (Busy / InAMeeting), present
//! (DoNotDisturb / Presenting), step away, set status messages and go out of office.
//! When someone's Teams client closes, the idle decay of the real service follows:
//! Available turns AvailableIdle and Busy turns BusyIdle after a while, and Offline
//! after a further interval. Some people also have a SIP SIMPLE desk phone, and a few
//! have no Teams at all, so the winning-technology rule has work to do. Colleagues join,
//! leave and change jobs now and then.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::names::{CULTURES, DEPARTMENTS, EMAIL_DOMAIN, STATUS_MESSAGES};
use super::rng::SeededRng;
use crate::domain::text::fold;
use crate::domain::{
    Activity, Availability, Colleague, OutOfOffice, Presence, SourceState, StatusMessage,
    Technology,
};
use crate::gateway::{DirectoryUpdate, PresenceHub};

/// Largest simulated company.
pub const MAX_USERS: usize = 1_000_000;

#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    pub users: usize,
    pub seed: u64,
    /// Presence changes per second across the company.
    pub changes_per_sec: f64,
    /// Directory changes (joiners, leavers, job changes) per minute.
    pub directory_changes_per_min: f64,
    /// How long a closed Teams client keeps its last state before going idle.
    pub idle_after: Duration,
    /// How long an idle state lasts before Offline.
    pub offline_after_idle: Duration,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        Self {
            users: 3_000,
            seed: 1,
            changes_per_sec: 25.0,
            directory_changes_per_min: 3.0,
            idle_after: Duration::from_secs(60),
            offline_after_idle: Duration::from_secs(180),
        }
    }
}

/// What one person is doing, as Teams would report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
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
    fn graph(self) -> (Availability, Activity) {
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

    fn is_busy_like(self) -> bool {
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

struct Person {
    colleague: Colleague,
    is_employed: bool,
    has_teams: bool,
    has_sip: bool,
    state: State,
    since: SystemTime,
    is_client_closed: bool,
    /// Bumped whenever a pending idle-decay timer must be ignored.
    decay_epoch: u32,
    status_message: Option<StatusMessage>,
    out_of_office_message: Option<String>,
    sip_state: State,
    sip_since: SystemTime,
}

/// A pending idle-decay step: (due, person, epoch).
type DecayTimer = Reverse<(SystemTime, usize, u32)>;

/// What one step of the simulation produced.
#[derive(Debug, Default)]
pub struct SimulatedChanges {
    pub teams: Vec<Presence>,
    pub sip: Vec<Presence>,
    pub directory: Vec<DirectoryUpdate>,
}

/// The simulated company.
pub struct Simulator {
    config: SimulatorConfig,
    rng: SeededRng,
    people: Vec<Person>,
    decay_timers: BinaryHeap<DecayTimer>,
    change_credit: f64,
    directory_credit: f64,
}

impl Simulator {
    /// Builds the company as it is at `now`.
    pub fn new(config: SimulatorConfig, now: SystemTime) -> Self {
        let users = config.users.clamp(1, MAX_USERS);
        let mut rng = SeededRng::new(config.seed);
        let mut used_upns = HashSet::with_capacity(users * 2);
        // A reserve of future joiners beyond the initial company.
        let reserve = (users / 50).max(5);
        let mut people = Vec::with_capacity(users + reserve);
        let mut previous_name: Option<(String, String, usize)> = None;
        for index in 0..users + reserve {
            // About 1 in 80 people share the display name of the one before (a different
            // person, in another department or office).
            let (given, surname, culture) = match previous_name.take() {
                Some(name) if rng.chance(0.0125) => name,
                _ => {
                    let culture = rng.below(CULTURES.len());
                    let c = &CULTURES[culture];
                    (
                        rng.pick(c.given_names).to_string(),
                        rng.pick(c.surnames).to_string(),
                        culture,
                    )
                }
            };
            previous_name = Some((given.clone(), surname.clone(), culture));
            let colleague =
                make_colleague(&mut rng, index, &given, &surname, culture, &mut used_upns);
            let has_teams = !rng.chance(0.03);
            let has_sip = !has_teams || rng.chance(0.3);
            let state = initial_state(&mut rng);
            let since = now - Duration::from_secs(rng.below(4 * 3600) as u64 + 30);
            let mut person = Person {
                colleague,
                is_employed: index < users,
                has_teams,
                has_sip,
                state,
                since,
                is_client_closed: matches!(state, State::AvailableIdle | State::BusyIdle),
                decay_epoch: 0,
                status_message: None,
                out_of_office_message: None,
                sip_state: State::Offline,
                sip_since: since,
            };
            if rng.chance(0.1) {
                person.status_message = Some(status_message(&mut rng, now));
            }
            if state == State::OutOfOffice {
                person.out_of_office_message = Some(out_of_office_message(&mut rng));
            }
            person.sip_state = sip_state_for(&person, &mut rng);
            people.push(person);
        }
        let mut simulator = Self {
            config,
            rng,
            people,
            decay_timers: BinaryHeap::new(),
            change_credit: 0.0,
            directory_credit: 0.0,
        };
        for index in 0..simulator.people.len() {
            if simulator.people[index].is_client_closed {
                simulator.schedule_decay(index, now);
            }
        }
        simulator
    }

    /// The directory as it stands.
    pub fn directory(&self) -> Vec<Colleague> {
        self.people
            .iter()
            .filter(|p| p.is_employed)
            .map(|p| p.colleague.clone())
            .collect()
    }

    /// Everyone's current presence, per technology.
    pub fn current_presence(&self) -> SimulatedChanges {
        let mut changes = SimulatedChanges::default();
        for person in self.people.iter().filter(|p| p.is_employed) {
            if person.has_teams {
                changes.teams.push(teams_presence(person));
            }
            if person.has_sip {
                changes.sip.push(sip_presence(person));
            }
        }
        changes
    }

    /// Advances the simulation by `elapsed` of wall time ending at `now`.
    pub fn step(&mut self, now: SystemTime, elapsed: Duration) -> SimulatedChanges {
        let mut changes = SimulatedChanges::default();
        let mut touched = Vec::new();

        self.change_credit += self.config.changes_per_sec * elapsed.as_secs_f64();
        let budget = self.change_credit.floor() as usize;
        self.change_credit -= budget as f64;
        for _ in 0..budget.min(self.people.len() * 4) {
            let index = self.rng.below(self.people.len());
            if self.people[index].is_employed && self.advance_person(index, now) {
                touched.push(index);
            }
        }

        while let Some(&Reverse((due, index, epoch))) = self.decay_timers.peek() {
            if due > now {
                break;
            }
            self.decay_timers.pop();
            if self.people[index].decay_epoch == epoch && self.decay(index, now) {
                touched.push(index);
            }
        }

        self.directory_credit +=
            self.config.directory_changes_per_min / 60.0 * elapsed.as_secs_f64();
        while self.directory_credit >= 1.0 {
            self.directory_credit -= 1.0;
            if let Some((update, index)) = self.directory_change(now) {
                changes.directory.push(update);
                if let Some(index) = index {
                    touched.push(index);
                }
            }
        }

        touched.sort_unstable();
        touched.dedup();
        for index in touched {
            let person = &self.people[index];
            if !person.is_employed {
                continue;
            }
            if person.has_teams {
                changes.teams.push(teams_presence(person));
            }
            if person.has_sip {
                changes.sip.push(sip_presence(person));
            }
        }
        changes
    }

    /// One random change in one person's day. Returns whether anything changed.
    fn advance_person(&mut self, index: usize, now: SystemTime) -> bool {
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
    fn close_client(&mut self, index: usize, now: SystemTime) -> bool {
        let person = &mut self.people[index];
        person.is_client_closed = true;
        person.decay_epoch += 1;
        self.schedule_decay(index, now);
        false
    }

    fn schedule_decay(&mut self, index: usize, now: SystemTime) {
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
    fn decay(&mut self, index: usize, now: SystemTime) -> bool {
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

    /// A joiner, a leaver or a job change.
    fn directory_change(&mut self, now: SystemTime) -> Option<(DirectoryUpdate, Option<usize>)> {
        let index = self.rng.below(self.people.len());
        let roll = self.rng.below(3);
        let person = &mut self.people[index];
        match (roll, person.is_employed) {
            (0, false) => {
                person.is_employed = true;
                person.state = State::Available;
                person.since = now;
                // A new start: nothing of an earlier stint carries over.
                person.is_client_closed = false;
                person.decay_epoch += 1;
                person.out_of_office_message = None;
                person.sip_state = State::Available;
                person.sip_since = now;
                Some((
                    DirectoryUpdate::Upsert(person.colleague.clone()),
                    Some(index),
                ))
            }
            (1, true) => {
                person.is_employed = false;
                person.decay_epoch += 1;
                Some((
                    DirectoryUpdate::Remove {
                        upn: person.colleague.upn.clone(),
                    },
                    None,
                ))
            }
            (_, true) => {
                let (department, titles) = DEPARTMENTS[self.rng.below(DEPARTMENTS.len())];
                let person = &mut self.people[index];
                person.colleague.department = department.to_owned();
                person.colleague.job_title = titles[self.rng.below(titles.len())].to_owned();
                Some((DirectoryUpdate::Upsert(person.colleague.clone()), None))
            }
            _ => None,
        }
    }
}

fn set_state(person: &mut Person, state: State, now: SystemTime) {
    person.state = state;
    person.since = now;
}

fn initial_state(rng: &mut SeededRng) -> State {
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

fn make_colleague(
    rng: &mut SeededRng,
    index: usize,
    given: &str,
    surname: &str,
    culture: usize,
    used_upns: &mut HashSet<String>,
) -> Colleague {
    let local_base = format!("{}.{}", upn_part(given), upn_part(surname));
    let mut local = local_base.clone();
    let mut n = 2;
    while !used_upns.insert(local.clone()) {
        local = format!("{local_base}{n}");
        n += 1;
    }
    let upn = format!("{local}@{EMAIL_DOMAIN}");
    let (department, titles) = DEPARTMENTS[rng.below(DEPARTMENTS.len())];
    let c = &CULTURES[culture];
    let extension = 1000 + index % 9000;
    Colleague {
        id: format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            rng.next_u64() as u32,
            index as u16,
            index % 4096,
            rng.below(4096),
            rng.next_u64() >> 16
        ),
        upn: upn.clone(),
        display_name: format!("{given} {surname}"),
        given_name: given.to_owned(),
        surname: surname.to_owned(),
        mail: upn,
        department: department.to_owned(),
        job_title: titles[rng.below(titles.len())].to_owned(),
        office: c.office.to_owned(),
        business_phones: vec![format!("{} {extension:04}", c.phone_prefix)],
        mobile_phone: if rng.chance(0.6) {
            format!(
                "+{} 7{:02} {:03} {:04}",
                30 + culture,
                rng.below(100),
                rng.below(1000),
                rng.below(10_000)
            )
        } else {
            String::new()
        },
    }
}

/// A UPN part: folded to ASCII, letters and digits only ("De Luca" -> "deluca").
fn upn_part(name: &str) -> String {
    fold(name)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

fn status_message(rng: &mut SeededRng, now: SystemTime) -> StatusMessage {
    StatusMessage {
        text: rng.pick(STATUS_MESSAGES).to_string(),
        expires_at: rng
            .chance(0.5)
            .then(|| now + Duration::from_secs(600 + rng.below(8 * 3600) as u64)),
    }
}

fn out_of_office_message(rng: &mut SeededRng) -> String {
    const DAYS: [&str; 5] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"];
    format!(
        "I am out of the office until {} and have limited access to email. For urgent matters please call reception.",
        rng.pick(&DAYS)
    )
}

/// The desk phone follows the person: on the phone when in a call, free when at work.
fn sip_state_for(person: &Person, rng: &mut SeededRng) -> State {
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

fn teams_presence(person: &Person) -> Presence {
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

fn sip_presence(person: &Person) -> Presence {
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

/// Loads the simulated company into the hub, then keeps it changing until the hub is
/// dropped by everyone else or the task is aborted.
pub fn spawn(hub: Arc<PresenceHub>, config: SimulatorConfig) -> tokio::task::JoinHandle<()> {
    let now = SystemTime::now();
    let mut simulator = Simulator::new(config, now);
    hub.apply_directory(
        simulator
            .directory()
            .into_iter()
            .map(DirectoryUpdate::Upsert)
            .collect(),
    );
    let initial = simulator.current_presence();
    hub.publish(Technology::MsTeams, initial.teams);
    hub.publish(Technology::SipSimple, initial.sip);
    hub.set_source_health(Technology::MsTeams, SourceState::Live, "simulated");
    hub.set_source_health(Technology::SipSimple, SourceState::Live, "simulated");
    tracing::info!(users = simulator.people.len(), "simulated company loaded");
    tokio::spawn(async move {
        let tick = Duration::from_millis(100);
        let mut interval = tokio::time::interval(tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last = SystemTime::now();
        loop {
            interval.tick().await;
            let now = SystemTime::now();
            let elapsed = now.duration_since(last).unwrap_or(tick);
            last = now;
            let changes = simulator.step(now, elapsed);
            hub.apply_directory(changes.directory);
            hub.publish(Technology::MsTeams, changes.teams);
            hub.publish(Technology::SipSimple, changes.sip);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_company() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let config = SimulatorConfig {
            users: 500,
            seed: 42,
            ..Default::default()
        };
        let a = Simulator::new(config.clone(), now).directory();
        let b = Simulator::new(config, now).directory();
        assert_eq!(a, b);
        assert_eq!(a.len(), 500);
        let upns: HashSet<_> = a.iter().map(|c| c.upn.clone()).collect();
        assert_eq!(upns.len(), 500, "UPNs are unique");
        let names: HashSet<_> = a.iter().map(|c| c.display_name.clone()).collect();
        assert!(names.len() < 500, "some display names repeat");
        assert!(a.iter().any(|c| !c.display_name.is_ascii()), "accents");
        assert!(a.iter().all(|c| c.upn.is_ascii() && c.upn.contains('@')));
    }

    #[test]
    fn idle_decay_runs_available_to_idle_to_offline() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let config = SimulatorConfig {
            users: 200,
            seed: 3,
            changes_per_sec: 0.0,
            ..Default::default()
        };
        let mut sim = Simulator::new(config.clone(), now);
        let index = sim
            .people
            .iter()
            .position(|p| p.is_employed && p.state == State::Available)
            .expect("someone available");
        sim.people[index].decay_epoch += 1;
        sim.close_client(index, now);
        let later = now + config.idle_after.mul_f64(1.6);
        sim.step(later, Duration::ZERO);
        assert_eq!(sim.people[index].state, State::AvailableIdle);
        let much_later = later + config.offline_after_idle.mul_f64(1.6);
        sim.step(much_later, Duration::ZERO);
        assert_eq!(sim.people[index].state, State::Offline);
    }

    #[test]
    fn a_day_has_every_kind_of_state() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let config = SimulatorConfig {
            users: 2_000,
            seed: 9,
            ..Default::default()
        };
        let sim = Simulator::new(config, now);
        let presence = sim.current_presence();
        for availability in Availability::ALL
            .iter()
            .filter(|a| **a != Availability::PresenceUnknown)
        {
            assert!(
                presence
                    .teams
                    .iter()
                    .any(|p| p.availability == *availability),
                "{availability:?}"
            );
        }
        assert!(
            presence
                .teams
                .iter()
                .any(|p| p.activity == Activity::Presenting)
        );
        assert!(
            presence
                .teams
                .iter()
                .any(|p| p.is_out_of_office() && !p.out_of_office.message.is_empty())
        );
        assert!(presence.teams.iter().any(|p| p.status_message.is_some()));
        assert!(!presence.sip.is_empty());
    }
}
