//! The presence hub: everyone's latest presence per technology, the winning-technology
//! rule, versions that only grow, and fan-out to subscribers through coalescing queues.
//!
//! - [`hub`]: the hub itself (directory, presence, source health, watch sets).
//! - [`subscriber_queue`]: one subscriber's pending work (which colleagues changed).
//! - `bit_set`, `locks`: the small tools they are built from.
//!
//! Sources publish into it; the gateway's service reads from it. Must never speak gRPC
//! or HTTP (the crate depends on neither) and never queue the changes themselves.

mod bit_set;
pub mod hub;
mod locks;
pub mod subscriber_queue;

pub use hub::{
    DirectoryChange, DirectoryUpdate, HubEntry, HubSettings, HubView, PendingUpnsFull, PresenceHub,
};
pub use subscriber_queue::{PENDING_UPN_OVERHEAD_BYTES, Pending, SubscriberQueue};
