//! Sources of presence: they feed the hub with directory changes and presence.
