//! Pure domain model of Teams presence and the company directory, and the UCX
//! `Presence.ini` settings.
//!
//! Nothing here knows about gRPC, egui, async runtimes or the network, and nothing here
//! does I/O: these types are what the rest of the workspace converts to and from. The
//! crate's dependencies keep it that way (no tokio, no tonic, no egui).

pub mod call_readiness;
pub mod colleague;
pub mod held_presence;
pub mod packed_colleague;
pub mod presence;
pub mod presence_ini;
pub mod rng;
pub mod search;
pub mod source_health;
pub mod text;
pub mod winning;

pub use colleague::Colleague;
pub use held_presence::HeldPresence;
pub use presence::{Activity, Availability, OutOfOffice, Presence, StatusMessage, Technology};
pub use presence_ini::{PresenceIni, PresenceIniError};
pub use source_health::{SourceHealth, SourceState};
pub use winning::WinningTechnology;
