//! Message limits that the gateway and its clients agree on.

/// Largest request message the gateway accepts, in bytes.
pub const MAX_REQUEST_BYTES: usize = 1 << 20;
/// Largest response message the gateway sends, in bytes (a directory page of 10,000
/// colleagues with long fields fits).
pub const MAX_RESPONSE_BYTES: usize = 32 << 20;
/// Largest response message this crate's client accepts, in bytes: our clients ask for
/// directory pages of at most 1,000 colleagues and get presence in messages of
/// [`STREAM_MESSAGE_BYTES`], a few MB at the very most, so a gateway that sends more is not believed (a hostile
/// one cannot make a panel decode 32 MiB at a time).
pub const MAX_CLIENT_RESPONSE_BYTES: usize = 8 << 20;

/// Each call's encode and decode buffer starts at this size and grows in steps of it.
pub const CODEC_BUFFER_BYTES: usize = 8 * 1024;
/// Encoded bytes a subscription message stays under (unless one presence or directory
/// change alone is larger): with its 5-byte frame header it fits [`CODEC_BUFFER_BYTES`],
/// so a subscriber's buffer never grows.
pub const STREAM_MESSAGE_BYTES: usize = CODEC_BUFFER_BYTES - 64;
