//! Drawing: one module per part of the window. Drawing code reads a [`PanelView`] and
//! pushes [`UiCommand`]s that the app applies after the frame is laid out; the only
//! state it writes is the widget state it owns ([`WidgetState`]: the search box's text,
//! the list's scroll position, the legend's textures).

pub mod details_ui;
pub mod directory_list_ui;
pub mod format;
pub mod legend_ui;
pub mod status_bar_ui;
pub mod top_bar_ui;

use crate::directory_model::DirectoryModel;
use crate::directory_view::DirectoryView;
use crate::settings::{PanelSettings, SortOrder, ThemeChoice};

/// What drawing reads: the model, the view, the settings and the labels.
#[derive(Clone, Copy)]
pub struct PanelView<'a> {
    pub model: &'a DirectoryModel,
    pub view: &'a DirectoryView,
    pub settings: &'a PanelSettings,
    /// The gateway address shown in the status bar.
    pub endpoint_label: &'a str,
    /// Shown in the banner (e.g. a damaged settings file).
    pub startup_warning: Option<&'a str>,
}

/// State that widgets own and drawing writes.
#[derive(Default)]
pub struct WidgetState {
    pub search: top_bar_ui::SearchBox,
    pub list: directory_list_ui::ListState,
    pub legend: legend_ui::LegendTextures,
}

/// What the drawing code asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum UiCommand {
    Select {
        index: usize,
        open_details: bool,
    },
    CloseDetails,
    SetTheme(ThemeChoice),
    SetSort(SortOrder),
    SetAvailableOnly(bool),
    ToggleLegend,
    /// The operator edited the search text.
    QueryEdited,
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
    if let Some(banner) = status_bar_ui::banner_text(panel) {
        egui::Panel::top("stale_banner")
            .frame(status_bar_ui::banner_frame(ui))
            .show(ui, |ui| status_bar_ui::banner_ui(ui, &banner));
    }
    egui::Panel::bottom("status_bar").show(ui, |ui| status_bar_ui::status_bar_ui(ui, panel));
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
    commands
}
