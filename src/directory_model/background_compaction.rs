//! Compaction of a large directory off the UI thread. Once a quarter of the rows (or of
//! the search index's entries) are left by changed and removed colleagues, the model is
//! rebuilt from its live rows: on the UI thread that would freeze the panel for about a
//! second at 500,000 colleagues.
//!
//! The live rows are copied a few milliseconds a frame into a [`BackgroundLoad`], which
//! builds new rows, UPN lookup and index as it does for a listing. Meanwhile the model
//! goes on as before, and notes every colleague that changes after their row was copied.
//! When the new directory is built it takes the old one's place: presence and listing
//! marks are carried over row by row, and the colleagues noted are taken from the old
//! rows again, so nothing that happened meanwhile is lost.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use presence_domain::colleague::upn_key;
use presence_domain::packed_colleague::SharedStrings;

use super::Row;
use super::background_load::{BackgroundLoad, LoadPoll, LoadedDirectory};

/// Longest time a frame gives to copying rows into the loader (some 15,000 rows of
/// 500,000; the loader's threads share the cores, so a fixed number of rows could take
/// several times as long).
const STEP_BUDGET: Duration = Duration::from_millis(3);

/// Rows copied between two looks at the clock.
const ROWS_PER_CLOCK_CHECK: usize = 256;

/// A compaction under way.
pub(super) struct BackgroundCompaction {
    load: BackgroundLoad,
    /// The next row to look at.
    next_row: usize,
    /// The old key of each row copied, in the order the loader numbers them.
    copied: Vec<u32>,
    /// Colleagues added, changed or removed since their row was copied (UPN keys).
    changed: HashSet<String>,
    /// A copy of the model's shared strings, which the rows copied are read with on
    /// the loader thread (copied again when a row needs a string added since).
    shared: Arc<SharedStrings>,
    /// Rows copied a step at most, besides the time (tests set it).
    max_rows_per_step: usize,
}

/// What a step of a compaction came to.
pub(super) enum CompactionStep {
    /// Still copying or building.
    Going,
    /// Built: the new directory, the old key of each of its rows, and the colleagues
    /// changed meanwhile.
    Built(Box<LoadedDirectory>, Vec<u32>, HashSet<String>),
    /// The loader is gone without a directory.
    Failed,
}

impl BackgroundCompaction {
    /// Starts a compaction of `live_rows` rows, packed with `shared`.
    pub(super) fn start(
        live_rows: usize,
        shared: &SharedStrings,
        max_colleagues: usize,
        listing: u32,
    ) -> std::io::Result<Self> {
        Ok(Self {
            load: BackgroundLoad::start(live_rows, max_colleagues, listing)?,
            next_row: 0,
            copied: Vec::with_capacity(live_rows),
            changed: HashSet::new(),
            shared: Arc::new(shared.clone()),
            max_rows_per_step: usize::MAX,
        })
    }

    /// Copies `rows` a step at most.
    #[cfg(test)]
    pub(super) fn limit_rows_per_step(&mut self, rows: usize) {
        self.max_rows_per_step = rows.max(1);
    }

    /// Whether rows are still being copied.
    #[cfg(test)]
    pub(super) fn is_copying(&self) -> bool {
        !self.load.is_finishing()
    }

    /// Notes a colleague changed (by UPN) while the compaction runs, before the
    /// change: `row_key` is the colleague's row, if any. A row the copy has not reached
    /// yet (and a new colleague's, which goes at the end) is read as it is then, so
    /// only a colleague already copied, or any once the copy is over, is taken again.
    pub(super) fn note_changed(&mut self, upn: &str, row_key: Option<u32>) {
        let is_copied = row_key.is_some_and(|key| (key as usize) < self.next_row);
        if is_copied || self.load.is_finishing() {
            self.changed.insert(upn_key(upn));
        }
    }

    /// Copies the rows that fit in `budget` (a slice at least): `rows` are the model's,
    /// packed with `shared`. Then says where the compaction stands.
    pub(super) fn step(
        &mut self,
        rows: &[Row],
        shared: &SharedStrings,
        budget: Duration,
    ) -> CompactionStep {
        if !self.load.is_finishing() && matches!(self.load.poll(), LoadPoll::Collecting) {
            let started = Instant::now();
            let budget = budget.min(STEP_BUDGET);
            let mut page = Vec::new();
            let mut end = self.next_row;
            let last = self
                .next_row
                .saturating_add(self.max_rows_per_step)
                .min(rows.len());
            // A slice at least, however busy the cores.
            while end < last && (end == self.next_row || started.elapsed() < budget) {
                let slice_end = (end + ROWS_PER_CLOCK_CHECK).min(last);
                for (key, row) in rows.iter().enumerate().take(slice_end).skip(end) {
                    if !row.is_alive {
                        continue;
                    }
                    if !row.colleague.is_readable_with(&self.shared) {
                        // A string added since the copy: the page so far goes with the
                        // copy it was read with, and the rest with a new one.
                        let page = std::mem::take(&mut page);
                        self.load.push_packed(page, Arc::clone(&self.shared), false);
                        self.shared = Arc::new(shared.clone());
                    }
                    page.push(row.colleague.clone());
                    self.copied.push(key as u32);
                }
                end = slice_end;
            }
            self.next_row = end;
            // Rows added meanwhile are copied too, until a step finds no more.
            let is_last = end == rows.len();
            self.load
                .push_packed(page, Arc::clone(&self.shared), is_last);
        }
        match self.load.poll() {
            LoadPoll::Collecting | LoadPoll::Busy => CompactionStep::Going,
            LoadPoll::Done(directory) => CompactionStep::Built(
                directory,
                std::mem::take(&mut self.copied),
                std::mem::take(&mut self.changed),
            ),
            LoadPoll::Failed => CompactionStep::Failed,
        }
    }
}
