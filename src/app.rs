//! The eframe app: owns the model, the view and the link; each frame it drains events
//! under a time budget, refreshes the view, turns keys into view changes, lays out the
//! window from the `ui` modules and then applies the commands the drawing returned.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use egui::{Key, Modifiers};

use crate::connection::{ConnectionHandle, PanelEvent};
use crate::directory_model::DirectoryModel;
use crate::directory_view::{DirectoryView, EscapeOutcome, PAGE_ROWS};
use crate::memory;
use crate::settings::{PanelSettings, ThemeChoice};
use crate::ui::{self, PanelView, UiCommand, WidgetState};

/// Longest time spent applying link events in one frame.
pub const EVENT_BUDGET: Duration = Duration::from_millis(4);

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

pub struct PanelApp {
    pub model: DirectoryModel,
    pub view: DirectoryView,
    pub widgets: WidgetState,
    pub settings: PanelSettings,
    connection: ConnectionHandle,
    settings_path: Option<PathBuf>,
    saved_settings: PanelSettings,
    startup_warning: Option<String>,
    endpoint_label: String,
    /// Events applied in the last frame (for the frame benchmark).
    pub events_last_frame: usize,
    /// Whether events were left for the next frame.
    pub pending_events: bool,
    /// Dropped last (fields drop in order): the link goes before the runtime it runs on.
    _keep_alive: Vec<Box<dyn std::any::Any>>,
}

impl PanelApp {
    pub fn new(cc: &eframe::CreationContext<'_>, init: PanelAppInit) -> Self {
        apply_theme(&cc.egui_ctx, init.settings.theme);
        Self {
            model: DirectoryModel::new(),
            view: DirectoryView::default(),
            widgets: WidgetState::default(),
            saved_settings: init.settings.clone(),
            settings: init.settings,
            connection: init.connection,
            settings_path: init.settings_path,
            startup_warning: init.startup_warning,
            endpoint_label: init.endpoint_label,
            events_last_frame: 0,
            pending_events: false,
            _keep_alive: init.keep_alive,
        }
    }

    /// Applies link events until the channel is empty or the budget is spent.
    fn drain_events(&mut self, budget: Duration) -> usize {
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

    fn refresh_view(&mut self) {
        self.view.refresh(
            &self.widgets.search.query,
            &mut self.model,
            &self.settings,
            Instant::now(),
        );
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
        let delta =
            down as isize - up as isize + PAGE_ROWS * (page_down as isize - page_up as isize);
        if delta != 0 {
            self.view.move_selection(&self.model, delta);
        }
        if home {
            self.view.select_first(&self.model);
        }
        if end {
            self.view.select_last(&self.model);
        }
        if enter {
            self.view.open_details();
        }
        if escape && self.view.escape() == EscapeOutcome::ClearSearch {
            self.widgets.search.query.clear();
        }
    }

    /// Applies what the drawing code asked for.
    pub fn apply(&mut self, command: UiCommand, ctx: &egui::Context) {
        match command {
            UiCommand::Select {
                index,
                open_details,
            } => {
                self.view.select(&self.model, index);
                if open_details {
                    self.view.open_details();
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
            UiCommand::QueryEdited => self.view.follow_best_match(),
        }
    }

    /// The work of one frame before drawing.
    fn frame_logic(&mut self, ctx: &egui::Context) {
        self.events_last_frame = self.drain_events(EVENT_BUDGET);
        // Keys act on the list as it now stands.
        self.refresh_view();
        self.handle_keys(ctx);
        self.refresh_view();
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
        let panel = PanelView {
            model: &self.model,
            view: &self.view,
            settings: &self.settings,
            endpoint_label: &self.endpoint_label,
            startup_warning: self.startup_warning.as_deref(),
        };
        let commands = ui::window_ui(ui, &panel, &mut self.widgets);
        // The list has scrolled to the selection.
        self.view.scroll_to_selected = false;
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
