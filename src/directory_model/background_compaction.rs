//! Compaction of a large directory off the UI thread. Once a quarter of the rows (or of
//! the search index's entries) are left by changed and removed colleagues, the model is
//! rebuilt from its live rows: on the UI thread that would freeze the panel for about a
//! second at 500,000 colleagues.
//!
//! The live rows are copied a slice a frame into a [`BackgroundLoad`], which builds new
//! rows, UPN lookup and index as it does for a listing. Meanwhile the model goes on as
//! before, and notes every colleague that changes. When the new directory is built it
//! takes the old one's place: presence and listing marks are carried over row by row, and
//! the colleagues noted are taken from the old rows again, so nothing that happened
//! meanwhile is lost.

use std::collections::HashSet;

use presence_domain::Colleague;

use super::background_load::{BackgroundLoad, LoadPoll, LoadedDirectory};

/// Rows copied into the loader a frame at most (some 2 ms).
const ROWS_PER_STEP: usize = 4_000;

/// A compaction under way.
pub(super) struct BackgroundCompaction {
    load: BackgroundLoad,
    /// The next row to look at.
    next_row: usize,
    /// The old key of each row copied, in the order the loader numbers them.
    copied: Vec<u32>,
    /// Colleagues added, changed or removed since the compaction started (UPN keys).
    changed: HashSet<String>,
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
    /// Starts a compaction of `live_rows` rows.
    pub(super) fn start(
        live_rows: usize,
        max_colleagues: usize,
        listing: u32,
    ) -> std::io::Result<Self> {
        Ok(Self {
            load: BackgroundLoad::start(live_rows, max_colleagues, listing)?,
            next_row: 0,
            copied: Vec::with_capacity(live_rows),
            changed: HashSet::new(),
        })
    }

    /// Notes a colleague changed (by UPN key) while the compaction runs.
    pub(super) fn note_changed(&mut self, upn_key: &str) {
        if !self.changed.contains(upn_key) {
            self.changed.insert(upn_key.to_owned());
        }
    }

    /// Copies the next slice of rows: `row(key)` is the colleague of a live row, `None`
    /// for a dead one. Then says where the compaction stands.
    pub(super) fn step(
        &mut self,
        row_count: usize,
        row: impl Fn(usize) -> Option<Colleague>,
    ) -> CompactionStep {
        if !self.load.is_finishing() && matches!(self.load.poll(), LoadPoll::Collecting) {
            let end = (self.next_row + ROWS_PER_STEP).min(row_count);
            let mut page = Vec::with_capacity(end - self.next_row);
            for key in self.next_row..end {
                if let Some(colleague) = row(key) {
                    page.push(colleague);
                    self.copied.push(key as u32);
                }
            }
            self.next_row = end;
            // Rows added meanwhile are copied too, until a step finds no more.
            self.load.push(page, end == row_count);
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
