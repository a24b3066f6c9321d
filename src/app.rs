//! The eframe app: owns the model and the link, drains events under a time budget each
//! frame, handles the keyboard, and lays out the window from the `ui` modules. Drawing
//! returns commands that are applied afterwards, so drawing has no side effects.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use egui::{Key, Modifiers};

use super::connection::{ConnectionHandle, PanelEvent};
use super::directory_model::DirectoryModel;
use super::memory;
use super::settings::{PanelSettings, SortOrder, ThemeChoice};
use super::ui;
use presence_domain::Availability;

/// Longest time spent applying transport events in one frame.
pub const EVENT_BUDGET: Duration = Duration::from_millis(4);
/// How often a status-dependent ordering or filter is refreshed while presence flows.
const STATUS_RESORT_INTERVAL: Duration = Duration::from_millis(500);

/// Everything the app is started with.
pub struct PanelAppInit {
    pub connection: ConnectionHandle,
    pub settings: PanelSettings,
    /// Where to save settings on exit (`None`: never saved).
    pub settings_path: Option<PathBuf>,
    /// Shown in a banner (e.g. a damaged settings file).
    pub startup_warning: Option<String>,
    /// The gateway address shown in the status bar.
    pub endpoint_label: String,
    /// Kept alive as long as the app (the tokio runtime, the demo gateway).
    pub keep_alive: Vec<Box<dyn std::any::Any>>,
}

/// What the search and list show.
#[derive(Debug, Default)]
pub struct ViewState {
    pub query: String,
    /// Row keys matching the query, in display order.
    pub results: Vec<u32>,
    /// The selected colleague (by UPN key, so it survives re-ordering).
    pub selected_upn: Option<String>,
    pub selected_index: Option<usize>,
    pub scroll_to_selected: bool,
    pub is_details_open: bool,
    pub is_legend_open: bool,
    /// The list's scroll position last frame.
    pub scroll_offset: f32,
    searched: Option<SearchInputs>,
    last_search_at: Option<Instant>,
}

#[derive(Debug, Clone, PartialEq)]
struct SearchInputs {
    query: String,
    directory_revision: u64,
    presence_revision: u64,
    sort: SortOrder,
    available_only: bool,
}

/// What the drawing code asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum UiCommand {
    Select { index: usize, open_details: bool },
    CloseDetails,
    SetTheme(ThemeChoice),
    SetSort(SortOrder),
    SetAvailableOnly(bool),
    ToggleLegend,
    ClearQuery,
}

pub struct PanelApp {
    pub model: DirectoryModel,
    pub view: ViewState,
    pub settings: PanelSettings,
    connection: ConnectionHandle,
    settings_path: Option<PathBuf>,
    saved_settings: PanelSettings,
    pub startup_warning: Option<String>,
    pub endpoint_label: String,
    pub legend: ui::legend_ui::LegendTextures,
    /// Statistics for the status bar and benchmarks.
    pub events_last_frame: usize,
    pub pending_events: bool,
    /// Dropped last (fields drop in order): the link goes before the runtime it runs on.
    #[allow(dead_code)] // held only to be dropped at the right time
    keep_alive: Vec<Box<dyn std::any::Any>>,
}

impl PanelApp {
    pub fn new(cc: &eframe::CreationContext<'_>, init: PanelAppInit) -> Self {
        apply_theme(&cc.egui_ctx, init.settings.theme);
        Self {
            model: DirectoryModel::new(),
            view: ViewState::default(),
            saved_settings: init.settings.clone(),
            settings: init.settings,
            connection: init.connection,
            settings_path: init.settings_path,
            startup_warning: init.startup_warning,
            endpoint_label: init.endpoint_label,
            legend: ui::legend_ui::LegendTextures::default(),
            events_last_frame: 0,
            pending_events: false,
            keep_alive: init.keep_alive,
        }
    }

    /// Applies transport events until the channel is empty or the budget is spent.
    pub fn drain_events(&mut self, budget: Duration) -> usize {
        let started = Instant::now();
        let now = SystemTime::now();
        let mut applied = 0;
        let mut has_finished_bulk_load = false;
        self.pending_events = false;
        loop {
            if started.elapsed() >= budget {
                self.pending_events = true;
                break;
            }
            match self.connection.events.try_recv() {
                Ok(event) => {
                    has_finished_bulk_load |= matches!(
                        event,
                        PanelEvent::DirectoryPage { is_last: true, .. }
                            | PanelEvent::Snapshot {
                                is_last: true,
                                is_delta: false,
                                ..
                            }
                    );
                    self.model.apply(event, now);
                    applied += 1;
                }
                Err(_) => break,
            }
        }
        if has_finished_bulk_load {
            memory::release_freed_memory();
        }
        applied
    }

    /// Re-runs the search when its inputs changed.
    fn refresh_results(&mut self) {
        let inputs = SearchInputs {
            query: self.view.query.clone(),
            directory_revision: self.model.directory_revision(),
            presence_revision: self.model.presence_revision(),
            sort: self.settings.sort,
            available_only: self.settings.available_only,
        };
        if let Some(previous) = &self.view.searched {
            let depends_on_presence = inputs.sort == SortOrder::Status || inputs.available_only;
            let only_presence_changed = previous.query == inputs.query
                && previous.directory_revision == inputs.directory_revision
                && previous.sort == inputs.sort
                && previous.available_only == inputs.available_only;
            if only_presence_changed {
                let is_recent = self
                    .view
                    .last_search_at
                    .is_some_and(|t| t.elapsed() < STATUS_RESORT_INTERVAL);
                if !depends_on_presence
                    || previous.presence_revision == inputs.presence_revision
                    || is_recent
                {
                    return;
                }
            }
        }
        let mut results = std::mem::take(&mut self.view.results);
        self.model.search(&self.view.query, &mut results);
        if inputs.available_only {
            results.retain(|&key| {
                self.model
                    .row(key)
                    .and_then(|r| r.presence())
                    .is_some_and(|p| {
                        matches!(
                            p.availability(),
                            Availability::Available | Availability::AvailableIdle
                        ) && !p.is_out_of_office()
                            && !self.model.is_stale(p.technology())
                    })
            });
        }
        if inputs.sort == SortOrder::Status {
            let mut buckets: [Vec<u32>; 9] = Default::default();
            for &key in &results {
                let rank = self
                    .model
                    .row(key)
                    .and_then(|r| r.presence())
                    .map_or(8, |p| p.availability().reachability_rank() as usize);
                buckets[rank.min(8)].push(key);
            }
            results.clear();
            for bucket in &mut buckets {
                results.append(bucket);
            }
        }
        self.view.results = results;
        self.view.searched = Some(inputs);
        self.view.last_search_at = Some(Instant::now());
        self.restore_selection();
    }

    /// Keeps the same colleague selected after the list changed. Until the operator
    /// picks someone, a search selects its best match (so Enter acts on it) and an
    /// empty search selects no one.
    fn restore_selection(&mut self) {
        let Some(upn) = &self.view.selected_upn else {
            let has_query = !self.view.query.trim().is_empty();
            self.view.selected_index = (has_query && !self.view.results.is_empty()).then_some(0);
            return;
        };
        let position = self
            .model
            .row_key_of(upn)
            .and_then(|key| self.view.results.iter().position(|&k| k == key));
        self.view.selected_index = match position {
            Some(p) => Some(p),
            // The selected colleague left the list: select what now stands there.
            None if self.view.results.is_empty() => None,
            None => {
                let index = self
                    .view
                    .selected_index
                    .unwrap_or(0)
                    .min(self.view.results.len() - 1);
                self.set_selected_upn(index);
                Some(index)
            }
        };
    }

    fn set_selected_upn(&mut self, index: usize) {
        self.view.selected_upn = self
            .view
            .results
            .get(index)
            .and_then(|&k| self.model.row(k))
            .map(|r| r.colleague.upn_key());
    }

    fn move_selection(&mut self, delta: isize) {
        if self.view.results.is_empty() {
            return;
        }
        let last = self.view.results.len() - 1;
        let next = match self.view.selected_index {
            // The first key press selects the first row.
            None => 0,
            Some(current) => (current as isize)
                .saturating_add(delta)
                .clamp(0, last as isize) as usize,
        };
        self.view.selected_index = Some(next);
        self.set_selected_upn(next);
        self.view.scroll_to_selected = true;
    }

    fn handle_keys(&mut self, ctx: &egui::Context) {
        let (down, up, page_down, page_up, enter, escape, home, end) = ctx.input_mut(|i| {
            (
                i.count_and_consume_key(Modifiers::NONE, Key::ArrowDown),
                i.count_and_consume_key(Modifiers::NONE, Key::ArrowUp),
                i.count_and_consume_key(Modifiers::NONE, Key::PageDown),
                i.count_and_consume_key(Modifiers::NONE, Key::PageUp),
                i.consume_key(Modifiers::NONE, Key::Enter),
                i.consume_key(Modifiers::NONE, Key::Escape),
                i.consume_key(Modifiers::CTRL, Key::Home),
                i.consume_key(Modifiers::CTRL, Key::End),
            )
        });
        let delta = down as isize - up as isize + 10 * (page_down as isize - page_up as isize);
        if delta != 0 {
            self.move_selection(delta);
        }
        if home {
            self.move_selection(isize::MIN / 2);
        }
        if end {
            self.move_selection(isize::MAX / 2);
        }
        if enter && self.view.selected_index.is_some() {
            self.view.is_details_open = true;
        }
        if escape {
            if self.view.is_legend_open {
                self.view.is_legend_open = false;
            } else if self.view.is_details_open {
                self.view.is_details_open = false;
            } else {
                self.apply(UiCommand::ClearQuery, ctx);
            }
        }
    }

    pub fn apply(&mut self, command: UiCommand, ctx: &egui::Context) {
        match command {
            UiCommand::Select {
                index,
                open_details,
            } => {
                self.view.selected_index = Some(index);
                self.set_selected_upn(index);
                if open_details {
                    self.view.is_details_open = true;
                }
            }
            UiCommand::CloseDetails => self.view.is_details_open = false,
            UiCommand::SetTheme(theme) => {
                self.settings.theme = theme;
                apply_theme(ctx, theme);
            }
            UiCommand::SetSort(sort) => self.settings.sort = sort,
            UiCommand::SetAvailableOnly(on) => self.settings.available_only = on,
            UiCommand::ToggleLegend => self.view.is_legend_open = !self.view.is_legend_open,
            UiCommand::ClearQuery => {
                self.view.query.clear();
                self.view.selected_upn = None;
                self.view.selected_index = None;
                self.view.scroll_to_selected = true;
            }
        }
    }

    /// The work of one frame before drawing (also used by the frame benchmark).
    pub fn frame_logic(&mut self, ctx: &egui::Context) {
        self.events_last_frame = self.drain_events(EVENT_BUDGET);
        // Keys act on the list as it now stands.
        self.refresh_results();
        self.handle_keys(ctx);
        self.refresh_results();
        if self.pending_events {
            ctx.request_repaint();
        } else {
            // Time in state and the reconnect countdown move on their own.
            ctx.request_repaint_after(Duration::from_secs(1));
        }
        if let Some(rect) = ctx.input(|i| i.viewport().inner_rect) {
            self.settings.window_width = rect.width().round();
            self.settings.window_height = rect.height().round();
        }
    }
}

impl eframe::App for PanelApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.frame_logic(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let commands = ui::window_ui(ui, self);
        let ctx = ui.ctx().clone();
        for command in commands {
            self.apply(command, &ctx);
        }
    }
}

impl Drop for PanelApp {
    fn drop(&mut self) {
        if let Some(path) = &self.settings_path
            && self.settings != self.saved_settings
            && let Err(err) = self.settings.save(path)
        {
            tracing::warn!(%err, path = %path.display(), "cannot save settings");
        }
    }
}

pub fn apply_theme(ctx: &egui::Context, theme: ThemeChoice) {
    ctx.set_theme(match theme {
        ThemeChoice::Light => egui::ThemePreference::Light,
        ThemeChoice::Dark => egui::ThemePreference::Dark,
        ThemeChoice::System => egui::ThemePreference::System,
    });
}
