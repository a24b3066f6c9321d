//! The details of the selected colleague (Enter or double-click): everything the
//! directory knows, the full status message and out-of-office note.

use std::time::SystemTime;

use crate::status_icon::{IconKind, icon_shape, paint, palette_for};
use crate::theme::{chrome_colors, status_colors};

use super::directory_list_ui::STALE_OPACITY;
use super::format::{local_hh_mm, time_in_state};
use super::{PanelView, UiCommand};

pub fn details_ui(ui: &mut egui::Ui, panel: &PanelView<'_>, commands: &mut Vec<UiCommand>) {
    let row = panel
        .view
        .selected_key()
        .and_then(|key| panel.model.row(key));
    ui.horizontal(|ui| {
        ui.heading("Details");
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button("Close").clicked() {
                commands.push(UiCommand::CloseDetails);
            }
        });
    });
    ui.separator();
    let Some(row) = row else {
        ui.label("Select a colleague (Up/Down, then Enter).");
        return;
    };
    let now = SystemTime::now();
    let dark = ui.visuals().dark_mode;
    let chrome = chrome_colors(dark);
    let c = &row.colleague;
    let presence = row.full_presence();
    ui.horizontal(|ui| {
        let (rect, _) = ui.allocate_exact_size(egui::vec2(36.0, 36.0), egui::Sense::hover());
        if let Some(p) = &presence {
            let opacity = if panel.model.is_stale(p.technology) {
                STALE_OPACITY
            } else {
                1.0
            };
            let shape = icon_shape(
                IconKind::for_presence(p),
                palette_for(p.technology),
                &status_colors(dark),
            );
            paint(ui.painter(), rect, &shape, opacity);
        }
        ui.vertical(|ui| {
            ui.add(egui::Label::new(egui::RichText::new(c.display_name()).heading()).truncate());
            if let Some(p) = &presence {
                let mut line = p.describe();
                if panel.model.is_stale(p.technology) {
                    let at = panel.model.lost_at().unwrap_or(now);
                    line.push_str(&format!(" — last known at {}, not live", local_hh_mm(at)));
                } else if let Some(elapsed) = time_in_state(p, now) {
                    line.push_str(&format!(
                        " — for {elapsed} (since {})",
                        local_hh_mm(p.since)
                    ));
                }
                ui.add(egui::Label::new(line).wrap());
            } else {
                ui.label("Status unknown");
            }
        });
    });
    if let Some(p) = &presence {
        ui.add_space(4.0);
        ui.label(
            egui::RichText::new(format!("via {}", p.technology.label()))
                .color(chrome.muted_text)
                .small(),
        );
        if p.is_out_of_office() {
            ui.add_space(6.0);
            ui.label(
                egui::RichText::new("Out of office")
                    .strong()
                    .color(chrome.out_of_office_text),
            );
            if !p.out_of_office.message.is_empty() {
                ui.add(egui::Label::new(&p.out_of_office.message).wrap());
            }
        }
        if let Some(message) = p.current_status_message(now) {
            ui.add_space(6.0);
            ui.label(egui::RichText::new("Status message").strong());
            ui.add(egui::Label::new(message).wrap());
            if let Some(expiry) = p.status_message.as_ref().and_then(|m| m.expires_at) {
                ui.label(
                    egui::RichText::new(format!("until {}", local_hh_mm(expiry)))
                        .color(chrome.muted_text)
                        .small(),
                );
            }
        }
    }
    ui.add_space(8.0);
    ui.separator();
    egui::Grid::new("details_grid")
        .num_columns(2)
        .spacing([12.0, 6.0])
        .show(ui, |ui| {
            let mut field = |name: &str, value: &str| {
                if !value.is_empty() {
                    ui.label(egui::RichText::new(name).color(chrome.muted_text));
                    ui.add(egui::Label::new(value).truncate());
                    ui.end_row();
                }
            };
            field("UPN", c.upn());
            if c.mail() != c.upn() {
                field("Mail", c.mail());
            }
            field("Department", c.department());
            field("Job title", c.job_title());
            field("Office", c.office());
            for phone in c.business_phones() {
                field("Phone", phone);
            }
            field("Mobile", c.mobile_phone());
        });
}
