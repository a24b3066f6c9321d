//! The presence gateway: the hub that holds everyone's latest presence, and the gRPC
//! server that panels subscribe to.

pub mod auth;
pub mod check;
pub mod hub;
pub mod server;
pub mod service;

pub use hub::{DirectoryUpdate, HubSettings, PresenceHub};
pub use server::{GatewayConfig, GatewayError, RunningGateway};
