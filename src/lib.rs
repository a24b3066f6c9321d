//! UCX presence: the presence gateway (a local gRPC endpoint fed by presence sources)
//! and the presence panel (the desktop app attendants watch all day).
//!
//! Layers, from the inside out:
//! - [`domain`]: pure presence and directory model, search. No gRPC, no egui.
//! - [`config`]: UCX `Presence.ini` settings.
//! - [`transport`]: generated gRPC code and conversions to and from the domain.
//! - [`sources`]: where presence comes from (the simulator, and Microsoft Graph for real
//!   Teams presence).
//! - [`gateway`]: the presence hub and the gRPC service.
//! - [`panel`]: the desktop app.

pub mod config;
pub mod domain;
pub mod gateway;
pub mod panel;
pub mod sources;
pub mod transport;
