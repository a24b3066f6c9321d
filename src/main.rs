//! `presence-panel`: the desktop presence panel for attendant consoles.
#![cfg_attr(all(windows, not(debug_assertions)), windows_subsystem = "windows")]

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use presence_gateway::GatewayError;
use presence_panel::app::window_title;
use presence_panel::board_store::{self, LoadedBoard};
use presence_panel::colleague_actions::SystemLinkOpener;
use presence_panel::connection::{ConnectionConfig, Connector};
use presence_panel::demo::DemoGateway;
use presence_panel::desktop_notifier::SystemNotifier;
use presence_panel::machine_defaults::{MachineDefaults, split_endpoints};
use presence_panel::settings::{self, PanelSettings, ThemeChoice};
use presence_panel::single_instance::{self, Claim};
use presence_panel::start_at_sign_in::SystemSignInStarter;
use presence_panel::ui::legend_ui::{APP_ICON_PNG, decode_png, write_icon_pngs};
use presence_panel::{PanelApp, PanelAppInit};

#[derive(Parser, Debug)]
#[command(
    name = "presence-panel",
    version,
    about = "Colleagues' Teams presence, live and searchable, for attendant consoles."
)]
struct Cli {
    /// Run a simulated company inside the panel (a real gateway on a free loopback port).
    #[arg(long)]
    demo: bool,
    /// Colleagues in the --demo company.
    #[arg(long, default_value_t = 3_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    demo_users: u32,
    /// The presence gateway(s) to use for this run, preferred first, separated by
    /// commas (default: from settings, else the administrator's, else
    /// http://127.0.0.1:50051).
    #[arg(long)]
    endpoint: Option<String>,
    /// File holding the gateway's access token.
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// With an https:// gateway: a PEM file of extra CA certificates to trust (a
    /// company CA), besides the system's (default: from settings).
    #[arg(long)]
    ca_file: Option<PathBuf>,
    /// Theme for this run.
    #[arg(long, value_parser = ["light", "dark"])]
    theme: Option<String>,
    /// Settings file to use instead of the per-user one.
    #[arg(long)]
    settings: Option<PathBuf>,
    /// Board file (favourites, groups, notifications) to use instead of the per-user one.
    #[arg(long)]
    board: Option<PathBuf>,
    /// Log level: error, warn, info, debug or trace.
    #[arg(long, default_value = "info")]
    log_level: String,
    /// Print where the panel would connect (after the administrator's and the user's
    /// settings) and exit.
    #[arg(long)]
    show_settings: bool,
    /// Write the icon PNGs into this folder and exit.
    #[arg(long, hide = true)]
    write_icons: Option<PathBuf>,
}

fn main() -> ExitCode {
    let launched_at = std::time::Instant::now();
    presence_panel::memory::tune_allocator();
    let cli = Cli::parse();
    init_logging(&cli.log_level);
    if let Some(dir) = &cli.write_icons {
        return match write_icon_pngs(dir) {
            Ok(paths) => {
                println!("wrote {} icons to {}", paths.len(), dir.display());
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("presence-panel: {err}");
                ExitCode::FAILURE
            }
        };
    }
    match run(cli, launched_at) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            eprintln!("presence-panel: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Why the panel could not run; logged and printed once before a non-zero exit.
#[derive(Debug, thiserror::Error)]
enum PanelError {
    #[error("cannot start the network runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("cannot start the demo gateway: {0}")]
    DemoGateway(#[source] GatewayError),
    #[error("cannot open the window: {0}")]
    Window(#[source] eframe::Error),
}

fn run(cli: Cli, launched_at: std::time::Instant) -> Result<(), PanelError> {
    let loaded = PanelSettings::load(
        cli.settings
            .clone()
            .or_else(settings::default_path)
            .as_deref(),
    );
    let settings_path = loaded.path.clone();
    let machine = MachineDefaults::load();
    let board = LoadedBoard::load(
        cli.board
            .clone()
            .or_else(board_store::default_path)
            .as_deref(),
        std::time::SystemTime::now(),
    );
    let mut settings = loaded.settings;
    if let Some(theme) = cli.theme.as_deref() {
        settings.theme = if theme == "dark" {
            ThemeChoice::Dark
        } else {
            ThemeChoice::Light
        };
    }
    // One link needs one thread; the demo also runs a gateway, which takes a second.
    // (Each allocating thread also holds a heap arena of its own: fewer is leaner.)
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(if cli.demo { 2 } else { 1 })
        .thread_name("presence-transport")
        .enable_all()
        .build()
        .map_err(PanelError::Runtime)?;

    let mut effective = settings.effective_connection(&machine);
    if let Some(list) = &cli.endpoint {
        effective.endpoints = split_endpoints(list);
    }
    if let Some(path) = &cli.token_file {
        effective.token_file = Some(path.clone());
    }
    if let Some(path) = &cli.ca_file {
        effective.tls.ca_file = Some(path.clone());
    }
    if cli.show_settings {
        print_effective(&effective, &machine, settings_path.as_deref());
        return Ok(());
    }

    // One panel per settings file (per user): a second start shows the first.
    let instance = match settings_path.as_deref().map(single_instance::claim) {
        Some(Ok(Claim::First(guard))) => Some(guard),
        Some(Ok(Claim::AlreadyRunning)) => {
            println!("The presence panel is already running: its window was brought to the front.");
            return Ok(());
        }
        Some(Err(err)) => {
            tracing::warn!(%err, "cannot make sure only one panel runs; starting anyway");
            None
        }
        None => None,
    };

    let mut keep_alive: Vec<Box<dyn std::any::Any>> = Vec::new();
    let connection = if cli.demo {
        let demo = runtime
            .block_on(DemoGateway::start(cli.demo_users as usize, 1))
            .map_err(PanelError::DemoGateway)?;
        let url = demo.endpoint_url();
        tracing::info!(%url, users = cli.demo_users, "demo gateway started");
        keep_alive.push(Box::new(demo));
        ConnectionConfig {
            endpoints: vec![url],
            token_file: None,
            tls: Default::default(),
        }
    } else {
        ConnectionConfig {
            endpoints: effective.endpoints,
            token_file: effective.token_file,
            tls: effective.tls,
        }
    };

    let mut viewport = egui::ViewportBuilder::default()
        .with_title(window_title(&settings.operator_name, cli.demo))
        .with_app_id("presence-panel")
        .with_inner_size([settings.window_width, settings.window_height])
        .with_min_inner_size([520.0, 360.0]);
    match decode_png(APP_ICON_PNG) {
        Ok((width, height, rgba)) => {
            viewport = viewport.with_icon(egui::IconData {
                rgba,
                width,
                height,
            })
        }
        Err(err) => tracing::warn!(%err, "cannot decode the window icon"),
    }
    let options = eframe::NativeOptions {
        viewport,
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    };
    let runtime_handle = runtime.handle().clone();
    keep_alive.push(Box::new(runtime));
    eframe::run_native(
        "presence-panel",
        options,
        Box::new(move |cc| {
            let ctx = cc.egui_ctx.clone();
            let mut keep_alive = keep_alive;
            if let Some(guard) = instance {
                let ctx = ctx.clone();
                guard.on_show(move || {
                    ctx.send_viewport_cmd(egui::ViewportCommand::Minimized(false));
                    ctx.send_viewport_cmd(egui::ViewportCommand::Visible(true));
                    ctx.send_viewport_cmd(egui::ViewportCommand::Focus);
                    ctx.request_repaint();
                });
                keep_alive.push(Box::new(guard));
            }
            let connector = Connector::new(runtime_handle, Arc::new(move || ctx.request_repaint()));
            Ok(Box::new(PanelApp::new(
                cc,
                PanelAppInit {
                    connector,
                    connection,
                    settings,
                    machine,
                    settings_path,
                    startup_warning: loaded.warning,
                    is_demo: cli.demo,
                    board,
                    link_opener: Arc::new(SystemLinkOpener),
                    notifier: Arc::new(SystemNotifier::start()),
                    sign_in_starter: Arc::new(SystemSignInStarter),
                    launched_at,
                    keep_alive,
                },
            )))
        }),
    )
    .map_err(PanelError::Window)
}

/// Prints where the panel connects and why (for administrators checking a deployment).
fn print_effective(
    effective: &presence_panel::settings::EffectiveConnection,
    machine: &MachineDefaults,
    settings_path: Option<&std::path::Path>,
) {
    let path = |p: &Option<PathBuf>| {
        p.as_ref()
            .map_or_else(|| "(none)".to_owned(), |p| p.display().to_string())
    };
    println!("gateways: {}", effective.endpoints.join(", "));
    println!("token file: {}", path(&effective.token_file));
    println!("CA file: {}", path(&effective.tls.ca_file));
    if machine.is_empty() && !machine.is_locked {
        println!("administrator's settings: none");
    } else {
        println!(
            "administrator's settings ({}): gateways [{}], token file {}, CA file {}, {}",
            machine.origin,
            machine.endpoints.join(", "),
            path(&machine.token_file),
            path(&machine.ca_file),
            if machine.is_locked {
                "locked"
            } else {
                "users may change them"
            }
        );
    }
    if let Some(warning) = &machine.warning {
        println!("warning: {warning}");
    }
    println!(
        "user settings: {}",
        settings_path.map_or_else(|| "(not saved)".to_owned(), |p| p.display().to_string())
    );
}

/// Logs to stderr, and on Windows release builds (no console) to a file in the
/// per-user data folder.
fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let log_file = if cfg!(all(windows, not(debug_assertions))) {
        directories::ProjectDirs::from("com", "UCX", "Presence Panel").and_then(|dirs| {
            let dir = dirs.data_local_dir().join("logs");
            std::fs::create_dir_all(&dir).ok()?;
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join("presence-panel.log"))
                .ok()
        })
    } else {
        None
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match log_file {
        Some(file) => builder
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .init(),
        // Colour only on a terminal, never into a file or a pipe.
        None => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_writer(std::io::stderr)
            .init(),
    }
}
