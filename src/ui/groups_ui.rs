//! The board's groups: the group manager (Ctrl+Shift+G: new list and rule groups,
//! rename, reorder, delete) and the group picker (Ctrl+G: which groups the colleague in
//! hand sits in; 1-9 toggle a group, a new group can be made on the spot). Every
//! control is a plain egui widget: Tab moves, Space and Enter act.

use super::{PanelView, UiCommand};
use crate::board::{GroupRule, RuleField};
use crate::theme::chrome_colors;

/// The group windows' own fields.
#[derive(Debug)]
pub struct GroupEditor {
    /// The name typed for a new group.
    pub new_name: String,
    /// The new rule group's field and value.
    pub rule_field: RuleField,
    pub rule_value: String,
    /// The group being renamed, and the text typed.
    pub renaming: Option<(usize, String)>,
    /// The group whose deletion waits for confirmation.
    pub confirm_delete: Option<usize>,
    /// Focus the first field when a window opens.
    pub wants_focus: bool,
}

impl Default for GroupEditor {
    fn default() -> Self {
        Self {
            new_name: String::new(),
            rule_field: RuleField::Department,
            rule_value: String::new(),
            renaming: None,
            confirm_delete: None,
            wants_focus: true,
        }
    }
}

/// The id of the group manager's name field (tests focus it).
pub fn new_group_name_id() -> egui::Id {
    egui::Id::unique("new_group_name")
}

pub fn group_manager_window(
    ctx: &egui::Context,
    panel: &PanelView<'_>,
    editor: &mut GroupEditor,
    commands: &mut Vec<UiCommand>,
) {
    let mut is_open = true;
    egui::Window::new("Groups")
        .open(&mut is_open)
        .collapsible(false)
        .pivot(egui::Align2::CENTER_TOP)
        .default_pos(ctx.content_rect().center_top() + egui::vec2(0.0, 80.0))
        .min_width(500.0)
        .show(ctx, |ui| {
            let chrome = chrome_colors(ui.visuals().dark_mode);
            let board = panel.board.board;
            if let Some(error) = panel.board.error {
                ui.label(egui::RichText::new(error).color(chrome.warning_text));
            }
            if board.groups.is_empty() {
                ui.label("No groups yet. Name one below: “Management”, “Sales desk”, “IT on call”.");
            }
            let last = board.groups.len().saturating_sub(1);
            for (index, group) in board.groups.iter().enumerate() {
                ui.horizontal(|ui| {
                    match &mut editor.renaming {
                        Some((renamed, text)) if *renamed == index => {
                            let response = ui.add(
                                egui::TextEdit::singleline(text)
                                    .desired_width(180.0)
                                    .id(egui::Id::unique(("rename_group", index))),
                            );
                            if editor.wants_focus {
                                response.request_focus();
                                editor.wants_focus = false;
                            }
                            let is_entered = response.lost_focus()
                                && ui.input(|i| i.key_pressed(egui::Key::Enter));
                            if ui.button("Save").clicked() || is_entered {
                                commands.push(UiCommand::RenameGroup {
                                    group: index,
                                    name: text.clone(),
                                });
                                editor.renaming = None;
                            }
                        }
                        _ => {
                            ui.label(egui::RichText::new(&group.name).strong());
                            let kind = match &group.rule {
                                Some(rule) => rule.describe(),
                                None => match group.members.len() {
                                    1 => "1 colleague".to_owned(),
                                    n => format!("{n} colleagues"),
                                },
                            };
                            ui.label(egui::RichText::new(kind).color(chrome.muted_text).small());
                        }
                    }
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        if editor.confirm_delete == Some(index) {
                            if ui.button("Keep").clicked() {
                                editor.confirm_delete = None;
                            }
                            if ui
                                .button(egui::RichText::new("Delete").color(chrome.error_dot))
                                .on_hover_text("Its colleagues stay starred")
                                .clicked()
                            {
                                commands.push(UiCommand::DeleteGroup(index));
                                editor.confirm_delete = None;
                            }
                        } else if ui
                            .button("Delete…")
                            .on_hover_text(format!("Delete the group “{}”", group.name))
                            .clicked()
                        {
                            editor.confirm_delete = Some(index);
                        }
                        if ui
                            .add_enabled(index < last, egui::Button::new("Down"))
                            .on_hover_text(format!("Move “{}” down", group.name))
                            .clicked()
                        {
                            commands.push(UiCommand::MoveGroup {
                                group: index,
                                delta: 1,
                            });
                        }
                        if ui
                            .add_enabled(index > 0, egui::Button::new("Up"))
                            .on_hover_text(format!("Move “{}” up", group.name))
                            .clicked()
                        {
                            commands.push(UiCommand::MoveGroup {
                                group: index,
                                delta: -1,
                            });
                        }
                        if ui
                            .button("Rename")
                            .on_hover_text(format!("Rename “{}”", group.name))
                            .clicked()
                        {
                            editor.renaming = Some((index, group.name.clone()));
                            editor.wants_focus = true;
                        }
                    });
                });
            }
            ui.separator();
            ui.label(egui::RichText::new("New group").strong());
            ui.horizontal(|ui| {
                ui.label("Name");
                let response = ui.add(
                    egui::TextEdit::singleline(&mut editor.new_name)
                        .id(new_group_name_id())
                        .hint_text("Sales desk")
                        .desired_width(200.0),
                );
                if editor.wants_focus && editor.renaming.is_none() {
                    response.request_focus();
                    editor.wants_focus = false;
                }
                let is_entered =
                    response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                if ui
                    .button("Add group")
                    .on_hover_text("A group you fill yourself (Ctrl+G on a colleague)")
                    .clicked()
                    || is_entered
                {
                    commands.push(UiCommand::AddGroup(editor.new_name.clone()));
                    editor.new_name.clear();
                    // Ready for the next name.
                    editor.wants_focus = is_entered;
                }
            });
            ui.horizontal(|ui| {
                egui::ComboBox::from_id_salt("rule_field")
                    .selected_text(editor.rule_field.label())
                    .show_ui(ui, |ui| {
                        for field in RuleField::ALL {
                            ui.selectable_value(&mut editor.rule_field, field, field.label());
                        }
                    });
                ui.add(
                    egui::TextEdit::singleline(&mut editor.rule_value)
                        .id(egui::Id::unique("rule_value"))
                        .hint_text("Sales")
                        .desired_width(140.0),
                );
                if ui
                    .button("Add rule group")
                    .on_hover_text("A group whose members follow the directory")
                    .clicked()
                {
                    let name = if editor.new_name.trim().is_empty() {
                        editor.rule_value.clone()
                    } else {
                        editor.new_name.clone()
                    };
                    commands.push(UiCommand::AddRuleGroup {
                        name,
                        rule: GroupRule {
                            field: editor.rule_field,
                            value: editor.rule_value.clone(),
                        },
                    });
                    editor.new_name.clear();
                    editor.rule_value.clear();
                }
            });
            ui.add(
                egui::Label::new(
                    egui::RichText::new(
                        "A rule group holds everyone whose department, office or job title is the value given, or whom the search finds; it follows the directory.",
                    )
                    .color(chrome.muted_text)
                    .small(),
                )
                .wrap(),
            );
        });
    if !is_open {
        commands.push(UiCommand::ToggleGroupManager);
    }
}

pub fn group_picker_window(
    ctx: &egui::Context,
    panel: &PanelView<'_>,
    editor: &mut GroupEditor,
    commands: &mut Vec<UiCommand>,
) {
    let Some(subject) = panel.subject else {
        commands.push(UiCommand::CloseGroupPicker);
        return;
    };
    let mut is_open = true;
    egui::Window::new(format!("Groups of {}", subject.name))
        .id(egui::Id::unique("group_picker"))
        .pivot(egui::Align2::CENTER_TOP)
        .default_pos(ctx.content_rect().center_top() + egui::vec2(0.0, 80.0))
        .open(&mut is_open)
        .collapsible(false)
        .resizable(false)
        .show(ctx, |ui| {
            let chrome = chrome_colors(ui.visuals().dark_mode);
            let board = panel.board.board;
            if let Some(error) = panel.board.error {
                ui.label(egui::RichText::new(error).color(chrome.warning_text));
            }
            let mut first = None;
            let mut number = 0;
            for (index, group) in board.groups.iter().enumerate() {
                if group.is_rule() {
                    continue;
                }
                number += 1;
                let mut is_member = board.is_member(index, &subject.upn);
                let label = if number <= 9 {
                    format!("{number}  {}", group.name)
                } else {
                    group.name.clone()
                };
                let response = ui.checkbox(&mut is_member, label);
                first.get_or_insert(response.id);
                if response.changed() {
                    commands.push(UiCommand::SetGroupMember {
                        group: index,
                        upn: subject.upn.clone(),
                        name: subject.name.clone(),
                        is_member,
                    });
                }
            }
            if number == 0 {
                ui.label("No groups yet: name one here.");
            }
            ui.horizontal(|ui| {
                let response = ui.add(
                    egui::TextEdit::singleline(&mut editor.new_name)
                        .id(egui::Id::unique("picker_new_group"))
                        .hint_text("New group")
                        .desired_width(160.0),
                );
                if first.is_none() && editor.wants_focus {
                    response.request_focus();
                    editor.wants_focus = false;
                }
                let is_entered =
                    response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                if (ui.button("Add").clicked() || is_entered) && !editor.new_name.trim().is_empty()
                {
                    commands.push(UiCommand::AddGroup(editor.new_name.clone()));
                    commands.push(UiCommand::SetGroupMember {
                        group: board.groups.len(),
                        upn: subject.upn.clone(),
                        name: subject.name.clone(),
                        is_member: true,
                    });
                    editor.new_name.clear();
                }
            });
            if let Some(id) = first
                && editor.wants_focus
            {
                ui.memory_mut(|m| m.request_focus(id));
                editor.wants_focus = false;
            }
            ui.label(
                egui::RichText::new("1-9 toggle a group · Tab moves · Space ticks · Escape closes")
                    .color(chrome.muted_text)
                    .small(),
            );
        });
    if !is_open {
        commands.push(UiCommand::CloseGroupPicker);
    }
}
