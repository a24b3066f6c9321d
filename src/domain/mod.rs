//! Pure domain model of Teams presence and the company directory.
//!
//! Nothing here knows about gRPC, egui or the network: these types are what the rest of
//! the code converts to and from. Keep it that way.

pub mod colleague;
pub mod held_presence;
pub mod packed_colleague;
pub mod presence;
pub mod search;
pub mod source_health;
pub mod text;
pub mod winning;

pub use colleague::Colleague;
pub use held_presence::HeldPresence;
pub use presence::{Activity, Availability, OutOfOffice, Presence, StatusMessage, Technology};
pub use source_health::{SourceHealth, SourceState};
pub use winning::WinningTechnology;
