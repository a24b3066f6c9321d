//! A status icon in the window: painted from its geometry, dimmed when not live, with a
//! tooltip naming the state (status is never told by colour alone).

use egui::{Rect, Sense};
use presence_domain::{Presence, Technology};

use super::directory_list_ui::STALE_OPACITY;
use crate::status_icon::{IconKind, icon_shape, paint, palette_for};
use crate::theme::status_colors;

/// Paints the icon for `presence` (unknown when `None`) in `rect`; hovering it names
/// the state.
pub fn status_icon_ui(
    ui: &mut egui::Ui,
    rect: Rect,
    id: egui::Id,
    presence: Option<&Presence>,
    is_stale: bool,
) {
    let (kind, palette) = match presence {
        Some(p) => (IconKind::for_presence(p), palette_for(p.technology)),
        None => (IconKind::Unknown, palette_for(Technology::MsTeams)),
    };
    if ui.is_rect_visible(rect) {
        let opacity = if is_stale { STALE_OPACITY } else { 1.0 };
        let colors = status_colors(ui.visuals().dark_mode);
        paint(
            ui.painter(),
            rect,
            &icon_shape(kind, palette, &colors),
            opacity,
        );
    }
    let response = ui.interact(rect, id, Sense::hover());
    if response.hovered() {
        let mut words = match presence {
            Some(p) => format!("{} ({})", p.describe(), p.technology.label()),
            None => IconKind::Unknown.legend_label().to_owned(),
        };
        if is_stale {
            words.push_str(" — last known, not live");
        }
        response.on_hover_text(words);
    }
}
