//! Every keyboard shortcut of the panel, in one table: the F1 window shows it and the
//! README lists it (a test keeps the two equal; `app.rs` handles the keys, the board
//! tests press them).

/// One shortcut: the keys as written for people, and what they do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shortcut {
    pub keys: &'static str,
    pub action: &'static str,
}

/// A titled part of the map.
pub struct ShortcutGroup {
    pub title: &'static str,
    pub shortcuts: &'static [Shortcut],
}

const fn s(keys: &'static str, action: &'static str) -> Shortcut {
    Shortcut { keys, action }
}

/// The keyboard map.
pub const KEYBOARD_MAP: &[ShortcutGroup] = &[
    ShortcutGroup {
        title: "Find",
        shortcuts: &[
            s(
                "Type anywhere",
                "Search by name, UPN, department, title or phone",
            ),
            s(
                "Up / Down, Page Up / Page Down",
                "Move through the list (or the board)",
            ),
            s("Ctrl+Home / Ctrl+End", "First / last colleague"),
            s("Enter", "Open the details"),
            s(
                "Escape",
                "Close a window, then the details, then clear the search",
            ),
            s("Ctrl+B", "Move between the list and the board"),
        ],
    },
    ShortcutGroup {
        title: "The board",
        shortcuts: &[
            s(
                "Ctrl+D",
                "Star or unstar the colleague (put them on the board)",
            ),
            s("Ctrl+G", "Put the colleague in groups (1-9 toggle a group)"),
            s(
                "Ctrl+Shift+G",
                "Manage groups: new, rename, reorder, delete, rules",
            ),
            s(
                "Ctrl+N",
                "Notify me when the colleague is available (again: cancel)",
            ),
            s("Ctrl+Shift+B", "Show or hide the board"),
        ],
    },
    ShortcutGroup {
        title: "Reach the colleague",
        shortcuts: &[
            s("Ctrl+T", "Chat in Teams"),
            s("Ctrl+Shift+T", "Call in Teams"),
            s(
                "Ctrl+Shift+D",
                "Dial their phone (your softphone, through tel:)",
            ),
            s("Ctrl+Shift+C", "Copy their UPN"),
            s("Ctrl+Shift+M", "Copy their mail address"),
            s("Ctrl+Shift+P", "Copy their phone number"),
        ],
    },
    ShortcutGroup {
        title: "View",
        shortcuts: &[
            s("Ctrl+Shift+O", "Compact or comfortable rows"),
            s(
                "Ctrl+Plus / Ctrl+Minus / Ctrl+0",
                "Larger, smaller, normal text",
            ),
            s("Ctrl+,", "Settings: gateways, token, operator name, theme"),
            s("F1", "This keyboard map"),
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_lists_the_same_map() {
        let readme = include_str!("../README.md");
        for shortcut in KEYBOARD_MAP.iter().flat_map(|g| g.shortcuts) {
            let row = format!("| {} | {} |", shortcut.keys, shortcut.action);
            assert!(readme.contains(&row), "README lacks: {row}");
        }
    }
}
