//! What the list shows and who is selected: the search results in display order (the
//! "Available only" filter and "Sort by status" applied), the selection that follows a
//! colleague through re-orderings, and which panes are open. Pure view logic: no egui,
//! no link; the app calls it, the drawing code reads it.

use std::time::{Duration, Instant};

use presence_domain::call_readiness::{CALL_ORDER_LEN, call_order, can_take_call_now};

use crate::directory_model::DirectoryModel;
use crate::settings::{PanelSettings, SortOrder};

/// How often a status-dependent ordering or filter is refreshed while presence flows.
pub const STATUS_RESORT_INTERVAL: Duration = Duration::from_millis(500);

/// Rows moved by Page Up / Page Down.
pub const PAGE_ROWS: isize = 10;

/// The list as shown, and the selection in it.
#[derive(Debug, Default)]
pub struct DirectoryView {
    /// Row keys matching the query, in display order.
    pub results: Vec<u32>,
    /// The selected colleague (by UPN key, so it survives re-ordering); `None` until the
    /// operator picks someone (then a search selects its best match).
    pub selected_upn: Option<String>,
    pub selected_index: Option<usize>,
    /// The list should bring the selection (or the top, without one) into view.
    pub scroll_to_selected: bool,
    pub is_details_open: bool,
    pub is_legend_open: bool,
    pub is_keyboard_map_open: bool,
    pub is_group_manager_open: bool,
    /// The groups of the colleague in hand (Ctrl+G).
    pub is_group_picker_open: bool,
    searched: Option<SearchInputs>,
    last_search_at: Option<Instant>,
}

/// What the results were computed from.
#[derive(Debug, Clone, PartialEq)]
struct SearchInputs {
    query: String,
    directory_revision: u64,
    presence_revision: u64,
    sort: SortOrder,
    available_only: bool,
}

/// What Escape did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EscapeOutcome {
    /// The keyboard map, a group window or the legend.
    ClosedWindow,
    ClosedDetails,
    /// Nothing was open: the caller clears the search text.
    ClearSearch,
}

impl DirectoryView {
    /// Re-runs the search when its inputs changed. A status-dependent order or filter
    /// follows presence at most every [`STATUS_RESORT_INTERVAL`], so a flood of updates
    /// does not re-sort every frame.
    pub fn refresh(
        &mut self,
        query: &str,
        model: &mut DirectoryModel,
        settings: &PanelSettings,
        now: Instant,
    ) {
        let inputs = SearchInputs {
            query: query.to_owned(),
            directory_revision: model.directory_revision(),
            presence_revision: model.presence_revision(),
            sort: settings.sort,
            available_only: settings.available_only,
        };
        if let Some(previous) = &self.searched {
            let depends_on_presence = inputs.sort == SortOrder::Status || inputs.available_only;
            let only_presence_changed = previous.query == inputs.query
                && previous.directory_revision == inputs.directory_revision
                && previous.sort == inputs.sort
                && previous.available_only == inputs.available_only;
            if only_presence_changed {
                let is_recent = self
                    .last_search_at
                    .is_some_and(|t| now.saturating_duration_since(t) < STATUS_RESORT_INTERVAL);
                if !depends_on_presence
                    || previous.presence_revision == inputs.presence_revision
                    || is_recent
                {
                    return;
                }
            }
        }
        let mut results = std::mem::take(&mut self.results);
        model.search(query, &mut results);
        if inputs.available_only {
            results.retain(|&key| can_take_call(model, key));
        }
        if inputs.sort == SortOrder::Status {
            sort_by_status(model, &mut results);
        }
        self.results = results;
        self.searched = Some(inputs);
        self.last_search_at = Some(now);
        self.restore_selection(model);
    }

    /// The row key of the selected colleague.
    pub fn selected_key(&self) -> Option<u32> {
        self.selected_index
            .and_then(|index| self.results.get(index))
            .copied()
    }

    /// Selects the colleague with this UPN, if the results hold them.
    pub fn select_upn(&mut self, model: &DirectoryModel, upn: &str) -> bool {
        let Some(index) = model
            .row_key_of(upn)
            .and_then(|key| self.results.iter().position(|&k| k == key))
        else {
            return false;
        };
        self.select(model, index);
        self.scroll_to_selected = true;
        true
    }

    /// Selects the row at `index` of the results.
    pub fn select(&mut self, model: &DirectoryModel, index: usize) {
        if index >= self.results.len() {
            return;
        }
        self.selected_index = Some(index);
        self.set_selected_upn(model, index);
    }

    /// Moves the selection by `delta` rows (clamped to the list); the first move
    /// selects the first row.
    pub fn move_selection(&mut self, model: &DirectoryModel, delta: isize) {
        if self.results.is_empty() {
            return;
        }
        let last = self.results.len() - 1;
        let next = match self.selected_index {
            None => 0,
            Some(current) => (current as isize)
                .saturating_add(delta)
                .clamp(0, last as isize) as usize,
        };
        self.selected_index = Some(next);
        self.set_selected_upn(model, next);
        self.scroll_to_selected = true;
    }

    pub fn select_first(&mut self, model: &DirectoryModel) {
        self.move_selection(model, isize::MIN / 2);
    }

    pub fn select_last(&mut self, model: &DirectoryModel) {
        self.move_selection(model, isize::MAX / 2);
    }

    /// Opens the details of the selected colleague, if someone is selected.
    pub fn open_details(&mut self) {
        if self.selected_index.is_some() {
            self.is_details_open = true;
        }
    }

    /// The search text changed: follow the best match until the operator moves the
    /// selection, from the top of the list.
    pub fn follow_best_match(&mut self) {
        self.selected_upn = None;
        self.selected_index = None;
        self.scroll_to_selected = true;
    }

    /// Escape closes a window (the keyboard map, the group picker, the group manager,
    /// the legend), else the details, else asks for the search to clear.
    pub fn escape(&mut self) -> EscapeOutcome {
        for is_open in [
            &mut self.is_keyboard_map_open,
            &mut self.is_group_picker_open,
            &mut self.is_group_manager_open,
            &mut self.is_legend_open,
        ] {
            if *is_open {
                *is_open = false;
                return EscapeOutcome::ClosedWindow;
            }
        }
        if self.is_details_open {
            self.is_details_open = false;
            EscapeOutcome::ClosedDetails
        } else {
            self.follow_best_match();
            EscapeOutcome::ClearSearch
        }
    }

    /// Keeps the same colleague selected after the list changed. Until the operator
    /// picks someone, a search selects its best match (so Enter acts on it) and an
    /// empty search selects no one.
    fn restore_selection(&mut self, model: &DirectoryModel) {
        let Some(upn) = &self.selected_upn else {
            let has_query = self
                .searched
                .as_ref()
                .is_some_and(|s| !s.query.trim().is_empty());
            self.selected_index = (has_query && !self.results.is_empty()).then_some(0);
            return;
        };
        let position = model
            .row_key_of(upn)
            .and_then(|key| self.results.iter().position(|&k| k == key));
        self.selected_index = match position {
            Some(p) => Some(p),
            // The selected colleague left the list: select what now stands there.
            None if self.results.is_empty() => None,
            None => {
                let index = self.selected_index.unwrap_or(0).min(self.results.len() - 1);
                self.set_selected_upn(model, index);
                Some(index)
            }
        };
    }

    fn set_selected_upn(&mut self, model: &DirectoryModel, index: usize) {
        self.selected_upn = self
            .results
            .get(index)
            .and_then(|&k| model.row(k))
            .map(|r| r.colleague.upn_key());
    }
}

/// Whether the colleague in row `key` can take a call now (see
/// [`presence_domain::call_readiness`]).
pub fn can_take_call(model: &DirectoryModel, key: u32) -> bool {
    model.row(key).and_then(|r| r.presence()).is_some_and(|p| {
        can_take_call_now(
            p.availability(),
            p.is_out_of_office(),
            !model.is_stale(p.technology()),
        )
    })
}

/// Whether the colleague in row `key` is Available now as a watch means it: live (link
/// and source), Available and not idle, not out of office.
pub fn is_available_now(model: &DirectoryModel, key: u32) -> bool {
    model.row(key).and_then(|r| r.presence()).is_some_and(|p| {
        p.availability() == presence_domain::Availability::Available
            && !p.is_out_of_office()
            && !model.is_stale(p.technology())
    })
}

/// Orders `keys` by [`call_order`], keeping the search order within each status (a
/// stable bucket sort). Colleagues without presence come last.
fn sort_by_status(model: &DirectoryModel, keys: &mut Vec<u32>) {
    let mut buckets: Vec<Vec<u32>> = vec![Vec::new(); CALL_ORDER_LEN + 1];
    for &key in keys.iter() {
        let order = model
            .row(key)
            .and_then(|r| r.presence())
            .map_or(CALL_ORDER_LEN, |p| {
                call_order(
                    p.availability(),
                    p.is_out_of_office(),
                    !model.is_stale(p.technology()),
                )
            });
        buckets[order.min(CALL_ORDER_LEN)].push(key);
    }
    keys.clear();
    for bucket in &mut buckets {
        keys.append(bucket);
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use presence_domain::{
        Availability, OutOfOffice, Presence, SourceHealth, SourceState, Technology,
    };

    use super::*;
    use crate::connection::{ConnectionState, PanelEvent};
    use crate::directory_model::tests::{colleague, presence};

    /// A live model of five colleagues named "Rossi ...", and their presence.
    fn model() -> DirectoryModel {
        let now = SystemTime::now();
        let mut model = DirectoryModel::new();
        let people = [
            ("busy@x", "Rossi Busy", Availability::Busy),
            ("ooo@x", "Rossi Away Desk", Availability::Available),
            ("idle@x", "Rossi Idle", Availability::AvailableIdle),
            ("free@x", "Rossi Free", Availability::Available),
            ("away@x", "Rossi Away", Availability::Away),
        ];
        model.apply(
            PanelEvent::DirectoryPage {
                colleagues: people.iter().map(|(u, n, _)| colleague(u, n)).collect(),
                is_first: true,
                total: 0,
                is_last: true,
            },
            now,
        );
        let mut presences: Vec<Presence> =
            people.iter().map(|(u, _, a)| presence(u, *a, 10)).collect();
        presences[1].out_of_office = OutOfOffice {
            is_out_of_office: true,
            message: "back Monday".into(),
        };
        model.apply(
            PanelEvent::Snapshot {
                presences,
                is_delta: false,
                is_last: true,
            },
            now,
        );
        model.apply(PanelEvent::State(ConnectionState::Live), now);
        model.apply(
            PanelEvent::SourceHealth(vec![SourceHealth {
                technology: Technology::MsTeams,
                state: SourceState::Live,
                detail: String::new(),
                since: now,
            }]),
            now,
        );
        model
    }

    fn upns(view: &DirectoryView, model: &DirectoryModel) -> Vec<String> {
        view.results
            .iter()
            .filter_map(|&k| model.row(k))
            .map(|r| r.colleague.upn().to_owned())
            .collect()
    }

    fn settings(sort: SortOrder, available_only: bool) -> PanelSettings {
        PanelSettings {
            sort,
            available_only,
            ..PanelSettings::default()
        }
    }

    #[test]
    fn filter_and_sort_share_one_rule_for_who_can_take_a_call() {
        let mut model = model();
        let mut view = DirectoryView::default();
        let now = Instant::now();
        view.refresh(
            "rossi",
            &mut model,
            &settings(SortOrder::Relevance, true),
            now,
        );
        let mut filtered = upns(&view, &model);
        filtered.sort();
        assert_eq!(filtered, ["free@x", "idle@x"], "out of office is hidden");

        view.refresh(
            "rossi",
            &mut model,
            &settings(SortOrder::Status, false),
            now,
        );
        let sorted = upns(&view, &model);
        assert_eq!(sorted.len(), 5);
        assert_eq!(
            &sorted[..2],
            ["free@x", "idle@x"],
            "the filter's colleagues come first, Available before idle"
        );
        assert!(
            sorted.iter().position(|u| u == "ooo@x") > sorted.iter().position(|u| u == "idle@x"),
            "an out-of-office 'Available' is not first: {sorted:?}"
        );
    }

    #[test]
    fn a_stale_available_colleague_is_neither_filtered_in_nor_sorted_first() {
        let mut model = model();
        let now = SystemTime::now();
        model.apply(
            PanelEvent::State(ConnectionState::Reconnecting {
                attempt: 1,
                last_error: "reset".into(),
                retry_at: Instant::now(),
            }),
            now,
        );
        let mut view = DirectoryView::default();
        view.refresh(
            "rossi",
            &mut model,
            &settings(SortOrder::Relevance, true),
            Instant::now(),
        );
        assert!(
            view.results.is_empty(),
            "nobody can take a call while stale"
        );
        view.refresh(
            "rossi",
            &mut model,
            &settings(SortOrder::Status, false),
            Instant::now(),
        );
        // Everyone is stale: the order is by status among the stale.
        let sorted = upns(&view, &model);
        assert!(
            ["free@x", "ooo@x"].contains(&sorted[0].as_str()),
            "{sorted:?}"
        );
        assert_eq!(sorted[4], "busy@x");
    }

    #[test]
    fn the_selection_follows_the_colleague_and_moves_within_the_list() {
        let mut model = model();
        let mut view = DirectoryView::default();
        let now = Instant::now();
        let relevance = settings(SortOrder::Relevance, false);
        view.refresh("", &mut model, &relevance, now);
        assert_eq!(view.selected_index, None, "an empty search selects no one");
        view.refresh("rossi", &mut model, &relevance, now);
        assert_eq!(
            view.selected_index,
            Some(0),
            "a search selects its best match"
        );

        view.move_selection(&model, 2);
        assert_eq!(view.selected_index, Some(2));
        assert!(view.scroll_to_selected);
        let chosen = view.selected_upn.clone();
        view.select_last(&model);
        assert_eq!(view.selected_index, Some(4));
        view.move_selection(&model, 1);
        assert_eq!(view.selected_index, Some(4), "stays on the last row");
        view.select_first(&model);
        assert_eq!(view.selected_index, Some(0));
        view.move_selection(&model, -PAGE_ROWS);
        assert_eq!(view.selected_index, Some(0), "stays on the first row");

        // Re-sorting keeps the same colleague selected.
        view.move_selection(&model, 2);
        assert_eq!(view.selected_upn, chosen);
        view.refresh(
            "rossi",
            &mut model,
            &settings(SortOrder::Status, false),
            now,
        );
        let key = view.selected_key().expect("selected");
        assert_eq!(
            model.row(key).map(|r| r.colleague.upn_key()),
            chosen,
            "the same colleague after re-sorting"
        );
    }

    #[test]
    fn escape_closes_the_legend_then_the_details_then_clears() {
        let mut model = model();
        let mut view = DirectoryView::default();
        view.refresh(
            "rossi",
            &mut model,
            &settings(SortOrder::Relevance, false),
            Instant::now(),
        );
        view.open_details();
        view.is_legend_open = true;
        view.is_keyboard_map_open = true;
        assert_eq!(view.escape(), EscapeOutcome::ClosedWindow);
        assert!(view.is_legend_open, "one window at a time");
        assert_eq!(view.escape(), EscapeOutcome::ClosedWindow);
        assert!(view.is_details_open);
        assert_eq!(view.escape(), EscapeOutcome::ClosedDetails);
        assert_eq!(view.escape(), EscapeOutcome::ClearSearch);
        assert_eq!(view.selected_index, None);

        let mut empty = DirectoryView::default();
        empty.open_details();
        assert!(!empty.is_details_open, "nothing selected, nothing to open");
    }
}
