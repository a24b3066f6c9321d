//! The desktop presence panel: an eframe/egui app that shows a whole company's
//! presence, live, searchable by name or UPN.
//!
//! - [`connection`]: the gRPC link on the app's tokio runtime; hands events to the UI.
//! - [`directory_model`]: the state of the world, applied from those events.
//! - [`directory_view`]: what the list shows (search, filter, sort) and the selection.
//! - [`app`]: the eframe app: drains events under a time budget, handles keys, draws.
//! - [`ui`]: one file per part of the window.
//! - [`status_icon`], [`theme`]: the icons and every colour.
//! - [`settings`]: what is remembered between runs.
//! - [`demo`]: the simulated gateway run inside the panel for `--demo`.
//! - [`memory`]: gives memory freed after a bulk load back to the system.

pub mod app;
pub mod connection;
pub mod demo;
pub mod directory_model;
pub mod directory_view;
pub mod memory;
pub mod settings;
pub mod status_icon;
pub mod theme;
pub mod ui;

pub use app::{PanelApp, PanelAppInit};
