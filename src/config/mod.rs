//! Settings read from files: the UCX `Presence.ini`.

pub mod presence_ini;

pub use presence_ini::{PresenceIni, PresenceIniError};
