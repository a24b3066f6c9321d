//! `Presence.ini` from any bytes: parsed or refused with a line, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = presence_domain::PresenceIni::from_bytes(
        data.to_vec(),
        std::path::Path::new("Presence.ini"),
    );
});
