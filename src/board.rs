//! The receptionist's board: the colleagues she watches all day. Favourites (starred
//! colleagues, kept by UPN with the name they had when starred) and named groups, in the
//! order she gives them. A group is a list of favourites, or a rule (a department, an
//! office, a job title or a search query) whose members follow the directory.
//!
//! Pure data and edits: no egui, no files (see `board_store` for those).

use presence_domain::colleague::upn_key;
use presence_domain::text::{fold, single_line};
use serde::{Deserialize, Serialize};

/// Most favourites kept.
pub const MAX_FAVOURITES: usize = 2_000;
/// Most groups kept.
pub const MAX_GROUPS: usize = 100;
/// Longest group name, in characters.
pub const MAX_GROUP_NAME_CHARS: usize = 60;
/// Longest rule value, in characters.
pub const MAX_RULE_VALUE_CHARS: usize = 120;

/// A starred colleague.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Favourite {
    /// The UPN, normalised (see [`upn_key`]).
    pub upn: String,
    /// The display name when starred: shown if they leave the directory.
    #[serde(default)]
    pub name: String,
}

/// What a rule group matches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleField {
    Department,
    Office,
    JobTitle,
    /// Anything the search box finds.
    Query,
}

impl RuleField {
    pub const ALL: [RuleField; 4] = [
        RuleField::Department,
        RuleField::Office,
        RuleField::JobTitle,
        RuleField::Query,
    ];

    pub fn label(self) -> &'static str {
        match self {
            RuleField::Department => "Department is",
            RuleField::Office => "Office is",
            RuleField::JobTitle => "Job title is",
            RuleField::Query => "Search finds",
        }
    }
}

/// A group defined by a rule: its members follow the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRule {
    pub field: RuleField,
    pub value: String,
}

impl GroupRule {
    /// Whether a colleague's `department`, `office` and `job_title` match (a query rule
    /// is run by the search index instead). Case and accents do not matter.
    pub fn matches_fields(&self, department: &str, office: &str, job_title: &str) -> bool {
        let field = match self.field {
            RuleField::Department => department,
            RuleField::Office => office,
            RuleField::JobTitle => job_title,
            RuleField::Query => return false,
        };
        !field.is_empty() && fold(field.trim()) == fold(self.value.trim())
    }

    /// "Department is Sales".
    pub fn describe(&self) -> String {
        format!("{} “{}”", self.field.label(), self.value)
    }
}

/// A named group on the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardGroup {
    pub name: String,
    /// Members of a list group (normalised UPNs, each a favourite), in the order added.
    #[serde(default)]
    pub members: Vec<String>,
    /// Set for a rule group (which then has no `members`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<GroupRule>,
}

impl BoardGroup {
    pub fn is_rule(&self) -> bool {
        self.rule.is_some()
    }
}

/// Why an edit was refused, in words for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BoardError {
    #[error("A group needs a name.")]
    EmptyName,
    #[error("There is already a group called “{0}”.")]
    DuplicateName(String),
    #[error("The board holds at most {MAX_GROUPS} groups.")]
    TooManyGroups,
    #[error("The board holds at most {MAX_FAVOURITES} favourites.")]
    TooManyFavourites,
    #[error("A rule needs something to match.")]
    EmptyRule,
    #[error("“{0}” is a rule group: its members follow its rule.")]
    RuleGroup(String),
    #[error("No such group.")]
    NoSuchGroup,
}

/// Favourites and groups.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Board {
    pub favourites: Vec<Favourite>,
    pub groups: Vec<BoardGroup>,
    /// Bumped by every edit (not persisted).
    #[serde(skip)]
    revision: u64,
}

impl Board {
    /// Bumped by every edit: what was derived from the board is out of date.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    pub fn is_favourite(&self, upn: &str) -> bool {
        let key = upn_key(upn);
        self.favourites.iter().any(|f| f.upn == key)
    }

    /// The favourite's name as starred.
    pub fn favourite_name(&self, upn: &str) -> Option<&str> {
        let key = upn_key(upn);
        self.favourites
            .iter()
            .find(|f| f.upn == key)
            .map(|f| f.name.as_str())
    }

    /// Stars a colleague (kept by UPN, with their name for when they leave).
    pub fn star(&mut self, upn: &str, name: &str) -> Result<(), BoardError> {
        let key = upn_key(upn);
        if key.is_empty() || self.favourites.iter().any(|f| f.upn == key) {
            return Ok(());
        }
        if self.favourites.len() >= MAX_FAVOURITES {
            return Err(BoardError::TooManyFavourites);
        }
        self.favourites.push(Favourite {
            upn: key,
            name: single_line(name, 200),
        });
        self.revision += 1;
        Ok(())
    }

    /// Unstars a colleague, which takes them out of every list group too.
    pub fn unstar(&mut self, upn: &str) {
        let key = upn_key(upn);
        let before = self.favourites.len();
        self.favourites.retain(|f| f.upn != key);
        for group in &mut self.groups {
            group.members.retain(|m| *m != key);
        }
        if self.favourites.len() != before {
            self.revision += 1;
        }
    }

    /// Stars or unstars; returns whether the colleague is now a favourite.
    pub fn toggle_star(&mut self, upn: &str, name: &str) -> Result<bool, BoardError> {
        if self.is_favourite(upn) {
            self.unstar(upn);
            Ok(false)
        } else {
            self.star(upn, name)?;
            Ok(true)
        }
    }

    /// Checks a new name for group `except` (or a new group): trimmed, on one line, not
    /// empty, not another group's (case and accents ignored).
    fn checked_name(&self, name: &str, except: Option<usize>) -> Result<String, BoardError> {
        let name = single_line(name.trim(), MAX_GROUP_NAME_CHARS);
        let name = name.trim().to_owned();
        if name.is_empty() {
            return Err(BoardError::EmptyName);
        }
        let folded = fold(&name);
        let is_taken = self
            .groups
            .iter()
            .enumerate()
            .any(|(i, g)| Some(i) != except && fold(&g.name) == folded);
        if is_taken {
            return Err(BoardError::DuplicateName(name));
        }
        Ok(name)
    }

    /// Adds a list group at the end; returns its index.
    pub fn add_group(&mut self, name: &str) -> Result<usize, BoardError> {
        self.push_group(name, None)
    }

    /// Adds a rule group at the end; returns its index.
    pub fn add_rule_group(&mut self, name: &str, rule: GroupRule) -> Result<usize, BoardError> {
        let rule = checked_rule(rule)?;
        self.push_group(name, Some(rule))
    }

    fn push_group(&mut self, name: &str, rule: Option<GroupRule>) -> Result<usize, BoardError> {
        if self.groups.len() >= MAX_GROUPS {
            return Err(BoardError::TooManyGroups);
        }
        let name = self.checked_name(name, None)?;
        self.groups.push(BoardGroup {
            name,
            members: Vec::new(),
            rule,
        });
        self.revision += 1;
        Ok(self.groups.len() - 1)
    }

    pub fn rename_group(&mut self, index: usize, name: &str) -> Result<(), BoardError> {
        if index >= self.groups.len() {
            return Err(BoardError::NoSuchGroup);
        }
        let name = self.checked_name(name, Some(index))?;
        self.groups[index].name = name;
        self.revision += 1;
        Ok(())
    }

    /// Changes a rule group's rule.
    pub fn set_rule(&mut self, index: usize, rule: GroupRule) -> Result<(), BoardError> {
        let rule = checked_rule(rule)?;
        let group = self.groups.get_mut(index).ok_or(BoardError::NoSuchGroup)?;
        if group.rule.is_none() {
            return Err(BoardError::NoSuchGroup);
        }
        group.rule = Some(rule);
        self.revision += 1;
        Ok(())
    }

    /// Moves group `index` up (`delta` < 0) or down; returns its new index.
    pub fn move_group(&mut self, index: usize, delta: isize) -> usize {
        if index >= self.groups.len() {
            return index;
        }
        let last = self.groups.len() as isize - 1;
        let to = (index as isize).saturating_add(delta).clamp(0, last) as usize;
        if to != index {
            let group = self.groups.remove(index);
            self.groups.insert(to, group);
            self.revision += 1;
        }
        to
    }

    /// Deletes a group; its members stay favourites.
    pub fn delete_group(&mut self, index: usize) -> Option<BoardGroup> {
        (index < self.groups.len()).then(|| {
            self.revision += 1;
            self.groups.remove(index)
        })
    }

    /// Whether the colleague is a member of list group `index`.
    pub fn is_member(&self, index: usize, upn: &str) -> bool {
        let key = upn_key(upn);
        self.groups
            .get(index)
            .is_some_and(|g| g.members.contains(&key))
    }

    /// Puts a colleague into list group `index` (starring them) or takes them out.
    pub fn set_member(
        &mut self,
        index: usize,
        upn: &str,
        name: &str,
        is_member: bool,
    ) -> Result<(), BoardError> {
        let group = self.groups.get(index).ok_or(BoardError::NoSuchGroup)?;
        if group.is_rule() {
            return Err(BoardError::RuleGroup(group.name.clone()));
        }
        let key = upn_key(upn);
        if is_member {
            self.star(upn, name)?;
            let members = &mut self.groups[index].members;
            if !members.contains(&key) {
                members.push(key);
                self.revision += 1;
            }
        } else {
            let members = &mut self.groups[index].members;
            let before = members.len();
            members.retain(|m| *m != key);
            if members.len() != before {
                self.revision += 1;
            }
        }
        Ok(())
    }

    /// Favourites in no list group, in the order starred.
    pub fn ungrouped_favourites(&self) -> impl Iterator<Item = &Favourite> {
        self.favourites.iter().filter(|f| {
            !self
                .groups
                .iter()
                .any(|g| !g.is_rule() && g.members.contains(&f.upn))
        })
    }

    /// A board read from a file, repaired (see [`Board::repaired`]).
    pub fn from_saved(favourites: Vec<Favourite>, groups: Vec<BoardGroup>) -> (Self, Vec<String>) {
        Self {
            favourites,
            groups,
            revision: 0,
        }
        .repaired()
    }

    /// Repairs a board read from a file: UPNs normalised and unique, members of list
    /// groups starred, names on one line and unique, limits kept. Returns what was
    /// repaired, for a warning (empty when nothing was).
    pub fn repaired(mut self) -> (Self, Vec<String>) {
        let mut repairs = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let before = self.favourites.len();
        self.favourites = std::mem::take(&mut self.favourites)
            .into_iter()
            .filter_map(|f| {
                let upn = upn_key(&f.upn);
                (!upn.is_empty() && seen.insert(upn.clone())).then(|| Favourite {
                    upn,
                    name: single_line(&f.name, 200),
                })
            })
            .take(MAX_FAVOURITES)
            .collect();
        if self.favourites.len() != before {
            repairs.push(format!(
                "{} duplicate or empty favourites dropped",
                before - self.favourites.len()
            ));
        }
        let groups = std::mem::take(&mut self.groups);
        for (i, mut group) in groups.into_iter().enumerate() {
            if self.groups.len() >= MAX_GROUPS {
                repairs.push(format!("groups beyond {MAX_GROUPS} dropped"));
                break;
            }
            let name = match self.checked_name(&group.name, None) {
                Ok(name) => name,
                Err(_) => {
                    repairs.push(format!("group {} renamed", i + 1));
                    self.checked_name(&format!("{} ({})", group.name.trim(), i + 1), None)
                        .unwrap_or_else(|_| format!("Group {}", i + 1))
                }
            };
            group.name = name;
            if let Some(rule) = group.rule.take() {
                match checked_rule(rule) {
                    Ok(rule) => {
                        group.rule = Some(rule);
                        group.members.clear();
                    }
                    Err(_) => repairs.push(format!("the empty rule of “{}” dropped", group.name)),
                }
            }
            let mut members = Vec::new();
            for member in group.members {
                let key = upn_key(&member);
                if key.is_empty() || members.contains(&key) {
                    continue;
                }
                if !self.favourites.iter().any(|f| f.upn == key) {
                    if self.favourites.len() >= MAX_FAVOURITES {
                        continue;
                    }
                    self.favourites.push(Favourite {
                        upn: key.clone(),
                        name: String::new(),
                    });
                }
                members.push(key);
            }
            group.members = members;
            self.groups.push(group);
        }
        (self, repairs)
    }
}

fn checked_rule(rule: GroupRule) -> Result<GroupRule, BoardError> {
    let value = single_line(rule.value.trim(), MAX_RULE_VALUE_CHARS)
        .trim()
        .to_owned();
    if value.is_empty() {
        return Err(BoardError::EmptyRule);
    }
    Ok(GroupRule {
        field: rule.field,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_groups_and_the_order_the_operator_gives() {
        let mut board = Board::default();
        board
            .star("Anna.Rossi@contoso.com", "Anna Rossi")
            .expect("star");
        assert!(board.is_favourite("anna.rossi@CONTOSO.com"));
        let r = board.revision();
        board.star("anna.rossi@contoso.com", "Anna").expect("again");
        assert_eq!(board.favourites.len(), 1, "starred once");
        assert_eq!(board.revision(), r, "no edit, no new revision");

        let sales = board.add_group(" Sales desk ").expect("group");
        let it = board.add_group("IT on call").expect("group");
        assert_eq!(board.groups[sales].name, "Sales desk");
        assert_eq!(
            board.add_group("sales DESK"),
            Err(BoardError::DuplicateName("sales DESK".into()))
        );
        assert_eq!(board.add_group("   "), Err(BoardError::EmptyName));

        board
            .set_member(it, "marco.rossi@contoso.com", "Marco Rossi", true)
            .expect("member");
        assert!(
            board.is_favourite("marco.rossi@contoso.com"),
            "joining stars"
        );
        board
            .set_member(sales, "anna.rossi@contoso.com", "Anna Rossi", true)
            .expect("member");
        board
            .set_member(it, "anna.rossi@contoso.com", "Anna Rossi", true)
            .expect("a colleague may sit in several groups");
        assert!(board.is_member(sales, "anna.rossi@contoso.com"));
        assert!(board.is_member(it, "anna.rossi@contoso.com"));
        assert_eq!(board.ungrouped_favourites().count(), 0);

        assert_eq!(board.move_group(it, -1), 0);
        assert_eq!(board.groups[0].name, "IT on call");
        assert_eq!(board.move_group(0, -5), 0, "stays first");
        board.rename_group(0, "IT hotline").expect("rename");
        assert_eq!(
            board.rename_group(0, "Sales Desk"),
            Err(BoardError::DuplicateName("Sales Desk".into()))
        );
        board
            .rename_group(0, "it HOTLINE")
            .expect("its own name in other case");

        board.unstar("anna.rossi@contoso.com");
        assert!(
            !board
                .groups
                .iter()
                .any(|g| g.members.iter().any(|m| m.starts_with("anna")))
        );
        let deleted = board.delete_group(0).expect("deleted");
        assert_eq!(deleted.members, ["marco.rossi@contoso.com"]);
        assert!(
            board.is_favourite("marco.rossi@contoso.com"),
            "still a favourite"
        );
        assert_eq!(
            board
                .ungrouped_favourites()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>(),
            ["Marco Rossi"]
        );
    }

    #[test]
    fn rule_groups_match_fields_without_case_or_accents_and_take_no_members() {
        let mut board = Board::default();
        let rule = GroupRule {
            field: RuleField::Department,
            value: " Reception ".into(),
        };
        let i = board
            .add_rule_group("Front desk", rule)
            .expect("rule group");
        let rule = board.groups[i].rule.clone().expect("rule");
        assert_eq!(rule.value, "Reception");
        assert!(rule.matches_fields("RÉCEPTION", "", ""));
        assert!(!rule.matches_fields("Sales", "Reception", ""));
        assert_eq!(
            board.set_member(i, "a@x", "A", true),
            Err(BoardError::RuleGroup("Front desk".into()))
        );
        assert_eq!(
            board.add_rule_group(
                "Empty",
                GroupRule {
                    field: RuleField::Office,
                    value: "  ".into()
                }
            ),
            Err(BoardError::EmptyRule)
        );
    }

    #[test]
    fn a_board_from_a_file_is_repaired_not_refused() {
        let board = Board {
            favourites: vec![
                Favourite {
                    upn: "A@X".into(),
                    name: "A\nB".into(),
                },
                Favourite {
                    upn: "a@x".into(),
                    name: "dup".into(),
                },
            ],
            groups: vec![
                BoardGroup {
                    name: "Team".into(),
                    members: vec!["b@x".into(), "B@X".into()],
                    rule: None,
                },
                BoardGroup {
                    name: "team".into(),
                    members: vec![],
                    rule: None,
                },
            ],
            revision: 0,
        };
        let (board, repairs) = board.repaired();
        assert_eq!(
            board.favourites.len(),
            2,
            "a@x once, b@x starred: {board:?}"
        );
        assert_eq!(board.favourites[0].name, "A B");
        assert_eq!(board.groups[0].members, ["b@x"]);
        assert_ne!(fold(&board.groups[0].name), fold(&board.groups[1].name));
        assert!(!repairs.is_empty());
    }
}
