//! The details of the colleague in hand (Enter or double-click, in the list or on the
//! board): everything the directory knows, the full status message and out-of-office
//! note, and what can be done: star, groups, notify when available, Teams chat and
//! call, dial, copy.

use std::time::SystemTime;

use crate::colleague_actions::ColleagueAction;
use crate::theme::chrome_colors;

use super::format::{local_hh_mm, time_in_state};
use super::status_icon_ui::status_icon_ui;
use super::{PanelView, UiCommand};

pub fn details_ui(ui: &mut egui::Ui, panel: &PanelView<'_>, commands: &mut Vec<UiCommand>) {
    let row = panel
        .subject
        .and_then(|s| s.row)
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
    let Some(subject) = panel.subject else {
        ui.label("Select a colleague (Up/Down, then Enter).");
        return;
    };
    let Some(row) = row else {
        // A board tile for someone the directory does not hold (any more).
        ui.heading(&subject.name);
        ui.label(&subject.upn);
        let note = if panel.model.has_complete_directory() {
            "No longer in the directory: their status is not known."
        } else {
            "Not in the directory yet: it is still loading."
        };
        ui.label(egui::RichText::new(note).color(chrome_colors(ui.visuals().dark_mode).muted_text));
        board_buttons_ui(ui, panel, subject, false, commands);
        return;
    };
    let now = SystemTime::now();
    let dark = ui.visuals().dark_mode;
    let chrome = chrome_colors(dark);
    let c = &row.colleague;
    let presence = row.full_presence();
    ui.horizontal(|ui| {
        let (rect, response) = ui.allocate_exact_size(egui::vec2(36.0, 36.0), egui::Sense::hover());
        let is_stale = presence
            .as_ref()
            .is_some_and(|p| panel.model.is_stale(p.technology));
        status_icon_ui(
            ui,
            rect,
            response.id.with("icon"),
            presence.as_ref(),
            is_stale,
        );
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
    let is_available_now = subject
        .row
        .is_some_and(|key| crate::directory_view::is_available_now(panel.model, key));
    board_buttons_ui(ui, panel, subject, is_available_now, commands);
    ui.add_space(4.0);
    actions_ui(ui, row.colleague, commands);
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

/// Star, groups, notify when available.
fn board_buttons_ui(
    ui: &mut egui::Ui,
    panel: &PanelView<'_>,
    subject: &super::Subject,
    is_available_now: bool,
    commands: &mut Vec<UiCommand>,
) {
    ui.add_space(8.0);
    ui.horizontal_wrapped(|ui| {
        let is_favourite = panel.board.board.is_favourite(&subject.upn);
        let star = if is_favourite { "Unstar" } else { "Star" };
        let hover = if is_favourite {
            "Take off the board (Ctrl+D)"
        } else {
            "Keep on the board (Ctrl+D)"
        };
        if ui.button(star).on_hover_text(hover).clicked() {
            commands.push(UiCommand::ToggleStar {
                upn: subject.upn.clone(),
                name: subject.name.clone(),
            });
        }
        if ui
            .button("Groups…")
            .on_hover_text("Put in groups (Ctrl+G)")
            .clicked()
        {
            commands.push(UiCommand::OpenGroupPicker);
        }
        let is_watched = panel.board.watches.is_watching(&subject.upn);
        let (label, hover) = if is_watched {
            ("Cancel notification", "Stop waiting for them (Ctrl+N)")
        } else if is_available_now {
            ("Notify when available", "They are available now")
        } else {
            (
                "Notify when available",
                "A notification when they are next Available, today (Ctrl+N)",
            )
        };
        if ui
            .add_enabled(is_watched || !is_available_now, egui::Button::new(label))
            .on_hover_text(hover)
            .on_disabled_hover_text(hover)
            .clicked()
        {
            commands.push(UiCommand::ToggleWatch {
                upn: subject.upn.clone(),
                name: subject.name.clone(),
            });
        }
    });
}

/// Teams chat and call, dial, copy: each greyed when there is nothing to act on.
fn actions_ui(
    ui: &mut egui::Ui,
    colleague: presence_domain::packed_colleague::ColleagueRef<'_>,
    commands: &mut Vec<UiCommand>,
) {
    let has_phone = colleague.phone_to_call().is_some();
    ui.horizontal_wrapped(|ui| {
        for (action, keys) in [
            (ColleagueAction::TeamsChat, "Ctrl+T"),
            (ColleagueAction::TeamsCall, "Ctrl+Shift+T"),
            (ColleagueAction::DialPhone, "Ctrl+Shift+D"),
            (ColleagueAction::CopyUpn, "Ctrl+Shift+C"),
            (ColleagueAction::CopyMail, "Ctrl+Shift+M"),
            (ColleagueAction::CopyPhone, "Ctrl+Shift+P"),
        ] {
            let is_possible = match action {
                ColleagueAction::DialPhone | ColleagueAction::CopyPhone => has_phone,
                _ => true,
            };
            if ui
                .add_enabled(is_possible, egui::Button::new(action.label()))
                .on_hover_text(keys)
                .on_disabled_hover_text("No phone number in the directory")
                .clicked()
            {
                commands.push(UiCommand::Act(action));
            }
        }
    });
}
