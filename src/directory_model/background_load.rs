//! A whole directory listing built off the UI thread. The rows, the UPN lookup and the
//! search index of a large company take a few hundred milliseconds to build: on the UI
//! thread that would be as many late frames. The model hands each page to a loader
//! thread as it arrives and takes the finished directory over in one move. The loader
//! makes the rows and the UPN lookup, and passes each page on, under its row keys, to an
//! index thread that builds the search index meanwhile.
//!
//! Used for a first listing (the model holds no one yet) of a large directory; later
//! listings and changes touch few rows and are applied in place.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};

use presence_domain::Colleague;
use presence_domain::packed_colleague::{PackedColleague, SharedStrings};
use presence_domain::search::{SearchIndex, SearchIndexBuilder};

use super::Row;
use super::rows_by_upn::RowsByUpn;
use super::sanitize::sanitized_colleague;

/// Listings of at least this many colleagues are built off the UI thread; smaller ones
/// take a few milliseconds in place.
pub(super) const BACKGROUND_FROM_COLLEAGUES: usize = 2_000;

/// Pages queued for the loader at most (of up to 2,000 colleagues, as the link merges
/// them).
const QUEUED_PAGES: usize = 16;

/// Pages queued for the index thread at most: few, as each holds its colleagues whole.
const QUEUED_INDEX_PAGES: usize = 2;

/// What the loader built: the model's directory, without presence.
pub(super) struct LoadedDirectory {
    pub(super) rows: Vec<Row>,
    pub(super) shared: SharedStrings,
    pub(super) row_of_upn: RowsByUpn,
    pub(super) index: SearchIndex,
    pub(super) live_rows: usize,
    pub(super) refused_entries: u64,
}

enum LoadStep {
    Page(Vec<Colleague>),
    /// Colleagues packed with (a copy of) the given shared strings, read on the loader
    /// thread: a compaction's copy costs the UI thread one allocation a colleague.
    PackedPage(Vec<PackedColleague>, Arc<SharedStrings>),
    /// The listing is complete: build and send.
    Finish,
}

/// Where a background load stands, for the model.
pub(super) enum LoadPoll {
    /// Still building, or a page waits for room in the loader's queue.
    Busy,
    /// Taking pages: the model may go on.
    Collecting,
    Done(Box<LoadedDirectory>),
    /// The loader thread is gone without a directory.
    Failed,
}

/// A listing being built on the loader thread. Dropping it cancels the build.
pub(super) struct BackgroundLoad {
    steps: SyncSender<LoadStep>,
    loaded: Receiver<Box<LoadedDirectory>>,
    /// Steps that did not fit in the queue yet, in order.
    held: VecDeque<LoadStep>,
    is_finishing: bool,
    received: usize,
    total: usize,
}

impl BackgroundLoad {
    /// Starts a loader thread for a listing of `total` colleagues, keeping at most
    /// `max_colleagues`, each row marked with `listing`.
    pub(super) fn start(
        total: usize,
        max_colleagues: usize,
        listing: u32,
    ) -> std::io::Result<Self> {
        let (steps, step_rx) = sync_channel(QUEUED_PAGES);
        let (loaded_tx, loaded) = sync_channel(1);
        std::thread::Builder::new()
            .name("directory-load".into())
            .spawn(move || {
                std::thread::scope(|scope| {
                    // The search index is built on a second thread, from the colleagues
                    // as this one numbers them: the two halves of the work overlap.
                    let (index_tx, index_rx) = sync_channel(QUEUED_INDEX_PAGES);
                    let indexer = std::thread::Builder::new()
                        .name("directory-index".into())
                        .spawn_scoped(scope, move || build_index(&index_rx));
                    let indexer = match indexer {
                        Ok(indexer) => indexer,
                        Err(err) => {
                            // Nothing is sent: the model lists again.
                            tracing::error!(%err, "cannot start the directory's index thread");
                            return;
                        }
                    };
                    let mut builder =
                        DirectoryBuilder::new(total, max_colleagues, listing, index_tx);
                    // A closed queue without `Finish` is a cancelled load: nothing is sent.
                    while let Ok(step) = step_rx.recv() {
                        match step {
                            LoadStep::Page(colleagues) => {
                                for colleague in colleagues {
                                    builder.add(colleague);
                                }
                                builder.send_to_index(false);
                            }
                            LoadStep::PackedPage(colleagues, shared) => {
                                for colleague in colleagues {
                                    builder.add(colleague.read(&shared).unpack());
                                }
                                builder.send_to_index(false);
                            }
                            LoadStep::Finish => {
                                builder.send_to_index(true);
                                let index = indexer.join().ok().flatten();
                                if let Some(index) = index {
                                    // The model may have given up meanwhile.
                                    let _ = loaded_tx.send(Box::new(builder.finish(index)));
                                }
                                return;
                            }
                        }
                    }
                });
            })?;
        Ok(Self {
            steps,
            loaded,
            held: VecDeque::new(),
            is_finishing: false,
            received: 0,
            total,
        })
    }

    /// Hands a page over (and, when it is the last, asks for the directory). Never
    /// blocks: what the queue has no room for is held, in order, until [`Self::poll`]
    /// sends it (the app stops handing events over while anything is held).
    pub(super) fn push(&mut self, colleagues: Vec<Colleague>, is_last: bool) {
        self.received += colleagues.len();
        self.push_step(LoadStep::Page(colleagues), is_last);
    }

    /// Hands a page of packed colleagues over, as [`BackgroundLoad::push`] does: each
    /// is read with `shared`.
    pub(super) fn push_packed(
        &mut self,
        colleagues: Vec<PackedColleague>,
        shared: Arc<SharedStrings>,
        is_last: bool,
    ) {
        self.received += colleagues.len();
        self.push_step(LoadStep::PackedPage(colleagues, shared), is_last);
    }

    fn push_step(&mut self, step: LoadStep, is_last: bool) {
        self.held.push_back(step);
        if is_last {
            self.is_finishing = true;
            self.held.push_back(LoadStep::Finish);
        }
        self.send_held();
    }

    fn send_held(&mut self) {
        while let Some(step) = self.held.pop_front() {
            match self.steps.try_send(step) {
                Ok(()) => {}
                // The loader is gone: `poll` says so.
                Err(TrySendError::Disconnected(_)) => self.held.clear(),
                Err(TrySendError::Full(step)) => {
                    self.held.push_front(step);
                    return;
                }
            }
        }
    }

    /// Sends what is held and says where the load stands.
    pub(super) fn poll(&mut self) -> LoadPoll {
        self.send_held();
        if !self.is_finishing || !self.held.is_empty() {
            return if !self.held.is_empty() {
                LoadPoll::Busy
            } else {
                LoadPoll::Collecting
            };
        }
        match self.loaded.try_recv() {
            Ok(directory) => LoadPoll::Done(directory),
            Err(TryRecvError::Empty) => LoadPoll::Busy,
            Err(TryRecvError::Disconnected) => LoadPoll::Failed,
        }
    }

    /// Waits for the directory (for a caller that must apply something after it).
    pub(super) fn wait(mut self) -> Option<Box<LoadedDirectory>> {
        for step in std::mem::take(&mut self.held) {
            self.steps.send(step).ok()?;
        }
        if !self.is_finishing {
            self.steps.send(LoadStep::Finish).ok()?;
        }
        self.loaded.recv().ok()
    }

    pub(super) fn is_finishing(&self) -> bool {
        self.is_finishing
    }

    /// Colleagues received so far, and how many the listing holds.
    pub(super) fn progress(&self) -> (usize, usize) {
        (self.received, self.total.max(self.received))
    }
}

/// A page of colleagues for the index thread, under their row keys; `Finish` asks for
/// the index (a queue closed without it is a cancelled load).
enum IndexStep {
    Page(Vec<(u32, Colleague)>),
    Finish,
}

/// The index thread: files each colleague under its row key (a later entry for the same
/// key replaces the earlier), and builds the index once asked to.
fn build_index(steps: &Receiver<IndexStep>) -> Option<SearchIndex> {
    let mut index = SearchIndexBuilder::new();
    while let Ok(step) = steps.recv() {
        match step {
            IndexStep::Page(colleagues) => {
                for (key, colleague) in &colleagues {
                    index.insert(*key, colleague);
                }
            }
            IndexStep::Finish => return Some(index.finish()),
        }
    }
    None
}

/// Builds the rows and the UPN lookup of a listing, with the model's rules: colleagues
/// are sanitised, a UPN listed twice keeps its last entry, and no more than the model's
/// bound are kept. What goes into the index is sent to the index thread.
struct DirectoryBuilder {
    rows: Vec<Row>,
    shared: SharedStrings,
    row_of_upn: RowsByUpn,
    to_index: SyncSender<IndexStep>,
    /// Colleagues for the index thread, sent a page at a time.
    for_index: Vec<(u32, Colleague)>,
    refused_entries: u64,
    max_colleagues: usize,
    listing: u32,
}

impl DirectoryBuilder {
    fn new(
        total: usize,
        max_colleagues: usize,
        listing: u32,
        to_index: SyncSender<IndexStep>,
    ) -> Self {
        Self {
            rows: Vec::with_capacity(total.min(max_colleagues)),
            shared: SharedStrings::default(),
            row_of_upn: RowsByUpn::with_capacity(total.min(max_colleagues)),
            to_index,
            for_index: Vec::new(),
            refused_entries: 0,
            max_colleagues,
            listing,
        }
    }

    fn add(&mut self, colleague: Colleague) {
        let Some(colleague) = sanitized_colleague(colleague) else {
            self.refused_entries += 1;
            return;
        };
        let packed = PackedColleague::new(&colleague, &mut self.shared);
        match self.row_of_upn.get(&self.rows, &colleague.upn) {
            Some(row_key) => {
                self.rows[row_key as usize].colleague = packed;
                self.for_index.push((row_key, colleague));
            }
            None if self.rows.len() >= self.max_colleagues => self.refused_entries += 1,
            None => {
                let row_key = self.rows.len() as u32;
                self.rows.push(Row {
                    colleague: packed,
                    presence: None,
                    is_alive: true,
                    listing: self.listing,
                });
                self.row_of_upn.insert(&self.rows, row_key);
                self.for_index.push((row_key, colleague));
            }
        }
    }

    /// Sends the colleagues added since to the index thread, and asks for the index
    /// when `is_last`. (A gone index thread is found when it is joined.)
    fn send_to_index(&mut self, is_last: bool) {
        if !self.for_index.is_empty() {
            let page = std::mem::take(&mut self.for_index);
            let _ = self.to_index.send(IndexStep::Page(page));
        }
        if is_last {
            let _ = self.to_index.send(IndexStep::Finish);
        }
    }

    fn finish(self, index: SearchIndex) -> LoadedDirectory {
        if self.refused_entries > 0 && self.rows.len() >= self.max_colleagues {
            tracing::warn!(
                max = self.max_colleagues,
                "the gateway lists more colleagues than the panel holds; the rest are left out"
            );
        }
        LoadedDirectory {
            live_rows: self.rows.len(),
            rows: self.rows,
            shared: self.shared,
            row_of_upn: self.row_of_upn,
            index,
            refused_entries: self.refused_entries,
        }
    }
}
