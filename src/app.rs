//! The eframe app: owns the model, the views, the board and the link; each frame it
//! drains events under a time budget, refreshes the views, fires the "notify when
//! available" watches, turns keys into view changes, lays out the window from the `ui`
//! modules and then applies the commands the drawing returned.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use egui::{Key, Modifiers};

use crate::availability_watches::AvailabilityWatches;
use crate::board::Board;
use crate::board_store::{BoardStore, LoadedBoard};
use crate::board_view::BoardView;
use crate::colleague_actions::{
    ColleagueAction, LinkOpener, teams_call_url, teams_chat_url, tel_url,
};
use crate::connection::{ConnectionConfig, ConnectionHandle, Connector, PanelEvent, ProbeHandle};
use crate::desktop_notifier::DesktopNotifier;
use crate::directory_model::{DirectoryModel, LoadProgress};
use crate::directory_view::{DirectoryView, EscapeOutcome, PAGE_ROWS, is_available_now};
use crate::machine_defaults::MachineDefaults;
use crate::memory;
use crate::settings::{Density, PanelSettings, TEXT_SCALES, ThemeChoice};
use crate::settings_draft::{DraftProblems, SettingsDraft};
use crate::start_at_sign_in::SignInStarter;
use crate::ui::settings_ui::ProbeStatus;
use crate::ui::{self, BoardParts, FocusArea, Notice, PanelView, Subject, UiCommand, WidgetState};

/// Longest time spent applying link events in one frame.
pub const EVENT_BUDGET: Duration = Duration::from_millis(4);
/// Longest time spent on events and on copying rows for a compaction in one frame
/// (a compaction copies for 3 ms at most).
const BACKGROUND_WORK_BUDGET: Duration = Duration::from_millis(6);
/// How often the app looks whether a directory built off the UI thread is done.
const LOAD_POLL: Duration = Duration::from_millis(5);
/// How long a confirmation stays in the status bar.
const FLASH_TIME: Duration = Duration::from_secs(4);
/// Notifications kept in the window at most (the oldest go first).
const MAX_NOTICES: usize = 20;

/// Everything the app is started with.
pub struct PanelAppInit {
    /// Starts the link (and again when the settings dialog changes the gateways).
    pub connector: Connector,
    /// Where the link connects first.
    pub connection: ConnectionConfig,
    pub settings: PanelSettings,
    /// The administrator's settings for this machine.
    pub machine: MachineDefaults,
    /// Where to save settings on exit (`None`: never saved).
    pub settings_path: Option<PathBuf>,
    /// Shown in a banner (e.g. a damaged settings file).
    pub startup_warning: Option<String>,
    /// A run against the simulated company of `--demo` (said in the status bar).
    pub is_demo: bool,
    /// The board and the watches, as loaded, and where to save them.
    pub board: LoadedBoard,
    /// Opens Teams and `tel:` links.
    pub link_opener: Arc<dyn LinkOpener>,
    /// Raises desktop notifications.
    pub notifier: Arc<dyn DesktopNotifier>,
    /// Turns starting at sign-in on and off.
    pub sign_in_starter: Arc<dyn SignInStarter>,
    /// When the process started, for the startup milestones in the log (first frame,
    /// live list).
    pub launched_at: Instant,
    /// Kept alive as long as the app (the tokio runtime, the demo gateway).
    pub keep_alive: Vec<Box<dyn std::any::Any>>,
}

pub struct PanelApp {
    pub model: DirectoryModel,
    pub view: DirectoryView,
    pub widgets: WidgetState,
    pub settings: PanelSettings,
    pub board: Board,
    pub board_view: BoardView,
    pub watches: AvailabilityWatches,
    /// Notifications shown in the window, oldest first.
    pub notices: Vec<Notice>,
    pub focus: FocusArea,
    /// The last board edit that was refused, or why the board cannot be saved.
    pub board_error: Option<String>,
    connection: ConnectionHandle,
    connector: Connector,
    connection_config: ConnectionConfig,
    machine: MachineDefaults,
    /// A connection test the settings dialog asked for.
    probe: Option<ProbeHandle>,
    settings_path: Option<PathBuf>,
    saved_settings: PanelSettings,
    startup_warning: Option<String>,
    is_demo: bool,
    sign_in_starter: Arc<dyn SignInStarter>,
    launched_at: Instant,
    /// Startup milestones not logged yet: the first frame, the first live list.
    is_first_frame_pending: bool,
    is_live_list_pending: bool,
    board_store: BoardStore,
    link_opener: Arc<dyn LinkOpener>,
    notifier: Arc<dyn DesktopNotifier>,
    flash: Option<(String, Instant)>,
    /// Events applied in the last frame (for the frame benchmark).
    pub events_last_frame: usize,
    /// Whether events were left for the next frame.
    pub pending_events: bool,
    /// A directory is being built off the UI thread: look again shortly.
    is_waiting_for_load: bool,
    /// Dropped last (fields drop in order): the link goes before the runtime it runs on.
    _keep_alive: Vec<Box<dyn std::any::Any>>,
}

impl PanelApp {
    pub fn new(cc: &eframe::CreationContext<'_>, init: PanelAppInit) -> Self {
        apply_theme(&cc.egui_ctx, init.settings.theme);
        cc.egui_ctx.set_zoom_factor(init.settings.text_scale);
        let startup_warning = [
            init.startup_warning,
            init.machine.warning.clone(),
            init.board.warning,
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n");
        let startup_warning = (!startup_warning.is_empty()).then_some(startup_warning);
        let connection = init.connector.start(init.connection.clone());
        Self {
            model: DirectoryModel::new(),
            view: DirectoryView::default(),
            widgets: WidgetState::default(),
            saved_settings: init.settings.clone(),
            settings: init.settings,
            board: init.board.board,
            board_view: BoardView::default(),
            watches: init.board.watches,
            notices: Vec::new(),
            focus: FocusArea::List,
            board_error: None,
            connection,
            connector: init.connector,
            connection_config: init.connection,
            machine: init.machine,
            probe: None,
            settings_path: init.settings_path,
            startup_warning,
            is_demo: init.is_demo,
            sign_in_starter: init.sign_in_starter,
            launched_at: init.launched_at,
            is_first_frame_pending: true,
            is_live_list_pending: true,
            board_store: BoardStore::new(init.board.path),
            link_opener: init.link_opener,
            notifier: init.notifier,
            flash: None,
            events_last_frame: 0,
            pending_events: false,
            is_waiting_for_load: false,
            _keep_alive: init.keep_alive,
        }
    }

    /// Applies link events until the channel is empty or the budget is spent, or until
    /// a directory being built off the UI thread is done (the events after it wait).
    fn drain_events(&mut self, budget: Duration) -> usize {
        let started = Instant::now();
        let now = SystemTime::now();
        let mut applied = 0;
        let mut has_finished_bulk_load = false;
        self.pending_events = false;
        self.is_waiting_for_load = false;
        loop {
            match self.model.poll_background_load() {
                LoadProgress::Ready => {}
                LoadProgress::Loaded => {
                    // This frame lays out the whole directory for the first time: the
                    // events after it wait for the next.
                    has_finished_bulk_load = true;
                    self.pending_events = true;
                    break;
                }
                LoadProgress::Waiting => {
                    self.is_waiting_for_load = true;
                    break;
                }
                LoadProgress::Lost => {
                    // The listing went with the loader: list again.
                    self.connection = self.connector.start(self.connection_config.clone());
                    break;
                }
            }
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

    fn refresh_views(&mut self) {
        let now = Instant::now();
        self.view.refresh(
            &self.widgets.search.query,
            &mut self.model,
            &self.settings,
            now,
        );
        self.board_view.refresh(&self.board, &mut self.model, now);
    }

    /// The colleague the details and the actions are about.
    pub fn subject(&self) -> Option<Subject> {
        match self.focus {
            FocusArea::Board => self.board_view.selected_tile().map(|tile| Subject {
                upn: tile.upn.clone(),
                name: tile.row.and_then(|key| self.model.row(key)).map_or_else(
                    || tile.name.clone(),
                    |r| r.colleague.display_name().to_owned(),
                ),
                row: tile.row,
            }),
            FocusArea::List => {
                let key = self.view.selected_key()?;
                let row = self.model.row(key)?;
                Some(Subject {
                    upn: row.colleague.upn_key(),
                    name: row.colleague.display_name().to_owned(),
                    row: Some(key),
                })
            }
        }
    }

    /// Fires the watches whose colleague is now Available (live, not idle, not stale,
    /// in the office): once each, in the window, on the desktop and in the taskbar.
    fn fire_watches(&mut self, ctx: &egui::Context) {
        if self.watches.is_empty() {
            return;
        }
        let now = SystemTime::now();
        let model = &self.model;
        let fired = self.watches.check(now, |upn| is_available_live(model, upn));
        for watch in fired {
            let title = format!("{} is available", watch.name);
            let body = "Available in Teams now: you asked to be told.".to_owned();
            self.notifier.notify(&title, &body);
            self.notices.push(Notice {
                title,
                body,
                at: now,
            });
            ctx.send_viewport_cmd(egui::ViewportCommand::RequestUserAttention(
                egui::UserAttentionType::Informational,
            ));
        }
        if self.notices.len() > MAX_NOTICES {
            let excess = self.notices.len() - MAX_NOTICES;
            self.notices.drain(..excess);
        }
    }

    fn handle_keys(&mut self, ctx: &egui::Context) {
        if self.widgets.settings.draft.is_some() {
            // The settings dialog has the keyboard: Tab walks it, Escape closes it.
            let close = ctx.input_mut(|i| {
                i.consume_key(Modifiers::NONE, Key::Escape)
                    | i.consume_key(Modifiers::CTRL, Key::Comma)
            });
            if close {
                self.apply(UiCommand::CloseSettings, ctx);
            }
            return;
        }
        // A field other than the search box (a group's name) keeps its keys; so does a
        // focused control of an open window (Enter presses a button).
        let focused = ctx.memory(|m| m.focused());
        let is_typing_elsewhere = focused.is_some_and(|id| {
            id != crate::ui::top_bar_ui::search_id()
                && egui::TextEdit::load_state(ctx, id).is_some()
        });
        let is_window_focused = focused.is_some_and(|id| id != crate::ui::top_bar_ui::search_id())
            && (self.view.is_group_manager_open || self.view.is_group_picker_open);
        if is_typing_elsewhere || is_window_focused {
            let escape = ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Escape));
            if escape && self.view.escape() == EscapeOutcome::ClosedWindow {
                focus_search(ctx);
            }
            if !is_typing_elsewhere && self.view.is_group_picker_open {
                // Focus is in the picker (its checkboxes): digits tick groups.
                self.picker_digits(ctx);
            }
            return;
        }
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
        // With Shift first: a Ctrl pattern also matches Ctrl+Shift.
        let ctrl_shift = Modifiers::CTRL | Modifiers::SHIFT;
        let table = [
            (ctrl_shift, Key::C, UiCommand::Act(ColleagueAction::CopyUpn)),
            (
                ctrl_shift,
                Key::M,
                UiCommand::Act(ColleagueAction::CopyMail),
            ),
            (
                ctrl_shift,
                Key::P,
                UiCommand::Act(ColleagueAction::CopyPhone),
            ),
            (
                ctrl_shift,
                Key::T,
                UiCommand::Act(ColleagueAction::TeamsCall),
            ),
            (
                ctrl_shift,
                Key::D,
                UiCommand::Act(ColleagueAction::DialPhone),
            ),
            (ctrl_shift, Key::G, UiCommand::ToggleGroupManager),
            (ctrl_shift, Key::B, UiCommand::ToggleBoard),
            (ctrl_shift, Key::O, UiCommand::ToggleDensity),
            (
                Modifiers::CTRL,
                Key::T,
                UiCommand::Act(ColleagueAction::TeamsChat),
            ),
            (Modifiers::NONE, Key::F1, UiCommand::ToggleKeyboardMap),
            (Modifiers::CTRL, Key::Comma, UiCommand::ToggleSettings),
        ];
        let pressed: Vec<UiCommand> = ctx.input_mut(|i| {
            table
                .into_iter()
                .filter(|(modifiers, key, _)| i.consume_key(*modifiers, *key))
                .map(|(_, _, command)| command)
                .collect()
        });
        for command in pressed {
            self.apply(command, ctx);
        }
        let (star, groups, notify, switch_area) = ctx.input_mut(|i| {
            (
                i.consume_key(Modifiers::CTRL, Key::D),
                i.consume_key(Modifiers::CTRL, Key::G),
                i.consume_key(Modifiers::CTRL, Key::N),
                i.consume_key(Modifiers::CTRL, Key::B),
            )
        });
        if let Some(subject) = self.subject() {
            if star {
                self.apply(
                    UiCommand::ToggleStar {
                        upn: subject.upn.clone(),
                        name: subject.name.clone(),
                    },
                    ctx,
                );
            }
            if notify {
                self.apply(
                    UiCommand::ToggleWatch {
                        upn: subject.upn,
                        name: subject.name,
                    },
                    ctx,
                );
            }
            if groups {
                self.apply(UiCommand::OpenGroupPicker, ctx);
            }
        } else if star || notify || groups {
            self.flash("Select a colleague first (Up/Down).");
        }
        if switch_area {
            self.focus = match self.focus {
                FocusArea::List => {
                    self.settings.is_board_shown = true;
                    if self.board_view.selected.is_none() {
                        self.board_view.move_selection(0);
                    }
                    FocusArea::Board
                }
                FocusArea::Board => FocusArea::List,
            };
        }

        let delta =
            down as isize - up as isize + PAGE_ROWS * (page_down as isize - page_up as isize);
        match self.focus {
            FocusArea::List => {
                if delta != 0 {
                    self.view.move_selection(&self.model, delta);
                }
                if home {
                    self.view.select_first(&self.model);
                }
                if end {
                    self.view.select_last(&self.model);
                }
            }
            FocusArea::Board => {
                if delta != 0 {
                    self.board_view.move_selection(delta);
                }
                if home {
                    self.board_view.move_selection(isize::MIN / 2);
                }
                if end {
                    self.board_view.move_selection(isize::MAX / 2);
                }
            }
        }
        if enter && self.subject().is_some() {
            self.view.is_details_open = true;
        }
        if escape {
            if self.focus == FocusArea::Board
                && !self.view.is_keyboard_map_open
                && !self.view.is_group_picker_open
                && !self.view.is_group_manager_open
                && !self.view.is_legend_open
            {
                self.focus = FocusArea::List;
                self.view.is_details_open = false;
            } else {
                match self.view.escape() {
                    EscapeOutcome::ClearSearch => self.widgets.search.query.clear(),
                    EscapeOutcome::ClosedWindow => focus_search(ctx),
                    EscapeOutcome::ClosedDetails => {}
                }
            }
        }
    }

    /// In the group picker, 1-9 toggle the colleague's membership of the n-th list
    /// group.
    fn picker_digits(&mut self, ctx: &egui::Context) {
        const DIGITS: [Key; 9] = [
            Key::Num1,
            Key::Num2,
            Key::Num3,
            Key::Num4,
            Key::Num5,
            Key::Num6,
            Key::Num7,
            Key::Num8,
            Key::Num9,
        ];
        let Some(subject) = self.subject() else {
            return;
        };
        let list_groups: Vec<usize> = self
            .board
            .groups
            .iter()
            .enumerate()
            .filter(|(_, g)| !g.is_rule())
            .map(|(i, _)| i)
            .collect();
        if !ctx.input(|i| i.modifiers.is_none()) {
            return;
        }
        for (n, key) in DIGITS.iter().enumerate() {
            if ctx.input_mut(|i| i.consume_key(Modifiers::NONE, *key))
                && let Some(&group) = list_groups.get(n)
            {
                let is_member = !self.board.is_member(group, &subject.upn);
                self.apply(
                    UiCommand::SetGroupMember {
                        group,
                        upn: subject.upn.clone(),
                        name: subject.name.clone(),
                        is_member,
                    },
                    ctx,
                );
            }
        }
    }

    fn flash(&mut self, text: impl Into<String>) {
        self.flash = Some((text.into(), Instant::now()));
    }

    /// Records the outcome of a board edit: a refusal is shown until the next edit.
    fn board_edit<T>(&mut self, result: Result<T, crate::board::BoardError>) -> Option<T> {
        match result {
            Ok(value) => {
                self.board_error = None;
                Some(value)
            }
            Err(err) => {
                self.board_error = Some(err.to_string());
                None
            }
        }
    }

    /// Applies what the drawing code (or a shortcut) asked for.
    pub fn apply(&mut self, command: UiCommand, ctx: &egui::Context) {
        match command {
            UiCommand::Select {
                index,
                open_details,
            } => {
                self.focus = FocusArea::List;
                self.view.select(&self.model, index);
                if open_details {
                    self.view.open_details();
                }
            }
            UiCommand::SelectTile {
                section,
                tile,
                open_details,
            } => {
                self.focus = FocusArea::Board;
                self.board_view.select(section, tile);
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
            UiCommand::SetDensity(density) => {
                self.settings.density = density;
                self.view.scroll_to_selected = true;
            }
            UiCommand::ToggleDensity => {
                let density = match self.settings.density {
                    Density::Comfortable => Density::Compact,
                    Density::Compact => Density::Comfortable,
                };
                self.apply(UiCommand::SetDensity(density), ctx);
            }
            UiCommand::SetTextScale(scale) => {
                let scale = TEXT_SCALES
                    .iter()
                    .copied()
                    .find(|s| (s - scale).abs() < 0.01)
                    .unwrap_or(1.0);
                self.settings.text_scale = scale;
                ctx.set_zoom_factor(scale);
            }
            UiCommand::ToggleLegend => self.view.is_legend_open = !self.view.is_legend_open,
            UiCommand::ToggleKeyboardMap => {
                self.view.is_keyboard_map_open = !self.view.is_keyboard_map_open;
                if !self.view.is_keyboard_map_open {
                    focus_search(ctx);
                }
            }
            UiCommand::ToggleBoard => {
                self.settings.is_board_shown = !self.settings.is_board_shown;
                if !self.settings.is_board_shown {
                    self.focus = FocusArea::List;
                }
            }
            UiCommand::SetBoardWidth(width) => self.settings.board_width = width,
            UiCommand::QueryEdited => {
                self.focus = FocusArea::List;
                self.view.follow_best_match();
            }
            UiCommand::ToggleStar { upn, name } => {
                let result = self.board.toggle_star(&upn, &name);
                if let Some(is_starred) = self.board_edit(result) {
                    self.flash(if is_starred {
                        format!("{name} is on the board")
                    } else {
                        format!("{name} is off the board")
                    });
                }
            }
            UiCommand::SetGroupMember {
                group,
                upn,
                name,
                is_member,
            } => {
                // After a refused "new group and put them in it", the refusal stands.
                if group < self.board.groups.len() {
                    let result = self.board.set_member(group, &upn, &name, is_member);
                    self.board_edit(result);
                }
            }
            UiCommand::AddGroup(name) => {
                let result = self.board.add_group(&name);
                self.board_edit(result);
            }
            UiCommand::AddRuleGroup { name, rule } => {
                let result = self.board.add_rule_group(&name, rule);
                self.board_edit(result);
            }
            UiCommand::RenameGroup { group, name } => {
                let result = self.board.rename_group(group, &name);
                self.board_edit(result);
            }
            UiCommand::SetRule { group, rule } => {
                let result = self.board.set_rule(group, rule);
                self.board_edit(result);
            }
            UiCommand::MoveGroup { group, delta } => {
                self.board.move_group(group, delta);
                // Places changed: a pending rename or deletion must not hit another group.
                self.widgets.groups.renaming = None;
                self.widgets.groups.confirm_delete = None;
            }
            UiCommand::DeleteGroup(group) => {
                self.widgets.groups.renaming = None;
                self.widgets.groups.confirm_delete = None;
                if let Some(deleted) = self.board.delete_group(group) {
                    self.flash(format!("Group “{}” deleted", deleted.name));
                }
            }
            UiCommand::OpenGroupPicker => {
                if self.subject().is_some() {
                    self.view.is_group_picker_open = true;
                    self.widgets.groups.wants_focus = true;
                }
            }
            UiCommand::CloseGroupPicker => {
                self.view.is_group_picker_open = false;
                focus_search(ctx);
            }
            UiCommand::ToggleGroupManager => {
                self.view.is_group_manager_open = !self.view.is_group_manager_open;
                self.widgets.groups.wants_focus = true;
                self.widgets.groups.renaming = None;
                self.widgets.groups.confirm_delete = None;
                if !self.view.is_group_manager_open {
                    focus_search(ctx);
                }
            }
            UiCommand::ToggleWatch { upn, name } => self.toggle_watch(&upn, &name),
            UiCommand::CancelWatch(upn) => self.watches.cancel(&upn),
            UiCommand::Act(action) => self.act(action, ctx),
            UiCommand::ActOn { upn, action } => {
                if self.view.select_upn(&self.model, &upn) {
                    self.focus = FocusArea::List;
                    self.act(action, ctx);
                } else {
                    self.act_on_row(action, self.model.row_key_of(&upn), &upn, ctx);
                }
            }
            UiCommand::SelectColleague(upn) => {
                if self.view.select_upn(&self.model, &upn) {
                    self.focus = FocusArea::List;
                }
            }
            UiCommand::DismissAllNotices => self.notices.clear(),
            UiCommand::ToggleSettings => {
                if self.widgets.settings.draft.is_some() {
                    self.apply(UiCommand::CloseSettings, ctx);
                } else {
                    self.widgets.settings.draft =
                        Some(SettingsDraft::from_settings(&self.settings));
                    self.widgets.settings.problems = DraftProblems::default();
                    self.widgets.settings.probe = ProbeStatus::NotRun;
                    self.widgets.settings.wants_focus = true;
                }
            }
            UiCommand::CloseSettings => {
                self.widgets.settings.draft = None;
                self.probe = None;
                focus_search(ctx);
            }
            UiCommand::ApplySettings => self.apply_settings(ctx),
            UiCommand::TestGateways => self.test_gateways(),
            UiCommand::DismissNotice(index) => {
                if index < self.notices.len() {
                    self.notices.remove(index);
                }
            }
        }
    }

    /// Checks the settings dialog's fields; if they pass, applies them at once (the link
    /// moves to new gateways, the theme changes) and saves them.
    fn apply_settings(&mut self, ctx: &egui::Context) {
        let Some(draft) = self.widgets.settings.draft.clone() else {
            return;
        };
        let new = match draft.apply_to(&self.settings, &self.machine) {
            Ok(new) => new,
            Err(problems) => {
                self.widgets.settings.problems = problems;
                return;
            }
        };
        self.widgets.settings.problems = DraftProblems::default();
        let old = std::mem::replace(&mut self.settings, new);
        apply_theme(ctx, self.settings.theme);
        if self.settings.density != old.density {
            self.view.scroll_to_selected = true;
        }
        if self.settings.start_at_sign_in != old.start_at_sign_in
            && let Err(err) = self.sign_in_starter.set(self.settings.start_at_sign_in)
        {
            tracing::warn!(%err, "cannot change starting at sign-in");
            self.settings.start_at_sign_in = old.start_at_sign_in;
            if let Some(draft) = &mut self.widgets.settings.draft {
                draft.start_at_sign_in = old.start_at_sign_in;
            }
            self.flash(format!("Cannot change starting at sign-in: {err}"));
            return;
        }
        let is_connection_changed = self.settings.endpoints != old.endpoints
            || self.settings.token_file != old.token_file
            || self.settings.ca_file != old.ca_file;
        if is_connection_changed {
            let effective = self.settings.effective_connection(&self.machine);
            let config = ConnectionConfig {
                endpoints: effective.endpoints,
                token_file: effective.token_file,
                tls: effective.tls,
            };
            if config != self.connection_config {
                tracing::info!(endpoints = ?config.endpoints, "settings changed the gateways; reconnecting");
                self.connection = self.connector.start(config.clone());
                self.connection_config = config;
                self.is_demo = false;
                // New gateways are asked at once: the dialog shows who answers.
                self.test_gateways();
            }
        }
        ctx.send_viewport_cmd(egui::ViewportCommand::Title(window_title(
            &self.settings.operator_name,
            self.is_demo,
        )));
        self.save_settings();
        self.flash("Settings applied");
    }

    /// Logs how long after launch the first frame came, and the first live, complete
    /// list (once each).
    fn log_startup_milestones(&mut self) {
        if std::mem::take(&mut self.is_first_frame_pending) {
            tracing::info!(
                ms = self.launched_at.elapsed().as_millis() as u64,
                "first frame"
            );
        }
        if self.is_live_list_pending && self.model.is_live() && self.model.has_complete_directory()
        {
            self.is_live_list_pending = false;
            tracing::info!(
                ms = self.launched_at.elapsed().as_millis() as u64,
                colleagues = self.model.len(),
                "live list"
            );
        }
    }

    /// Writes the settings now (not only on exit).
    fn save_settings(&mut self) {
        let Some(path) = &self.settings_path else {
            return;
        };
        match self.settings.save(path) {
            Ok(()) => self.saved_settings = self.settings.clone(),
            Err(err) => {
                tracing::warn!(%err, path = %path.display(), "cannot save settings");
                self.flash(format!("Cannot save the settings: {err}"));
            }
        }
    }

    /// Asks the gateways in the settings dialog (or, where its fields are empty, the
    /// ones that apply instead) whether they answer.
    fn test_gateways(&mut self) {
        let Some(draft) = &self.widgets.settings.draft else {
            return;
        };
        let mut typed = self.settings.clone();
        if !self.machine.is_locked {
            typed.endpoints = draft.endpoint_list();
            let path = |text: &str| {
                let text = text.trim().trim_matches('"');
                (!text.is_empty()).then(|| PathBuf::from(text))
            };
            typed.token_file = path(&draft.token_file);
            typed.ca_file = path(&draft.ca_file);
        }
        let effective = typed.effective_connection(&self.machine);
        self.probe = Some(self.connector.probe_all(
            effective.endpoints,
            effective.token_file,
            effective.tls,
        ));
        self.widgets.settings.probe = ProbeStatus::Testing;
    }

    /// The gateway in use, as the status bar shows it.
    fn gateway_label(&self) -> String {
        let (endpoint, place) = match self.model.gateway() {
            Some(g) if g.count > 1 && g.index == 0 => {
                (g.endpoint.clone(), format!(" (preferred of {})", g.count))
            }
            Some(g) if g.count > 1 => (
                g.endpoint.clone(),
                format!(" (backup {} of {})", g.index + 1, g.count),
            ),
            Some(g) => (g.endpoint.clone(), String::new()),
            None => (
                self.connection_config
                    .endpoints
                    .first()
                    .cloned()
                    .unwrap_or_default(),
                String::new(),
            ),
        };
        let demo = if self.is_demo { " (demo)" } else { "" };
        format!("{endpoint}{place}{demo}")
    }

    fn toggle_watch(&mut self, upn: &str, name: &str) {
        if self.watches.is_watching(upn) {
            self.watches.cancel(upn);
            self.flash(format!("No notification for {name}"));
        } else if is_available_live(&self.model, upn) {
            self.flash(format!("{name} is available now"));
        } else if self.watches.watch(upn, name, SystemTime::now()) {
            self.flash(format!(
                "You will be notified when {name} is available (today)"
            ));
        } else {
            self.flash("Too many notifications set: cancel some first.");
        }
    }

    /// Copies or opens something of the colleague in hand.
    fn act(&mut self, action: ColleagueAction, ctx: &egui::Context) {
        let Some(subject) = self.subject() else {
            self.flash("Select a colleague first (Up/Down).");
            return;
        };
        self.act_on_row(action, subject.row, &subject.name, ctx);
    }

    /// Copies or opens something of the colleague in row `key` (`who` names them when
    /// the directory does not hold them).
    fn act_on_row(
        &mut self,
        action: ColleagueAction,
        key: Option<u32>,
        who: &str,
        ctx: &egui::Context,
    ) {
        let Some(row) = key.and_then(|key| self.model.row(key)) else {
            self.flash(format!("{who} is not in the directory."));
            return;
        };
        let c = row.colleague;
        let phone = c.phone_to_call().map(str::to_owned);
        let (upn, mail, name) = (
            c.upn().to_owned(),
            if c.mail().is_empty() {
                c.upn().to_owned()
            } else {
                c.mail().to_owned()
            },
            c.display_name().to_owned(),
        );
        let copy = |app: &mut Self, text: String| {
            ctx.copy_text(text.clone());
            app.flash(format!("Copied {text}"));
        };
        match action {
            ColleagueAction::CopyUpn => copy(self, upn),
            ColleagueAction::CopyMail => copy(self, mail),
            ColleagueAction::CopyPhone => match phone {
                Some(phone) => copy(self, phone),
                None => self.flash(format!("No phone number for {name}")),
            },
            ColleagueAction::TeamsChat => {
                self.link_opener.open(&teams_chat_url(&upn));
                self.flash(format!("Opening a Teams chat with {name}…"));
            }
            ColleagueAction::TeamsCall => {
                self.link_opener.open(&teams_call_url(&upn));
                self.flash(format!("Calling {name} in Teams…"));
            }
            ColleagueAction::DialPhone => match phone.as_deref().and_then(tel_url) {
                Some(url) => {
                    self.link_opener.open(&url);
                    self.flash(format!("Dialling {name}…"));
                }
                None => self.flash(format!("No phone number to dial for {name}")),
            },
        }
    }

    /// The work of one frame before drawing.
    fn frame_logic(&mut self, ctx: &egui::Context) {
        let started = Instant::now();
        self.events_last_frame = self.drain_events(EVENT_BUDGET);
        let is_index_untidy = self.model.tidy_index();
        // A compaction's copy takes what the events left of the frame's share.
        let is_compacting = self
            .model
            .step_compaction(BACKGROUND_WORK_BUDGET.saturating_sub(started.elapsed()));
        self.log_startup_milestones();
        if let Some(answers) = self.probe.as_mut().and_then(ProbeHandle::try_answers) {
            self.probe = None;
            self.widgets.settings.probe = ProbeStatus::Answered(answers);
        }
        // Keys act on the list as it now stands.
        self.refresh_views();
        self.handle_keys(ctx);
        self.refresh_views();
        self.fire_watches(ctx);
        self.board_store.save_if_changed(&self.board, &self.watches);
        if self
            .flash
            .as_ref()
            .is_some_and(|(_, at)| at.elapsed() > FLASH_TIME)
        {
            self.flash = None;
        }
        if self.pending_events || is_index_untidy {
            ctx.request_repaint();
        } else if self.is_waiting_for_load || is_compacting {
            ctx.request_repaint_after(LOAD_POLL);
        } else {
            // Time in state and the reconnect countdown move on their own.
            ctx.request_repaint_after(Duration::from_secs(1));
        }
        if let Some(rect) = ctx.input(|i| i.viewport().inner_rect) {
            self.settings.window_width = rect.width().round();
            self.settings.window_height = rect.height().round();
        }
        // Ctrl+Plus / Ctrl+Minus zoom (eframe's); remembered as the text size.
        let zoom = ctx.zoom_factor();
        if (zoom - self.settings.text_scale).abs() > 0.001 && (0.5..=3.0).contains(&zoom) {
            self.settings.text_scale = zoom;
        }
    }
}

impl eframe::App for PanelApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.frame_logic(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let subject = self.subject();
        let store_error = self.board_store.last_error();
        let board_error = self.board_error.as_deref().or(store_error.as_deref());
        let endpoint_label = self.gateway_label();
        let panel = PanelView {
            model: &self.model,
            view: &self.view,
            settings: &self.settings,
            endpoint_label: &endpoint_label,
            machine: &self.machine,
            startup_warning: self.startup_warning.as_deref(),
            board: BoardParts {
                board: &self.board,
                view: &self.board_view,
                watches: &self.watches,
                error: board_error,
            },
            focus: self.focus,
            subject: subject.as_ref(),
            notices: &self.notices,
            flash: self.flash.as_ref().map(|(text, _)| text.as_str()),
        };
        let commands = ui::window_ui(ui, &panel, &mut self.widgets);
        // The list and the board have scrolled to their selections.
        self.view.scroll_to_selected = false;
        self.board_view.scroll_to_selected = false;
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
        // The last frame's change goes to the writer, which writes it as it drops.
        self.board_store.save_if_changed(&self.board, &self.watches);
    }
}

/// Gives the keyboard back to the search box (a window closed): what is typed next must
/// not be lost while focus has nowhere to go.
fn focus_search(ctx: &egui::Context) {
    ctx.memory_mut(|m| m.request_focus(crate::ui::top_bar_ui::search_id()));
}

/// Whether a colleague is Available now for a watch (see [`is_available_now`]).
fn is_available_live(model: &DirectoryModel, upn: &str) -> bool {
    model
        .row_key_of(upn)
        .is_some_and(|key| is_available_now(model, key))
}

/// The window's title: the product, and who is at the console (or the demo).
pub fn window_title(operator_name: &str, is_demo: bool) -> String {
    match (operator_name.trim(), is_demo) {
        ("", false) => "Presence Panel".to_owned(),
        ("", true) => "Presence Panel — demo company".to_owned(),
        (name, false) => format!("Presence Panel — {name}"),
        (name, true) => format!("Presence Panel — {name} — demo company"),
    }
}

pub fn apply_theme(ctx: &egui::Context, theme: ThemeChoice) {
    ctx.set_theme(match theme {
        ThemeChoice::Light => egui::ThemePreference::Light,
        ThemeChoice::Dark => egui::ThemePreference::Dark,
        ThemeChoice::System => egui::ThemePreference::System,
    });
}
