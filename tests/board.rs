//! The receptionist's board in the real app (egui_kittest Harness) against a real
//! in-process gateway: favourites and groups by keyboard, the board file across a
//! restart and when damaged, rule groups following the directory, "notify me when
//! available", copying and deep links, the compact density and the keyboard map.
// A test crate: an `expect` in a helper fails the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::SystemTime;

use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use presence_domain::{Availability, Colleague, Presence, SourceState, Technology};
use presence_hub::DirectoryUpdate;
use presence_panel::PanelApp;
use presence_panel::board::{Board, GroupRule, RuleField};
use presence_panel::board_store::LoadedBoard;
use presence_panel::colleague_actions::RecordingLinkOpener;
use presence_panel::desktop_notifier::RecordingNotifier;
use presence_panel::settings::{Density, PanelSettings};
use support::*;

const CTRL_SHIFT: Modifiers = Modifiers {
    ctrl: true,
    shift: true,
    ..Modifiers::NONE
};

fn live(harness: &mut Harness<'static, PanelApp>) {
    wait_for(harness, "live with 6 colleagues", |app| {
        is_fully_live(app) && app.model.len() == 6
    });
}

/// Searches and leaves the best match selected.
fn select(harness: &mut Harness<'static, PanelApp>, query: &str) {
    harness.state_mut().widgets.search.query.clear();
    type_query(harness, query);
    assert!(
        harness.state().subject().is_some(),
        "{query} selects someone"
    );
}

fn press(harness: &mut Harness<'static, PanelApp>, modifiers: Modifiers, key: Key) {
    harness.key_press_modifiers(modifiers, key);
    harness.step();
    harness.step();
}

fn tile_names(app: &PanelApp, section: usize) -> Vec<String> {
    app.board_view.sections[section]
        .tiles
        .iter()
        .map(|t| {
            t.row
                .and_then(|k| app.model.row(k))
                .map_or_else(|| t.name.clone(), |r| r.colleague.display_name().to_owned())
        })
        .collect()
}

fn publish(fixture: &Fixture, upn: &str, availability: Availability) {
    fixture.hub.publish(
        Technology::MsTeams,
        vec![Presence {
            availability,
            since: SystemTime::now(),
            ..Presence::unknown(upn)
        }],
    );
}

#[test]
fn star_and_group_by_keyboard_alone() {
    let fixture = Fixture::new(company());
    let mut harness = fixture.harness();
    live(&mut harness);
    harness.get_by_label_contains("Nobody on the board yet");

    select(&mut harness, "anna");
    press(&mut harness, Modifiers::CTRL, Key::D);
    assert!(harness.state().board.is_favourite("anna.rossi@contoso.com"));
    harness.get_by_label_contains("Anna Rossi, Available, for 12 minutes, starred");
    assert_eq!(tile_names(harness.state(), 0), ["Anna Rossi"]);
    harness.get_by_label_contains("Favourites, 1/1 available");

    // A new group from the group manager: its name field has the keyboard.
    press(&mut harness, CTRL_SHIFT, Key::G);
    assert!(harness.state().view.is_group_manager_open);
    harness.event(egui::Event::Text("Sales desk".into()));
    harness.step();
    press(&mut harness, Modifiers::NONE, Key::Enter);
    assert_eq!(harness.state().board.groups.len(), 1);
    assert_eq!(harness.state().board.groups[0].name, "Sales desk");
    // The field keeps the keyboard for the next name.
    harness.event(egui::Event::Text("IT on call".into()));
    harness.step();
    press(&mut harness, Modifiers::NONE, Key::Enter);
    assert_eq!(harness.state().board.groups[1].name, "IT on call");
    press(&mut harness, Modifiers::NONE, Key::Escape);
    assert!(!harness.state().view.is_group_manager_open);
    // What is typed next lands in the search box at once.
    harness.event(egui::Event::Text("mar".into()));
    harness.step();
    harness.step();
    assert_eq!(
        harness.state().widgets.search.query,
        "annamar",
        "after \"anna\""
    );

    // Marco into the group: Ctrl+G, then 1.
    select(&mut harness, "marco");
    press(&mut harness, Modifiers::CTRL, Key::G);
    assert!(harness.state().view.is_group_picker_open);
    harness.get_by_label_contains("Groups of Marco Rossi");
    press(&mut harness, Modifiers::NONE, Key::Num1);
    assert!(
        harness
            .state()
            .board
            .is_member(0, "marco.rossi@contoso.com")
    );
    assert!(
        harness
            .state()
            .board
            .is_favourite("marco.rossi@contoso.com"),
        "joining a group stars"
    );
    press(&mut harness, Modifiers::NONE, Key::Escape);
    assert!(!harness.state().view.is_group_picker_open);
    harness.get_by_label_contains("Sales desk, 1/1 available");
    harness.get_by_label_contains("Favourites, 1/1 available");

    // Onto the board with Ctrl+B (Anna, first), down to Marco, Enter opens his details.
    press(&mut harness, Modifiers::CTRL, Key::B);
    let subject = harness.state().subject().expect("a tile is selected");
    assert_eq!(subject.upn, "anna.rossi@contoso.com");
    press(&mut harness, Modifiers::NONE, Key::ArrowDown);
    press(&mut harness, Modifiers::NONE, Key::Enter);
    let subject = harness.state().subject().expect("a tile is selected");
    assert_eq!(subject.upn, "marco.rossi@contoso.com");
    assert!(harness.state().view.is_details_open);
    harness.get_by_label("Unstar");
    // Unstar from the board: he leaves it, and his group.
    press(&mut harness, Modifiers::CTRL, Key::D);
    assert!(
        !harness
            .state()
            .board
            .is_favourite("marco.rossi@contoso.com")
    );
    assert!(
        !harness
            .state()
            .board
            .is_member(0, "marco.rossi@contoso.com")
    );
    harness.get_by_label_contains("Sales desk, 0/0 available");
}

#[test]
fn the_board_survives_a_restart_and_a_damaged_file_is_kept_aside() {
    let fixture = Fixture::new(company());
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("board.toml");
    let open = |path: &std::path::Path| {
        fixture.harness_with_options(
            Harness::builder().with_size(egui::vec2(1100.0, 700.0)),
            PanelOptions {
                board: LoadedBoard::load(Some(path), SystemTime::now()),
                ..PanelOptions::default()
            },
        )
    };
    {
        let mut harness = open(&path);
        live(&mut harness);
        select(&mut harness, "zoe");
        press(&mut harness, Modifiers::CTRL, Key::D);
        press(&mut harness, Modifiers::CTRL, Key::N);
        assert!(
            !harness.state().watches.is_watching("zoe.smith@contoso.com"),
            "Zoë is available now: nothing to wait for"
        );
        harness.get_by_label_contains("Zoë Smith is available now");
        publish(&fixture, "jose.garcia@contoso.com", Availability::Away);
        wait_for(&mut harness, "José away", |app| {
            availability_of(app, "jose.garcia@contoso.com") == Some(Availability::Away)
        });
        select(&mut harness, "jose");
        press(&mut harness, Modifiers::CTRL, Key::N);
        assert!(
            harness
                .state()
                .watches
                .is_watching("jose.garcia@contoso.com")
        );
        harness
            .state_mut()
            .board
            .add_group("IT on call")
            .expect("group");
        harness.step();
    }
    let text = std::fs::read_to_string(&path).expect("written when the app closed");
    assert!(
        text.contains("zoe.smith@contoso.com") && text.contains("IT on call"),
        "{text}"
    );

    let mut harness = open(&path);
    live(&mut harness);
    assert!(harness.state().board.is_favourite("zoe.smith@contoso.com"));
    assert_eq!(harness.state().board.groups[0].name, "IT on call");
    assert!(
        harness
            .state()
            .watches
            .is_watching("jose.garcia@contoso.com"),
        "the watch survives the restart"
    );
    assert_eq!(
        harness
            .get_all_by_label_contains("Zoë Smith, Available")
            .count(),
        2,
        "in the list and on the board"
    );
    drop(harness);

    std::fs::write(&path, "favourites = [ { upn = ").expect("damage");
    let mut harness = open(&path);
    live(&mut harness);
    harness.get_by_label_contains("The board file was damaged");
    assert!(harness.state().board.favourites.is_empty());
    let kept: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".damaged-"))
        .collect();
    assert_eq!(kept.len(), 1, "the damaged file is kept aside");
}

#[test]
fn a_rule_group_follows_the_directory_and_leavers_are_shown_not_dropped() {
    let fixture = Fixture::new(company());
    let mut board = Board::default();
    board
        .add_rule_group(
            "Front desk",
            GroupRule {
                field: RuleField::Department,
                value: "reception".into(),
            },
        )
        .expect("rule group");
    board
        .star("marco.rossi@contoso.com", "Marco Rossi")
        .expect("star");
    let mut harness = fixture.harness_with_options(
        Harness::builder().with_size(egui::vec2(1100.0, 700.0)),
        PanelOptions {
            board: LoadedBoard {
                board,
                ..LoadedBoard::unsaved()
            },
            ..PanelOptions::default()
        },
    );
    live(&mut harness);
    wait_for(&mut harness, "the rule group filled", |app| {
        app.board_view.sections[1].tiles.len() == 1
    });
    assert_eq!(tile_names(harness.state(), 1), ["Zoë Smith"]);

    let mut anna = Colleague {
        id: "anna".into(),
        upn: "anna.rossi@contoso.com".into(),
        mail: "anna.rossi@contoso.com".into(),
        display_name: "Anna Rossi".into(),
        department: "Reception".into(),
        ..Default::default()
    };
    anna.given_name = "Anna".into();
    fixture.hub.apply_directory(vec![
        DirectoryUpdate::Upsert(anna),
        DirectoryUpdate::Remove {
            upn: "marco.rossi@contoso.com".into(),
        },
    ]);
    wait_for(&mut harness, "Anna joins the rule group", |app| {
        app.board_view.sections[1].tiles.len() == 2
    });
    assert_eq!(tile_names(harness.state(), 1), ["Anna Rossi", "Zoë Smith"]);
    harness.get_by_label_contains("Front desk, 2/2 available");
    // Marco left the directory: still on the board, greyed, said in words.
    harness.get_by_label_contains("Marco Rossi, no longer in the directory");
    assert!(
        harness
            .state()
            .board
            .is_favourite("marco.rossi@contoso.com")
    );
}

#[test]
fn a_notification_fires_once_when_available_and_never_while_stale() {
    let fixture = Fixture::new(company());
    let notifier = Arc::new(RecordingNotifier::default());
    let mut harness = fixture.harness_with_options(
        Harness::builder().with_size(egui::vec2(1100.0, 700.0)),
        PanelOptions {
            notifier: notifier.clone(),
            ..PanelOptions::default()
        },
    );
    live(&mut harness);
    publish(&fixture, "anna.rossi@contoso.com", Availability::Busy);
    wait_for(&mut harness, "Anna busy", |app| {
        availability_of(app, "anna.rossi@contoso.com") == Some(Availability::Busy)
    });
    select(&mut harness, "anna");
    press(&mut harness, Modifiers::CTRL, Key::D);
    press(&mut harness, Modifiers::CTRL, Key::N);
    assert!(
        harness
            .state()
            .watches
            .is_watching("anna.rossi@contoso.com")
    );
    harness.get_by_label_contains("Notify when available (1)");

    // Teams goes stale, then Anna turns Available: a stale status never fires.
    fixture
        .hub
        .set_source_health(Technology::MsTeams, SourceState::Stale, "Graph unreachable");
    wait_for(&mut harness, "Teams stale", |app| {
        app.model.is_stale(Technology::MsTeams)
    });
    publish(&fixture, "anna.rossi@contoso.com", Availability::Available);
    wait_for(&mut harness, "Anna available but stale", |app| {
        availability_of(app, "anna.rossi@contoso.com") == Some(Availability::Available)
    });
    for _ in 0..20 {
        harness.step();
    }
    assert!(
        harness.state().notices.is_empty(),
        "nothing fires while stale"
    );
    assert_eq!(
        harness
            .get_all_by_label_contains("Anna Rossi, Available, last known at")
            .count(),
        2,
        "dimmed as stale in the list and on the board"
    );
    harness.get_by_label_contains("Favourites, 0/1 available · 1 not live");
    assert!(notifier.shown().is_empty());

    // Live again: it fires, once, in the window and on the desktop.
    fixture
        .hub
        .set_source_health(Technology::MsTeams, SourceState::Live, "");
    wait_for(&mut harness, "the notification", |app| {
        !app.notices.is_empty()
    });
    harness.get_by_label("Anna Rossi is available");
    assert_eq!(notifier.shown().len(), 1);
    assert!(
        !harness
            .state()
            .watches
            .is_watching("anna.rossi@contoso.com")
    );
    publish(&fixture, "anna.rossi@contoso.com", Availability::Busy);
    wait_for(&mut harness, "Anna busy again", |app| {
        availability_of(app, "anna.rossi@contoso.com") == Some(Availability::Busy)
    });
    publish(&fixture, "anna.rossi@contoso.com", Availability::Available);
    wait_for(&mut harness, "Anna available again", |app| {
        availability_of(app, "anna.rossi@contoso.com") == Some(Availability::Available)
    });
    for _ in 0..10 {
        harness.step();
    }
    assert_eq!(harness.state().notices.len(), 1, "exactly once");
    assert_eq!(notifier.shown().len(), 1);

    // A lost link: a watch set on an Available-but-stale colleague waits for the link.
    select(&mut harness, "marco");
    let mut fixture = fixture;
    fixture.kill_gateway();
    wait_for(&mut harness, "not live", |app| !app.model.is_live());
    press(&mut harness, Modifiers::CTRL, Key::N);
    assert!(
        harness
            .state()
            .watches
            .is_watching("marco.rossi@contoso.com")
    );
    for _ in 0..20 {
        harness.step();
    }
    assert_eq!(
        harness.state().notices.len(),
        1,
        "no notification while not live"
    );
    fixture.restart_gateway();
    wait_for(&mut harness, "Marco's notification once live", |app| {
        app.notices.len() == 2
    });
    harness.get_by_label("Marco Rossi is available");
    let dismiss = harness.get_all_by_label("Dismiss").count();
    assert_eq!(dismiss, 2);
    harness
        .get_all_by_label("Dismiss")
        .next()
        .expect("button")
        .click();
    harness.step();
    harness.step();
    assert_eq!(harness.state().notices.len(), 1);
}

#[test]
fn copy_and_deep_links_by_keyboard() {
    let fixture = Fixture::new(company());
    fixture
        .hub
        .apply_directory(vec![DirectoryUpdate::Upsert(Colleague {
            id: "anna".into(),
            upn: "anna.rossi@contoso.com".into(),
            mail: "a.rossi@contoso.com".into(),
            display_name: "Anna Rossi".into(),
            given_name: "Anna".into(),
            surname: "Rossi".into(),
            department: "Sales".into(),
            business_phones: vec!["+39 02 1234 5678".into()],
            ..Default::default()
        })]);
    let opener = Arc::new(RecordingLinkOpener::default());
    let mut harness = fixture.harness_with_options(
        Harness::builder().with_size(egui::vec2(1100.0, 700.0)),
        PanelOptions {
            link_opener: opener.clone(),
            ..PanelOptions::default()
        },
    );
    live(&mut harness);
    select(&mut harness, "anna rossi");
    // One pass with the key in it, so its output is the one egui reports.
    let copied = |harness: &mut Harness<'static, PanelApp>, key: Key| {
        harness.input_mut().events.extend([
            egui::Event::ModifiersChanged(CTRL_SHIFT),
            egui::Event::Key {
                key,
                physical_key: None,
                pressed: true,
                repeat: false,
                modifiers: CTRL_SHIFT,
            },
            egui::Event::ModifiersChanged(Modifiers::NONE),
        ]);
        harness.step();
        harness
            .output()
            .platform_output
            .commands
            .iter()
            .find_map(|c| match c {
                egui::OutputCommand::CopyText(text) => Some(text.clone()),
                _ => None,
            })
    };
    assert_eq!(
        copied(&mut harness, Key::C).as_deref(),
        Some("anna.rossi@contoso.com")
    );
    assert_eq!(
        copied(&mut harness, Key::M).as_deref(),
        Some("a.rossi@contoso.com")
    );
    assert_eq!(
        copied(&mut harness, Key::P).as_deref(),
        Some("+39 02 1234 5678")
    );
    harness.step();
    harness.get_by_label_contains("Copied +39 02 1234 5678");

    press(&mut harness, Modifiers::CTRL, Key::T);
    press(&mut harness, CTRL_SHIFT, Key::T);
    press(&mut harness, CTRL_SHIFT, Key::D);
    assert_eq!(
        opener.opened(),
        [
            "https://teams.microsoft.com/l/chat/0/0?users=anna.rossi@contoso.com",
            "https://teams.microsoft.com/l/call/0/0?users=anna.rossi@contoso.com",
            "tel:+390212345678",
        ]
    );
    // The same from the details pane's buttons.
    press(&mut harness, Modifiers::NONE, Key::Enter);
    harness.get_by_label("Chat in Teams").click();
    harness.step();
    harness.step();
    assert_eq!(opener.opened().len(), 4);
    // Someone without a phone: nothing is dialled, and the button says why.
    select(&mut harness, "zoe");
    press(&mut harness, CTRL_SHIFT, Key::D);
    assert_eq!(opener.opened().len(), 4);
    harness.get_by_label_contains("No phone number to dial for Zoë Smith");
}

#[test]
fn compact_rows_fit_over_40_colleagues_on_a_1080p_screen_and_f1_shows_the_keys() {
    let hub = presence_test_support::hub_with(0, presence_domain::WinningTechnology::MsTeams);
    let people: Vec<Colleague> = (0..120)
        .map(|i| Colleague {
            id: format!("p{i}"),
            upn: format!("person{i:03}@contoso.com"),
            display_name: format!("Person {i:03}"),
            ..Default::default()
        })
        .collect();
    hub.apply_directory(people.into_iter().map(DirectoryUpdate::Upsert).collect());
    let fixture = Fixture::new(hub);
    // A maximised window on a 1920 x 1080 screen, less the title bar and the taskbar.
    let mut harness = fixture.harness_with_options(
        Harness::builder().with_size(egui::vec2(1920.0, 1010.0)),
        PanelOptions {
            settings: PanelSettings {
                density: Density::Compact,
                ..PanelSettings::default()
            },
            ..PanelOptions::default()
        },
    );
    wait_for(&mut harness, "120 colleagues", |app| {
        app.view.results.len() == 120
    });
    let rows = harness.get_all_by_label_contains("Person ").count();
    assert!(rows >= 40, "{rows} rows on screen");

    press(&mut harness, CTRL_SHIFT, Key::O);
    assert_eq!(harness.state().settings.density, Density::Comfortable);
    let comfortable = harness.get_all_by_label_contains("Person ").count();
    assert!(comfortable < rows, "{comfortable} comfortable rows");

    press(&mut harness, Modifiers::NONE, Key::F1);
    harness.get_by_label("Keyboard map");
    harness.get_by_label("Ctrl+Shift+D");
    press(&mut harness, Modifiers::NONE, Key::Escape);
    assert!(harness.query_by_label("Keyboard map").is_none());
}
