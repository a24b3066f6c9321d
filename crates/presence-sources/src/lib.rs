//! Sources of presence: they feed the hub with directory changes and per-technology
//! presence. The simulator is the embedded default; Microsoft Graph (Teams) and SIP SIMPLE
//! (the telephony platform) are the real ones.
//!
//! Must never speak gRPC or know about subscribers (the crate depends on the hub's
//! publishing API, not on the contract or the gateway).

pub mod graph;
pub mod names;
pub mod simulator;
pub mod sip;
