//! Drawing: one module per part of the window. Drawing code reads a [`PanelView`] and
//! pushes [`UiCommand`]s that the app applies after the frame is laid out; the only
//! state it writes is the widget state it owns ([`WidgetState`]: the search box's text,
//! the list's scroll position, the legend's textures, the group editor's fields).

pub mod board_ui;
pub mod details_ui;
pub mod directory_list_ui;
pub mod format;
pub mod groups_ui;
pub mod keyboard_map_ui;
pub mod legend_ui;
pub mod notices_ui;
pub mod settings_ui;
pub mod status_bar_ui;
pub mod status_icon_ui;
pub mod top_bar_ui;

use std::time::SystemTime;

use crate::availability_watches::AvailabilityWatches;
use crate::board::{Board, GroupRule};
use crate::board_view::BoardView;
use crate::colleague_actions::ColleagueAction;
use crate::directory_model::DirectoryModel;
use crate::directory_view::DirectoryView;
use crate::machine_defaults::MachineDefaults;
use crate::settings::{Density, PanelSettings, SortOrder, ThemeChoice};

/// Where the arrow keys and Enter act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FocusArea {
    #[default]
    List,
    Board,
}

/// The colleague the details pane and the actions are about: the selected row of the
/// list, or the selected tile of the board (who may have left the directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// The UPN, normalised.
    pub upn: String,
    pub name: String,
    /// Their row in the directory, if it holds them.
    pub row: Option<u32>,
}

/// A notification inside the window ("Anna Rossi is available"), until dismissed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub title: String,
    pub body: String,
    pub at: SystemTime,
}

/// The board's part of what drawing reads.
#[derive(Clone, Copy)]
pub struct BoardParts<'a> {
    pub board: &'a Board,
    pub view: &'a BoardView,
    pub watches: &'a AvailabilityWatches,
    /// The last board edit that was refused, in words.
    pub error: Option<&'a str>,
}

/// What drawing reads: the model, the view, the settings and the labels.
#[derive(Clone, Copy)]
pub struct PanelView<'a> {
    pub model: &'a DirectoryModel,
    pub view: &'a DirectoryView,
    pub settings: &'a PanelSettings,
    /// The gateway in use, as the status bar shows it.
    pub endpoint_label: &'a str,
    /// The administrator's settings (what the settings dialog falls back to or locks).
    pub machine: &'a MachineDefaults,
    /// Shown in the banner (e.g. a damaged settings file).
    pub startup_warning: Option<&'a str>,
    pub board: BoardParts<'a>,
    pub focus: FocusArea,
    pub subject: Option<&'a Subject>,
    pub notices: &'a [Notice],
    /// A short confirmation for the status bar ("Copied anna.rossi@contoso.com").
    pub flash: Option<&'a str>,
}

/// State that widgets own and drawing writes.
#[derive(Default)]
pub struct WidgetState {
    pub search: top_bar_ui::SearchBox,
    pub list: directory_list_ui::ListState,
    pub legend: legend_ui::LegendTextures,
    pub board: board_ui::BoardState,
    pub groups: groups_ui::GroupEditor,
    pub settings: settings_ui::SettingsEditor,
}

/// What the drawing code asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum UiCommand {
    Select {
        index: usize,
        open_details: bool,
    },
    /// A tile of the board was clicked.
    SelectTile {
        section: usize,
        tile: usize,
        open_details: bool,
    },
    CloseDetails,
    SetTheme(ThemeChoice),
    SetSort(SortOrder),
    SetAvailableOnly(bool),
    SetDensity(Density),
    /// Compact rows if comfortable, and back.
    ToggleDensity,
    SetTextScale(f32),
    ToggleLegend,
    ToggleKeyboardMap,
    ToggleBoard,
    SetBoardWidth(f32),
    /// The operator edited the search text.
    QueryEdited,
    ToggleStar {
        upn: String,
        name: String,
    },
    SetGroupMember {
        group: usize,
        upn: String,
        name: String,
        is_member: bool,
    },
    AddGroup(String),
    AddRuleGroup {
        name: String,
        rule: GroupRule,
    },
    RenameGroup {
        group: usize,
        name: String,
    },
    SetRule {
        group: usize,
        rule: GroupRule,
    },
    MoveGroup {
        group: usize,
        delta: isize,
    },
    DeleteGroup(usize),
    OpenGroupPicker,
    CloseGroupPicker,
    ToggleGroupManager,
    ToggleWatch {
        upn: String,
        name: String,
    },
    CancelWatch(String),
    /// An action on the colleague in hand.
    Act(ColleagueAction),
    /// An action on a named colleague (from a menu).
    ActOn {
        upn: String,
        action: ColleagueAction,
    },
    /// Selects a colleague in the list by UPN (from a menu).
    SelectColleague(String),
    DismissNotice(usize),
    DismissAllNotices,
    /// Opens the settings dialog (or closes it, when open).
    ToggleSettings,
    CloseSettings,
    /// Checks the dialog's fields and, if they pass, applies and saves them.
    ApplySettings,
    /// Asks the gateways in the dialog's fields whether they answer.
    TestGateways,
}

/// Lays out the whole window.
pub fn window_ui(
    ui: &mut egui::Ui,
    panel: &PanelView<'_>,
    widgets: &mut WidgetState,
) -> Vec<UiCommand> {
    let mut commands = Vec::new();
    egui::Panel::top("top_bar").show(ui, |ui| {
        top_bar_ui::top_bar_ui(ui, panel, &mut widgets.search, &mut commands)
    });
    if !panel.notices.is_empty() {
        egui::Panel::top("notices")
            .frame(notices_ui::notices_frame(ui))
            .show(ui, |ui| notices_ui::notices_ui(ui, panel, &mut commands));
    }
    if let Some(banner) = status_bar_ui::banner_text(panel) {
        egui::Panel::top("stale_banner")
            .frame(status_bar_ui::banner_frame(ui))
            .show(ui, |ui| status_bar_ui::banner_ui(ui, &banner));
    }
    egui::Panel::bottom("status_bar").show(ui, |ui| status_bar_ui::status_bar_ui(ui, panel));
    if panel.settings.is_board_shown {
        let response = egui::Panel::left("board")
            .resizable(true)
            .default_size(panel.settings.board_width)
            .min_size(200.0)
            .max_size((ui.available_width() - 320.0).max(200.0))
            .show(ui, |ui| {
                board_ui::board_ui(ui, panel, &mut widgets.board, &mut commands)
            });
        let width = response.response.rect.width().round();
        if (width - panel.settings.board_width).abs() >= 1.0 {
            commands.push(UiCommand::SetBoardWidth(width));
        }
    }
    if panel.view.is_details_open {
        egui::Panel::right("details")
            .resizable(true)
            .default_size(330.0)
            .min_size(240.0)
            .show(ui, |ui| details_ui::details_ui(ui, panel, &mut commands));
    }
    egui::CentralPanel::default().show(ui, |ui| {
        directory_list_ui::directory_list_ui(ui, panel, &mut widgets.list, &mut commands)
    });
    if panel.view.is_legend_open {
        legend_ui::legend_window(ui.ctx(), &mut widgets.legend, &mut commands);
    }
    if panel.view.is_group_manager_open {
        groups_ui::group_manager_window(ui.ctx(), panel, &mut widgets.groups, &mut commands);
    }
    if panel.view.is_group_picker_open {
        groups_ui::group_picker_window(ui.ctx(), panel, &mut widgets.groups, &mut commands);
    }
    settings_ui::settings_window(ui.ctx(), panel, &mut widgets.settings, &mut commands);
    if panel.view.is_keyboard_map_open {
        keyboard_map_ui::keyboard_map_window(ui.ctx(), &mut commands);
    }
    commands
}
