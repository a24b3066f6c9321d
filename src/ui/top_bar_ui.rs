//! The search box (focused from the start; typing anywhere lands in it), the match
//! count, the status filter and sort, the theme and the legend.

use super::format::thousands;
use super::{PanelView, UiCommand};
use crate::settings::{Density, SortOrder, TEXT_SCALES, ThemeChoice};

/// The search box's own state: the text being typed.
#[derive(Debug, Default)]
pub struct SearchBox {
    pub query: String,
}

/// The search box's id.
pub fn search_id() -> egui::Id {
    egui::Id::unique("presence_search")
}

pub fn top_bar_ui(
    ui: &mut egui::Ui,
    panel: &PanelView<'_>,
    search: &mut SearchBox,
    commands: &mut Vec<UiCommand>,
) {
    ui.add_space(6.0);
    ui.horizontal(|ui| {
        let count_text = if panel.model.loading_progress().is_some() {
            // Nobody is shown (or searched) until the whole directory is in.
            "Loading…".to_owned()
        } else if search.query.trim().is_empty() && !panel.settings.available_only {
            format!("{} colleagues", thousands(panel.model.len()))
        } else {
            format!(
                "{} of {} match",
                thousands(panel.view.results.len()),
                thousands(panel.model.len())
            )
        };
        // Right to left: the controls take what they need, the search box the rest.
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .button("Settings")
                .on_hover_text("Gateways, token, operator name, theme (Ctrl+,)")
                .clicked()
            {
                commands.push(UiCommand::ToggleSettings);
            }
            ui.menu_button("View", |ui| view_menu_ui(ui, panel, commands));
            if ui
                .button("Legend")
                .on_hover_text("What each status icon means")
                .clicked()
            {
                commands.push(UiCommand::ToggleLegend);
            }
            let next = match panel.settings.theme {
                ThemeChoice::Light => ThemeChoice::Dark,
                ThemeChoice::Dark | ThemeChoice::System => ThemeChoice::Light,
            };
            let theme_label = if next == ThemeChoice::Dark {
                "Dark theme"
            } else {
                "Light theme"
            };
            if ui.button(theme_label).clicked() {
                commands.push(UiCommand::SetTheme(next));
            }
            let mut sort_by_status = panel.settings.sort == SortOrder::Status;
            if ui
                .checkbox(&mut sort_by_status, "Sort by status")
                .on_hover_text("Who can take a call first")
                .changed()
            {
                commands.push(UiCommand::SetSort(if sort_by_status {
                    SortOrder::Status
                } else {
                    SortOrder::Relevance
                }));
            }
            let mut available_only = panel.settings.available_only;
            if ui.checkbox(&mut available_only, "Available only").changed() {
                commands.push(UiCommand::SetAvailableOnly(available_only));
            }
            ui.add_space(8.0);
            ui.label(egui::RichText::new(count_text).strong());
            ui.add_space(4.0);
            let response = ui.add(
                egui::TextEdit::singleline(&mut search.query)
                    .id(search_id())
                    .hint_text("Search by name, UPN, department, title or phone…")
                    .desired_width(ui.available_width())
                    .font(egui::TextStyle::Heading),
            );
            // Typing anywhere goes into the search box: whenever nothing else holds the
            // keyboard (at start, after a click on a row), it takes it back. Asked only
            // while the window has focus, so it cannot turn into a repaint loop.
            let is_keyboard_free = ui.memory(|m| m.focused().is_none());
            if is_keyboard_free && ui.input(|i| i.focused) {
                response.request_focus();
            }
            if response.changed() {
                commands.push(UiCommand::QueryEdited);
            }
        });
    });
    ui.add_space(6.0);
}

/// Density, text size, the board, the keyboard map.
fn view_menu_ui(ui: &mut egui::Ui, panel: &PanelView<'_>, commands: &mut Vec<UiCommand>) {
    let mut is_compact = panel.settings.density == Density::Compact;
    if ui
        .checkbox(&mut is_compact, "Compact rows")
        .on_hover_text("One line a colleague (Ctrl+Shift+O)")
        .changed()
    {
        commands.push(UiCommand::SetDensity(if is_compact {
            Density::Compact
        } else {
            Density::Comfortable
        }));
    }
    let mut is_board_shown = panel.settings.is_board_shown;
    if ui
        .checkbox(&mut is_board_shown, "Board")
        .on_hover_text("Favourites and groups beside the list (Ctrl+Shift+B)")
        .changed()
    {
        commands.push(UiCommand::ToggleBoard);
    }
    ui.separator();
    ui.label("Text size (Ctrl+Plus / Ctrl+Minus)");
    ui.horizontal(|ui| {
        for scale in TEXT_SCALES {
            let is_current = (panel.settings.text_scale - scale).abs() < 0.01;
            if ui
                .selectable_label(is_current, format!("{:.0}%", scale * 100.0))
                .clicked()
            {
                commands.push(UiCommand::SetTextScale(scale));
            }
        }
    });
    ui.separator();
    if ui.button("Keyboard map (F1)").clicked() {
        commands.push(UiCommand::ToggleKeyboardMap);
        ui.close();
    }
}
