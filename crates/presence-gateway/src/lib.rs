//! The presence gateway, the UCX presence endpoint: the gRPC server that panels
//! subscribe to, over the hub that sources feed.
//!
//! - [`service`]: the `ucx.presence.v1` service; one task per subscription.
//! - [`server`]: listener, TLS, health, reflection, limits, access control, shutdown.
//! - [`auth`]: the bearer-token interceptor.
//! - [`tls`]: TLS and mutual TLS, the certificate read again when renewed.
//! - [`subscription_limits`]: subscriptions in total and per connection.
//! - [`memory`]: memory of subscribers that left, given back to the system.
//! - [`check`]: `presence-gateway check`, a client that proves a gateway serves.
//! - [`presence_ini_file`]: reading `Presence.ini` from disk.
//! - [`version_floor`]: versions that keep growing when the clock steps back.
//! - [`settings_file`]: `gateway.toml`, the same settings as the flags.
//! - [`windows_service_host`]: running as the `PresenceGateway` Windows service.
//! - [`rotating_log`]: a size-capped log file (the service's, or `--log-file`).
//!
//! Must never depend on a GUI crate (eframe, egui, winit, glow): the crate graph keeps
//! `presence-gateway.exe` free of them.

pub mod auth;
pub mod check;
pub mod memory;
pub mod presence_ini_file;
pub mod rotating_log;
pub mod server;
pub mod service;
pub mod settings_file;
pub mod subscription_limits;
pub mod tls;
pub mod version_floor;
pub mod windows_service_host;

pub use server::{GatewayConfig, GatewayError, RunningGateway, ServerTls};
pub use subscription_limits::GatewayLimits;
