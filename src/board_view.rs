//! What the board shows: its sections (the favourites in no group first, then each
//! group in the operator's order), the tiles in each, resolved against the directory, and the
//! tile selected from the keyboard. Rule groups are evaluated here and follow the
//! directory as it changes. Pure view logic: no egui.

use std::time::{Duration, Instant};

use presence_domain::text::{fold, folded_chars, words};

use crate::board::{Board, GroupRule, RuleField};
use crate::directory_model::DirectoryModel;
use crate::directory_view::can_take_call;

/// Most tiles a rule group shows (the rest are counted, "and 1,234 more").
pub const MAX_RULE_TILES: usize = 300;
/// How often rule groups follow a directory that keeps changing.
pub const RULE_REFRESH_INTERVAL: Duration = Duration::from_secs(1);

/// One colleague on the board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardTile {
    /// The UPN, normalised.
    pub upn: String,
    /// The name to show when they are not in the directory.
    pub name: String,
    /// Their row in the directory; `None` when the directory does not (or not yet) hold
    /// them.
    pub row: Option<u32>,
}

/// One heading of the board and its tiles.
#[derive(Debug, Clone, PartialEq)]
pub struct BoardSection {
    pub title: String,
    /// The group's index in the board; `None` for the favourites in no group.
    pub group: Option<usize>,
    /// "Department is “Sales”" for a rule group.
    pub rule: Option<String>,
    pub tiles: Vec<BoardTile>,
    /// Rule matches beyond [`MAX_RULE_TILES`].
    pub hidden: usize,
}

/// Who in a section can take a call now ("Sales desk 3/7 available").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionCount {
    pub available: usize,
    /// Shown tiles whose status is not live.
    pub stale: usize,
    pub total: usize,
}

/// The board as shown, and the keyboard's place in it.
#[derive(Debug, Default)]
pub struct BoardView {
    pub sections: Vec<BoardSection>,
    /// The selected tile (section, tile): a colleague may be in several sections.
    pub selected: Option<(usize, usize)>,
    /// The board should bring the selection into view.
    pub scroll_to_selected: bool,
    /// The board and directory revisions everything was resolved from.
    resolved: Option<(u64, u64)>,
    /// The directory revision the tiles' rows were found in.
    rows_resolved_for: u64,
    rules_resolved_at: Option<Instant>,
    /// Whether the directory was complete when rules were last resolved.
    was_directory_complete: bool,
    scratch: Vec<u32>,
}

impl BoardView {
    /// Re-resolves the board when it or the directory changed; rule groups follow a
    /// changing directory at most every [`RULE_REFRESH_INTERVAL`].
    pub fn refresh(&mut self, board: &Board, model: &mut DirectoryModel, now: Instant) {
        let directory_revision = model.directory_revision();
        let Some((board_revision, resolved_directory)) = self.resolved else {
            self.resolve(board, model, now);
            return;
        };
        if board.revision() != board_revision {
            self.resolve(board, model, now);
            return;
        }
        if directory_revision == resolved_directory {
            return;
        }
        let has_rules = board.groups.iter().any(|g| g.is_rule());
        let is_rule_refresh_due = self
            .rules_resolved_at
            .is_none_or(|at| now.saturating_duration_since(at) >= RULE_REFRESH_INTERVAL);
        // The first complete directory is worth resolving at once.
        let has_completed = model.has_complete_directory() && !self.was_directory_complete;
        if has_rules && (is_rule_refresh_due || has_completed) {
            self.resolve(board, model, now);
        } else if self.rows_resolved_for != directory_revision {
            // Rows may have been renumbered or joined: tiles follow at once, rules a
            // little later.
            self.resolve_rows(model);
        }
    }

    fn resolve(&mut self, board: &Board, model: &mut DirectoryModel, now: Instant) {
        let selected_upn = self.selected_tile().map(|t| t.upn.clone());
        let selected_section = self.selected.map(|(s, _)| s);
        let names: std::collections::HashMap<&str, &str> = board
            .favourites
            .iter()
            .map(|f| (f.upn.as_str(), f.name.as_str()))
            .collect();
        let mut sections = Vec::with_capacity(board.groups.len() + 1);
        let ungrouped: Vec<BoardTile> = board
            .ungrouped_favourites()
            .map(|f| BoardTile {
                upn: f.upn.clone(),
                name: f.name.clone(),
                row: None,
            })
            .collect();
        if !ungrouped.is_empty() || board.groups.is_empty() {
            sections.push(BoardSection {
                title: "Favourites".to_owned(),
                group: None,
                rule: None,
                tiles: ungrouped,
                hidden: 0,
            });
        }
        for (index, group) in board.groups.iter().enumerate() {
            let (tiles, hidden) = match &group.rule {
                Some(rule) => self.rule_tiles(rule, model),
                None => (
                    group
                        .members
                        .iter()
                        .map(|upn| BoardTile {
                            upn: upn.clone(),
                            name: names
                                .get(upn.as_str())
                                .copied()
                                .unwrap_or_default()
                                .to_owned(),
                            row: None,
                        })
                        .collect(),
                    0,
                ),
            };
            sections.push(BoardSection {
                title: group.name.clone(),
                group: Some(index),
                rule: group.rule.as_ref().map(GroupRule::describe),
                tiles,
                hidden,
            });
        }
        self.sections = sections;
        self.resolve_rows(model);
        self.rules_resolved_at = Some(now);
        self.was_directory_complete = model.has_complete_directory();
        self.resolved = Some((board.revision(), model.directory_revision()));
        self.restore_selection(selected_section, selected_upn.as_deref());
    }

    /// Finds each tile's row by UPN (rows move when the directory compacts).
    fn resolve_rows(&mut self, model: &DirectoryModel) {
        for tile in self.sections.iter_mut().flat_map(|s| s.tiles.iter_mut()) {
            tile.row = model.row_key_of(&tile.upn);
        }
        self.rows_resolved_for = model.directory_revision();
    }

    /// The members of a rule group, by name, at most [`MAX_RULE_TILES`].
    fn rule_tiles(
        &mut self,
        rule: &GroupRule,
        model: &mut DirectoryModel,
    ) -> (Vec<BoardTile>, usize) {
        let mut keys = std::mem::take(&mut self.scratch);
        keys.clear();
        match rule.field {
            RuleField::Query => model.search(&rule.value, &mut keys),
            _ => {
                // The index finds a superset (every word of the value, in any field)
                // unless a word is one the index only matches in names.
                let folded = fold(rule.value.trim());
                let is_indexable = words(&folded)
                    .all(|w| w.len() > 1 || w.as_bytes()[0].is_ascii_digit())
                    && words(&folded).count() <= 8;
                if is_indexable {
                    model.search(&rule.value, &mut keys);
                } else {
                    keys.extend(model.row_keys());
                }
                keys.retain(|&key| {
                    model.row(key).is_some_and(|r| {
                        let c = r.colleague;
                        let field = match rule.field {
                            RuleField::Department => c.department(),
                            RuleField::Office => c.office(),
                            RuleField::JobTitle => c.job_title(),
                            RuleField::Query => "",
                        };
                        !field.is_empty() && folded_chars(field.trim()).eq(folded.chars())
                    })
                });
                let name = |key: u32| model.row(key).map(|r| r.colleague.display_name());
                keys.sort_by_cached_key(|&key| name(key).map(fold));
            }
        }
        let hidden = keys.len().saturating_sub(MAX_RULE_TILES);
        let tiles = keys
            .iter()
            .take(MAX_RULE_TILES)
            .filter_map(|&key| model.row(key).map(|r| (key, r)))
            .map(|(key, r)| BoardTile {
                upn: r.colleague.upn_key(),
                name: r.colleague.display_name().to_owned(),
                row: Some(key),
            })
            .collect();
        self.scratch = keys;
        (tiles, hidden)
    }

    /// Keeps the same colleague selected (in the same section if it still holds them).
    fn restore_selection(&mut self, section: Option<usize>, upn: Option<&str>) {
        let Some(upn) = upn else {
            self.selected = None;
            return;
        };
        let find_in = |s: &BoardSection| s.tiles.iter().position(|t| t.upn == upn);
        self.selected = section
            .and_then(|s| self.sections.get(s).and_then(find_in).map(|t| (s, t)))
            .or_else(|| {
                self.sections
                    .iter()
                    .enumerate()
                    .find_map(|(s, sec)| find_in(sec).map(|t| (s, t)))
            });
    }

    /// Every tile, in display order.
    pub fn tile_count(&self) -> usize {
        self.sections.iter().map(|s| s.tiles.len()).sum()
    }

    pub fn selected_tile(&self) -> Option<&BoardTile> {
        self.selected
            .and_then(|(s, t)| self.sections.get(s).and_then(|sec| sec.tiles.get(t)))
    }

    pub fn select(&mut self, section: usize, tile: usize) {
        if self
            .sections
            .get(section)
            .is_some_and(|s| tile < s.tiles.len())
        {
            self.selected = Some((section, tile));
        }
    }

    /// Moves the selection by `delta` tiles through the sections in order (clamped);
    /// the first move selects the first tile.
    pub fn move_selection(&mut self, delta: isize) {
        let flat: Vec<(usize, usize)> = self
            .sections
            .iter()
            .enumerate()
            .flat_map(|(s, sec)| (0..sec.tiles.len()).map(move |t| (s, t)))
            .collect();
        if flat.is_empty() {
            self.selected = None;
            return;
        }
        let next = match self
            .selected
            .and_then(|sel| flat.iter().position(|&p| p == sel))
        {
            None => 0,
            Some(at) => (at as isize)
                .saturating_add(delta)
                .clamp(0, flat.len() as isize - 1) as usize,
        };
        self.selected = Some(flat[next]);
        self.scroll_to_selected = true;
    }

    /// Of a section's colleagues: how many can take a call now, how many statuses are
    /// not live (dimmed), and how many there are.
    pub fn available_count(&self, section: &BoardSection, model: &DirectoryModel) -> SectionCount {
        let mut count = SectionCount {
            available: 0,
            stale: 0,
            total: section.tiles.len() + section.hidden,
        };
        for key in section.tiles.iter().filter_map(|t| t.row) {
            if can_take_call(model, key) {
                count.available += 1;
            } else if model
                .row(key)
                .and_then(|r| r.presence())
                .is_some_and(|p| model.is_stale(p.technology()))
            {
                count.stale += 1;
            }
        }
        count
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use presence_domain::Colleague;

    use super::*;
    use crate::connection::{DirectoryChange, PanelEvent};

    fn person(upn: &str, name: &str, department: &str) -> Colleague {
        Colleague {
            upn: upn.into(),
            display_name: name.into(),
            department: department.into(),
            ..Default::default()
        }
    }

    fn model() -> DirectoryModel {
        let mut model = DirectoryModel::new();
        model.apply(
            PanelEvent::DirectoryPage {
                colleagues: vec![
                    person("anna@x", "Anna Rossi", "Sales"),
                    person("bo@x", "Bo Berg", "Sales Support"),
                    person("cy@x", "Cy Chen", "R & D"),
                    person("di@x", "Di Diaz", "sales"),
                ],
                is_first: true,
                total: 0,
                is_last: true,
            },
            SystemTime::now(),
        );
        model
    }

    fn names(section: &BoardSection) -> Vec<&str> {
        section.tiles.iter().map(|t| t.name.as_str()).collect()
    }

    #[test]
    fn sections_follow_the_board_and_rules_follow_the_directory() {
        let mut model = model();
        let mut board = Board::default();
        board.star("zed@x", "Zed Gone").expect("star");
        let team = board.add_group("Team").expect("group");
        board
            .set_member(team, "bo@x", "Bo Berg", true)
            .expect("member");
        let rule = |field, value: &str| GroupRule {
            field,
            value: value.into(),
        };
        board
            .add_rule_group("Sales", rule(RuleField::Department, "SALES"))
            .expect("rule");
        board
            .add_rule_group("R&D", rule(RuleField::Department, "r & d"))
            .expect("rule");
        let mut view = BoardView::default();
        let now = Instant::now();
        view.refresh(&board, &mut model, now);
        let titles: Vec<&str> = view.sections.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(titles, ["Favourites", "Team", "Sales", "R&D"]);
        assert_eq!(
            names(&view.sections[2]),
            ["Anna Rossi", "Di Diaz"],
            "exact department only"
        );
        assert_eq!(
            names(&view.sections[3]),
            ["Cy Chen"],
            "one-letter words found too"
        );
        let gone = &view.sections[0].tiles[0];
        assert_eq!((gone.name.as_str(), gone.row), ("Zed Gone", None));

        // Bo moves to Sales: the rule follows (at the next rule refresh).
        model.apply(
            PanelEvent::DirectoryChanges(vec![DirectoryChange::Changed(person(
                "bo@x", "Bo Berg", "Sales",
            ))]),
            SystemTime::now(),
        );
        view.refresh(&board, &mut model, now);
        assert_eq!(
            names(&view.sections[2]),
            ["Anna Rossi", "Di Diaz"],
            "not yet"
        );
        view.refresh(&board, &mut model, now + RULE_REFRESH_INTERVAL);
        assert_eq!(
            names(&view.sections[2]),
            ["Anna Rossi", "Bo Berg", "Di Diaz"]
        );
    }

    #[test]
    fn the_keyboard_walks_the_tiles_and_keeps_the_colleague() {
        let mut model = model();
        let mut board = Board::default();
        let a = board.add_group("A").expect("group");
        let b = board.add_group("B").expect("group");
        board.set_member(a, "anna@x", "Anna", true).expect("m");
        board.set_member(b, "bo@x", "Bo", true).expect("m");
        board.set_member(b, "cy@x", "Cy", true).expect("m");
        let mut view = BoardView::default();
        view.refresh(&board, &mut model, Instant::now());
        view.move_selection(1);
        assert_eq!(view.selected, Some((0, 0)));
        view.move_selection(2);
        assert_eq!(view.selected_tile().map(|t| t.upn.as_str()), Some("cy@x"));
        view.move_selection(10);
        assert_eq!(view.selected, Some((1, 1)), "clamped at the last tile");
        board.move_group(b, -1);
        view.refresh(&board, &mut model, Instant::now());
        assert_eq!(
            view.selected,
            Some((0, 1)),
            "the same colleague after reordering"
        );
    }
}
