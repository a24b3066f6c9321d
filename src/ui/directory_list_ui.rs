//! The directory list: virtualised (only visible rows are laid out), one colleague per
//! row, two lines each. Stale statuses are dimmed and say when they were last known.

use std::time::SystemTime;

use egui::{Align2, Color32, FontId, Rect, Sense, pos2, vec2};

use crate::colleague_actions::ColleagueAction;
use crate::connection::ConnectionState;
use crate::directory_model::RowRef;
use crate::settings::Density;
use crate::status_icon::paint_star;
use crate::theme::chrome_colors;
use presence_domain::Presence;

use super::format::{loading_text, local_hh_mm, row_accessible_label, time_in_state};
use super::status_icon_ui::status_icon_ui;
use super::{PanelView, UiCommand};

/// Height of one row, in points: two lines, or one in the compact density (over 40
/// rows on a 1080p screen).
pub fn row_height(density: Density) -> f32 {
    match density {
        Density::Comfortable => 48.0,
        Density::Compact => 22.0,
    }
}
/// Opacity of a status that is not live.
pub const STALE_OPACITY: f32 = 0.35;

/// The list's own state: where it is scrolled to.
#[derive(Debug, Default)]
pub struct ListState {
    /// The scroll position last frame, in points.
    pub scroll_offset: f32,
}

pub fn directory_list_ui(
    ui: &mut egui::Ui,
    panel: &PanelView<'_>,
    list: &mut ListState,
    commands: &mut Vec<UiCommand>,
) {
    if panel.model.is_empty() {
        empty_state_ui(ui, panel);
        return;
    }
    if panel.view.results.is_empty() {
        ui.add_space(24.0);
        ui.vertical_centered(|ui| {
            ui.heading("No one matches");
            ui.label("Try fewer words, or press Escape to clear the search.");
        });
        return;
    }
    let now = SystemTime::now();
    let row_height = row_height(panel.settings.density);
    let viewport_height = ui.available_height();
    let mut scroll = egui::ScrollArea::vertical().auto_shrink([false, false]);
    // The app clears the request once the frame is drawn.
    if panel.view.scroll_to_selected {
        let index = panel.view.selected_index.unwrap_or(0) as f32;
        let top = index * row_height;
        let offset = list.scroll_offset;
        let target = if top < offset {
            top
        } else if top + row_height > offset + viewport_height {
            top + row_height - viewport_height
        } else {
            offset
        };
        scroll = scroll.vertical_scroll_offset(target.max(0.0));
    }
    ui.spacing_mut().item_spacing.y = 0.0;
    let output = scroll.show_rows(ui, row_height, panel.view.results.len(), |ui, range| {
        for index in range {
            let Some(row) = panel
                .view
                .results
                .get(index)
                .and_then(|&key| panel.model.row(key))
            else {
                continue;
            };
            let is_selected = panel.view.selected_index == Some(index);
            let response = row_ui(ui, panel, row, is_selected, now, row_height);
            if response.double_clicked() {
                commands.push(UiCommand::Select {
                    index,
                    open_details: true,
                });
            } else if response.clicked() {
                commands.push(UiCommand::Select {
                    index,
                    open_details: panel.view.is_details_open,
                });
            }
            response.context_menu(|ui| row_menu_ui(ui, panel, row, commands));
        }
    });
    list.scroll_offset = output.state.clamped_offset().y;
}

/// Right-click on a row: the board and the actions, for that colleague (named first,
/// and carried by UPN in every command).
fn row_menu_ui(
    ui: &mut egui::Ui,
    panel: &PanelView<'_>,
    row: RowRef<'_>,
    commands: &mut Vec<UiCommand>,
) {
    let upn = row.colleague.upn_key();
    let name = row.colleague.display_name().to_owned();
    ui.label(egui::RichText::new(&name).strong());
    ui.separator();
    colleague_menu_ui(ui, panel, &upn, &name, true, commands);
}

/// The entries of a colleague's menu (list rows and board tiles).
pub fn colleague_menu_ui(
    ui: &mut egui::Ui,
    panel: &PanelView<'_>,
    upn: &str,
    name: &str,
    is_in_directory: bool,
    commands: &mut Vec<UiCommand>,
) {
    let star = if panel.board.board.is_favourite(upn) {
        "Unstar (take off the board)"
    } else {
        "Star (put on the board)"
    };
    let mut chosen = Vec::new();
    if ui.button(star).clicked() {
        chosen.push(UiCommand::ToggleStar {
            upn: upn.to_owned(),
            name: name.to_owned(),
        });
    }
    if is_in_directory && ui.button("Groups…").clicked() {
        chosen.push(UiCommand::SelectColleague(upn.to_owned()));
        chosen.push(UiCommand::OpenGroupPicker);
    }
    let watch = if panel.board.watches.is_watching(upn) {
        "Stop notifying when available"
    } else {
        "Notify me when available"
    };
    if ui.button(watch).clicked() {
        chosen.push(UiCommand::ToggleWatch {
            upn: upn.to_owned(),
            name: name.to_owned(),
        });
    }
    if is_in_directory {
        ui.separator();
        for action in ColleagueAction::ALL {
            if ui.button(action.label()).clicked() {
                chosen.push(UiCommand::ActOn {
                    upn: upn.to_owned(),
                    action,
                });
            }
        }
    }
    if !chosen.is_empty() {
        commands.extend(chosen);
        ui.close();
    }
}

fn empty_state_ui(ui: &mut egui::Ui, panel: &PanelView<'_>) {
    ui.add_space(40.0);
    if let Some((received, total)) = panel.model.loading_progress() {
        ui.vertical_centered(|ui| {
            ui.heading(loading_text(Some((received, total))));
            ui.add_space(8.0);
            let share = received as f32 / total.max(1) as f32;
            ui.add(egui::ProgressBar::new(share).desired_width(320.0));
        });
        return;
    }
    ui.vertical_centered(|ui| match panel.model.connection() {
        Some(ConnectionState::Live) => {
            ui.heading("The directory is empty");
            ui.label("The gateway is live but lists no colleagues.");
        }
        Some(ConnectionState::Reconnecting { last_error, .. }) => {
            ui.heading("Cannot reach the presence gateway");
            ui.label(format!("{} — {last_error}", panel.endpoint_label));
            ui.label("Retrying automatically.");
        }
        Some(ConnectionState::Unauthorized { message, .. }) => {
            ui.heading("The presence gateway refused access");
            ui.label(message);
            ui.label("Check the token file in the settings.");
        }
        _ => {
            ui.heading("Connecting to the presence gateway…");
            ui.label(panel.endpoint_label);
        }
    });
}

fn row_ui(
    ui: &mut egui::Ui,
    panel: &PanelView<'_>,
    row: RowRef<'_>,
    is_selected: bool,
    now: SystemTime,
    row_height: f32,
) -> egui::Response {
    let width = ui.available_width();
    let (rect, _) = ui.allocate_exact_size(vec2(width, row_height), Sense::hover());
    // Known by the colleague, not the place: a re-sort must not move an open menu onto
    // somebody else.
    let id = ui.scope_id().with(("directory_row", row.colleague.upn()));
    let response = ui.interact(rect, id, Sense::click());
    let dark = ui.visuals().dark_mode;
    let chrome = chrome_colors(dark);
    let presence = row.full_presence();
    let presence = presence.as_ref();
    let stale_since = presence
        .filter(|p| panel.model.is_stale(p.technology))
        .map(|_| panel.model.lost_at().unwrap_or(now));
    let is_favourite = panel.board.board.is_favourite(row.colleague.upn());
    let phone = row.colleague.phone_to_call();
    let mut label = row_accessible_label(row.colleague.display_name(), presence, stale_since, now);
    if is_favourite {
        label.push_str(", starred");
    }
    if let Some(phone) = phone {
        label.push_str(", phone ");
        label.push_str(phone);
    }
    response.widget_info(|| {
        egui::WidgetInfo::selected(egui::Role::ListItem, true, is_selected, &label)
    });
    if !ui.is_rect_visible(rect) {
        return response;
    }

    let painter = ui.painter_at(rect);
    if is_selected {
        painter.rect_filled(rect, 4.0, chrome.selected_row);
    } else if response.hovered() {
        painter.rect_filled(rect, 4.0, ui.visuals().faint_bg_color);
    }
    let text_color = ui.visuals().text_color();
    let muted = chrome.muted_text;
    let compact = row_height < 30.0;
    let line1 = if compact {
        rect.center().y
    } else {
        rect.top() + 15.0
    };
    let line2 = rect.top() + 34.0;

    let icon_size = if compact { 16.0 } else { 20.0 };
    let icon_rect =
        Rect::from_center_size(pos2(rect.left() + 20.0, line1), vec2(icon_size, icon_size));
    status_icon_ui(
        ui,
        icon_rect,
        response.id.with("icon"),
        presence,
        stale_since.is_some(),
    );

    // Columns.
    let left = rect.left() + 40.0;
    let right = rect.right() - 10.0;
    let name_width = ((right - left) * 0.38).clamp(140.0, 360.0);
    let status_left = left + name_width + 12.0;
    let time_width = 56.0;
    let name_font = FontId::proportional(if compact { 14.0 } else { 15.0 });
    let star_width = if is_favourite { 18.0 } else { 0.0 };
    if is_favourite {
        paint_star(&painter, pos2(left + 6.0, line1), 6.5, chrome.star);
    }
    text(
        &painter,
        pos2(left + star_width, line1),
        row.colleague.display_name(),
        name_font,
        text_color,
        name_width - star_width,
    );
    if !compact {
        let secondary = [
            row.colleague.upn(),
            row.colleague.department(),
            row.colleague.job_title(),
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("  ·  ");
        text(
            &painter,
            pos2(left, line2),
            &secondary,
            FontId::proportional(12.0),
            muted,
            name_width,
        );
    }

    // The number to transfer to, under the time in the state.
    let phone_width = match phone {
        Some(phone) if !compact => {
            let at = painter.text(
                pos2(right, line2),
                Align2::RIGHT_CENTER,
                phone,
                FontId::proportional(12.0),
                muted,
            );
            at.width() + 12.0
        }
        _ => 0.0,
    };
    let status_width = (right - status_left - time_width).max(40.0);
    match presence {
        Some(p) => {
            let (headline, headline_color) = match stale_since {
                Some(at) => (
                    format!("{} · last known at {}", p.headline(), local_hh_mm(at)),
                    muted,
                ),
                None => (p.headline(), text_color),
            };
            text(
                &painter,
                pos2(status_left, line1),
                &headline,
                FontId::proportional(if compact { 13.0 } else { 14.0 }),
                headline_color,
                if compact {
                    status_width * 0.45
                } else {
                    status_width
                },
            );
            if stale_since.is_none()
                && let Some(elapsed) = time_in_state(p, now)
            {
                painter.text(
                    pos2(right, line1),
                    Align2::RIGHT_CENTER,
                    elapsed,
                    FontId::proportional(13.0),
                    muted,
                );
            }
            let (note_at, note_width) = if compact {
                (
                    pos2(status_left + status_width * 0.45 + 8.0, line1),
                    status_width * 0.55 - 8.0,
                )
            } else {
                (pos2(status_left, line2), right - status_left - phone_width)
            };
            note_ui(&painter, p, note_at, note_width, now, &chrome);
        }
        None => {
            text(
                &painter,
                pos2(status_left, line1),
                "Status unknown",
                FontId::proportional(14.0),
                muted,
                status_width,
            );
        }
    }
    response
}

/// The out-of-office note, else the status message, on the second line.
fn note_ui(
    painter: &egui::Painter,
    presence: &Presence,
    at: egui::Pos2,
    width: f32,
    now: SystemTime,
    chrome: &crate::theme::ChromeColors,
) {
    if presence.is_out_of_office() && !presence.out_of_office.message.is_empty() {
        let note = format!("Out of office: {}", presence.out_of_office.message);
        text(
            painter,
            at,
            &note,
            FontId::proportional(12.0),
            chrome.out_of_office_text,
            width,
        );
    } else if let Some(message) = presence.current_status_message(now) {
        let note = format!("“{message}”");
        text(
            painter,
            at,
            &note,
            FontId::proportional(12.0),
            chrome.status_message_text,
            width,
        );
    }
}

/// One line of text, vertically centred on `at.y`, cut with an ellipsis at `max_width`.
pub fn text(
    painter: &egui::Painter,
    at: egui::Pos2,
    text: &str,
    font: FontId,
    color: Color32,
    max_width: f32,
) {
    let mut job = egui::text::LayoutJob::single_section(
        text.to_owned(),
        egui::TextFormat {
            font_id: font,
            color,
            ..Default::default()
        },
    );
    job.wrap = egui::text::TextWrapping {
        max_width: max_width.max(1.0),
        max_rows: 1,
        break_anywhere: true,
        overflow_character: Some('…'),
    };
    let galley = painter.layout_job(job);
    let top_left = pos2(at.x, at.y - galley.size().y / 2.0);
    painter.galley(top_left, galley, color);
}
