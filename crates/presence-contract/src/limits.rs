//! Message limits that the gateway and its clients agree on.

/// Largest request message the gateway accepts, in bytes.
pub const MAX_REQUEST_BYTES: usize = 1 << 20;
/// Largest response message the gateway sends and a client accepts, in bytes.
pub const MAX_RESPONSE_BYTES: usize = 32 << 20;
