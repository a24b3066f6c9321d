//! The real panel app in an egui_kittest Harness, against a real in-process gateway
//! over gRPC on 127.0.0.1.
// A test crate: an `expect` in a helper fails the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use presence_domain::{Availability, Colleague, Technology};
use presence_hub::DirectoryUpdate;
use support::*;

#[test]
fn the_list_fills_and_search_filters_with_accents_typos_and_words() {
    let fixture = Fixture::new(company());
    let mut harness = fixture.harness();
    wait_for(&mut harness, "live with 6 colleagues", |app| {
        is_fully_live(app) && app.view.results.len() == 6
    });
    harness.get_by_label_contains("Anna Rossi, Available, for 12 minutes");

    type_query(&mut harness, "jose");
    assert_eq!(visible_names(harness.state()), ["José García"]);
    assert!(
        harness
            .query_by_label_contains("José García, Available")
            .is_some()
    );
    assert!(
        harness.query_by_label_contains("Anna Rossi").is_none(),
        "filtered rows are not laid out"
    );

    harness.state_mut().widgets.search.query.clear();
    type_query(&mut harness, "lukasz");
    assert_eq!(visible_names(harness.state()), ["Łukasz Nowak"]);

    harness.state_mut().widgets.search.query.clear();
    type_query(&mut harness, "rossi sales");
    assert_eq!(visible_names(harness.state()), ["Anna Rossi"]);

    harness.state_mut().widgets.search.query.clear();
    type_query(&mut harness, "hnasen");
    assert_eq!(
        visible_names(harness.state()),
        ["Øyvind Hansen"],
        "a typo still finds him"
    );
    harness.get_by_label_contains("1 of 6 match");
}

#[test]
fn a_row_shows_the_number_to_transfer_to_and_an_extension_finds_it() {
    let fixture = Fixture::new(company());
    let mut harness = fixture.harness();
    wait_for(&mut harness, "live with 6 colleagues", |app| {
        is_fully_live(app) && app.view.results.len() == 6
    });
    // The business phone; else the mobile; else none.
    harness.get_by_label_contains("Anna Rossi, Available, for 12 minutes, phone +39 02 5550 1066");
    harness.get_by_label_contains("Marco Rossi, Available, for 12 minutes, phone +39 333 555 0101");
    harness.get_by_label_contains("José García, Available");
    assert!(
        harness
            .query_by_label_contains("José García, Available, for 12 minutes, phone")
            .is_none()
    );

    type_query(&mut harness, "1066");
    assert_eq!(visible_names(harness.state()), ["Anna Rossi"]);
}

#[test]
fn keyboard_moves_the_selection_enter_opens_escape_clears() {
    let fixture = Fixture::new(company());
    let mut harness = fixture.harness();
    wait_for(&mut harness, "live", |app| {
        is_fully_live(app) && app.view.results.len() == 6
    });
    type_query(&mut harness, "rossi");
    assert_eq!(
        harness.state().view.selected_index,
        Some(0),
        "a search selects its best match"
    );
    harness.key_press(egui::Key::ArrowDown);
    harness.step();
    assert_eq!(harness.state().view.selected_index, Some(1));
    harness.key_press(egui::Key::ArrowDown);
    harness.step();
    assert_eq!(
        harness.state().view.selected_index,
        Some(1),
        "stays on the last match"
    );
    harness.key_press(egui::Key::ArrowUp);
    harness.key_press(egui::Key::Enter);
    harness.step();
    harness.step();
    assert!(harness.state().view.is_details_open);
    harness.get_by_label("Details");
    harness.key_press(egui::Key::Escape);
    harness.step();
    assert!(
        !harness.state().view.is_details_open,
        "Escape closes the details first"
    );
    harness.key_press(egui::Key::Escape);
    harness.step();
    harness.step();
    assert!(
        harness.state().widgets.search.query.is_empty(),
        "then clears the search"
    );
    assert_eq!(harness.state().view.results.len(), 6);
    // Typing goes to the search box without clicking it.
    harness.get_by_role(egui::Role::TextInput).type_text("zo");
    harness.step();
    harness.step();
    assert_eq!(visible_names(harness.state()), ["Zoë Smith"]);
}

#[test]
fn a_presence_change_shows_up() {
    let fixture = Fixture::new(company());
    let mut harness = fixture.harness();
    wait_for(&mut harness, "live", |app| {
        is_fully_live(app) && app.view.results.len() == 6
    });
    fixture.hub.publish(
        Technology::MsTeams,
        vec![presence_domain::Presence {
            availability: Availability::Busy,
            activity: presence_domain::Activity::InACall,
            since: std::time::SystemTime::now(),
            ..presence_domain::Presence::unknown("anna.rossi@contoso.com")
        }],
    );
    wait_for(&mut harness, "Anna busy", |app| {
        app.model
            .row_key_of("anna.rossi@contoso.com")
            .and_then(|k| app.model.row(k))
            .and_then(|r| r.presence())
            .is_some_and(|p| p.availability() == Availability::Busy)
    });
    harness.get_by_label_contains("Anna Rossi, Busy, in a call, just now");
}

#[test]
fn killing_the_gateway_shows_stale_and_restarting_brings_it_back_live() {
    let mut fixture = Fixture::new(company());
    let mut harness = fixture.harness();
    wait_for(&mut harness, "live", |app| {
        is_fully_live(app) && app.view.results.len() == 6
    });
    assert!(harness.query_by_label_contains("Not live").is_none());

    fixture.kill_gateway();
    wait_for(&mut harness, "not live", |app| !app.model.is_live());
    harness.get_by_label_contains("Not live: the presence gateway cannot be reached");
    // Every row says it is not live, and none claims a time in state.
    harness.get_by_label_contains("Anna Rossi, Available, last known at");
    assert!(harness.query_by_label_contains("for 12 minutes").is_none());
    harness.get_by_label_contains("Reconnecting (attempt");

    fixture.hub.publish(
        Technology::MsTeams,
        vec![presence_domain::Presence {
            availability: Availability::Away,
            since: std::time::SystemTime::now(),
            ..presence_domain::Presence::unknown("jose.garcia@contoso.com")
        }],
    );
    fixture.restart_gateway();
    wait_for(&mut harness, "live again", is_fully_live);
    wait_for(&mut harness, "the change made while away arrives", |app| {
        app.model
            .row_key_of("jose.garcia@contoso.com")
            .and_then(|k| app.model.row(k))
            .and_then(|r| r.presence())
            .is_some_and(|p| p.availability() == Availability::Away)
    });
    assert!(harness.query_by_label_contains("Not live").is_none());
    harness.get_by_label_contains("Anna Rossi, Available, for 12 minutes");
}

#[test]
fn directory_changes_apply_live_and_hostile_text_renders_safely() {
    let fixture = Fixture::new(company());
    // No system fonts in the test harness: Hebrew is drawn as boxes here (the app falls
    // back to the system's fonts), which must not stop anything.
    let mut harness = fixture.harness_with(Harness::builder().allow_missing_glyphs());
    wait_for(&mut harness, "live", |app| {
        is_fully_live(app) && app.view.results.len() == 6
    });
    let hostile = Colleague {
        id: "x".into(),
        upn: "hostile@contoso.com".into(),
        display_name: format!("Ayşe \u{202E}שלום 😀\n\t{}", "long".repeat(1_250)),
        department: "Sales\u{0}\u{7}".into(),
        job_title: "x".repeat(5_000),
        ..Default::default()
    };
    fixture.hub.apply_directory(vec![
        DirectoryUpdate::Upsert(hostile),
        DirectoryUpdate::Remove {
            upn: "marco.rossi@contoso.com".into(),
        },
    ]);
    wait_for(&mut harness, "joiner in, leaver out", |app| {
        app.model.len() == 6
            && app.model.row_key_of("hostile@contoso.com").is_some()
            && app.model.row_key_of("marco.rossi@contoso.com").is_none()
    });
    assert!(
        visible_names(harness.state())
            .iter()
            .all(|n| n != "Marco Rossi")
    );
    let row = harness
        .state()
        .model
        .row(
            harness
                .state()
                .model
                .row_key_of("hostile@contoso.com")
                .expect("row"),
        )
        .expect("row");
    assert!(row.colleague.display_name().chars().count() <= 301);
    assert!(
        !row.colleague.display_name().contains('\n')
            && !row.colleague.display_name().contains('\u{202E}')
    );
    // It is found and drawn (one line, clipped) without trouble.
    type_query(&mut harness, "ayse");
    assert_eq!(harness.state().view.results.len(), 1);
    harness.get_by_label_contains("Ayşe שלום 😀 longlong");

    // Timestamps beyond any calendar (a hostile gateway) are not times: the row and
    // the details draw without a panic and claim no time in state.
    let far_future = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(i64::MAX as u64 / 2);
    fixture.hub.publish(
        Technology::MsTeams,
        vec![presence_domain::Presence {
            availability: Availability::Busy,
            since: far_future,
            status_message: Some(presence_domain::StatusMessage {
                text: "back soon".into(),
                expires_at: Some(far_future),
            }),
            ..presence_domain::Presence::unknown("hostile@contoso.com")
        }],
    );
    wait_for(&mut harness, "the far-future presence", |app| {
        app.model
            .row_key_of("hostile@contoso.com")
            .and_then(|key| app.model.row(key))
            .and_then(|row| row.presence().map(|p| p.availability()))
            == Some(Availability::Busy)
    });
    harness.key_press(egui::Key::Enter);
    harness.step();
    harness.step();
    assert!(harness.state().view.is_details_open);
    harness.get_by_label_contains("…, Busy");
    assert!(harness.query_by_label_contains(", for ").is_none());
}

#[test]
fn a_large_directory_loads_behind_a_progress_bar_then_searches_whole() {
    let hub = company();
    // 6,000 more colleagues: the first listing is built off the UI thread.
    let extra: Vec<Colleague> = (0..6_000)
        .map(|n| {
            let upn = format!("person{n:04}@contoso.com");
            Colleague {
                id: upn.clone(),
                upn: upn.clone(),
                mail: upn,
                display_name: format!("Person {n:04}"),
                department: "Field Service".into(),
                ..Default::default()
            }
        })
        .collect();
    hub.apply_directory(extra.into_iter().map(DirectoryUpdate::Upsert).collect());
    let fixture = Fixture::new(hub);
    let mut harness = fixture.harness();
    let mut has_shown_progress = false;
    let started = std::time::Instant::now();
    while !(is_fully_live(harness.state()) && harness.state().model.len() == 6_006) {
        harness.step();
        if harness.state().model.loading_progress().is_some() {
            has_shown_progress = true;
            assert!(
                harness.state().model.is_empty(),
                "nobody is shown half loaded"
            );
            let says_so = harness
                .query_all_by_label_contains("Loading the directory")
                .chain(harness.query_all_by_label_contains("searchable…"))
                .count();
            assert!(
                says_so >= 2,
                "the list and the status bar say it is loading"
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the load never ended"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        has_shown_progress,
        "a listing this large is built off the UI thread"
    );
    harness.step();
    harness.get_by_label_contains("6,006 colleagues");

    // Searchable whole, with the statuses of the snapshot that came after it.
    type_query(&mut harness, "person 5999");
    assert_eq!(visible_names(harness.state()), ["Person 5999"]);
    harness.state_mut().widgets.search.query.clear();
    type_query(&mut harness, "rossi sales");
    assert_eq!(visible_names(harness.state()), ["Anna Rossi"]);
    harness.get_by_label_contains("Anna Rossi, Available");
}
