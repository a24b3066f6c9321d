//! What a panel decodes from a gateway, from any bytes: a subscription event or a
//! directory page decodes or is refused, and what decodes converts to the domain or is
//! refused, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use presence_contract::proto;
use presence_domain::{Colleague, Presence};
use prost::Message;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = proto::SubscribeResponse::decode(data) {
        use proto::subscribe_response::Event;
        let presences = match message.event {
            Some(Event::Snapshot(s)) => s.presences,
            Some(Event::Updates(u)) => u.presences,
            Some(Event::Directory(d)) => {
                for change in d.changes {
                    if let Some(c) = change.colleague {
                        let _ = Colleague::try_from(c);
                    }
                }
                Vec::new()
            }
            _ => Vec::new(),
        };
        for p in presences {
            if let Ok(presence) = Presence::try_from(p) {
                let _ = presence.describe();
            }
        }
    }
    if let Ok(page) = proto::ListDirectoryResponse::decode(data) {
        for c in page.colleagues {
            let _ = Colleague::try_from(c);
        }
    }
});
