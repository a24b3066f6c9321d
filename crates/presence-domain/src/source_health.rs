//! Whether a source of presence is delivering live data.

use std::time::SystemTime;

use super::presence::Technology;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceState {
    /// Presence from this source is current.
    Live,
    /// The source cannot be reached: what it reported before is the last known state.
    #[default]
    Stale,
    /// Turned off in the settings.
    Disabled,
}

/// The health of one technology's source, as the gateway reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceHealth {
    pub technology: Technology,
    pub state: SourceState,
    /// Why, in words, when not live. Never a secret.
    pub detail: String,
    pub since: SystemTime,
}
