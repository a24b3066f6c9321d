//! Drawing: one module per part of the window. Functions take the app read-mostly and
//! return [`UiCommand`]s; only the search box edits state directly.

pub mod details_ui;
pub mod directory_list_ui;
pub mod format;
pub mod legend_ui;
pub mod status_bar_ui;
pub mod top_bar_ui;

use super::app::{PanelApp, UiCommand};

/// Lays out the whole window.
pub fn window_ui(ui: &mut egui::Ui, app: &mut PanelApp) -> Vec<UiCommand> {
    let mut commands = Vec::new();
    egui::Panel::top("top_bar").show(ui, |ui| top_bar_ui::top_bar_ui(ui, app, &mut commands));
    if let Some(banner) = status_bar_ui::banner_text(app) {
        egui::Panel::top("stale_banner")
            .frame(status_bar_ui::banner_frame(ui))
            .show(ui, |ui| status_bar_ui::banner_ui(ui, &banner));
    }
    egui::Panel::bottom("status_bar").show(ui, |ui| status_bar_ui::status_bar_ui(ui, app));
    if app.view.is_details_open {
        egui::Panel::right("details")
            .resizable(true)
            .default_size(330.0)
            .min_size(240.0)
            .show(ui, |ui| details_ui::details_ui(ui, app, &mut commands));
    }
    egui::CentralPanel::default().show(ui, |ui| {
        directory_list_ui::directory_list_ui(ui, app, &mut commands)
    });
    if app.view.is_legend_open {
        legend_ui::legend_window(ui.ctx(), app, &mut commands);
    }
    commands
}
