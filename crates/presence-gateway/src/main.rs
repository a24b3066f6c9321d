//! `presence-gateway`: the local UCX presence endpoint.

use std::ffi::OsString;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use presence_contract::{AccessToken, ClientTls, TokenFileError};
use presence_domain::PresenceIni;
use presence_gateway::check::CheckError;
use presence_gateway::presence_ini_file::{self, LoadPresenceIniError};
use presence_gateway::rotating_log::RotatingLog;
use presence_gateway::settings_file::{self, SettingsFileError};
use presence_gateway::version_floor::{self, VersionFloorError};
use presence_gateway::windows_service_host::{self, ServiceHostError};
use presence_gateway::{GatewayConfig, GatewayError, GatewayLimits, ServerTls, server};
use presence_hub::{HubSettings, PresenceHub};
use presence_sources::graph::credentials::CredentialsError;
use presence_sources::graph::http::ClientBuildError;
use presence_sources::graph::{self, AuthError, GraphConfig, GraphSetupError, ProxySetting};
use presence_sources::simulator::{self, SimulatorConfig};

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
        #[arg(long, default_value = presence_contract::DEFAULT_ENDPOINT)]
        endpoint: String,
        /// File holding the gateway's access token.
        #[arg(long)]
        token_file: Option<PathBuf>,
        /// With https://: a PEM file of extra CA certificates to trust (a company CA),
        /// besides the system's.
        #[arg(long)]
        ca_file: Option<PathBuf>,
        /// With https://: a PEM client certificate, for gateways that require one.
        #[arg(long, requires = "client_key")]
        client_cert: Option<PathBuf>,
        /// With https://: the client certificate's PEM key.
        #[arg(long, requires = "client_cert")]
        client_key: Option<PathBuf>,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 10)]
        timeout_secs: u64,
    },
    /// Sign in to Microsoft Graph once (device-code flow) and store the refresh token
    /// for `--source graph`.
    Login {
        /// The Entra ID tenant: its id or a verified domain (contoso.onmicrosoft.com).
        #[arg(long)]
        tenant: String,
        /// The application (client) id of the app registration.
        #[arg(long)]
        client_id: String,
        /// The identity platform (sovereign clouds have their own).
        #[arg(long, default_value = graph::DEFAULT_AUTHORITY_URL)]
        authority_url: String,
        /// Graph's root: the scopes asked for are this cloud's.
        #[arg(long, default_value = graph::DEFAULT_GRAPH_BASE_URL)]
        graph_base_url: String,
        /// HTTPS proxy (otherwise HTTPS_PROXY / NO_PROXY from the environment).
        #[arg(long)]
        proxy: Option<String>,
        /// Where to store the sign-in (default: the per-user data folder; for the
        /// Windows service, %ProgramData%\UCX\Presence Gateway\graph-credentials.json).
        #[arg(long)]
        credentials_file: Option<PathBuf>,
    },
    /// The Windows service: `run` is what the service control manager starts;
    /// `configure` sets its recovery (run by the installer); `status` shows it.
    Service {
        #[command(subcommand)]
        action: ServiceAction,
    },
}

#[derive(Subcommand, Debug, Clone)]
enum ServiceAction {
    /// Serve as the PresenceGateway service, with the settings in
    /// %ProgramData%\UCX\Presence Gateway\gateway.toml.
    Run {
        /// The service's folder (default: %ProgramData%\UCX\Presence Gateway).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Restart on failure (5 s, 5 s, 60 s), also on exits with an error.
    Configure,
    /// What the service control manager holds about the service.
    Status,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Source {
    /// A simulated company (the embedded default).
    Sim,
    /// Microsoft Graph: real Teams presence (run `presence-gateway login` first).
    Graph,
}

#[derive(clap::Args, Debug)]
struct ServeArgs {
    /// Settings file (TOML): the same settings as these flags, named without the
    /// dashes (`listen = "0.0.0.0:50051"`); a flag given here wins over the file.
    #[arg(long)]
    settings: Option<PathBuf>,
    /// Also log to this file, capped at 10 MB and rotated (4 older files kept).
    #[arg(long)]
    log_file: Option<PathBuf>,
    /// Address to listen on. Anything but loopback requires --token-file and TLS
    /// (--tls-cert, --tls-key).
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
    /// TLS certificate (PEM, the chain from the gateway's own certificate up). Required
    /// with --tls-key off loopback.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The TLS certificate's private key (PEM). Keep it readable by the gateway only.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Require client certificates issued by a CA in this PEM file (mutual TLS).
    #[arg(long, requires = "tls_cert")]
    tls_client_ca: Option<PathBuf>,
    /// Serve off loopback without TLS: only on a network you trust; the token and all
    /// presence cross it in clear text.
    #[arg(long)]
    allow_plaintext_off_loopback: bool,
    /// Subscriptions served at once, from all panels (each panel holds one).
    #[arg(long, default_value_t = 2_000, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000))]
    max_subscriptions: usize,
    /// Seconds a subscriber may go without reading before it is cut off.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    stalled_subscriber_secs: u64,
    /// Seconds between heartbeats on each subscription (1 to 10: panels take 20 s of
    /// silence for a lost link).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=10))]
    heartbeat_secs: u64,
    /// Graph's root (sovereign clouds and tests point elsewhere).
    #[arg(long, default_value = graph::DEFAULT_GRAPH_BASE_URL)]
    graph_base_url: String,
    /// The identity platform for token refreshes (default: the one used at login).
    #[arg(long)]
    authority_url: Option<String>,
    /// HTTPS proxy for Graph (otherwise HTTPS_PROXY / NO_PROXY from the environment).
    #[arg(long)]
    proxy: Option<String>,
    /// The stored sign-in (default: the per-user data folder).
    #[arg(long)]
    credentials_file: Option<PathBuf>,
    /// With --source graph: refuse to start unless the stored sign-in is for this tenant.
    #[arg(long)]
    tenant: Option<String>,
    /// With --source graph: refuse to start unless the stored sign-in is for this app.
    #[arg(long)]
    client_id: Option<String>,
    /// Minutes between two listings of the Graph directory.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=1440))]
    directory_refresh_mins: u64,
    /// Shortest seconds between two presence polls of the same colleague.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    min_poll_secs: u64,
    /// SIP SIMPLE: the presence server to watch (a PBX, Kamailio, a presence server),
    /// beside --source; without it, no SIP source (or the simulator's).
    #[arg(long)]
    sip_server: Option<String>,
    /// SIP SIMPLE: the server's port (default 5060; 5061 with tls).
    #[arg(long)]
    sip_port: Option<u16>,
    /// SIP SIMPLE: udp, tcp or tls.
    #[arg(long, default_value = "udp", value_parser = ["udp", "tcp", "tls"])]
    sip_transport: String,
    /// SIP SIMPLE with tls: a PEM file of extra CA certificates to trust (a company
    /// CA), besides the system's.
    #[arg(long)]
    sip_ca_file: Option<PathBuf>,
    /// SIP SIMPLE: the domain of the colleagues' SIP URIs and of the watcher's own
    /// (default: the server's name).
    #[arg(long)]
    sip_domain: Option<String>,
    /// SIP SIMPLE: the watcher's user name (its From, and its digest user).
    #[arg(long, default_value = "presence-gateway")]
    sip_user: String,
    /// SIP SIMPLE: a file holding the digest password (first line), readable by its
    /// owner only.
    #[arg(long)]
    sip_password_file: Option<PathBuf>,
    /// SIP SIMPLE: each colleague's SIP URI from the directory: {upn}, {user} (before
    /// the @), {mail}, {extension} (of the business phone), {domain}.
    #[arg(long, default_value = "sip:{upn}")]
    sip_uri_template: String,
    /// SIP SIMPLE: the subscription time asked for, in seconds (the server may grant
    /// less; refreshed before it runs out).
    #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u64).range(60..=86_400))]
    sip_expires_secs: u64,
    /// SIP SIMPLE: do not subscribe to the dialog event (telephony state).
    #[arg(long)]
    sip_no_dialogs: bool,
    /// SIP SIMPLE: a resource list (RFC 4662) on the server holding the colleagues,
    /// e.g. sip:ucx-all@contoso.com: their presence comes through this one subscription.
    #[arg(long)]
    sip_rls_uri: Option<String>,
    /// SIP SIMPLE: new SUBSCRIBEs per second at most (the first pass over the company).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    sip_subscribes_per_sec: u32,
    /// Where the gateway keeps the ceiling of the versions it issued, so they keep
    /// growing when the clock steps back (default: the per-user data folder).
    #[arg(long)]
    version_file: Option<PathBuf>,
    /// Log level: error, warn, info, debug or trace (or a tracing filter).
    #[arg(long, default_value = "info")]
    log_level: String,
}

fn main() -> ExitCode {
    presence_gateway::memory::tune_allocator();
    let args: Vec<OsString> = std::env::args_os().collect();
    let cli = Cli::parse_from(&args);
    let result = match cli.command {
        Some(Command::Service {
            action: ServiceAction::Run { data_dir },
        }) => return run_as_service(data_dir),
        Some(Command::Service { action }) => service_command(action),
        Some(command) => {
            init_logging(&cli.serve.log_level, None);
            block_on(run_command(command))
        }
        None => match with_settings_file(cli.serve, &args) {
            Ok(serve_args) => {
                init_logging(&serve_args.log_level, serve_args.log_file.as_deref());
                block_on(serve(serve_args, interrupted()))
            }
            Err(err) => Err(err),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            eprintln!("presence-gateway: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr (colour only on a terminal: a service manager's log or a pipe gets
/// plain text) and, with `log_file`, to that file too (size-capped, rotated).
fn init_logging(level: &str, log_file: Option<&Path>) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let stderr = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let file = log_file.and_then(|path| match RotatingLog::open(path) {
        Ok(log) => Some(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(log)),
        ),
        Err(err) => {
            eprintln!(
                "presence-gateway: cannot write the log file {}: {err}",
                path.display()
            );
            None
        }
    });
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(stderr)
        .with(file)
        .try_init();
}

/// Runs `work` on a new multi-threaded runtime.
fn block_on(work: impl Future<Output = Result<(), CommandError>>) -> Result<(), CommandError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CommandError::Runtime)?;
    runtime.block_on(work)
}

async fn run_command(command: Command) -> Result<(), CommandError> {
    match command {
        Command::Check {
            endpoint,
            token_file,
            ca_file,
            client_cert,
            client_key,
            timeout_secs,
        } => {
            check(
                &endpoint,
                token_file,
                ClientTls {
                    ca_file,
                    client_cert_file: client_cert,
                    client_key_file: client_key,
                },
                timeout_secs,
            )
            .await
        }
        Command::Login {
            tenant,
            client_id,
            authority_url,
            graph_base_url,
            proxy,
            credentials_file,
        } => {
            login(
                graph::IdentitySettings {
                    authority_url,
                    tenant,
                    client_id,
                    scope: graph::graph_scopes(&graph_base_url),
                },
                proxy,
                credentials_file,
            )
            .await
        }
        Command::Service { action } => service_command(action),
    }
}

/// `service configure` and `service status`.
fn service_command(action: ServiceAction) -> Result<(), CommandError> {
    match action {
        ServiceAction::Run { .. } => Err(CommandError::Service(ServiceHostError::NotWindows)),
        ServiceAction::Configure => {
            windows_service_host::configure()?;
            println!(
                "{}: restarts on failure (after 5 s, 5 s, then 60 s)",
                windows_service_host::SERVICE_NAME
            );
            Ok(())
        }
        ServiceAction::Status => {
            println!("{}", windows_service_host::SERVICE_NAME);
            for line in windows_service_host::status_report()? {
                println!("  {line}");
            }
            Ok(())
        }
    }
}

/// `args` with the settings file's values for every flag not on the command line.
fn with_settings_file(serve: ServeArgs, args: &[OsString]) -> Result<ServeArgs, CommandError> {
    let Some(path) = serve.settings.clone() else {
        return Ok(serve);
    };
    let given = settings_file::keys_on_command_line(args.get(1..).unwrap_or_default());
    let file_args = settings_file::read_as_args(&path, &|key| {
        key == "settings" || given.iter().any(|g| g == key)
    })?;
    parse_serve_args(
        &path,
        args.first().cloned(),
        file_args,
        args.get(1..).unwrap_or_default(),
    )
}

/// Parses the settings of a file (and a command line) as the serve flags.
fn parse_serve_args(
    path: &Path,
    program: Option<OsString>,
    file_args: Vec<OsString>,
    command_line: &[OsString],
) -> Result<ServeArgs, CommandError> {
    let program = program.unwrap_or_else(|| "presence-gateway".into());
    let file_only = std::iter::once(program.clone()).chain(file_args.iter().cloned());
    if let Err(err) = Cli::try_parse_from(file_only) {
        return Err(CommandError::SettingsValue {
            path: path.to_owned(),
            message: clap_message(&err),
        });
    }
    let merged = std::iter::once(program)
        .chain(file_args)
        .chain(command_line.iter().cloned());
    let cli = Cli::try_parse_from(merged).map_err(|err| CommandError::SettingsValue {
        path: path.to_owned(),
        message: clap_message(&err),
    })?;
    Ok(cli.serve)
}

/// The first line of a clap error, without its "error: " prefix.
fn clap_message(err: &clap::Error) -> String {
    let text = err.to_string();
    let line = text.lines().next().unwrap_or_default();
    line.strip_prefix("error: ").unwrap_or(line).to_owned()
}

/// Runs as the PresenceGateway Windows service, with its folder in %ProgramData%.
fn run_as_service(data_dir: Option<PathBuf>) -> ExitCode {
    let Some(dir) = data_dir.or_else(windows_service_host::program_data_dir) else {
        eprintln!("presence-gateway: no %ProgramData% folder for the service's settings");
        return ExitCode::FAILURE;
    };
    let log_file = dir.join("logs").join("presence-gateway.log");
    let serve: windows_service_host::ServeFn = Box::new(move |stop| {
        let code = match service_args(&dir) {
            Ok(serve_args) => {
                init_logging(
                    &serve_args.log_level,
                    Some(serve_args.log_file.as_deref().unwrap_or(&log_file)),
                );
                tracing::info!(folder = %dir.display(), "starting as the Windows service");
                block_on(serve(serve_args, stopped_by(stop)))
            }
            Err(err) => {
                init_logging("info", Some(&log_file));
                Err(err)
            }
        };
        match code {
            Ok(()) => 0,
            Err(err) => {
                tracing::error!("{err}");
                1
            }
        }
    });
    match windows_service_host::run(serve) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("presence-gateway: {err}");
            ExitCode::FAILURE
        }
    }
}

/// The service's settings: `gateway.toml` in `dir` if there is one, and the service's
/// own places for what it does not say (Presence.ini, the version file, the Graph
/// sign-in, the log).
fn service_args(dir: &Path) -> Result<ServeArgs, CommandError> {
    let settings = dir.join("gateway.toml");
    let file_args = if settings.exists() {
        settings_file::read_as_args(&settings, &|key| key == "settings")?
    } else {
        Vec::new()
    };
    let in_file = settings_file::keys_on_command_line(&file_args);
    let mut defaults: Vec<(&str, PathBuf)> = vec![
        ("version_file", dir.join("version-floor")),
        ("credentials_file", dir.join("graph-credentials.json")),
        ("log_file", dir.join("logs").join("presence-gateway.log")),
    ];
    let presence_ini = dir.join("Presence.ini");
    if presence_ini.exists() {
        defaults.push(("config", presence_ini));
    }
    let mut command_line = Vec::new();
    for (key, value) in defaults {
        if !in_file.iter().any(|k| k == key) {
            command_line.push(format!("--{}", key.replace('_', "-")).into());
            command_line.push(value.into_os_string());
        }
    }
    parse_serve_args(&settings, None, file_args, &command_line)
}

/// Resolves when the service control manager asks the service to stop.
async fn stopped_by(mut stop: tokio::sync::watch::Receiver<bool>) {
    if stop.wait_for(|&stop| stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Why a command failed; printed once, as one line, before a non-zero exit.
#[derive(Debug, thiserror::Error)]
enum CommandError {
    #[error(transparent)]
    TokenFile(#[from] TokenFileError),
    #[error(transparent)]
    Check(#[from] CheckError),
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    #[error(transparent)]
    HttpClient(#[from] ClientBuildError),
    #[error(transparent)]
    Login(#[from] AuthError),
    #[error(
        "the sign-in in {path} is for tenant {tenant} and application {client_id}; run `presence-gateway login` with the tenant and application wanted"
    )]
    OtherSignIn {
        path: PathBuf,
        tenant: String,
        client_id: String,
    },
    #[error(transparent)]
    PresenceIni(#[from] LoadPresenceIniError),
    #[error(transparent)]
    GraphSetup(#[from] GraphSetupError),
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    #[error(transparent)]
    VersionFloor(#[from] VersionFloorError),
    #[error("no per-user data folder for the version file: pass --version-file")]
    NoDataFolder,
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error(transparent)]
    SettingsFile(#[from] SettingsFileError),
    #[error("in the gateway settings {path}: {message}")]
    SettingsValue { path: PathBuf, message: String },
    #[error(transparent)]
    Service(#[from] ServiceHostError),
    #[error(transparent)]
    Sip(#[from] presence_sources::sip::SipSetupError),
    #[error(transparent)]
    SipTemplate(#[from] presence_sources::sip::uri_template::TemplateError),
    #[error("cannot read the SIP password file {path}: {reason}")]
    SipPassword { path: PathBuf, reason: String },
}

fn load_token(path: Option<PathBuf>) -> Result<Option<AccessToken>, TokenFileError> {
    path.map(|p| AccessToken::from_file(&p)).transpose()
}

async fn check(
    endpoint: &str,
    token_file: Option<PathBuf>,
    tls: ClientTls,
    timeout_secs: u64,
) -> Result<(), CommandError> {
    let token = load_token(token_file)?;
    let report = presence_gateway::check::check(
        endpoint,
        token.as_ref(),
        &tls,
        Duration::from_secs(timeout_secs),
    )
    .await?;
    println!(
        "ok: {endpoint} serves {} colleagues; snapshot of {} presences (gateway instance {})",
        report.directory_size, report.snapshot_presences, report.gateway_instance_id
    );
    Ok(())
}

fn credentials_path(explicit: Option<PathBuf>) -> Result<PathBuf, CredentialsError> {
    match explicit {
        Some(path) => Ok(path),
        None => graph::credentials::default_path(),
    }
}

fn proxy_setting(proxy: Option<String>) -> ProxySetting {
    proxy.map_or(ProxySetting::FromEnvironment, ProxySetting::Url)
}

async fn login(
    identity: graph::IdentitySettings,
    proxy: Option<String>,
    credentials_file: Option<PathBuf>,
) -> Result<(), CommandError> {
    let credentials_path = credentials_path(credentials_file)?;
    let http = graph::http::build_client(&proxy_setting(proxy), Duration::from_secs(30))?;
    let request = graph::LoginRequest {
        identity,
        credentials_path: credentials_path.clone(),
        protocol_second: Duration::from_secs(1),
    };
    graph::login(&http, &request, |prompt| {
        println!(
            "To sign in, open {} in a browser and enter the code {} (valid for {} minutes).",
            prompt.verification_uri,
            prompt.user_code,
            prompt.expires_in.as_secs().div_ceil(60)
        );
        println!("Sign in with an account of the tenant; waiting...");
    })
    .await?;
    println!(
        "Signed in. The refresh token is stored in {} (readable by you only); `presence-gateway --source graph` now starts without signing in.",
        credentials_path.display()
    );
    Ok(())
}

/// Refuses a stored sign-in for another tenant or app than the one named on the command
/// line (without names, any stored sign-in will do; a missing one is reported by the
/// source, which waits for `login`).
fn check_stored_identity(
    path: &std::path::Path,
    tenant: Option<&str>,
    client_id: Option<&str>,
) -> Result<(), CommandError> {
    if tenant.is_none() && client_id.is_none() {
        return Ok(());
    }
    let Some(stored) = graph::credentials::load(path)? else {
        return Ok(());
    };
    let is_other_tenant = tenant.is_some_and(|t| !t.eq_ignore_ascii_case(&stored.tenant));
    let is_other_app = client_id.is_some_and(|c| !c.eq_ignore_ascii_case(&stored.client_id));
    if is_other_tenant || is_other_app {
        return Err(CommandError::OtherSignIn {
            path: path.to_owned(),
            tenant: stored.tenant,
            client_id: stored.client_id,
        });
    }
    Ok(())
}

async fn serve(args: ServeArgs, stop: impl Future<Output = ()>) -> Result<(), CommandError> {
    let ini = match &args.config {
        Some(path) => presence_ini_file::load(path)?,
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
    let sip = args
        .sip_server
        .as_deref()
        .map(|server| sip_config(&args, server))
        .transpose()?;
    let token = load_token(args.token_file)?;
    let version_file = match args.version_file {
        Some(path) => path,
        None => directories::ProjectDirs::from("com", "UCX", "Presence Gateway")
            .map(|dirs| dirs.data_local_dir().join("version-floor"))
            .ok_or(CommandError::NoDataFolder)?,
    };
    let hub = PresenceHub::with_version_floor(
        HubSettings {
            winning_technology: ini.winning_technology,
            ms_teams_enabled: ini.ms_teams_enabled,
        },
        version_floor::load(&version_file)?,
    );
    let floor_task = version_floor::keep_ahead(hub.clone(), version_file)?;
    let source_task = match args.source {
        Source::Sim => simulator::spawn(
            hub.clone(),
            SimulatorConfig {
                users: args.users as usize,
                seed: args.seed,
                changes_per_sec: args.changes_per_sec.clamp(0.0, 1_000_000.0),
                simulate_sip: args.sip_server.is_none(),
                ..SimulatorConfig::default()
            },
        ),
        Source::Graph => {
            let path = credentials_path(args.credentials_file)?;
            check_stored_identity(&path, args.tenant.as_deref(), args.client_id.as_deref())?;
            let mut config = GraphConfig::new(path);
            config.graph_base_url = args.graph_base_url;
            config.authority_override = args.authority_url;
            config.proxy = proxy_setting(args.proxy);
            config.directory_refresh = Duration::from_secs(args.directory_refresh_mins * 60);
            config.budget.min_cycle = Duration::from_secs(args.min_poll_secs);
            graph::spawn(hub.clone(), config)?
        }
    };
    let is_graph = matches!(args.source, Source::Graph);
    let sip_task = match sip {
        Some(config) => Some(presence_sources::sip::spawn(hub.clone(), config).await?),
        None => {
            if is_graph {
                // Panels say so, rather than showing nothing about the telephony side.
                hub.set_source_health(
                    presence_domain::Technology::SipSimple,
                    presence_domain::SourceState::Disabled,
                    "no SIP presence server configured (--sip-server)",
                );
            }
            None
        }
    };
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(cert_file), Some(key_file)) => Some(ServerTls {
            cert_file,
            key_file,
            client_ca_file: args.tls_client_ca,
        }),
        _ => None,
    };
    let config = GatewayConfig {
        listen: args.listen,
        token,
        tls,
        allow_plaintext_off_loopback: args.allow_plaintext_off_loopback,
        heartbeat_interval: Duration::from_secs(args.heartbeat_secs),
        limits: GatewayLimits {
            max_subscriptions: args.max_subscriptions,
            stalled_subscriber_timeout: Duration::from_secs(args.stalled_subscriber_secs),
            ..GatewayLimits::default()
        },
    };
    let running = server::start(hub, config).await?;
    println!("presence-gateway listening on {}", running.endpoint_url());
    stop.await;
    tracing::info!("shutting down (Ctrl-C again to stop at once)");
    source_task.abort();
    if let Some(task) = sip_task {
        task.abort();
    }
    floor_task.abort();
    tokio::select! {
        result = running.shutdown() => Ok(result?),
        () = second_interrupt() => {
            tracing::warn!("second Ctrl-C: stopping at once");
            Ok(())
        }
    }
}

/// The SIP source's settings from the flags.
fn sip_config(
    args: &ServeArgs,
    server: &str,
) -> Result<presence_sources::sip::SipConfig, CommandError> {
    use presence_sources::sip::{SipConfig, SipTransport, UriTemplate};
    let domain = args.sip_domain.clone().unwrap_or_else(|| server.to_owned());
    let mut config = SipConfig::new(server, &domain);
    config.transport = SipTransport::parse(&args.sip_transport).unwrap_or_default();
    config.port = args.sip_port.unwrap_or(match config.transport {
        SipTransport::Tls => 5061,
        SipTransport::Udp | SipTransport::Tcp => 5060,
    });
    config.tls_ca_file.clone_from(&args.sip_ca_file);
    config.user.clone_from(&args.sip_user);
    config.uri_template = UriTemplate::parse(&args.sip_uri_template)?;
    config.expires = Duration::from_secs(args.sip_expires_secs);
    config.watch_dialogs = !args.sip_no_dialogs;
    config.subscribes_per_sec = args.sip_subscribes_per_sec;
    config.rls_uri.clone_from(&args.sip_rls_uri);
    if let Some(path) = &args.sip_password_file {
        config.password = Some(read_password_file(path)?);
    }
    Ok(config)
}

/// The first line of a password file that only its owner can read.
fn read_password_file(
    path: &Path,
) -> Result<presence_sources::graph::secret::Secret, CommandError> {
    let refuse = |reason: String| CommandError::SipPassword {
        path: path.to_owned(),
        reason,
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| refuse(e.to_string()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(refuse(format!(
                "it is readable by others (mode {:o}); make it readable by its owner only: chmod 600",
                mode & 0o777
            )));
        }
    }
    let text = std::fs::read_to_string(path).map_err(|e| refuse(e.to_string()))?;
    let password = text
        .lines()
        .next()
        .unwrap_or_default()
        .trim_end_matches('\r');
    if password.is_empty() {
        return Err(refuse("its first line is empty".to_owned()));
    }
    Ok(presence_sources::graph::secret::Secret::new(password))
}

/// Resolves on a Ctrl-C during shutdown (never, if Ctrl-C cannot be listened for).
async fn second_interrupt() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Resolves on Ctrl-C or (on Unix) SIGTERM.
async fn interrupted() {
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
