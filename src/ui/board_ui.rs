//! The board: the colleagues the operator watches, always in view beside the list.
//! Group headings with who is available ("Sales desk 3/7 available"), then dense tiles
//! (status icon, name, activity in words, time in state). Only visible tiles are laid
//! out, so 500 colleagues in 20 groups cost what one screenful does. Stale statuses
//! are dimmed exactly as in the list; colleagues who left the directory are greyed.

use std::time::SystemTime;

use egui::{Align2, FontId, Rect, Sense, pos2, vec2};

use super::directory_list_ui::{colleague_menu_ui, text};
use super::format::{local_hh_mm, row_accessible_label, time_in_state};
use super::status_icon_ui::status_icon_ui;
use super::{PanelView, UiCommand};
use crate::board_view::{BoardSection, BoardTile};
use crate::settings::Density;
use crate::theme::chrome_colors;

/// Narrowest tile, in points: the board shows as many columns as fit.
const MIN_TILE_WIDTH: f32 = 190.0;
const GAP: f32 = 4.0;
const HEADING_HEIGHT: f32 = 30.0;

/// The board's own state.
#[derive(Debug, Default)]
pub struct BoardState {
    /// Tiles laid out last frame (for the frame benchmark and tests).
    pub tiles_drawn: usize,
}

/// Height of one tile for a density.
pub fn tile_height(density: Density) -> f32 {
    match density {
        Density::Comfortable => 44.0,
        Density::Compact => 24.0,
    }
}

pub fn board_ui(
    ui: &mut egui::Ui,
    panel: &PanelView<'_>,
    state: &mut BoardState,
    commands: &mut Vec<UiCommand>,
) {
    let chrome = chrome_colors(ui.visuals().dark_mode);
    let parts = panel.board;
    ui.add_space(6.0);
    ui.horizontal(|ui| {
        ui.heading("Board");
        let watched = parts.board.favourites.len();
        ui.label(
            egui::RichText::new(format!("{watched} starred"))
                .color(chrome.muted_text)
                .small(),
        );
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .button("Hide")
                .on_hover_text("Hide the board (Ctrl+Shift+B)")
                .clicked()
            {
                commands.push(UiCommand::ToggleBoard);
            }
            if ui
                .button("Groups…")
                .on_hover_text("New, rename, reorder, delete groups; rule groups (Ctrl+Shift+G)")
                .clicked()
            {
                commands.push(UiCommand::ToggleGroupManager);
            }
        });
    });
    if let Some(error) = parts.error {
        ui.label(egui::RichText::new(error).color(chrome.warning_text));
    }
    watches_ui(ui, panel, commands);
    ui.separator();

    if parts.view.tile_count() == 0 && parts.board.groups.iter().all(|g| !g.is_rule()) {
        ui.add_space(12.0);
        ui.label(egui::RichText::new("Nobody on the board yet").strong());
        ui.label("Select a colleague in the list and press Ctrl+D (or Star in the details) to keep them here.");
        ui.label("Ctrl+G puts them in a group; Ctrl+Shift+G makes groups, also ones that follow a department, an office, a title or a search.");
        state.tiles_drawn = 0;
        return;
    }
    sections_ui(ui, panel, state, commands);
}

/// The "notify me when available" watches, each with Cancel.
fn watches_ui(ui: &mut egui::Ui, panel: &PanelView<'_>, commands: &mut Vec<UiCommand>) {
    let watches = panel.board.watches.list();
    if watches.is_empty() {
        return;
    }
    let muted = chrome_colors(ui.visuals().dark_mode).muted_text;
    egui::CollapsingHeader::new(format!("Notify when available ({})", watches.len()))
        .id_salt("watches")
        .default_open(true)
        .show(ui, |ui| {
            for watch in watches {
                ui.horizontal(|ui| {
                    ui.label(&watch.name);
                    ui.label(
                        egui::RichText::new(format!("until {}", local_hh_mm(watch.expires_at())))
                            .color(muted)
                            .small(),
                    );
                    if ui
                        .small_button("Cancel")
                        .on_hover_text(format!("Stop waiting for {}", watch.name))
                        .clicked()
                    {
                        commands.push(UiCommand::CancelWatch(watch.upn.clone()));
                    }
                });
            }
        });
}

/// Where each section and tile goes, for a width: computed each frame (cheap: one
/// number per section), drawn only where visible.
struct Layout {
    columns: usize,
    tile_width: f32,
    tile_height: f32,
    /// Top of each section's heading, from the top of the content.
    section_tops: Vec<f32>,
    total_height: f32,
}

impl Layout {
    fn new(sections: &[BoardSection], width: f32, density: Density) -> Self {
        let columns = (((width + GAP) / (MIN_TILE_WIDTH + GAP)).floor() as usize).max(1);
        let tile_width = ((width - GAP * (columns as f32 - 1.0)) / columns as f32).max(40.0);
        let tile_height = tile_height(density);
        let mut section_tops = Vec::with_capacity(sections.len());
        let mut y = 0.0;
        for section in sections {
            section_tops.push(y);
            let rows = section.tiles.len().div_ceil(columns).max(1);
            y += HEADING_HEIGHT + rows as f32 * (tile_height + GAP) + GAP;
        }
        Self {
            columns,
            tile_width,
            tile_height,
            section_tops,
            total_height: y,
        }
    }

    fn tile_rect(&self, origin: egui::Pos2, section: usize, tile: usize) -> Rect {
        let top = self.section_tops.get(section).copied().unwrap_or_default() + HEADING_HEIGHT;
        let (row, column) = (tile / self.columns, tile % self.columns);
        Rect::from_min_size(
            pos2(
                origin.x + column as f32 * (self.tile_width + GAP),
                origin.y + top + row as f32 * (self.tile_height + GAP),
            ),
            vec2(self.tile_width, self.tile_height),
        )
    }
}

fn sections_ui(
    ui: &mut egui::Ui,
    panel: &PanelView<'_>,
    state: &mut BoardState,
    commands: &mut Vec<UiCommand>,
) {
    let sections = &panel.board.view.sections;
    let width = ui.available_width() - 8.0;
    let layout = Layout::new(sections, width, panel.settings.density);
    let now = SystemTime::now();
    let mut drawn = 0;
    egui::ScrollArea::vertical()
        .id_salt("board_scroll")
        .auto_shrink([false, false])
        .show_viewport(ui, |ui, viewport| {
            let (content, _) =
                ui.allocate_exact_size(vec2(width, layout.total_height), Sense::hover());
            let origin = content.min;
            if panel.board.view.scroll_to_selected
                && let Some((section, tile)) = panel.board.view.selected
            {
                ui.scroll_to_rect(layout.tile_rect(origin, section, tile), None);
            }
            let visible = viewport.translate(origin.to_vec2());
            for (s, section) in sections.iter().enumerate() {
                let top = origin.y + layout.section_tops[s];
                let bottom = origin.y
                    + layout
                        .section_tops
                        .get(s + 1)
                        .copied()
                        .unwrap_or(layout.total_height);
                if bottom < visible.top() || top > visible.bottom() {
                    continue;
                }
                let heading = Rect::from_min_size(pos2(origin.x, top), vec2(width, HEADING_HEIGHT));
                heading_ui(ui, panel, section, heading);
                if section.tiles.is_empty() {
                    let muted = chrome_colors(ui.visuals().dark_mode).muted_text;
                    let hint = if section.rule.is_some() {
                        "No one matches this rule."
                    } else {
                        "Empty: Ctrl+G puts the selected colleague here."
                    };
                    ui.painter().text(
                        pos2(origin.x + 4.0, heading.bottom() + layout.tile_height / 2.0),
                        Align2::LEFT_CENTER,
                        hint,
                        FontId::proportional(12.0),
                        muted,
                    );
                }
                for (t, tile) in section.tiles.iter().enumerate() {
                    let rect = layout.tile_rect(origin, s, t);
                    if !visible.intersects(rect) {
                        continue;
                    }
                    drawn += 1;
                    let is_selected = panel.board.view.selected == Some((s, t));
                    let response = tile_ui(ui, panel, tile, rect, is_selected, (s, t), now);
                    if response.double_clicked() {
                        commands.push(UiCommand::SelectTile {
                            section: s,
                            tile: t,
                            open_details: true,
                        });
                    } else if response.clicked() {
                        commands.push(UiCommand::SelectTile {
                            section: s,
                            tile: t,
                            open_details: panel.view.is_details_open,
                        });
                    }
                    response.context_menu(|ui| tile_menu_ui(ui, panel, section, tile, commands));
                }
            }
        });
    state.tiles_drawn = drawn;
}

fn heading_ui(ui: &mut egui::Ui, panel: &PanelView<'_>, section: &BoardSection, rect: Rect) {
    let chrome = chrome_colors(ui.visuals().dark_mode);
    let counted = panel.board.view.available_count(section, panel.model);
    let mut count = format!("{}/{} available", counted.available, counted.total);
    if counted.stale > 0 {
        count.push_str(&format!(" · {} not live", counted.stale));
    }
    let available = counted.available;
    let painter = ui.painter();
    let title_font = FontId::proportional(14.5);
    let galley = painter.layout_no_wrap(
        section.title.clone(),
        title_font,
        ui.visuals().strong_text_color(),
    );
    let title_width = galley.size().x.min(rect.width() * 0.6);
    text(
        painter,
        pos2(rect.left() + 2.0, rect.center().y),
        &section.title,
        FontId::proportional(14.5),
        ui.visuals().strong_text_color(),
        rect.width() * 0.6,
    );
    let count_color = if available > 0 {
        chrome.live_dot
    } else {
        chrome.muted_text
    };
    painter.text(
        pos2(rect.left() + title_width + 12.0, rect.center().y),
        Align2::LEFT_CENTER,
        &count,
        FontId::proportional(12.5),
        count_color,
    );
    if let Some(rule) = &section.rule {
        painter.text(
            pos2(rect.right() - 2.0, rect.center().y),
            Align2::RIGHT_CENTER,
            if section.hidden > 0 {
                format!("{rule} (first {})", section.tiles.len())
            } else {
                rule.clone()
            },
            FontId::proportional(11.0),
            chrome.muted_text,
        );
    }
    let label = format!("{}, {count}", section.title);
    let response = ui.interact(
        rect,
        ui.scope_id().with(("board_heading", &section.title)),
        Sense::hover(),
    );
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &label));
}

#[allow(clippy::too_many_arguments)]
fn tile_ui(
    ui: &mut egui::Ui,
    panel: &PanelView<'_>,
    tile: &BoardTile,
    rect: Rect,
    is_selected: bool,
    place: (usize, usize),
    now: SystemTime,
) -> egui::Response {
    // Known by the colleague, not the place: a re-sort must not move an open menu.
    let id = ui.scope_id().with(("board_tile", place.0, &tile.upn));
    let response = ui.interact(rect, id, Sense::click());
    let dark = ui.visuals().dark_mode;
    let chrome = chrome_colors(dark);
    let row = tile.row.and_then(|key| panel.model.row(key));
    let presence = row.and_then(|r| r.full_presence());
    let stale_since = presence
        .as_ref()
        .filter(|p| panel.model.is_stale(p.technology))
        .map(|_| panel.model.lost_at().unwrap_or(now));
    let name = row.map_or(
        if tile.name.is_empty() {
            tile.upn.as_str()
        } else {
            tile.name.as_str()
        },
        |r| r.colleague.display_name(),
    );
    let missing_note = if !panel.model.has_complete_directory() {
        "not in the directory yet"
    } else {
        "no longer in the directory"
    };
    let label = match row {
        Some(_) => row_accessible_label(name, presence.as_ref(), stale_since, now),
        None => format!("{name}, {missing_note}"),
    };
    response.widget_info(|| {
        egui::WidgetInfo::selected(egui::Role::ListItem, true, is_selected, &label)
    });

    let painter = ui.painter_at(rect);
    let fill = if is_selected {
        chrome.selected_row
    } else if response.hovered() {
        ui.visuals().faint_bg_color
    } else {
        chrome.tile_fill
    };
    painter.rect_filled(rect, 4.0, fill);
    painter.rect_stroke(
        rect,
        4.0,
        egui::Stroke::new(1.0, chrome.tile_stroke),
        egui::StrokeKind::Inside,
    );
    let compact = panel.settings.density == Density::Compact;
    let line1 = if compact {
        rect.center().y
    } else {
        rect.top() + 14.0
    };
    let line2 = rect.top() + 31.0;
    let icon_rect = Rect::from_center_size(pos2(rect.left() + 14.0, line1), vec2(16.0, 16.0));
    status_icon_ui(
        ui,
        icon_rect,
        id.with("icon"),
        presence.as_ref(),
        stale_since.is_some(),
    );
    let left = rect.left() + 28.0;
    let right = rect.right() - 6.0;
    let text_color = if row.is_some() {
        ui.visuals().text_color()
    } else {
        chrome.muted_text
    };
    let is_watched = panel.board.watches.is_watching(&tile.upn);
    let time = presence
        .as_ref()
        .filter(|_| stale_since.is_none())
        .and_then(|p| time_in_state(p, now));
    let time_width = if time.is_some() { 46.0 } else { 0.0 };
    let activity = match (&presence, row) {
        (_, None) => missing_note.to_owned(),
        (None, Some(_)) => "Status unknown".to_owned(),
        (Some(p), Some(_)) => match stale_since {
            Some(at) => format!("{} · last known at {}", p.headline(), local_hh_mm(at)),
            None => p.headline(),
        },
    };
    let activity = if is_watched {
        format!("{activity} · notify when available")
    } else {
        activity
    };
    if compact {
        let name_width = ((right - left - time_width) * 0.55).max(40.0);
        text(
            &painter,
            pos2(left, line1),
            name,
            FontId::proportional(13.0),
            text_color,
            name_width,
        );
        text(
            &painter,
            pos2(left + name_width + 6.0, line1),
            &activity,
            FontId::proportional(12.0),
            chrome.muted_text,
            (right - left - name_width - 6.0 - time_width).max(10.0),
        );
    } else {
        text(
            &painter,
            pos2(left, line1),
            name,
            FontId::proportional(14.0),
            text_color,
            right - left - time_width,
        );
        text(
            &painter,
            pos2(left, line2),
            &activity,
            FontId::proportional(12.0),
            chrome.muted_text,
            right - left,
        );
    }
    if let Some(time) = time {
        painter.text(
            pos2(right, line1),
            Align2::RIGHT_CENTER,
            time,
            FontId::proportional(12.0),
            chrome.muted_text,
        );
    }
    response
}

/// Right-click on a tile: what can be done from the board, for that colleague.
fn tile_menu_ui(
    ui: &mut egui::Ui,
    panel: &PanelView<'_>,
    section: &BoardSection,
    tile: &BoardTile,
    commands: &mut Vec<UiCommand>,
) {
    let name = tile.row.and_then(|key| panel.model.row(key)).map_or_else(
        || tile.name.clone(),
        |r| r.colleague.display_name().to_owned(),
    );
    ui.label(egui::RichText::new(&name).strong());
    ui.separator();
    if let Some(group) = section.group
        && section.rule.is_none()
        && ui
            .button(format!("Remove from {}", section.title))
            .clicked()
    {
        commands.push(UiCommand::SetGroupMember {
            group,
            upn: tile.upn.clone(),
            name: name.clone(),
            is_member: false,
        });
        ui.close();
    }
    colleague_menu_ui(ui, panel, &tile.upn, &name, tile.row.is_some(), commands);
}
