//! The keyboard map (F1): every shortcut, from [`crate::keyboard_map`].

use super::UiCommand;
use crate::keyboard_map::KEYBOARD_MAP;
use crate::theme::chrome_colors;

pub fn keyboard_map_window(ctx: &egui::Context, commands: &mut Vec<UiCommand>) {
    let mut is_open = true;
    egui::Window::new("Keyboard map")
        .open(&mut is_open)
        .collapsible(false)
        .resizable(false)
        .pivot(egui::Align2::CENTER_TOP)
        .default_pos(ctx.content_rect().center_top() + egui::vec2(0.0, 60.0))
        .show(ctx, |ui| {
            let muted = chrome_colors(ui.visuals().dark_mode).muted_text;
            // One grid, so the columns line up from part to part.
            egui::Grid::new("keyboard_map")
                .num_columns(2)
                .spacing([16.0, 4.0])
                .show(ui, |ui| {
                    for group in KEYBOARD_MAP {
                        ui.label(egui::RichText::new(group.title).strong());
                        ui.end_row();
                        for shortcut in group.shortcuts {
                            ui.label(egui::RichText::new(shortcut.keys).monospace());
                            ui.label(egui::RichText::new(shortcut.action).color(muted));
                            ui.end_row();
                        }
                    }
                });
            ui.add_space(6.0);
            ui.label("F1 or Escape closes this window.");
        });
    if !is_open {
        commands.push(UiCommand::ToggleKeyboardMap);
    }
}
