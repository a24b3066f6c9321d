//! The panel's own notifications ("Anna Rossi is available"), in a strip across the top
//! of the window until the operator dismisses them: a watch that fired must not be
//! missed, whatever the desktop's notification service does.

use super::format::local_hh_mm;
use super::{PanelView, UiCommand};
use crate::status_icon::{IconKind, icon_shape, paint};
use crate::theme::{IconPalette, chrome_colors, status_colors};

/// The strip's frame: the notice colour, edge to edge.
pub fn notices_frame(ui: &egui::Ui) -> egui::Frame {
    egui::Frame::new()
        .fill(chrome_colors(ui.visuals().dark_mode).notice_fill)
        .inner_margin(egui::Margin::symmetric(12, 8))
}

pub fn notices_ui(ui: &mut egui::Ui, panel: &PanelView<'_>, commands: &mut Vec<UiCommand>) {
    let dark = ui.visuals().dark_mode;
    let chrome = chrome_colors(dark);
    for (index, notice) in panel.notices.iter().enumerate().rev().take(3) {
        ui.horizontal(|ui| {
            let (rect, _) = ui.allocate_exact_size(egui::vec2(22.0, 22.0), egui::Sense::hover());
            paint(
                ui.painter(),
                rect,
                &icon_shape(
                    IconKind::Available,
                    IconPalette::Teams,
                    &status_colors(dark),
                ),
                1.0,
            );
            ui.label(
                egui::RichText::new(&notice.title)
                    .strong()
                    .size(17.0)
                    .color(chrome.notice_text),
            );
            ui.label(
                egui::RichText::new(format!("{} · {}", notice.body, local_hh_mm(notice.at)))
                    .color(chrome.notice_text),
            );
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui
                    .button("Dismiss")
                    .on_hover_text("Remove this notification")
                    .clicked()
                {
                    commands.push(UiCommand::DismissNotice(index));
                }
            });
        });
    }
    if panel.notices.len() > 1 {
        ui.horizontal(|ui| {
            if panel.notices.len() > 3 {
                ui.label(
                    egui::RichText::new(format!("and {} earlier", panel.notices.len() - 3))
                        .color(chrome.notice_text),
                );
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.button("Dismiss all").clicked() {
                    commands.push(UiCommand::DismissAllNotices);
                }
            });
        });
    }
}
