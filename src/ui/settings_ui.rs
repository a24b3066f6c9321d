//! The settings dialog (Ctrl+, or View > Settings…): the gateways (preferred first),
//! the token and CA files, the operator's name, theme, density and starting at
//! sign-in. Each field is checked on Apply with a message under it; "Test connection"
//! asks each gateway on the spot and shows what it answered. Applied live: the link
//! moves to the new gateways at once. Tab walks the fields; Escape closes.

use super::{PanelView, UiCommand};
use crate::connection::ProbeAnswers;
use crate::settings::{DEFAULT_ENDPOINT, Density, ThemeChoice};
use crate::settings_draft::{DraftProblems, SettingsDraft};
use crate::theme::chrome_colors;
use crate::ui::format::thousands;

/// Where a connection test stands.
#[derive(Debug, Default)]
pub enum ProbeStatus {
    #[default]
    NotRun,
    Testing,
    Answered(ProbeAnswers),
}

/// The dialog's own state: the fields as typed while it is open.
#[derive(Debug, Default)]
pub struct SettingsEditor {
    /// `Some` while the dialog is open.
    pub draft: Option<SettingsDraft>,
    pub problems: DraftProblems,
    pub probe: ProbeStatus,
    /// Focus the first field when the dialog opens.
    pub wants_focus: bool,
}

/// The id of the gateways field (tests type into it).
pub fn endpoints_field_id() -> egui::Id {
    egui::Id::unique("settings_endpoints")
}

pub fn settings_window(
    ctx: &egui::Context,
    panel: &PanelView<'_>,
    editor: &mut SettingsEditor,
    commands: &mut Vec<UiCommand>,
) {
    let SettingsEditor {
        draft: Some(draft),
        problems,
        probe,
        wants_focus,
    } = editor
    else {
        return;
    };
    let mut is_open = true;
    egui::Window::new("Settings")
        .open(&mut is_open)
        .collapsible(false)
        .resizable(false)
        .pivot(egui::Align2::CENTER_TOP)
        .default_pos(ctx.content_rect().center_top() + egui::vec2(0.0, 60.0))
        .min_width(520.0)
        .show(ctx, |ui| {
            let chrome = chrome_colors(ui.visuals().dark_mode);
            let problem = |ui: &mut egui::Ui, text: &Option<String>| {
                if let Some(text) = text {
                    ui.label(egui::RichText::new(text).color(chrome.warning_text));
                }
            };
            let machine = panel.machine;
            ui.heading("Connection");
            ui.label(
                egui::RichText::new(format!("In use now: {}", panel.endpoint_label))
                    .color(chrome.muted_text),
            );
            if machine.is_locked {
                ui.label(
                    egui::RichText::new(format!(
                        "Set by your administrator ({}): you cannot change it here.",
                        machine.origin
                    ))
                    .color(chrome.muted_text),
                );
            }
            ui.add_enabled_ui(!machine.is_locked, |ui| {
                ui.label("Gateways, one a line, preferred first");
                let fallback = if machine.endpoints.is_empty() {
                    DEFAULT_ENDPOINT.to_owned()
                } else {
                    format!("{} (your administrator's)", machine.endpoints.join(", "))
                };
                let field = ui.add(
                    egui::TextEdit::multiline(&mut draft.endpoints)
                        .id(endpoints_field_id())
                        .desired_rows(2)
                        .desired_width(f32::INFINITY)
                        .hint_text(format!("Empty: {fallback}")),
                );
                if std::mem::take(wants_focus) {
                    field.request_focus();
                }
                problem(ui, &problems.endpoints);
                path_field(
                    ui,
                    "Token file (the gateway's access token)",
                    &mut draft.token_file,
                    machine.token_file.as_deref(),
                );
                problem(ui, &problems.token_file);
                path_field(
                    ui,
                    "CA file (a company CA, PEM; for https://)",
                    &mut draft.ca_file,
                    machine.ca_file.as_deref(),
                );
                problem(ui, &problems.ca_file);
            });
            ui.horizontal(|ui| {
                let testing = matches!(probe, ProbeStatus::Testing);
                if ui
                    .add_enabled(!testing, egui::Button::new("Test connection"))
                    .on_hover_text("Ask each gateway now, with the token and CA file above")
                    .clicked()
                {
                    commands.push(UiCommand::TestGateways);
                }
                if testing {
                    ui.spinner();
                    ui.label("Asking…");
                }
            });
            if let ProbeStatus::Answered(answers) = probe {
                for (endpoint, answer) in answers.iter() {
                    match answer {
                        Ok(report) => ui.label(
                            egui::RichText::new(format!(
                                "{endpoint}: answers, {} colleagues",
                                thousands(report.colleagues as usize)
                            ))
                            .color(chrome.live_dot),
                        ),
                        Err(why) => ui.label(
                            egui::RichText::new(format!("{endpoint}: {why}"))
                                .color(chrome.warning_text),
                        ),
                    };
                }
            }
            ui.separator();
            ui.heading("This console");
            ui.label("Operator name (shown in the title bar)");
            ui.add(
                egui::TextEdit::singleline(&mut draft.operator_name)
                    .desired_width(f32::INFINITY)
                    .hint_text("e.g. Reception, desk 2"),
            );
            problem(ui, &problems.operator_name);
            ui.horizontal(|ui| {
                ui.label("Theme");
                ui.radio_value(&mut draft.theme, ThemeChoice::Light, "Light");
                ui.radio_value(&mut draft.theme, ThemeChoice::Dark, "Dark");
                ui.radio_value(&mut draft.theme, ThemeChoice::System, "As the system");
            });
            ui.horizontal(|ui| {
                ui.label("Rows");
                ui.radio_value(&mut draft.density, Density::Comfortable, "Comfortable");
                ui.radio_value(&mut draft.density, Density::Compact, "Compact");
            });
            ui.checkbox(
                &mut draft.start_at_sign_in,
                "Start the panel when I sign in",
            );
            ui.separator();
            ui.horizontal(|ui| {
                if ui.button("Apply").clicked() {
                    commands.push(UiCommand::ApplySettings);
                }
                if ui.button("Close").clicked() {
                    commands.push(UiCommand::CloseSettings);
                }
                if problems.is_empty() {
                    ui.label(
                        egui::RichText::new("Applied at once; Escape closes.")
                            .color(chrome.muted_text),
                    );
                } else {
                    ui.label(
                        egui::RichText::new("Nothing was applied: see the messages above.")
                            .color(chrome.warning_text),
                    );
                }
            });
        });
    if !is_open {
        commands.push(UiCommand::CloseSettings);
    }
}

fn path_field(
    ui: &mut egui::Ui,
    label: &str,
    text: &mut String,
    administrators: Option<&std::path::Path>,
) {
    ui.label(label);
    let hint = administrators.map_or_else(
        || "Empty: none".to_owned(),
        |path| format!("Empty: {} (your administrator's)", path.display()),
    );
    ui.add(
        egui::TextEdit::singleline(text)
            .desired_width(f32::INFINITY)
            .hint_text(hint),
    );
}
