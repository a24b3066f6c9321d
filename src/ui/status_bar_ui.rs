//! The status bar (always visible: link state, gateway, sources) and the banner that
//! says statuses are not live.

use std::time::{Instant, SystemTime};

use crate::connection::ConnectionState;
use crate::theme::chrome_colors;
use presence_domain::{SourceState, Technology};

use super::PanelView;
use super::format::{loading_text, local_hh_mm, thousands};

pub fn status_bar_ui(ui: &mut egui::Ui, panel: &PanelView<'_>) {
    let colors = chrome_colors(ui.visuals().dark_mode);
    ui.horizontal(|ui| {
        let (dot, text) = match panel.model.connection() {
            None | Some(ConnectionState::Connecting { .. })
                if panel.model.loading_progress().is_some() =>
            {
                (colors.connecting_dot, loading_text(panel.model.loading_progress()))
            }
            None | Some(ConnectionState::Connecting { .. })
                if !panel.model.has_been_live() && !panel.model.is_empty() =>
            {
                // Connected: the directory is arriving, statuses come after it.
                let so_far = thousands(panel.model.len());
                (
                    colors.connecting_dot,
                    format!("Loading the directory… {so_far} colleagues so far"),
                )
            }
            None | Some(ConnectionState::Connecting { .. }) => {
                (colors.connecting_dot, "Connecting…".to_owned())
            }
            Some(ConnectionState::Live) => (colors.live_dot, "Live".to_owned()),
            Some(ConnectionState::Reconnecting {
                attempt,
                last_error,
                retry_at,
            }) => (
                colors.error_dot,
                format!(
                    "Reconnecting (attempt {attempt}{}) — {last_error}",
                    countdown(*retry_at)
                ),
            ),
            Some(ConnectionState::Unauthorized { message, retry_at }) => (
                colors.error_dot,
                format!("Not authorised — {message}{}", countdown(*retry_at)),
            ),
        };
        let (rect, _) = ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
        ui.painter().circle_filled(rect.center(), 5.0, dot);
        ui.add(egui::Label::new(egui::RichText::new(text).strong()).truncate());
        ui.separator();
        ui.label(format!("Gateway {}", panel.endpoint_label));
        for source in panel.model.sources() {
            let state = match source.state {
                SourceState::Live => "live",
                SourceState::Stale => "stale",
                SourceState::Disabled => "off",
            };
            let name = match source.technology {
                Technology::MsTeams => "Teams",
                Technology::SipSimple => "SIP",
            };
            ui.separator();
            let label = ui.label(format!("{name}: {state}"));
            if !source.detail.is_empty() {
                label.on_hover_text(&source.detail);
            }
        }
        let refused = panel.model.refused_entries();
        if refused > 0 {
            ui.separator();
            ui.label(
                egui::RichText::new(format!("{} entries from the gateway refused", thousands(refused as usize)))
                    .color(colors.warning_text),
            )
            .on_hover_text("Not a UPN (too long, control characters, no '@'), or more colleagues than the panel holds (1,000,000)");
        }
        if let Some(flash) = panel.flash {
            ui.separator();
            ui.add(egui::Label::new(egui::RichText::new(flash).strong()).truncate());
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            ui.label(
                egui::RichText::new("F1: keyboard map")
                    .color(colors.muted_text)
                    .small(),
            );
        });
    });
}

fn countdown(retry_at: Instant) -> String {
    let remaining = retry_at.saturating_duration_since(Instant::now());
    if remaining.as_millis() < 100 {
        String::new()
    } else {
        format!(", next try in {:.0} s", remaining.as_secs_f32().ceil())
    }
}

/// The banner, when statuses are not live or settings were damaged.
pub fn banner_text(panel: &PanelView<'_>) -> Option<String> {
    let mut lines = Vec::new();
    if let Some(warning) = panel.startup_warning {
        lines.push(warning.to_owned());
    }
    if panel.model.has_been_live() && !panel.model.is_live() {
        let at = panel.model.lost_at().unwrap_or_else(SystemTime::now);
        lines.push(format!(
            "Not live: the presence gateway cannot be reached. Statuses below are the last known at {} and are dimmed. Reconnecting automatically…",
            local_hh_mm(at)
        ));
    } else if panel.model.is_live() {
        for source in panel.model.sources() {
            if source.state == SourceState::Stale {
                lines.push(format!(
                    "{} presence is not live ({}). Its statuses are the last known and are dimmed.",
                    source.technology.label(),
                    if source.detail.is_empty() {
                        "source unreachable"
                    } else {
                        &source.detail
                    }
                ));
            }
        }
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}

pub fn banner_frame(ui: &egui::Ui) -> egui::Frame {
    let colors = chrome_colors(ui.visuals().dark_mode);
    egui::Frame::new()
        .fill(colors.stale_banner_fill)
        .inner_margin(egui::Margin::symmetric(10, 8))
}

pub fn banner_ui(ui: &mut egui::Ui, text: &str) {
    let colors = chrome_colors(ui.visuals().dark_mode);
    ui.label(
        egui::RichText::new(text)
            .color(colors.stale_banner_text)
            .strong(),
    );
}
