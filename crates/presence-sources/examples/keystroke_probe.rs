//! Times single queries over the simulated 100,000 (or `USERS`), with the result size:
//! `cargo run --release -p presence-sources --example keystroke_probe -- "+39" mari`
//! (`REPEAT` times each, 25 by default; `CHANGED=N` re-inserts N colleagues first).
// An example: an `expect` ends it with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant, SystemTime};

use presence_domain::search::SearchIndex;
use presence_sources::simulator::{Simulator, SimulatorConfig};

fn main() {
    let users = std::env::var("USERS")
        .ok()
        .and_then(|u| u.parse().ok())
        .unwrap_or(100_000);
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let directory = Simulator::new(
        SimulatorConfig {
            users,
            seed: 1,
            ..Default::default()
        },
        now,
    )
    .directory();
    let mut index = SearchIndex::build(directory.iter().enumerate().map(|(i, c)| (i as u32, c)));
    let repeat = std::env::var("REPEAT")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(25);
    // `CHANGED=N`: N colleagues changed since the index was built (a live directory),
    // which takes the documents out of name order.
    let changed: usize = std::env::var("CHANGED")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    for (key, colleague) in directory.iter().enumerate().take(changed) {
        index.insert(key as u32, colleague);
    }
    let mut out = Vec::new();
    for query in std::env::args().skip(1) {
        let mut samples: Vec<Duration> = (0..repeat)
            .map(|_| {
                let t = Instant::now();
                index.search(&query, &mut out, |_| ["", ""]);
                t.elapsed()
            })
            .collect();
        samples.sort();
        println!(
            "{query:?}: {} found, median {:?}",
            out.len(),
            samples[samples.len() / 2]
        );
    }
}
