//! `presence-gateway`: the local UCX presence endpoint.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use ucx_presence::config::PresenceIni;
use ucx_presence::gateway::auth::AccessToken;
use ucx_presence::gateway::{GatewayConfig, HubSettings, PresenceHub, server};
use ucx_presence::sources::simulator::{self, SimulatorConfig};

#[derive(Parser, Debug)]
#[command(
    name = "presence-gateway",
    version,
    about = "The local UCX presence endpoint: serves colleagues' Teams presence over gRPC."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Connect to a running gateway, subscribe to everyone and report what arrives.
    Check {
        /// The gateway to check.
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        endpoint: String,
        /// File holding the gateway's access token.
        #[arg(long)]
        token_file: Option<PathBuf>,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 10)]
        timeout_secs: u64,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Source {
    /// A simulated company (the embedded default).
    Sim,
}

#[derive(clap::Args, Debug)]
struct ServeArgs {
    /// Address to listen on. Anything but loopback requires --token-file.
    #[arg(long, default_value = server::DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// Where presence comes from.
    #[arg(long, value_enum, default_value = "sim")]
    source: Source,
    /// Simulated colleagues.
    #[arg(long, default_value_t = 3_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    users: u32,
    /// Seed of the simulated company (same seed, same company).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Simulated presence changes per second across the company.
    #[arg(long, default_value_t = 25.0)]
    changes_per_sec: f64,
    /// A UCX Presence.ini (MSTeamsPresence.Enable, RichPresence.WinningTechnology).
    /// Without it, Teams presence is on and wins.
    #[arg(long)]
    config: Option<PathBuf>,
    /// File holding the access token that callers must send as a bearer token.
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// Seconds between heartbeats on each subscription.
    #[arg(long, default_value_t = 5)]
    heartbeat_secs: u64,
    /// Log level: error, warn, info, debug or trace (or a tracing filter).
    #[arg(long, default_value = "info")]
    log_level: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&cli.serve.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("presence-gateway: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Some(Command::Check {
            endpoint,
            token_file,
            timeout_secs,
        }) => runtime.block_on(check(&endpoint, token_file, timeout_secs)),
        None => runtime.block_on(serve(cli.serve)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("presence-gateway: {message}");
            ExitCode::FAILURE
        }
    }
}

fn load_token(path: Option<PathBuf>) -> Result<Option<AccessToken>, String> {
    path.map(|p| AccessToken::from_file(&p).map_err(|e| e.to_string()))
        .transpose()
}

async fn check(
    endpoint: &str,
    token_file: Option<PathBuf>,
    timeout_secs: u64,
) -> Result<(), String> {
    let token = load_token(token_file)?;
    let report = ucx_presence::gateway::check::check(
        endpoint,
        token.as_ref(),
        Duration::from_secs(timeout_secs),
    )
    .await
    .map_err(|e| e.to_string())?;
    println!(
        "ok: {endpoint} serves {} colleagues; snapshot of {} presences (gateway instance {})",
        report.directory_size, report.snapshot_presences, report.gateway_instance_id
    );
    Ok(())
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let ini = match &args.config {
        Some(path) => PresenceIni::load(path).map_err(|e| e.to_string())?,
        None => PresenceIni::embedded_default(),
    };
    for (line, key) in &ini.ignored_keys {
        tracing::warn!(
            line,
            key,
            "Presence.ini: key not used by the presence gateway, ignored"
        );
    }
    tracing::info!(
        ms_teams_enabled = ini.ms_teams_enabled,
        winning_technology = ?ini.winning_technology,
        "presence settings"
    );
    let token = load_token(args.token_file)?;
    let hub = PresenceHub::new(HubSettings {
        winning_technology: ini.winning_technology,
        ms_teams_enabled: ini.ms_teams_enabled,
    });
    let source_task = match args.source {
        Source::Sim => simulator::spawn(
            hub.clone(),
            SimulatorConfig {
                users: args.users as usize,
                seed: args.seed,
                changes_per_sec: args.changes_per_sec.clamp(0.0, 1_000_000.0),
                ..SimulatorConfig::default()
            },
        ),
    };
    let config = GatewayConfig {
        listen: args.listen,
        token,
        heartbeat_interval: Duration::from_secs(args.heartbeat_secs.clamp(1, 3600)),
    };
    let running = server::start(hub, config)
        .await
        .map_err(|e| e.to_string())?;
    println!("presence-gateway listening on {}", running.endpoint_url());
    shutdown_signal().await;
    tracing::info!("shutting down");
    source_task.abort();
    running.shutdown().await.map_err(|e| e.to_string())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
