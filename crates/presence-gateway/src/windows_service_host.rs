//! The gateway as a Windows service (`PresenceGateway`, "UCX Presence Gateway"),
//! through the maintained `windows-service` crate (Mullvad's).
//!
//! The installer registers the service (`ServiceInstall`: `presence-gateway.exe service
//! run`, automatic start) and then runs `presence-gateway.exe service configure`, which
//! sets what the installer's tables cannot: restart on failure (after 5 s, 5 s, then
//! 60 s; the count resets after a day), also when the gateway exits with an error
//! rather than a crash. Stop and shutdown end the gateway as Ctrl-C does (within
//! seconds, whatever clients do). `service status` prints what the service control
//! manager holds. The same binary still runs in a console.

/// The service's name (`sc query PresenceGateway`).
pub const SERVICE_NAME: &str = "PresenceGateway";
/// What the Services console shows.
pub const DISPLAY_NAME: &str = "UCX Presence Gateway";

/// Why a service command failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceHostError {
    #[error(
        "`presence-gateway service` is for Windows; elsewhere run it under systemd (packaging/presence-gateway.service)"
    )]
    NotWindows,
    #[cfg(windows)]
    #[error("{what}: {source}")]
    Windows {
        what: &'static str,
        #[source]
        source: windows_service::Error,
    },
}

/// What the service runs: given a receiver that turns `true` when the service control
/// manager asks it to stop, serves until then; returns the exit code (0: stopped
/// cleanly; otherwise the service reports a failure and is restarted).
pub type ServeFn = Box<dyn FnOnce(tokio::sync::watch::Receiver<bool>) -> u32 + Send>;

#[cfg(windows)]
mod windows {
    use std::ffi::OsString;
    use std::sync::Mutex;
    use std::time::Duration;

    use windows_service::service::{
        ServiceAccess, ServiceAction, ServiceActionType, ServiceControl, ServiceControlAccept,
        ServiceExitCode, ServiceFailureActions, ServiceFailureResetPeriod, ServiceState,
        ServiceStatus, ServiceType,
    };
    use windows_service::service_control_handler::{self, ServiceControlHandlerResult};
    use windows_service::service_dispatcher;
    use windows_service::service_manager::{ServiceManager, ServiceManagerAccess};

    use super::{SERVICE_NAME, ServeFn, ServiceHostError};

    /// What `service_main` runs (the dispatcher calls a plain function).
    static SERVE: Mutex<Option<ServeFn>> = Mutex::new(None);

    windows_service::define_windows_service!(ffi_service_main, service_main);

    fn failed(what: &'static str) -> impl FnOnce(windows_service::Error) -> ServiceHostError {
        move |source| ServiceHostError::Windows { what, source }
    }

    pub fn run(serve: ServeFn) -> Result<(), ServiceHostError> {
        if let Ok(mut slot) = SERVE.lock() {
            *slot = Some(serve);
        }
        service_dispatcher::start(SERVICE_NAME, ffi_service_main).map_err(failed(
            "cannot start as a service (is it started by the service control manager?)",
        ))
    }

    fn status(state: ServiceState, exit_code: u32) -> ServiceStatus {
        ServiceStatus {
            service_type: ServiceType::OWN_PROCESS,
            current_state: state,
            controls_accepted: if state == ServiceState::Running {
                ServiceControlAccept::STOP | ServiceControlAccept::SHUTDOWN
            } else {
                ServiceControlAccept::empty()
            },
            exit_code: if exit_code == 0 {
                ServiceExitCode::Win32(0)
            } else {
                ServiceExitCode::ServiceSpecific(exit_code)
            },
            checkpoint: 0,
            wait_hint: Duration::from_secs(if state == ServiceState::Running {
                0
            } else {
                10
            }),
            process_id: None,
        }
    }

    fn service_main(_arguments: Vec<OsString>) {
        let Some(serve) = SERVE.lock().ok().and_then(|mut slot| slot.take()) else {
            return;
        };
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let handler = move |control| match control {
            ServiceControl::Stop | ServiceControl::Shutdown => {
                let _ = stop_tx.send(true);
                ServiceControlHandlerResult::NoError
            }
            ServiceControl::Interrogate => ServiceControlHandlerResult::NoError,
            _ => ServiceControlHandlerResult::NotImplemented,
        };
        let handle = match service_control_handler::register(super::SERVICE_NAME, handler) {
            Ok(handle) => handle,
            Err(err) => {
                tracing::error!(%err, "cannot register the service control handler");
                return;
            }
        };
        if let Err(err) = handle.set_service_status(status(ServiceState::Running, 0)) {
            tracing::error!(%err, "cannot report the service running");
        }
        let exit_code = serve(stop_rx);
        if let Err(err) = handle.set_service_status(status(ServiceState::Stopped, exit_code)) {
            tracing::error!(%err, "cannot report the service stopped");
        }
    }

    /// The PresenceGateway service, opened for `access`.
    fn open_service(
        access: ServiceAccess,
    ) -> Result<windows_service::service::Service, ServiceHostError> {
        let manager = ServiceManager::local_computer(None::<&str>, ServiceManagerAccess::CONNECT)
            .map_err(failed("cannot open the service control manager"))?;
        manager
            .open_service(SERVICE_NAME, access)
            .map_err(failed("cannot open the PresenceGateway service"))
    }

    /// The recovery the installer cannot set: restart on any failure.
    pub fn configure() -> Result<(), ServiceHostError> {
        let service = open_service(ServiceAccess::CHANGE_CONFIG | ServiceAccess::QUERY_CONFIG)?;
        service
            .set_description(
                "Serves colleagues' Teams and SIP presence to UCX presence panels over gRPC.",
            )
            .map_err(failed("cannot set the service's description"))?;
        let restart = |secs| ServiceAction {
            action_type: ServiceActionType::Restart,
            delay: Duration::from_secs(secs),
        };
        service
            .update_failure_actions(ServiceFailureActions {
                reset_period: ServiceFailureResetPeriod::After(Duration::from_secs(24 * 3600)),
                reboot_msg: None,
                command: None,
                actions: Some(vec![restart(5), restart(5), restart(60)]),
            })
            .map_err(failed("cannot set the service's recovery"))?;
        service
            .set_failure_actions_on_non_crash_failures(true)
            .map_err(failed("cannot set recovery on exits with an error"))?;
        Ok(())
    }

    /// What the service control manager holds about the service, in lines.
    pub fn status_report() -> Result<Vec<String>, ServiceHostError> {
        let service = open_service(ServiceAccess::QUERY_STATUS | ServiceAccess::QUERY_CONFIG)?;
        let state = service
            .query_status()
            .map_err(failed("cannot query the service"))?;
        let config = service
            .query_config()
            .map_err(failed("cannot read the service's configuration"))?;
        let mut lines = vec![
            format!("state: {:?}", state.current_state),
            format!("start: {:?}", config.start_type),
            format!(
                "account: {}",
                config.account_name.as_deref().map_or_else(
                    || "LocalSystem".into(),
                    |a| a.to_string_lossy().into_owned()
                )
            ),
            format!("command: {}", config.executable_path.display()),
        ];
        match service.get_failure_actions() {
            Ok(actions) => lines.push(format!(
                "on failure: {}",
                actions
                    .actions
                    .unwrap_or_default()
                    .iter()
                    .map(|a| format!("{:?} after {} s", a.action_type, a.delay.as_secs()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Err(err) => lines.push(format!("on failure: unknown ({err})")),
        }
        Ok(lines)
    }
}

/// Runs `serve` as the Windows service (called when the service control manager starts
/// `presence-gateway.exe service run`).
pub fn run(serve: ServeFn) -> Result<(), ServiceHostError> {
    #[cfg(windows)]
    {
        windows::run(serve)
    }
    #[cfg(not(windows))]
    {
        drop(serve);
        Err(ServiceHostError::NotWindows)
    }
}

/// Sets the service's recovery (restart on failure) and description.
pub fn configure() -> Result<(), ServiceHostError> {
    #[cfg(windows)]
    {
        windows::configure()
    }
    #[cfg(not(windows))]
    {
        Err(ServiceHostError::NotWindows)
    }
}

/// The service's state and configuration, in lines for a person.
pub fn status_report() -> Result<Vec<String>, ServiceHostError> {
    #[cfg(windows)]
    {
        windows::status_report()
    }
    #[cfg(not(windows))]
    {
        Err(ServiceHostError::NotWindows)
    }
}

/// The folder of the service's settings, state and logs:
/// `%ProgramData%\UCX\Presence Gateway` (the installer passes it as `--data-dir`; in
/// a service's environment Wine sets `ProgramData` elsewhere).
pub fn program_data_dir() -> Option<std::path::PathBuf> {
    std::env::var_os("ProgramData")
        .map(std::path::PathBuf::from)
        .map(|dir| dir.join("UCX").join("Presence Gateway"))
}
