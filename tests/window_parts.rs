//! Parts of the window drawn on their own in an egui_kittest `Harness`, from a model and a
//! view: no connection, no tokio runtime. What they ask for comes back as commands.
// A test crate: an `expect` in a helper fails the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Instant, SystemTime};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use presence_domain::{Availability, Colleague, Presence, SourceHealth, SourceState, Technology};
use presence_panel::availability_watches::AvailabilityWatches;
use presence_panel::board::Board;
use presence_panel::board_view::BoardView;
use presence_panel::connection::{ConnectionState, PanelEvent};
use presence_panel::directory_model::DirectoryModel;
use presence_panel::directory_view::DirectoryView;
use presence_panel::settings::PanelSettings;
use presence_panel::ui::directory_list_ui::{ListState, directory_list_ui};
use presence_panel::ui::status_bar_ui::banner_text;
use presence_panel::ui::{BoardParts, FocusArea, PanelView, UiCommand};

/// Two colleagues, live, one Available and one Busy.
fn live_model() -> DirectoryModel {
    let now = SystemTime::now();
    let mut model = DirectoryModel::new();
    let colleague = |upn: &str, name: &str| Colleague {
        upn: upn.into(),
        display_name: name.into(),
        ..Default::default()
    };
    let presence = |upn: &str, availability| Presence {
        availability,
        version: 1,
        since: now,
        ..Presence::unknown(upn)
    };
    model.apply(
        PanelEvent::DirectoryPage {
            colleagues: vec![
                colleague("anna.rossi@contoso.com", "Anna Rossi"),
                colleague("marco.rossi@contoso.com", "Marco Rossi"),
            ],
            is_first: true,
            total: 0,
            is_last: true,
        },
        now,
    );
    model.apply(
        PanelEvent::Snapshot {
            presences: vec![
                presence("anna.rossi@contoso.com", Availability::Available),
                presence("marco.rossi@contoso.com", Availability::Busy),
            ],
            is_delta: false,
            is_last: true,
        },
        now,
    );
    model.apply(PanelEvent::State(ConnectionState::Live), now);
    model.apply(
        PanelEvent::SourceHealth(vec![SourceHealth {
            technology: Technology::MsTeams,
            state: SourceState::Live,
            detail: String::new(),
            since: now,
        }]),
        now,
    );
    model
}

fn panel_of<'a>(
    model: &'a DirectoryModel,
    view: &'a DirectoryView,
    settings: &'a PanelSettings,
) -> PanelView<'a> {
    PanelView {
        model,
        view,
        settings,
        endpoint_label: "http://127.0.0.1:50051",
        machine: &NO_MACHINE_DEFAULTS,
        startup_warning: None,
        board: BoardParts {
            board: &EMPTY_BOARD.0,
            view: &EMPTY_BOARD.1,
            watches: &EMPTY_BOARD.2,
            error: None,
        },
        focus: FocusArea::List,
        subject: None,
        notices: &[],
        flash: None,
    }
}

/// No administrator's settings.
static NO_MACHINE_DEFAULTS: std::sync::LazyLock<presence_panel::machine_defaults::MachineDefaults> =
    std::sync::LazyLock::new(Default::default);

/// No favourites, no groups, no watches.
static EMPTY_BOARD: std::sync::LazyLock<(Board, BoardView, AvailabilityWatches)> =
    std::sync::LazyLock::new(Default::default);

struct ListUnderTest {
    list: ListState,
    commands: Vec<UiCommand>,
}

#[test]
fn the_list_draws_from_a_model_and_returns_a_click_as_a_command() {
    let mut model = live_model();
    let settings = PanelSettings::default();
    let mut view = DirectoryView::default();
    view.refresh("rossi", &mut model, &settings, Instant::now());
    let panel = panel_of(&model, &view, &settings);
    let mut harness = Harness::new_ui_state(
        |ui, state: &mut ListUnderTest| {
            directory_list_ui(ui, &panel, &mut state.list, &mut state.commands)
        },
        ListUnderTest {
            list: ListState::default(),
            commands: Vec::new(),
        },
    );
    harness.run();
    harness.get_by_label_contains("Anna Rossi, Available");
    assert!(
        harness.state().commands.is_empty(),
        "drawing alone asks for nothing"
    );
    harness.get_by_label_contains("Marco Rossi, Busy").click();
    harness.run();
    let marco = view
        .results
        .iter()
        .position(|&key| {
            model
                .row(key)
                .is_some_and(|r| r.colleague.upn() == "marco.rossi@contoso.com")
        })
        .expect("Marco is listed");
    assert_eq!(
        harness.state().commands,
        [UiCommand::Select {
            index: marco,
            open_details: false
        }]
    );
}

#[test]
fn the_banner_says_statuses_are_not_live_once_the_link_is_lost() {
    let mut model = live_model();
    let settings = PanelSettings::default();
    let view = DirectoryView::default();
    assert_eq!(
        banner_text(&panel_of(&model, &view, &settings)),
        None,
        "live: no banner"
    );
    model.apply(
        PanelEvent::State(ConnectionState::Reconnecting {
            attempt: 1,
            last_error: "connection reset".into(),
            retry_at: Instant::now(),
        }),
        SystemTime::now(),
    );
    let banner = banner_text(&panel_of(&model, &view, &settings)).expect("a banner");
    assert!(banner.starts_with("Not live"), "{banner}");
    assert!(banner.contains("last known at"), "{banner}");
}
