//! The desktop presence panel: an eframe/egui app that shows a whole company's
//! presence, live, searchable by name or UPN.
//!
//! - [`connection`]: the gRPC link on the app's tokio runtime; hands events to the UI.
//! - [`directory_model`]: the state of the world, applied from those events.
//! - [`directory_view`]: what the list shows (search, filter, sort) and the selection.
//! - [`app`]: the eframe app: drains events under a time budget, handles keys, draws.
//! - [`ui`]: one file per part of the window.
//! - [`status_icon`], [`theme`]: the icons and every colour.
//! - [`board`], [`board_view`], [`board_store`]: the receptionist's board (favourites,
//!   groups, rule groups), what it shows, and its file.
//! - [`availability_watches`]: "notify me when available".
//! - [`colleague_actions`]: copy, Teams deep links, `tel:`; [`desktop_notifier`].
//! - [`keyboard_map`]: every shortcut, for F1 and the README.
//! - [`settings`], [`persisted_file`]: what is remembered between runs, written safely.
//! - [`demo`]: the simulated gateway run inside the panel for `--demo`.
//! - [`memory`]: gives memory freed after a bulk load back to the system.

pub mod app;
pub mod availability_watches;
pub mod board;
pub mod board_store;
pub mod board_view;
pub mod colleague_actions;
pub mod connection;
pub mod demo;
pub mod desktop_notifier;
pub mod directory_model;
pub mod directory_view;
pub mod keyboard_map;
pub mod machine_defaults;
pub mod memory;
pub mod persisted_file;
pub mod settings;
pub mod settings_draft;
pub mod single_instance;
pub mod start_at_sign_in;
pub mod status_icon;
pub mod theme;
pub mod ui;

pub use app::{PanelApp, PanelAppInit};
