//! The real panel app in an egui_kittest Harness against a real in-process gateway over
//! gRPC on 127.0.0.1: the fixture shared by the panel's test files.
// A test crate's helpers: an `expect` fails the test that called it; each test file
// uses some of them.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use presence_domain::{Availability, Colleague, Technology, WinningTechnology};
use presence_gateway::{GatewayConfig, RunningGateway, server};
use presence_hub::{DirectoryUpdate, PresenceHub};
use presence_panel::board_store::LoadedBoard;
use presence_panel::colleague_actions::RecordingLinkOpener;
use presence_panel::connection::{ConnectionConfig, Connector};
use presence_panel::desktop_notifier::RecordingNotifier;
use presence_panel::machine_defaults::MachineDefaults;
use presence_panel::settings::PanelSettings;
use presence_panel::start_at_sign_in::RecordingSignInStarter;
use presence_panel::{PanelApp, PanelAppInit};
use presence_test_support::{hub_with, start};

/// What a test may give the app besides its link.
pub struct PanelOptions {
    pub settings: PanelSettings,
    pub board: LoadedBoard,
    pub link_opener: Arc<RecordingLinkOpener>,
    pub notifier: Arc<RecordingNotifier>,
    pub sign_in_starter: Arc<RecordingSignInStarter>,
    pub machine: MachineDefaults,
    /// Gateways to connect to instead of this fixture's own.
    pub endpoints: Option<Vec<String>>,
    /// Where settings are saved (`None`: never).
    pub settings_path: Option<std::path::PathBuf>,
}

impl Default for PanelOptions {
    fn default() -> Self {
        Self {
            settings: PanelSettings::default(),
            board: LoadedBoard::unsaved(),
            link_opener: Arc::default(),
            notifier: Arc::default(),
            sign_in_starter: Arc::default(),
            machine: MachineDefaults::default(),
            endpoints: None,
            settings_path: None,
        }
    }
}

pub struct Fixture {
    pub runtime: tokio::runtime::Runtime,
    pub hub: Arc<PresenceHub>,
    gateway: Option<RunningGateway>,
    port: u16,
}

impl Fixture {
    pub fn new(hub: Arc<PresenceHub>) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let gateway = runtime.block_on(start(hub.clone()));
        let port = gateway.local_addr().port();
        Self {
            runtime,
            hub,
            gateway: Some(gateway),
            port,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn kill_gateway(&mut self) {
        if let Some(gateway) = self.gateway.take() {
            self.runtime.block_on(gateway.shutdown()).expect("shutdown");
        }
    }

    pub fn restart_gateway(&mut self) {
        let config = GatewayConfig {
            listen: format!("127.0.0.1:{}", self.port).parse().expect("addr"),
            heartbeat_interval: Duration::from_millis(200),
            ..GatewayConfig::loopback_ephemeral()
        };
        let gateway = self
            .runtime
            .block_on(server::start(self.hub.clone(), config))
            .expect("restarts on the same port");
        self.gateway = Some(gateway);
    }

    pub fn harness(&self) -> Harness<'static, PanelApp> {
        self.harness_with(Harness::builder().with_size(egui::vec2(1100.0, 700.0)))
    }

    pub fn harness_with(
        &self,
        builder: egui_kittest::HarnessBuilder<PanelApp>,
    ) -> Harness<'static, PanelApp> {
        self.harness_with_options(builder, PanelOptions::default())
    }

    /// The app with its board, its recorders and its settings as given.
    pub fn harness_with_options(
        &self,
        builder: egui_kittest::HarnessBuilder<PanelApp>,
        options: PanelOptions,
    ) -> Harness<'static, PanelApp> {
        let init = PanelAppInit {
            connector: Connector::new(self.runtime.handle().clone(), Arc::new(|| {})),
            connection: ConnectionConfig {
                endpoints: options.endpoints.unwrap_or_else(|| vec![self.url()]),
                token_file: None,
                tls: Default::default(),
            },
            settings: options.settings,
            machine: options.machine,
            settings_path: options.settings_path,
            startup_warning: None,
            is_demo: false,
            board: options.board,
            link_opener: options.link_opener,
            notifier: options.notifier,
            sign_in_starter: options.sign_in_starter,
            launched_at: std::time::Instant::now(),
            keep_alive: Vec::new(),
        };
        builder.build_eframe(move |cc| PanelApp::new(cc, init))
    }
}

/// Steps the app (in real time) until `done` holds, or fails after 10 s.
pub fn wait_for(
    harness: &mut Harness<'static, PanelApp>,
    what: &str,
    done: impl Fn(&PanelApp) -> bool,
) {
    let started = Instant::now();
    loop {
        harness.step();
        if done(harness.state()) {
            harness.step();
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "timed out waiting for: {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Live link, and the gateway has said how its sources are.
pub fn is_fully_live(app: &PanelApp) -> bool {
    app.model.is_live() && !app.model.sources().is_empty()
}

pub fn company() -> Arc<PresenceHub> {
    let hub = hub_with(0, WinningTechnology::MsTeams);
    // Given name, surname, department, business phone, mobile.
    let people = [
        ("Anna", "Rossi", "Sales", "+39 02 5550 1066", ""),
        ("Marco", "Rossi", "Finance", "", "+39 333 555 0101"),
        ("José", "García", "Sales", "", ""),
        ("Łukasz", "Nowak", "Engineering", "", ""),
        ("Zoë", "Smith", "Reception", "", ""),
        ("Øyvind", "Hansen", "IT", "", ""),
    ];
    let colleagues: Vec<Colleague> = people
        .iter()
        .map(
            |(given, surname, department, business_phone, mobile_phone)| {
                let upn = format!(
                    "{}.{}@contoso.com",
                    presence_domain::text::fold(given),
                    presence_domain::text::fold(surname)
                );
                Colleague {
                    id: upn.clone(),
                    upn: upn.clone(),
                    mail: upn,
                    display_name: format!("{given} {surname}"),
                    given_name: given.to_string(),
                    surname: surname.to_string(),
                    department: department.to_string(),
                    job_title: "Specialist".into(),
                    business_phones: [business_phone]
                        .iter()
                        .filter(|phone| !phone.is_empty())
                        .map(|phone| phone.to_string())
                        .collect(),
                    mobile_phone: mobile_phone.to_string(),
                    ..Default::default()
                }
            },
        )
        .collect();
    let presences = colleagues
        .iter()
        .map(|c| presence_domain::Presence {
            availability: Availability::Available,
            since: std::time::SystemTime::now() - Duration::from_secs(12 * 60 + 5),
            ..presence_domain::Presence::unknown(&c.upn)
        })
        .collect();
    hub.apply_directory(
        colleagues
            .into_iter()
            .map(DirectoryUpdate::Upsert)
            .collect(),
    );
    hub.publish(Technology::MsTeams, presences);
    hub
}

pub fn visible_names(app: &PanelApp) -> Vec<String> {
    app.view
        .results
        .iter()
        .filter_map(|&k| app.model.row(k))
        .map(|r| r.colleague.display_name().to_owned())
        .collect()
}

pub fn type_query(harness: &mut Harness<'static, PanelApp>, text: &str) {
    harness.get_by_role(egui::Role::TextInput).type_text(text);
    harness.step();
    harness.step();
}

/// The availability the model holds for `upn`, if any.
pub fn availability_of(app: &PanelApp, upn: &str) -> Option<Availability> {
    app.model
        .row_key_of(upn)
        .and_then(|k| app.model.row(k))
        .and_then(|r| r.presence())
        .map(|p| p.availability())
}
