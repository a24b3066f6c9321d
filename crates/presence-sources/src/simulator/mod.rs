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
//!
//! - `company`: who works here (names, UPNs, departments, phones).
//! - `day`: what they are doing and how it changes, idle decay included.
//! - [`driver`]: the tokio task that feeds the hub.

mod company;
mod day;
pub mod driver;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, SystemTime};

use presence_domain::Colleague;
use presence_domain::Presence;
use presence_domain::rng::SeededRng;
use presence_hub::DirectoryUpdate;

use self::company::{UpnLocalParts, make_colleague};
use self::day::{
    DecayTimer, Person, State, initial_state, out_of_office_message, sip_presence, sip_state_for,
    status_message, teams_presence,
};
pub use self::driver::spawn;
use crate::names::{CULTURES, DEPARTMENTS};

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
    /// Also simulate the telephony platform's SIP SIMPLE presence (off when a real SIP
    /// source runs beside the simulated directory).
    pub simulate_sip: bool,
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
            simulate_sip: true,
        }
    }
}

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
        let mut upn_local_parts = UpnLocalParts::with_capacity(users * 2);
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
                    let given = *rng.pick(c.given_names);
                    let surname = *rng.pick(c.surnames);
                    let surname = c.surname_of(given, surname);
                    (given.to_string(), surname, culture)
                }
            };
            previous_name = Some((given.clone(), surname.clone(), culture));
            let colleague = make_colleague(
                &mut rng,
                index,
                &given,
                &surname,
                culture,
                &mut upn_local_parts,
            );
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

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use presence_domain::{Activity, Availability};

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
