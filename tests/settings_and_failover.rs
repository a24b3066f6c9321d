//! The settings dialog and failover between gateways, in the real app (egui_kittest
//! Harness) against real gateways on 127.0.0.1: a wrong endpoint is refused with a
//! message, a right one is tested on the spot, applied live and saved; with two
//! gateways the panel moves to the second when the first stops, and back when it
//! returns.
// A test crate: an `expect` in a helper fails the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use presence_domain::{Availability, Technology};
use presence_panel::PanelApp;
use presence_panel::connection::PREFERRED_RETRY;
use presence_panel::machine_defaults::MachineDefaults;
use presence_panel::settings::PanelSettings;
use presence_panel::ui::settings_ui::ProbeStatus;
use support::*;

/// Steps the app until `done` holds, or fails after `limit`.
fn wait_long(
    harness: &mut Harness<'static, PanelApp>,
    what: &str,
    limit: Duration,
    done: impl Fn(&PanelApp) -> bool,
) {
    let started = Instant::now();
    while !done(harness.state()) {
        assert!(started.elapsed() < limit, "timed out waiting for: {what}");
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    harness.step();
}

/// A loopback URL where nothing listens.
fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

fn gateway_index(app: &PanelApp) -> Option<usize> {
    app.model.gateway().map(|g| g.index)
}

fn steps(harness: &mut Harness<'static, PanelApp>, count: usize) {
    for _ in 0..count {
        harness.step();
    }
}

fn type_in_focused_field(harness: &mut Harness<'static, PanelApp>, text: &str) {
    harness
        .input_mut()
        .events
        .push(egui::Event::Text(text.to_owned()));
    harness.step();
    harness.step();
}

#[test]
fn the_settings_dialog_checks_tests_and_applies_a_gateway_live() {
    let fixture = Fixture::new(company());
    let dir = tempfile::tempdir().expect("tempdir");
    let settings_path = dir.path().join("settings.toml");
    let dead = dead_url();
    let mut harness = fixture.harness_with_options(
        Harness::builder().with_size(egui::vec2(1100.0, 760.0)),
        PanelOptions {
            endpoints: Some(vec![dead.clone()]),
            settings_path: Some(settings_path.clone()),
            ..PanelOptions::default()
        },
    );
    wait_for(&mut harness, "the link fails against nothing", |app| {
        matches!(
            app.model.connection(),
            Some(presence_panel::connection::ConnectionState::Reconnecting { .. })
        )
    });
    harness.get_by_label_contains("Cannot reach the presence gateway");

    // Ctrl+, opens the dialog with the keyboard in the gateways field.
    harness.key_press_modifiers(Modifiers::CTRL, Key::Comma);
    steps(&mut harness, 4);
    harness.get_by_label_contains("Gateways, one a line");
    type_in_focused_field(&mut harness, "ucx01:50051");
    harness.get_by_label("Apply").click();
    harness.step();
    harness.step();
    harness.get_by_label_contains("ucx01:50051: it must start with http:// or https://");
    harness.get_by_label_contains("Nothing was applied");
    assert!(!settings_path.exists(), "nothing saved");

    // The right address: tested on the spot, with the dead one beside it.
    harness
        .state_mut()
        .widgets
        .settings
        .draft
        .as_mut()
        .expect("open")
        .endpoints
        .clear();
    harness
        .get_by_role(egui::accesskit::Role::MultilineTextInput)
        .focus();
    harness.step();
    type_in_focused_field(&mut harness, &format!("{}\n{dead}", fixture.url()));
    harness.get_by_label("Test connection").click();
    wait_for(&mut harness, "both gateways answered", |app| {
        matches!(app.widgets.settings.probe, ProbeStatus::Answered(_))
    });
    harness.get_by_label(&format!("{}: answers, 6 colleagues", fixture.url()));
    let ProbeStatus::Answered(answers) = &harness.state().widgets.settings.probe else {
        unreachable!("answered")
    };
    assert!(answers[0].1.is_ok(), "{answers:?}");
    let why = answers[1].1.clone().expect_err("nothing listens there");
    harness.get_by_label(&format!("{dead}: {why}"));

    harness.get_by_label("Apply").click();
    wait_for(&mut harness, "live on the new gateway", |app| {
        is_fully_live(app) && app.model.len() == 6
    });
    let app = harness.state();
    assert_eq!(
        app.settings.endpoints,
        vec![fixture.url(), dead.clone()],
        "applied"
    );
    assert_eq!(gateway_index(app), Some(0));
    let saved = PanelSettings::load(Some(&settings_path)).settings;
    assert_eq!(saved.endpoints, vec![fixture.url(), dead], "saved at once");
    harness.get_by_label_contains("Settings applied");

    // Escape closes it and gives the keyboard back to the search box.
    harness.key_press(Key::Escape);
    harness.step();
    harness.step();
    assert!(harness.state().widgets.settings.draft.is_none());
    type_query(&mut harness, "rossi");
    assert_eq!(visible_names(harness.state()).len(), 2);
}

#[test]
fn an_administrators_lock_keeps_the_gateway_fields_read_only() {
    let fixture = Fixture::new(company());
    let machine = MachineDefaults {
        endpoints: vec![fixture.url()],
        is_locked: true,
        origin: "HKEY_LOCAL_MACHINE\\SOFTWARE\\UCX\\Presence Panel".into(),
        ..MachineDefaults::default()
    };
    let mut harness = fixture.harness_with_options(
        Harness::builder().with_size(egui::vec2(1100.0, 760.0)),
        PanelOptions {
            machine,
            ..PanelOptions::default()
        },
    );
    wait_for(&mut harness, "live", is_fully_live);
    harness.get_by_label("Settings").click();
    steps(&mut harness, 4);
    harness.get_by_label_contains("Set by your administrator");
    harness
        .state_mut()
        .widgets
        .settings
        .draft
        .as_mut()
        .expect("open")
        .endpoints = "https://elsewhere:50051".into();
    harness.get_by_label("Apply").click();
    harness.step();
    let app = harness.state();
    assert!(
        app.settings.endpoints.is_empty(),
        "the locked field is not applied"
    );
    assert_eq!(
        app.model.gateway().map(|g| g.endpoint.clone()),
        Some(fixture.url())
    );
}

#[test]
fn the_panel_fails_over_to_the_second_gateway_and_back() {
    let mut preferred = Fixture::new(company());
    let backup = Fixture::new(company());
    // The two gateways tell the same company apart by one colleague.
    let anna = "anna.rossi@contoso.com";
    backup.hub.publish(
        Technology::MsTeams,
        vec![presence_domain::Presence {
            availability: Availability::Busy,
            ..presence_domain::Presence::unknown(anna)
        }],
    );
    let mut harness = preferred.harness_with_options(
        Harness::builder().with_size(egui::vec2(1100.0, 760.0)),
        PanelOptions {
            endpoints: Some(vec![preferred.url(), backup.url()]),
            ..PanelOptions::default()
        },
    );
    wait_for(&mut harness, "live on the preferred gateway", |app| {
        is_fully_live(app) && gateway_index(app) == Some(0)
    });
    assert_eq!(
        availability_of(harness.state(), anna),
        Some(Availability::Available)
    );
    harness.get_by_label_contains("(preferred of 2)");

    preferred.kill_gateway();
    wait_long(
        &mut harness,
        "live on the backup",
        Duration::from_secs(15),
        |app| is_fully_live(app) && gateway_index(app) == Some(1),
    );
    assert_eq!(
        availability_of(harness.state(), anna),
        Some(Availability::Busy),
        "the backup's view"
    );
    harness.get_by_label_contains("(backup 2 of 2)");

    preferred.restart_gateway();
    wait_long(
        &mut harness,
        "back on the preferred gateway",
        PREFERRED_RETRY * 2 + Duration::from_secs(10),
        |app| is_fully_live(app) && gateway_index(app) == Some(0),
    );
    assert_eq!(
        availability_of(harness.state(), anna),
        Some(Availability::Available)
    );
}
