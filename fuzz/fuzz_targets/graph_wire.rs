//! Microsoft Graph's answers from any bytes: users and presence pages parse or fail
//! cleanly, and every presence maps to the domain.
#![no_main]

use libfuzzer_sys::fuzz_target;
use presence_sources::graph::wire::{parse_presence_page, parse_users_page};

fuzz_target!(|data: &[u8]| {
    let _ = parse_users_page(data);
    if let Ok(page) = parse_presence_page(data) {
        for (_, presence) in &page.presences {
            let presence = presence.to_domain("anna@contoso.com");
            let _ = presence.describe();
            let _ = presence.headline();
        }
    }
});
