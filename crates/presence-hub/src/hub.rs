//! The presence hub: the latest presence of everyone, and fan-out to subscribers.
//!
//! Sources publish per-technology presence; the hub applies the winning-technology rule,
//! stamps each change of what is shown with a version that only grows (starting from the
//! wall clock in microseconds, so it keeps growing across restarts), and marks the
//! colleague dirty in the queue of every subscriber that watches them.
//!
//! A subscriber queue ([`crate::subscriber_queue`]) holds *which* colleagues changed,
//! never the changes themselves, so a subscriber can never receive an older state after
//! a newer one, and never misses a colleague's final state.
//!
//! No gRPC here: the service turns what the hub hands out into wire messages.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, Weak};
use std::time::{SystemTime, UNIX_EPOCH};

use presence_domain::colleague::upn_key;
use presence_domain::{
    Colleague, Presence, SourceHealth, SourceState, Technology, WinningTechnology,
};
use tokio::sync::Notify;

use crate::locks::{lock, read, write};
use crate::subscriber_queue::{Pending, QueueInner, SubscriberQueue};

/// How the hub combines technologies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HubSettings {
    pub winning_technology: WinningTechnology,
    /// `MSTeamsPresence.Enable`: when off, Teams presence is ignored.
    pub ms_teams_enabled: bool,
}

/// A change to the directory, as sources report it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // nearly all are upserts; boxing would only add allocations
pub enum DirectoryUpdate {
    /// Added, or changed if the UPN is already known.
    Upsert(Colleague),
    Remove {
        upn: String,
    },
}

/// A change to the directory, as subscribers receive it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectoryChange {
    Added(Arc<Colleague>),
    Changed(Arc<Colleague>),
    Removed(Arc<Colleague>),
}

struct Slot {
    colleague: Option<Arc<Colleague>>,
    teams: Option<Presence>,
    sip: Option<Presence>,
    /// What subscribers see; `version == 0` until a source reported.
    shown: Presence,
}

struct HubState {
    slots: Vec<Slot>,
    slot_of_upn: HashMap<String, u32>,
    directory_revision: u64,
    live_colleagues: usize,
    sources: Vec<SourceHealth>,
}

/// The hub. Share it as `Arc<PresenceHub>`.
pub struct PresenceHub {
    settings: HubSettings,
    instance_id: String,
    next_version: AtomicU64,
    state: RwLock<HubState>,
    subscribers: Mutex<Vec<Weak<SubscriberQueue>>>,
}

/// A watch refused because the UPNs not in the directory would take too much memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingUpnsFull {
    pub would_hold: usize,
    pub limit: usize,
}

/// What the hub knows about one colleague, for listing and snapshots.
pub struct HubEntry<'a> {
    pub slot: u32,
    pub colleague: &'a Arc<Colleague>,
    pub presence: &'a Presence,
}

/// A read view of the hub, held briefly.
pub struct HubView<'a> {
    state: RwLockReadGuard<'a, HubState>,
}

impl HubView<'_> {
    pub fn directory_revision(&self) -> u64 {
        self.state.directory_revision
    }

    pub fn len(&self) -> usize {
        self.state.live_colleagues
    }

    pub fn is_empty(&self) -> bool {
        self.state.live_colleagues == 0
    }

    pub fn slot_count(&self) -> u32 {
        self.state.slots.len() as u32
    }

    /// The colleague and presence in `slot`, if the colleague is in the directory.
    pub fn entry(&self, slot: u32) -> Option<HubEntry<'_>> {
        let s = self.state.slots.get(slot as usize)?;
        Some(HubEntry {
            slot,
            colleague: s.colleague.as_ref()?,
            presence: &s.shown,
        })
    }

    pub fn slot_of(&self, upn: &str) -> Option<u32> {
        self.state.slot_of_upn.get(&upn_key(upn)).copied()
    }

    pub fn sources(&self) -> &[SourceHealth] {
        &self.state.sources
    }
}

impl PresenceHub {
    pub fn new(settings: HubSettings) -> Arc<Self> {
        Self::with_version_floor(settings, 0)
    }

    /// A hub whose versions start above `floor` even if the wall clock is behind it
    /// (it stepped back since an earlier run issued versions up to `floor`).
    pub fn with_version_floor(settings: HubSettings, floor: u64) -> Arc<Self> {
        let now = SystemTime::now();
        let start_micros = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(1)
            .max(floor.saturating_add(1));
        let teams_state = if settings.ms_teams_enabled {
            SourceState::Stale
        } else {
            SourceState::Disabled
        };
        let sources = vec![
            SourceHealth {
                technology: Technology::MsTeams,
                state: teams_state,
                detail: if settings.ms_teams_enabled {
                    "waiting for the first presence".to_owned()
                } else {
                    "MSTeamsPresence.Enable=0 in Presence.ini".to_owned()
                },
                since: now,
            },
            SourceHealth {
                technology: Technology::SipSimple,
                state: SourceState::Disabled,
                detail: "no SIP SIMPLE source".to_owned(),
                since: now,
            },
        ];
        Arc::new(Self {
            settings,
            instance_id: format!("{start_micros:x}-{:x}", std::process::id()),
            next_version: AtomicU64::new(start_micros),
            state: RwLock::new(HubState {
                slots: Vec::new(),
                slot_of_upn: HashMap::new(),
                directory_revision: 0,
                live_colleagues: 0,
                sources,
            }),
            subscribers: Mutex::new(Vec::new()),
        })
    }

    pub fn settings(&self) -> HubSettings {
        self.settings
    }

    /// Identifies this run of the hub (for resuming subscriptions).
    pub fn instance_id(&self) -> &str {
        &self.instance_id
    }

    /// The highest version issued so far.
    pub fn latest_version(&self) -> u64 {
        self.next_version.load(Ordering::Acquire).saturating_sub(1)
    }

    pub fn view(&self) -> HubView<'_> {
        HubView {
            state: read(&self.state),
        }
    }

    /// Applies directory changes and tells every subscriber.
    pub fn apply_directory(&self, updates: Vec<DirectoryUpdate>) {
        if updates.is_empty() {
            return;
        }
        let mut changes = Vec::with_capacity(updates.len());
        let mut presence_changed = Vec::new();
        {
            let mut state = write(&self.state);
            for update in updates {
                match update {
                    DirectoryUpdate::Upsert(colleague) => {
                        let key = colleague.upn_key();
                        if key.is_empty() {
                            continue;
                        }
                        let colleague = Arc::new(colleague);
                        match state.slot_of_upn.get(&key).copied() {
                            Some(slot) => {
                                let s = &mut state.slots[slot as usize];
                                let was_live = s.colleague.is_some();
                                if s.colleague.as_deref() == Some(&*colleague) {
                                    continue;
                                }
                                s.colleague = Some(colleague.clone());
                                if was_live {
                                    changes.push((slot, DirectoryChange::Changed(colleague)));
                                } else {
                                    // Back in the directory: "unknown" under a fresh
                                    // version, so no client keeps an older state.
                                    s.shown = self.fresh_unknown(&colleague.upn);
                                    state.live_colleagues += 1;
                                    changes.push((slot, DirectoryChange::Added(colleague)));
                                    presence_changed.push(slot);
                                }
                            }
                            None => {
                                let slot = state.slots.len() as u32;
                                let shown = self.fresh_unknown(&colleague.upn);
                                state.slots.push(Slot {
                                    colleague: Some(colleague.clone()),
                                    teams: None,
                                    sip: None,
                                    shown,
                                });
                                state.slot_of_upn.insert(key, slot);
                                state.live_colleagues += 1;
                                changes.push((slot, DirectoryChange::Added(colleague)));
                                presence_changed.push(slot);
                            }
                        }
                    }
                    DirectoryUpdate::Remove { upn } => {
                        let Some(slot) = state.slot_of_upn.get(&upn_key(&upn)).copied() else {
                            continue;
                        };
                        let s = &mut state.slots[slot as usize];
                        if let Some(colleague) = s.colleague.take() {
                            s.teams = None;
                            s.sip = None;
                            s.shown = self.fresh_unknown(&colleague.upn);
                            state.live_colleagues -= 1;
                            changes.push((slot, DirectoryChange::Removed(colleague)));
                        }
                    }
                }
            }
            if changes.is_empty() {
                return;
            }
            state.directory_revision += 1;
            // Marked while the state is still locked: a subscriber that reads a revision
            // or a version has been handed every change up to it.
            for queue in self.live_subscribers() {
                let mut inner = lock(&queue.inner);
                for (slot, change) in &changes {
                    if let DirectoryChange::Added(colleague) = change
                        && inner.pending_upns.remove(&colleague.upn_key())
                    {
                        inner.watched.insert(*slot);
                    }
                    let was_known = !matches!(change, DirectoryChange::Added(_));
                    inner.mark_directory_dirty(*slot, was_known);
                }
                for &slot in &presence_changed {
                    if inner.is_watching(slot) {
                        inner.mark_dirty(slot);
                    }
                }
                drop(inner);
                queue.notify.notify_one();
            }
        }
    }

    /// "Nothing known" for `upn`, under a new version.
    fn fresh_unknown(&self, upn: &str) -> Presence {
        Presence {
            version: self.next_version.fetch_add(1, Ordering::AcqRel),
            ..Presence::unknown(upn)
        }
    }

    /// Publishes presence reported by one technology. Presence for UPNs not in the
    /// directory is ignored; returns how many presences changed what is shown.
    pub fn publish(&self, technology: Technology, presences: Vec<Presence>) -> usize {
        if technology == Technology::MsTeams && !self.settings.ms_teams_enabled {
            return 0;
        }
        let mut changed: Vec<u32> = Vec::with_capacity(presences.len());
        {
            let mut state = write(&self.state);
            for mut presence in presences {
                let Some(&slot) = state.slot_of_upn.get(&upn_key(&presence.upn)) else {
                    continue;
                };
                let s = &mut state.slots[slot as usize];
                let Some(colleague) = &s.colleague else {
                    continue;
                };
                presence.upn.clone_from(&colleague.upn);
                presence.technology = technology;
                match technology {
                    Technology::MsTeams => s.teams = Some(presence),
                    Technology::SipSimple => s.sip = Some(presence),
                }
                let winner = self
                    .settings
                    .winning_technology
                    .choose(s.teams.as_ref(), s.sip.as_ref());
                let Some(winner) = winner else { continue };
                if s.shown.same_state(winner) && s.shown.since == winner.since {
                    continue;
                }
                let mut shown = winner.clone();
                shown.version = self.next_version.fetch_add(1, Ordering::AcqRel);
                s.shown = shown;
                changed.push(slot);
            }
            // Marked while the state is still locked: whoever reads the latest version
            // afterwards finds every change up to it already marked.
            if !changed.is_empty() {
                self.mark_dirty_for_subscribers(&changed);
            }
        }
        changed.len()
    }

    /// Records a source's health and tells subscribers at once.
    pub fn set_source_health(&self, technology: Technology, state: SourceState, detail: &str) {
        let state = if technology == Technology::MsTeams && !self.settings.ms_teams_enabled {
            SourceState::Disabled
        } else {
            state
        };
        {
            let mut hub = write(&self.state);
            let Some(entry) = hub.sources.iter_mut().find(|s| s.technology == technology) else {
                return;
            };
            if entry.state == state && entry.detail == detail {
                return;
            }
            entry.state = state;
            entry.detail = detail.to_owned();
            entry.since = SystemTime::now();
        }
        for queue in self.live_subscribers() {
            lock(&queue.inner).is_health_changed = true;
            queue.notify.notify_one();
        }
    }

    /// Registers a subscriber with an empty watch set.
    pub fn subscribe(&self) -> Arc<SubscriberQueue> {
        let queue = Arc::new(SubscriberQueue {
            // A new subscriber hears the sources' health at once, not a heartbeat later.
            inner: Mutex::new(QueueInner {
                is_health_changed: true,
                ..QueueInner::default()
            }),
            notify: Notify::new(),
        });
        queue.notify.notify_one();
        let mut subscribers = lock(&self.subscribers);
        subscribers.retain(|w| w.strong_count() > 0);
        subscribers.push(Arc::downgrade(&queue));
        queue
    }

    fn live_subscribers(&self) -> Vec<Arc<SubscriberQueue>> {
        lock(&self.subscribers)
            .iter()
            .filter_map(Weak::upgrade)
            .collect()
    }

    fn mark_dirty_for_subscribers(&self, slots: &[u32]) {
        for queue in self.live_subscribers() {
            let mut inner = lock(&queue.inner);
            let mut any = false;
            for &slot in slots {
                if inner.is_watching(slot) {
                    inner.mark_dirty(slot);
                    any = true;
                }
            }
            drop(inner);
            if any {
                queue.notify.notify_one();
            }
        }
    }

    /// Takes a subscriber's pending work, with the version it completes: once the
    /// latest state of every slot taken is sent, the subscriber holds every change up to
    /// that version for what it watches.
    pub fn take(&self, queue: &SubscriberQueue) -> (Pending, u64) {
        let state = read(&self.state);
        let complete_through = self.latest_version();
        let (mut pending, directory) = queue.take_raw();
        // Each changed colleague once, as they are now; together they complete the
        // current revision.
        let revision = state.directory_revision;
        pending.directory_changes = directory
            .slots
            .into_iter()
            .filter_map(|(slot, was_known)| {
                let s = state.slots.get(slot as usize)?;
                let change = match (&s.colleague, was_known) {
                    (Some(colleague), false) => DirectoryChange::Added(colleague.clone()),
                    (Some(colleague), true) => DirectoryChange::Changed(colleague.clone()),
                    (None, true) => DirectoryChange::Removed(Arc::new(Colleague {
                        upn: s.shown.upn.clone(),
                        ..Colleague::default()
                    })),
                    // Added and removed since the subscriber last heard: nothing to say.
                    (None, false) => return None,
                };
                Some((revision, change))
            })
            .collect();
        (pending, complete_through)
    }

    /// Adds UPNs to a subscriber's watch set. Returns the slots now watched (for the
    /// snapshot) and the UPNs not in the directory (watched anyway). Unbounded: for
    /// callers in this process; clients go through [`PresenceHub::try_watch`].
    pub fn watch(&self, queue: &SubscriberQueue, upns: &[String]) -> (Vec<u32>, Vec<String>, u64) {
        // Never refused: the byte count saturates at `usize::MAX`, which is allowed.
        self.try_watch(queue, upns, usize::MAX).unwrap_or_default()
    }

    /// As [`PresenceHub::watch`], but refuses, changing nothing, when the UPNs not in
    /// the directory would make the subscriber's pending set hold more than
    /// `max_pending_bytes` (their text plus a fixed overhead each).
    pub fn try_watch(
        &self,
        queue: &SubscriberQueue,
        upns: &[String],
        max_pending_bytes: usize,
    ) -> Result<(Vec<u32>, Vec<String>, u64), PendingUpnsFull> {
        let state = read(&self.state);
        let complete_through = self.latest_version();
        let mut inner = lock(&queue.inner);
        // Each UPN normalised once, with its slot if it has one.
        let keyed: Vec<(String, Option<u32>)> = upns
            .iter()
            .map(|upn| {
                let key = upn_key(upn);
                let slot = state.slot_of_upn.get(&key).copied();
                (key, slot)
            })
            .collect();
        let mut added_bytes = 0usize;
        let mut counted = std::collections::HashSet::new();
        for (key, _) in keyed.iter().filter(|(_, slot)| slot.is_none()) {
            if counted.insert(key.as_str()) {
                added_bytes = added_bytes.saturating_add(inner.pending_upns.cost_of(key));
            }
        }
        let would_hold = inner.pending_upns.bytes().saturating_add(added_bytes);
        if would_hold > max_pending_bytes {
            return Err(PendingUpnsFull {
                would_hold,
                limit: max_pending_bytes,
            });
        }
        let mut slots = Vec::with_capacity(upns.len());
        let mut unknown = Vec::new();
        for (upn, (key, slot)) in upns.iter().zip(keyed) {
            match slot {
                Some(slot) if state.slots[slot as usize].colleague.is_some() => {
                    inner.watched.insert(slot);
                    slots.push(slot);
                }
                Some(slot) => {
                    inner.watched.insert(slot);
                    unknown.push(upn.clone());
                }
                None => {
                    inner.pending_upns.insert(key);
                    unknown.push(upn.clone());
                }
            }
        }
        Ok((slots, unknown, complete_through))
    }

    /// Makes a subscriber watch everyone, now and later. Returns the slots to snapshot.
    pub fn watch_all(&self, queue: &SubscriberQueue) -> (Vec<u32>, u64) {
        let state = read(&self.state);
        let complete_through = self.latest_version();
        lock(&queue.inner).is_watching_all = true;
        let slots = (0..state.slots.len() as u32)
            .filter(|&slot| state.slots[slot as usize].colleague.is_some())
            .collect();
        (slots, complete_through)
    }

    /// Removes UPNs from a subscriber's watch set. Watching everyone stops too.
    pub fn unwatch(&self, queue: &SubscriberQueue, upns: &[String]) {
        let state = read(&self.state);
        let mut inner = lock(&queue.inner);
        if inner.is_watching_all {
            // Everyone but these: turn "all" into the explicit set.
            inner.is_watching_all = false;
            for slot in 0..state.slots.len() as u32 {
                inner.watched.insert(slot);
            }
        }
        for upn in upns {
            let key = upn_key(upn);
            inner.pending_upns.remove(&key);
            if let Some(&slot) = state.slot_of_upn.get(&key) {
                inner.watched.remove(slot);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use presence_domain::Availability;

    fn colleague(upn: &str) -> Colleague {
        Colleague {
            id: upn.into(),
            upn: upn.into(),
            display_name: upn.into(),
            ..Default::default()
        }
    }

    fn presence(upn: &str, availability: Availability) -> Presence {
        Presence {
            availability,
            ..Presence::unknown(upn)
        }
    }

    fn hub(winning: WinningTechnology) -> Arc<PresenceHub> {
        let hub = PresenceHub::new(HubSettings {
            winning_technology: winning,
            ms_teams_enabled: true,
        });
        hub.apply_directory(vec![
            DirectoryUpdate::Upsert(colleague("a@x")),
            DirectoryUpdate::Upsert(colleague("b@x")),
        ]);
        hub
    }

    #[test]
    fn versions_grow_and_slow_subscriber_gets_latest_once() {
        let hub = hub(WinningTechnology::MsTeams);
        let queue = hub.subscribe();
        hub.watch(&queue, &["A@X".to_owned()]);
        for availability in [
            Availability::Busy,
            Availability::Away,
            Availability::Available,
        ] {
            hub.publish(
                Technology::MsTeams,
                vec![presence("a@x", availability), presence("b@x", availability)],
            );
        }
        assert_eq!(
            queue.dirty_len(),
            1,
            "coalesced to one entry, b@x not watched"
        );
        let (pending, _) = hub.take(&queue);
        assert_eq!(pending.presence_slots, vec![0]);
        let view = hub.view();
        let entry = view.entry(0).expect("a@x");
        assert_eq!(entry.presence.availability, Availability::Available);
        assert!(entry.presence.version > 0);
        assert_eq!(
            view.entry(1).expect("b@x").presence.version,
            entry.presence.version + 1
        );
        assert_eq!(hub.latest_version(), entry.presence.version + 1);
    }

    #[test]
    fn winning_technology_and_disabled_teams() {
        let hub = hub(WinningTechnology::SipSimple);
        hub.publish(
            Technology::MsTeams,
            vec![presence("a@x", Availability::Busy)],
        );
        assert_eq!(
            hub.view().entry(0).expect("a").presence.availability,
            Availability::Busy
        );
        hub.publish(
            Technology::SipSimple,
            vec![presence("a@x", Availability::Available)],
        );
        let view = hub.view();
        let shown = view.entry(0).expect("a").presence;
        assert_eq!(shown.availability, Availability::Available);
        assert_eq!(shown.technology, Technology::SipSimple);
        drop(view);

        let off = PresenceHub::new(HubSettings {
            winning_technology: WinningTechnology::MsTeams,
            ms_teams_enabled: false,
        });
        off.apply_directory(vec![DirectoryUpdate::Upsert(colleague("a@x"))]);
        assert_eq!(
            off.publish(
                Technology::MsTeams,
                vec![presence("a@x", Availability::Busy)]
            ),
            0
        );
        assert_eq!(off.view().sources()[0].state, SourceState::Disabled);
    }

    #[test]
    fn directory_changes_coalesce_per_colleague_and_never_overflow() {
        let hub = hub(WinningTechnology::MsTeams);
        let queue = hub.subscribe();
        let _ = hub.watch_all(&queue);
        // 150,000 joiners, then churn, while the subscriber does not read.
        let joiners: Vec<DirectoryUpdate> = (0..150_000)
            .map(|n| DirectoryUpdate::Upsert(colleague(&format!("j{n}@x"))))
            .collect();
        hub.apply_directory(joiners);
        let mut renamed = colleague("j1@x");
        renamed.display_name = "Renamed".into();
        hub.apply_directory(vec![
            DirectoryUpdate::Upsert(renamed),
            DirectoryUpdate::Remove { upn: "j2@x".into() },
            DirectoryUpdate::Remove { upn: "a@x".into() },
        ]);
        let revision = hub.view().directory_revision();
        let (pending, _) = hub.take(&queue);
        assert_eq!(
            pending.directory_changes.len(),
            150_000 - 1 + 1,
            "each joiner once (j2 came and went unheard), plus a@x's removal"
        );
        assert!(
            pending
                .directory_changes
                .iter()
                .all(|(r, _)| *r == revision)
        );
        let renamed = pending.directory_changes.iter().find_map(|(_, c)| match c {
            DirectoryChange::Added(c) if c.upn == "j1@x" => Some(c.display_name.clone()),
            _ => None,
        });
        assert_eq!(renamed.as_deref(), Some("Renamed"), "added, as it is now");
        assert!(
            pending
                .directory_changes
                .iter()
                .any(|(_, c)| matches!(c, DirectoryChange::Removed(c) if c.upn == "a@x"))
        );
        assert!(!pending.directory_changes.iter().any(|(_, c)| match c {
            DirectoryChange::Added(c)
            | DirectoryChange::Changed(c)
            | DirectoryChange::Removed(c) => c.upn == "j2@x",
        }));
        // Heard once: a later change of a known colleague is a change.
        let mut again = colleague("j1@x");
        again.display_name = "Again".into();
        hub.apply_directory(vec![DirectoryUpdate::Upsert(again)]);
        assert!(matches!(
            hub.take(&queue).0.directory_changes[..],
            [(_, DirectoryChange::Changed(_))]
        ));
    }

    #[test]
    fn pending_upn_is_watched_when_added() {
        let hub = hub(WinningTechnology::MsTeams);
        let queue = hub.subscribe();
        let (slots, unknown, _) = hub.watch(&queue, &["c@x".to_owned()]);
        assert!(slots.is_empty());
        assert_eq!(unknown, vec!["c@x".to_owned()]);
        hub.apply_directory(vec![DirectoryUpdate::Upsert(colleague("c@x"))]);
        let (pending, _) = hub.take(&queue);
        assert_eq!(pending.directory_changes.len(), 1);
        assert_eq!(pending.presence_slots, vec![2]);
        hub.apply_directory(vec![DirectoryUpdate::Remove { upn: "C@X".into() }]);
        assert!(matches!(
            hub.take(&queue).0.directory_changes[..],
            [(_, DirectoryChange::Removed(_))]
        ));
        assert_eq!(hub.view().len(), 2);
    }

    #[test]
    fn unknown_upns_are_bounded_by_the_memory_they_take() {
        let hub = hub(WinningTechnology::MsTeams);
        let queue = hub.subscribe();
        let long = |n: usize| format!("{n:05}{}@x", "u".repeat(200));
        let cost = long(0).len() + crate::PENDING_UPN_OVERHEAD_BYTES;
        let first: Vec<String> = (0..10).map(long).collect();
        let limit = 15 * cost;
        let (_, unknown, _) = hub.try_watch(&queue, &first, limit).expect("fits");
        assert_eq!(unknown.len(), 10);
        // Known colleagues and UPNs already pending cost nothing more.
        let mut again = first.clone();
        again.push("a@x".to_owned());
        assert!(hub.try_watch(&queue, &again, limit).is_ok());
        let more: Vec<String> = (10..20).map(long).collect();
        let full = hub
            .try_watch(&queue, &more, limit)
            .expect_err("over the limit");
        assert_eq!(full.would_hold, 20 * cost);
        assert_eq!(
            queue.watch_counts().0,
            11,
            "a refused watch changes nothing"
        );
        // Unwatching, and joining the directory, give the memory back.
        hub.unwatch(&queue, &first[..5]);
        hub.apply_directory(vec![DirectoryUpdate::Upsert(colleague(&first[5]))]);
        assert!(hub.try_watch(&queue, &more, limit).is_ok(), "room again");
    }
}
