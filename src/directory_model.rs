//! The panel's state of the world: the directory, everyone's latest presence, the link
//! and source health, and the search index. Applies link events; knows nothing of
//! drawing.
//!
//! Rules it keeps: a presence update older than the version held is discarded; a full
//! snapshot is authoritative; presence for someone not yet in the directory waits for
//! them; nothing is shown as live unless the link is live and its source is live.

mod background_compaction;
mod background_load;
mod rows_by_upn;
mod sanitize;

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use presence_domain::colleague::upn_key;
use presence_domain::packed_colleague::{ColleagueRef, PackedColleague, SharedStrings};
use presence_domain::search::{SearchIndex, SearchIndexBuilder};
use presence_domain::{Colleague, HeldPresence, Presence, SourceHealth, SourceState, Technology};

use self::background_compaction::{BackgroundCompaction, CompactionStep};
use self::background_load::{
    BACKGROUND_FROM_COLLEAGUES, BackgroundLoad, LoadPoll, LoadedDirectory,
};
use self::rows_by_upn::RowsByUpn;
use self::sanitize::{sanitized_colleague, sanitized_presence};
use crate::connection::{ConnectionState, DirectoryChange, GatewayInUse, PanelEvent};

/// Words the search index's upkeep merges in one frame (up to some 200 ns each).
const INDEX_TIDY_WORDS: usize = 10_000;
/// Presences held for UPNs not (yet) in the directory, at most.
const MAX_ORPHANS: usize = 200_000;
/// Colleagues held at most (twice the largest Teams tenants): a gateway that sends more
/// is not believed beyond this.
pub const MAX_COLLEAGUES: usize = 1_000_000;

/// One colleague as the panel keeps them.
#[derive(Debug, Clone)]
struct Row {
    colleague: PackedColleague,
    presence: Option<HeldPresence>,
    is_alive: bool,
    listing: u32,
}

/// One colleague as the panel shows them.
#[derive(Clone, Copy)]
pub struct RowRef<'a> {
    pub colleague: ColleagueRef<'a>,
    presence: Option<&'a HeldPresence>,
}

impl<'a> RowRef<'a> {
    /// The latest presence held, if any.
    pub fn presence(self) -> Option<&'a HeldPresence> {
        self.presence
    }

    /// The latest presence held, whole (for drawing one row).
    pub fn full_presence(self) -> Option<Presence> {
        self.presence.map(|p| p.to_presence(self.colleague.upn()))
    }
}

/// Where a directory listing built off the UI thread stands, for the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadProgress {
    /// Nothing to wait for: events may be applied.
    Ready,
    /// The directory is being built: apply nothing yet.
    Waiting,
    /// The directory has just been taken over; events may be applied.
    Loaded,
    /// The loader failed, and the listing with it: the link must list again.
    Lost,
}

pub struct DirectoryModel {
    rows: Vec<Row>,
    /// Departments, job titles and offices of the rows, each kept once.
    shared: SharedStrings,
    row_of_upn: RowsByUpn,
    orphans: HashMap<String, HeldPresence>,
    index: SearchIndex,
    /// A large first listing being built off the UI thread.
    load: Option<BackgroundLoad>,
    /// The rows and index of a large directory being compacted off the UI thread.
    compaction: Option<BackgroundCompaction>,
    live_rows: usize,
    listing: u32,
    connection: Option<ConnectionState>,
    gateway: Option<GatewayInUse>,
    /// When the link last stopped being live (for "last known at").
    lost_at: Option<SystemTime>,
    has_been_live: bool,
    /// A whole listing of the directory has arrived (who is missing from it is gone).
    has_complete_directory: bool,
    sources: Vec<SourceHealth>,
    /// Bumped when rows are added, removed, renamed or renumbered.
    directory_revision: u64,
    /// Bumped when any presence changes.
    presence_revision: u64,
    discarded_updates: u64,
    /// Colleagues and presences refused (not a UPN, or beyond [`MAX_COLLEAGUES`]).
    refused_entries: u64,
    max_colleagues: usize,
}

impl Default for DirectoryModel {
    fn default() -> Self {
        Self::with_max_colleagues(MAX_COLLEAGUES)
    }
}

impl DirectoryModel {
    pub fn new() -> Self {
        Self::default()
    }

    /// A model holding at most `max` colleagues.
    pub fn with_max_colleagues(max: usize) -> Self {
        Self {
            rows: Vec::new(),
            shared: SharedStrings::default(),
            row_of_upn: RowsByUpn::default(),
            orphans: HashMap::new(),
            index: SearchIndex::default(),
            load: None,
            compaction: None,
            live_rows: 0,
            listing: 0,
            connection: None,
            gateway: None,
            lost_at: None,
            has_been_live: false,
            has_complete_directory: false,
            sources: Vec::new(),
            directory_revision: 0,
            presence_revision: 0,
            discarded_updates: 0,
            refused_entries: 0,
            max_colleagues: max,
        }
    }

    /// Colleagues and presences refused: not a UPN, or more colleagues than the model
    /// holds.
    pub fn refused_entries(&self) -> u64 {
        self.refused_entries
    }

    pub fn len(&self) -> usize {
        self.live_rows
    }

    pub fn is_empty(&self) -> bool {
        self.live_rows == 0
    }

    pub fn directory_revision(&self) -> u64 {
        self.directory_revision
    }

    pub fn presence_revision(&self) -> u64 {
        self.presence_revision
    }

    /// Updates discarded because they were older than what was held.
    pub fn discarded_updates(&self) -> u64 {
        self.discarded_updates
    }

    pub fn connection(&self) -> Option<&ConnectionState> {
        self.connection.as_ref()
    }

    /// The gateway the link is on (or trying), once the link has started.
    pub fn gateway(&self) -> Option<&GatewayInUse> {
        self.gateway.as_ref()
    }

    pub fn is_live(&self) -> bool {
        self.connection
            .as_ref()
            .is_some_and(ConnectionState::is_live)
    }

    pub fn has_been_live(&self) -> bool {
        self.has_been_live
    }

    /// When the link stopped being live, while it is not.
    pub fn lost_at(&self) -> Option<SystemTime> {
        if self.is_live() { None } else { self.lost_at }
    }

    pub fn sources(&self) -> &[SourceHealth] {
        &self.sources
    }

    /// Whether `technology`'s source is delivering live presence. Until the gateway has
    /// said so (on every new link), it is not.
    pub fn is_source_live(&self, technology: Technology) -> bool {
        self.sources
            .iter()
            .find(|s| s.technology == technology)
            .is_some_and(|s| s.state != SourceState::Stale)
    }

    /// Whether a presence from `technology` must be shown as stale (not live).
    pub fn is_stale(&self, technology: Technology) -> bool {
        !self.is_live() || !self.is_source_live(technology)
    }

    pub fn row(&self, key: u32) -> Option<RowRef<'_>> {
        self.rows
            .get(key as usize)
            .filter(|r| r.is_alive)
            .map(|r| RowRef {
                colleague: r.colleague.read(&self.shared),
                presence: r.presence.as_ref(),
            })
    }

    /// Whether a whole listing of the directory has arrived: until then, someone not in
    /// it may only not have arrived yet.
    pub fn has_complete_directory(&self) -> bool {
        self.has_complete_directory
    }

    /// The keys of every colleague held.
    pub fn row_keys(&self) -> impl Iterator<Item = u32> + '_ {
        self.rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_alive)
            .map(|(key, _)| key as u32)
    }

    pub fn row_key_of(&self, upn: &str) -> Option<u32> {
        self.row_of_upn.get(&self.rows, upn)
    }

    /// Goes on with the search index's upkeep (merging the words of changed colleagues)
    /// for about a millisecond or two; true when there is more to do next frame.
    pub fn tidy_index(&mut self) -> bool {
        self.index.tidy(INDEX_TIDY_WORDS)
    }

    /// Runs a search (see [`SearchIndex::search`]).
    pub fn search(&mut self, query: &str, out: &mut Vec<u32>) {
        let (rows, shared) = (&self.rows, &self.shared);
        self.index.search(query, out, |key| {
            rows.get(key as usize).map_or(["", ""], |r| {
                let c = r.colleague.read(shared);
                [c.upn(), c.mail()]
            })
        });
    }

    /// Where a listing built off the UI thread stands; takes it over when it is done.
    /// The app hands the model no events while this says [`LoadProgress::Waiting`] (they
    /// belong after the directory); [`Self::apply`] would wait for it.
    pub fn poll_background_load(&mut self) -> LoadProgress {
        let Some(load) = &mut self.load else {
            return LoadProgress::Ready;
        };
        match load.poll() {
            LoadPoll::Collecting => LoadProgress::Ready,
            LoadPoll::Busy => LoadProgress::Waiting,
            LoadPoll::Done(directory) => {
                self.load = None;
                self.take_loaded(*directory);
                LoadProgress::Loaded
            }
            LoadPoll::Failed => {
                self.load = None;
                tracing::error!("the directory loader stopped without a directory");
                LoadProgress::Lost
            }
        }
    }

    /// Colleagues received and listed in all, while a listing is built off the UI
    /// thread (the model shows no one until it is done).
    pub fn loading_progress(&self) -> Option<(usize, usize)> {
        self.load.as_ref().map(BackgroundLoad::progress)
    }

    /// Takes over a directory built off the UI thread (the model held no rows).
    fn take_loaded(&mut self, directory: LoadedDirectory) {
        debug_assert!(
            self.rows.is_empty(),
            "a background load starts with no rows"
        );
        self.rows = directory.rows;
        self.shared = directory.shared;
        self.row_of_upn = directory.row_of_upn;
        self.index = directory.index;
        self.live_rows = directory.live_rows;
        self.refused_entries += directory.refused_entries;
        // Presence that came before its colleague.
        if !self.orphans.is_empty() {
            let orphans = std::mem::take(&mut self.orphans);
            for (key, held) in orphans {
                match self.row_of_upn.get(&self.rows, &key) {
                    Some(row_key) => self.rows[row_key as usize].presence = Some(held),
                    None => {
                        self.orphans.insert(key, held);
                    }
                }
            }
        }
        self.has_complete_directory = true;
        self.directory_revision += 1;
        self.presence_revision += 1;
    }

    /// Waits for a listing being built off the UI thread (for events that belong after
    /// it, applied without polling first).
    fn wait_for_load(&mut self) {
        if let Some(load) = self.load.take() {
            match load.wait() {
                Some(directory) => self.take_loaded(*directory),
                None => tracing::error!("the directory loader stopped without a directory"),
            }
        }
    }

    pub fn apply(&mut self, event: PanelEvent, now: SystemTime) {
        if let Some(load) = &self.load {
            let is_next_page = matches!(
                event,
                PanelEvent::DirectoryPage {
                    is_first: false,
                    ..
                }
            );
            if load.is_finishing() {
                self.wait_for_load();
            } else if !is_next_page {
                // Anything else mid-listing: the link dropped, the listing is abandoned.
                self.load = None;
            }
        }
        match event {
            PanelEvent::State(state) => {
                let was_live = self.is_live();
                if !state.is_live() {
                    // Whatever the sources were, it is not known now.
                    self.sources.clear();
                }
                if state.is_live() {
                    self.has_been_live = true;
                    self.lost_at = None;
                } else if was_live || self.lost_at.is_none() {
                    self.lost_at = Some(now);
                }
                self.connection = Some(state);
                self.presence_revision += 1;
            }
            PanelEvent::DirectoryPage {
                colleagues,
                is_first,
                is_last,
                total,
            } => {
                if is_first {
                    self.listing = self.listing.wrapping_add(1);
                    self.load = None;
                    if self.rows.is_empty() && total >= BACKGROUND_FROM_COLLEAGUES && !is_last {
                        match BackgroundLoad::start(total, self.max_colleagues, self.listing) {
                            Ok(load) => self.load = Some(load),
                            Err(error) => tracing::warn!(
                                "cannot start the directory loader ({error}); loading in place"
                            ),
                        }
                    }
                }
                if let Some(load) = &mut self.load {
                    load.push(colleagues, is_last);
                    // The progress shown moves.
                    self.directory_revision += 1;
                    return;
                }
                for colleague in colleagues {
                    self.upsert(colleague);
                }
                if is_last {
                    let stale: Vec<String> = self
                        .rows
                        .iter()
                        .filter(|r| r.is_alive && r.listing != self.listing)
                        .map(|r| r.colleague.upn().to_owned())
                        .collect();
                    for upn in stale {
                        self.remove(&upn);
                    }
                    self.compact_if_needed();
                    self.index.pack();
                    self.has_complete_directory = true;
                }
                self.directory_revision += 1;
            }
            PanelEvent::Snapshot {
                presences,
                is_delta,
                ..
            } => {
                for presence in presences {
                    self.set_presence(presence, !is_delta);
                }
                self.presence_revision += 1;
            }
            PanelEvent::Presences(presences) => {
                for presence in presences {
                    self.set_presence(presence, false);
                }
                self.presence_revision += 1;
            }
            PanelEvent::DirectoryChanges(changes) => {
                for change in changes {
                    match change {
                        DirectoryChange::Added(c) | DirectoryChange::Changed(c) => self.upsert(c),
                        DirectoryChange::Removed { upn } => self.remove(&upn),
                    }
                }
                self.compact_if_needed();
                self.directory_revision += 1;
            }
            PanelEvent::SourceHealth(sources) => {
                if sources != self.sources {
                    self.sources = sources;
                    self.presence_revision += 1;
                }
            }
            PanelEvent::Gateway(gateway) => self.gateway = Some(gateway),
        }
    }

    fn upsert(&mut self, colleague: Colleague) {
        let Some(colleague) = sanitized_colleague(colleague) else {
            self.refused_entries += 1;
            return;
        };
        let key = colleague.upn_key();
        let row_key = self.row_of_upn.get(&self.rows, &key);
        if let Some(compaction) = &mut self.compaction {
            compaction.note_changed(&key, row_key);
        }
        let listing = self.listing;
        match row_key {
            Some(row_key) => {
                let row = &mut self.rows[row_key as usize];
                row.listing = listing;
                let packed = PackedColleague::new(&colleague, &mut self.shared);
                if row.colleague != packed {
                    self.index.insert(row_key, &colleague);
                    row.colleague = packed;
                }
            }
            None if self.live_rows >= self.max_colleagues => {
                if self.refused_entries == 0 {
                    tracing::warn!(
                        max = self.max_colleagues,
                        "the gateway lists more colleagues than the panel holds; the rest are left out"
                    );
                }
                self.refused_entries += 1;
            }
            None => {
                let row_key = self.rows.len() as u32;
                self.index.insert(row_key, &colleague);
                let presence = self.orphans.remove(&key);
                self.rows.push(Row {
                    colleague: PackedColleague::new(&colleague, &mut self.shared),
                    presence,
                    is_alive: true,
                    listing,
                });
                self.row_of_upn.insert(&self.rows, row_key);
                self.live_rows += 1;
            }
        }
    }

    fn remove(&mut self, upn: &str) {
        if let Some(compaction) = &mut self.compaction {
            let row_key = self.row_of_upn.get(&self.rows, upn);
            compaction.note_changed(upn, row_key);
        }
        if let Some(row_key) = self.row_of_upn.remove(&self.rows, upn) {
            let row = &mut self.rows[row_key as usize];
            row.is_alive = false;
            row.presence = None;
            self.index.remove(row_key);
            self.live_rows -= 1;
        }
    }

    /// Keeps a presence unless an equal or newer one is held (or, for an authoritative
    /// snapshot, always).
    fn set_presence(&mut self, presence: Presence, is_authoritative: bool) {
        let Some(presence) = sanitized_presence(presence) else {
            self.refused_entries += 1;
            return;
        };
        let row_key = self.row_of_upn.get(&self.rows, &presence.upn);
        let Some(row_key) = row_key else {
            let key = upn_key(&presence.upn);
            match self.orphans.get(&key) {
                Some(held) if !is_authoritative && held.version() >= presence.version => {
                    self.discarded_updates += 1;
                }
                Some(_) => {
                    self.orphans.insert(key, HeldPresence::new(presence));
                }
                None if self.orphans.len() < MAX_ORPHANS => {
                    self.orphans.insert(key, HeldPresence::new(presence));
                }
                None => {}
            }
            return;
        };
        let slot = &mut self.rows[row_key as usize].presence;
        match slot {
            Some(held) if !is_authoritative && held.version() >= presence.version => {
                self.discarded_updates += 1;
            }
            // The row holds the UPN already: no second copy per colleague.
            _ => *slot = Some(HeldPresence::new(presence)),
        }
    }

    /// Drops removed rows once they are a large share, renumbering the rest.
    fn compact_if_needed(&mut self) {
        let dead = self.rows.len() - self.live_rows;
        let are_rows_wasted = dead >= 1_000 && dead * 4 >= self.rows.len();
        // Changed colleagues leave their old entry in the index too.
        let is_index_wasted = self.index.dead_len() >= 1_000 && self.index.dead_ratio() >= 0.25;
        if !are_rows_wasted && !is_index_wasted || self.compaction.is_some() {
            return;
        }
        if self.live_rows >= BACKGROUND_FROM_COLLEAGUES && self.load.is_none() {
            match BackgroundCompaction::start(
                self.live_rows,
                &self.shared,
                self.max_colleagues,
                self.listing,
            ) {
                Ok(compaction) => {
                    self.compaction = Some(compaction);
                    return;
                }
                Err(error) => {
                    tracing::warn!("cannot start the compaction thread ({error}); compacting now");
                }
            }
        }
        self.compact_now();
    }

    /// Rebuilds the rows and the index from the live rows, here and now.
    fn compact_now(&mut self) {
        // Repacked with new shared strings, which drops those no one uses any more.
        let old_shared = std::mem::take(&mut self.shared);
        let mut index = SearchIndexBuilder::new();
        let rows: Vec<Row> = std::mem::take(&mut self.rows)
            .into_iter()
            .filter(|r| r.is_alive)
            .enumerate()
            .map(|(i, row)| {
                let colleague = row.colleague.read(&old_shared).unpack();
                index.insert(i as u32, &colleague);
                Row {
                    colleague: PackedColleague::new(&colleague, &mut self.shared),
                    ..row
                }
            })
            .collect();
        self.row_of_upn.rebuild(&rows);
        self.index = index.finish();
        self.rows = rows;
        self.directory_revision += 1;
    }

    /// Whether the rows and index are being compacted off the UI thread.
    pub fn is_compacting(&self) -> bool {
        self.compaction.is_some()
    }

    /// Goes on with a compaction under way, if any (rows copied for up to `budget`, at
    /// least a slice, and later the new directory's taking over); true while one is
    /// under way.
    pub fn step_compaction(&mut self, budget: Duration) -> bool {
        let Some(compaction) = &mut self.compaction else {
            return false;
        };
        let step = compaction.step(&self.rows, &self.shared, budget);
        match step {
            CompactionStep::Going => true,
            CompactionStep::Built(directory, copied, changed) => {
                self.compaction = None;
                self.take_compacted(*directory, &copied, changed);
                false
            }
            CompactionStep::Failed => {
                // Tried again after the next change.
                self.compaction = None;
                tracing::error!("the compaction thread stopped without a directory");
                false
            }
        }
    }

    /// Takes over a compacted directory: row `i` of it is old row `copied[i]`, and the
    /// colleagues in `changed` are taken from the old rows again.
    fn take_compacted(
        &mut self,
        directory: LoadedDirectory,
        copied: &[u32],
        changed: std::collections::HashSet<String>,
    ) {
        if directory.rows.len() != copied.len() {
            // Not what was copied (nothing should drop a live row): kept as it was.
            tracing::error!(
                built = directory.rows.len(),
                copied = copied.len(),
                "a compaction built another directory than it was given; not taken"
            );
            return;
        }
        let mut old_rows = std::mem::replace(&mut self.rows, directory.rows);
        let old_shared = std::mem::replace(&mut self.shared, directory.shared);
        let old_row_of_upn = std::mem::replace(&mut self.row_of_upn, directory.row_of_upn);
        let old_index = std::mem::replace(&mut self.index, directory.index);
        self.live_rows = directory.live_rows;
        // Presence moves over: the old rows are dropped after.
        for (row, &old) in self.rows.iter_mut().zip(copied) {
            if let Some(old) = old_rows.get_mut(old as usize) {
                row.presence = old.presence.take();
                row.listing = old.listing;
            }
        }
        for upn in changed {
            let old_key = old_row_of_upn.get(&old_rows, &upn);
            match old_key.and_then(|key| old_rows.get_mut(key as usize)) {
                Some(old) => {
                    self.upsert(old.colleague.read(&old_shared).unpack());
                    if let Some(key) = self.row_of_upn.get(&self.rows, &upn) {
                        let row = &mut self.rows[key as usize];
                        // Still held by the old row unless it was copied (and moved).
                        if let Some(presence) = old.presence.take() {
                            row.presence = Some(presence);
                        }
                        row.listing = old.listing;
                    }
                }
                None => self.remove(&upn),
            }
        }
        self.directory_revision += 1;
        self.presence_revision += 1;
        // Freeing a whole directory takes a while: not on the UI thread.
        let old = (old_rows, old_shared, old_row_of_upn, old_index);
        if let Err(error) = std::thread::Builder::new()
            .name("free-old-directory".into())
            .spawn(move || drop(old))
        {
            tracing::debug!("freeing the old directory here ({error})");
        }
    }
}

/// Test fixtures, shared with the view's tests.
#[cfg(test)]
pub(crate) mod tests {
    use presence_domain::Availability;
    use presence_domain::text::MAX_LINE_CHARS;

    use super::*;

    pub(crate) fn colleague(upn: &str, name: &str) -> Colleague {
        Colleague {
            upn: upn.into(),
            display_name: name.into(),
            ..Default::default()
        }
    }

    pub(crate) fn presence(upn: &str, availability: Availability, version: u64) -> Presence {
        Presence {
            availability,
            version,
            ..Presence::unknown(upn)
        }
    }

    fn availability_of(model: &DirectoryModel, upn: &str) -> Option<Availability> {
        let key = model.row_key_of(upn)?;
        model.row(key)?.presence().map(HeldPresence::availability)
    }

    /// A listing of `n` colleagues ("p0@x"…), in pages of 500, as the link delivers it.
    fn listing(n: usize) -> Vec<PanelEvent> {
        let everyone: Vec<Colleague> = (0..n)
            .map(|i| colleague(&format!("p{i}@x"), &format!("Person {i:06}")))
            .collect();
        let pages = everyone.chunks(500).count();
        everyone
            .chunks(500)
            .enumerate()
            .map(|(page, chunk)| PanelEvent::DirectoryPage {
                colleagues: chunk.to_vec(),
                is_first: page == 0,
                is_last: page + 1 == pages,
                total: n,
            })
            .collect()
    }

    /// Polls as the app does, until the background load is taken over.
    fn poll_until_loaded(model: &mut DirectoryModel) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while model.poll_background_load() != LoadProgress::Loaded {
            assert!(
                std::time::Instant::now() < deadline,
                "the load never finished"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    #[test]
    fn a_large_first_listing_is_built_off_the_ui_thread_then_taken_over_whole() {
        let now = SystemTime::now();
        let mut model = DirectoryModel::with_max_colleagues(5_500);
        // A presence that comes before its colleague waits for them.
        model.apply(
            PanelEvent::Presences(vec![presence("p7@x", Availability::Busy, 3)]),
            now,
        );
        let mut events = listing(6_000);
        // A UPN listed twice keeps its last entry; one entry is not a UPN.
        if let PanelEvent::DirectoryPage { colleagues, .. } = &mut events[2] {
            colleagues[0] = colleague("p7@x", "Renamed Seven");
            colleagues[1] = colleague("not a upn", "Nobody");
        }
        let last = events.pop().expect("pages");
        for event in events {
            model.apply(event, now);
            assert!(model.poll_background_load() != LoadProgress::Lost);
        }
        assert!(
            model.is_empty(),
            "no one is shown before the whole directory"
        );
        assert_eq!(model.loading_progress(), Some((5_500, 6_000)));
        model.apply(last, now);
        assert!(!model.has_complete_directory());
        poll_until_loaded(&mut model);

        assert_eq!(model.loading_progress(), None);
        assert!(model.has_complete_directory());
        assert_eq!(model.len(), 5_500, "the model's bound holds");
        // 5,998 distinct UPNs (one listed twice, one not a UPN): 498 beyond the bound.
        assert_eq!(
            model.refused_entries(),
            499,
            "beyond the bound, and not a UPN"
        );
        assert_eq!(availability_of(&model, "p7@x"), Some(Availability::Busy));
        let mut out = Vec::new();
        model.search("renamed seven", &mut out);
        assert_eq!(out, [model.row_key_of("p7@x").expect("p7")]);
        model.search("person 0042", &mut out);
        assert_eq!(out.len(), 100, "Person 004200…004299");
        model.search("", &mut out);
        assert_eq!(out.len(), 5_500);
        // Changes after the load apply in place.
        model.apply(
            PanelEvent::DirectoryChanges(vec![DirectoryChange::Removed { upn: "p1@x".into() }]),
            now,
        );
        assert_eq!(model.len(), 5_499);
    }

    /// Steps a compaction as the app does, a frame at a time, until it is over.
    fn step_until_compacted(model: &mut DirectoryModel) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while model.step_compaction(Duration::from_millis(3)) {
            assert!(
                std::time::Instant::now() < deadline,
                "the compaction never finished"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    fn name_of(model: &DirectoryModel, upn: &str) -> Option<String> {
        let key = model.row_key_of(upn)?;
        Some(model.row(key)?.colleague.display_name().to_owned())
    }

    #[test]
    fn a_large_directory_compacts_off_the_ui_thread_and_keeps_what_changed_meanwhile() {
        let now = SystemTime::now();
        let mut model = DirectoryModel::new();
        for event in listing(10_000) {
            model.apply(event, now);
        }
        poll_until_loaded(&mut model);
        let everyone: Vec<Presence> = (0..10_000)
            .map(|i| presence(&format!("p{i}@x"), Availability::Available, 1))
            .collect();
        model.apply(PanelEvent::Presences(everyone), now);
        // A third leave: the rows are worth compacting, off the UI thread at this size.
        let leavers = (0..10_000)
            .filter(|i| i % 3 == 0)
            .map(|i| DirectoryChange::Removed {
                upn: format!("p{i}@x"),
            })
            .collect();
        model.apply(PanelEvent::DirectoryChanges(leavers), now);
        let Some(compaction) = &mut model.compaction else {
            panic!("compacting in the background");
        };
        compaction.limit_rows_per_step(4_000);
        assert_eq!(model.len(), 6_666);
        // Some rows copied, then changes to rows copied and not yet copied.
        model.step_compaction(Duration::from_millis(3));
        model.apply(
            PanelEvent::DirectoryChanges(vec![
                DirectoryChange::Changed(colleague("p1@x", "Renamed One")),
                // In a department no one was in: a shared string the copy lacks.
                DirectoryChange::Changed(Colleague {
                    department: "Night Desk".into(),
                    ..colleague("p9998@x", "Renamed Late")
                }),
                DirectoryChange::Removed { upn: "p2@x".into() },
                DirectoryChange::Removed {
                    upn: "p9995@x".into(),
                },
                DirectoryChange::Added(colleague("p3@x", "Back Three")),
                DirectoryChange::Added(colleague("new@x", "Brand New")),
            ]),
            now,
        );
        model.apply(
            PanelEvent::Presences(vec![
                presence("p1@x", Availability::Busy, 2),
                presence("p9997@x", Availability::Away, 2),
                presence("p3@x", Availability::DoNotDisturb, 2),
            ]),
            now,
        );
        assert!(model.compaction.is_some());
        // The rest copied; the new directory is being built.
        while model.compaction.as_ref().is_some_and(|c| c.is_copying()) {
            model.step_compaction(Duration::from_millis(3));
        }
        model.apply(
            PanelEvent::DirectoryChanges(vec![DirectoryChange::Changed(colleague(
                "p10@x",
                "Renamed Ten",
            ))]),
            now,
        );
        model.apply(
            PanelEvent::Presences(vec![
                presence("p11@x", Availability::Busy, 2),
                presence("p1@x", Availability::Away, 3),
            ]),
            now,
        );
        step_until_compacted(&mut model);
        assert!(model.compaction.is_none());

        assert_eq!(model.len(), 6_666, "two left, two joined");
        assert_eq!(
            model.rows.len(),
            model.len() + 1,
            "no dead row but that of the one who left meanwhile"
        );
        assert_eq!(name_of(&model, "p1@x").as_deref(), Some("Renamed One"));
        assert_eq!(name_of(&model, "p10@x").as_deref(), Some("Renamed Ten"));
        assert_eq!(availability_of(&model, "p11@x"), Some(Availability::Busy));
        assert_eq!(name_of(&model, "p9998@x").as_deref(), Some("Renamed Late"));
        let late = model.row_key_of("p9998@x").and_then(|key| model.row(key));
        assert_eq!(
            late.map(|row| row.colleague.department().to_owned()),
            Some("Night Desk".to_owned())
        );
        assert_eq!(name_of(&model, "p2@x"), None);
        assert_eq!(name_of(&model, "p9995@x"), None);
        assert_eq!(name_of(&model, "p3@x").as_deref(), Some("Back Three"));
        assert_eq!(name_of(&model, "new@x").as_deref(), Some("Brand New"));
        assert_eq!(availability_of(&model, "p1@x"), Some(Availability::Away));
        assert_eq!(availability_of(&model, "p9997@x"), Some(Availability::Away));
        assert_eq!(
            availability_of(&model, "p3@x"),
            Some(Availability::DoNotDisturb)
        );
        assert_eq!(
            availability_of(&model, "p4@x"),
            Some(Availability::Available)
        );
        assert_eq!(
            availability_of(&model, "p5@x"),
            Some(Availability::Available)
        );
        assert_eq!(availability_of(&model, "p6@x"), None, "left");
        let mut out = Vec::new();
        model.search("renamed", &mut out);
        assert_eq!(out.len(), 3);
        model.search("person 0000", &mut out);
        // Person 000000..000099 less the leavers (34, p3 among them), p1, p2 and p10.
        assert_eq!(out.len(), 100 - 34 - 3);
        model.search("", &mut out);
        assert_eq!(out.len(), 6_666);
        // Later changes apply in place, as ever.
        model.apply(
            PanelEvent::Presences(vec![presence("p4@x", Availability::Busy, 3)]),
            now,
        );
        assert_eq!(availability_of(&model, "p4@x"), Some(Availability::Busy));
    }

    #[test]
    fn events_after_a_listing_wait_for_its_directory_and_an_abandoned_one_is_dropped() {
        let now = SystemTime::now();
        let mut model = DirectoryModel::new();
        let mut events = listing(6_000);
        // The link drops mid-listing: the partial listing is dropped, not shown.
        for event in events.drain(..3) {
            model.apply(event, now);
        }
        assert!(model.loading_progress().is_some());
        model.apply(
            PanelEvent::State(ConnectionState::Connecting { attempt: 1 }),
            now,
        );
        assert_eq!(model.loading_progress(), None);
        assert!(model.is_empty());
        // Listed again, and a presence applied straight after, without polling: it
        // waits for the directory rather than being taken for an orphan.
        for event in listing(6_000) {
            model.apply(event, now);
        }
        model.apply(
            PanelEvent::Presences(vec![presence("p5999@x", Availability::Away, 1)]),
            now,
        );
        assert_eq!(model.len(), 6_000);
        assert_eq!(availability_of(&model, "p5999@x"), Some(Availability::Away));
        // Smaller listings are applied in place, at once.
        let mut small = DirectoryModel::new();
        for event in listing(600) {
            small.apply(event, now);
            assert_eq!(small.loading_progress(), None);
        }
        assert_eq!(small.len(), 600);
    }

    #[test]
    fn a_gateway_is_not_believed_beyond_the_models_bounds() {
        let now = SystemTime::now();
        let mut model = DirectoryModel::with_max_colleagues(3);
        let mut colleagues: Vec<Colleague> = (0..5)
            .map(|n| colleague(&format!("p{n}@x"), &format!("P {n}")))
            .collect();
        colleagues.push(colleague("not a upn", "Nobody"));
        model.apply(
            PanelEvent::DirectoryPage {
                colleagues,
                is_first: true,
                total: 0,
                is_last: true,
            },
            now,
        );
        assert_eq!(model.len(), 3, "at most the bound");
        assert_eq!(model.refused_entries(), 3, "two beyond it, one not a UPN");
        model.apply(
            PanelEvent::Presences(vec![presence(&"x".repeat(1_000), Availability::Busy, 1)]),
            now,
        );
        assert_eq!(model.refused_entries(), 4);
    }

    #[test]
    fn older_updates_are_discarded_and_snapshots_are_authoritative() {
        let now = SystemTime::now();
        let mut model = DirectoryModel::new();
        model.apply(
            PanelEvent::DirectoryPage {
                colleagues: vec![colleague("a@x", "A")],
                is_first: true,
                total: 0,
                is_last: true,
            },
            now,
        );
        model.apply(
            PanelEvent::Presences(vec![presence("a@x", Availability::Busy, 10)]),
            now,
        );
        model.apply(
            PanelEvent::Presences(vec![presence("a@x", Availability::Away, 9)]),
            now,
        );
        assert_eq!(availability_of(&model, "a@x"), Some(Availability::Busy));
        assert_eq!(model.discarded_updates(), 1);
        // A full snapshot (e.g. after the gateway restarted) replaces whatever is held.
        model.apply(
            PanelEvent::Snapshot {
                presences: vec![presence("a@x", Availability::Available, 3)],
                is_delta: false,
                is_last: true,
            },
            now,
        );
        assert_eq!(
            availability_of(&model, "a@x"),
            Some(Availability::Available)
        );
    }

    #[test]
    fn presence_waits_for_its_colleague_and_listings_reconcile() {
        let now = SystemTime::now();
        let mut model = DirectoryModel::new();
        model.apply(
            PanelEvent::Presences(vec![presence("late@x", Availability::Busy, 5)]),
            now,
        );
        model.apply(
            PanelEvent::DirectoryPage {
                colleagues: vec![colleague("late@x", "Late"), colleague("gone@x", "Gone")],
                is_first: true,
                total: 0,
                is_last: true,
            },
            now,
        );
        assert_eq!(availability_of(&model, "late@x"), Some(Availability::Busy));
        assert_eq!(model.len(), 2);
        // A new listing without "gone@x" removes it.
        model.apply(
            PanelEvent::DirectoryPage {
                colleagues: vec![colleague("late@x", "Late")],
                is_first: true,
                total: 0,
                is_last: true,
            },
            now,
        );
        assert_eq!(model.len(), 1);
        assert!(model.row_key_of("gone@x").is_none());
        let mut out = Vec::new();
        model.search("gone", &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn hostile_text_is_made_safe_once() {
        let now = SystemTime::now();
        let mut model = DirectoryModel::new();
        let name = format!("\u{202E}Evil\nName\t{}", "x".repeat(5_000));
        model.apply(
            PanelEvent::DirectoryPage {
                colleagues: vec![colleague("e@x", &name)],
                is_first: true,
                total: 0,
                is_last: true,
            },
            now,
        );
        let row = model
            .row(model.row_key_of("e@x").expect("row"))
            .expect("row");
        assert!(row.colleague.display_name().starts_with("Evil Name x"));
        assert!(row.colleague.display_name().chars().count() <= MAX_LINE_CHARS + 1);
        assert!(
            !row.colleague
                .display_name()
                .chars()
                .any(|c| c.is_control() || c == '\u{202E}')
        );
    }

    #[test]
    fn staleness_follows_link_and_source() {
        let now = SystemTime::now();
        let mut model = DirectoryModel::new();
        let p = presence("a@x", Availability::Available, 1);
        let teams_live = || {
            PanelEvent::SourceHealth(vec![SourceHealth {
                technology: Technology::MsTeams,
                state: SourceState::Live,
                detail: String::new(),
                since: now,
            }])
        };
        assert!(model.is_stale(p.technology), "not live before the link is");
        model.apply(PanelEvent::State(ConnectionState::Live), now);
        assert!(
            model.is_stale(p.technology),
            "not live before the gateway says its source is"
        );
        model.apply(teams_live(), now);
        assert!(!model.is_stale(p.technology));
        model.apply(
            PanelEvent::SourceHealth(vec![SourceHealth {
                technology: Technology::MsTeams,
                state: SourceState::Stale,
                detail: "Graph unreachable".into(),
                since: now,
            }]),
            now,
        );
        assert!(model.is_stale(p.technology));
        model.apply(teams_live(), now);
        model.apply(
            PanelEvent::State(ConnectionState::Reconnecting {
                attempt: 1,
                last_error: "refused".into(),
                retry_at: std::time::Instant::now(),
            }),
            now,
        );
        assert!(model.is_stale(p.technology));
        assert_eq!(model.lost_at(), Some(now));
        model.apply(PanelEvent::State(ConnectionState::Live), now);
        assert!(
            model.is_stale(p.technology),
            "health from before the loss is forgotten"
        );
    }
}
