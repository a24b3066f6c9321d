//! Sources of presence: they feed the hub with directory changes and per-technology
//! presence. The simulator is the embedded default; Microsoft Graph is the real one.

pub mod graph;
pub mod names;
pub mod rng;
pub mod simulator;
