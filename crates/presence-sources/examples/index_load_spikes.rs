//! Loading 100,000 colleagues into the search index two ways: inserted page by page
//! (500 a page; the slowest pages and the final pack), and built at once with
//! `SearchIndexBuilder`, as the panel builds a first listing off its UI thread.
//! `cargo run --release -p presence-sources --example index_load_spikes`.
// An example: an `expect` ends it with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant, SystemTime};

use presence_domain::search::{SearchIndex, SearchIndexBuilder};
use presence_sources::simulator::{Simulator, SimulatorConfig};

fn main() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let directory = Simulator::new(
        SimulatorConfig {
            users: 100_000,
            seed: 1,
            ..Default::default()
        },
        now,
    )
    .directory();
    let mut index = SearchIndex::new();
    let mut pages: Vec<(Duration, usize)> = Vec::new();
    let mut out = Vec::new();
    let started = Instant::now();
    for (page, chunk) in directory.chunks(500).enumerate() {
        let t = Instant::now();
        for (i, colleague) in chunk.iter().enumerate() {
            index.insert((page * 500 + i) as u32, colleague);
        }
        // The panel searches after each page (the list shows what has come).
        index.search("", &mut out, |_| ["", ""]);
        pages.push((t.elapsed(), page));
    }
    // The upkeep the panel does a slice a frame (10,000 words), until none is left.
    let mut slices = Vec::new();
    loop {
        let t = Instant::now();
        let is_more = index.tidy(10_000);
        slices.push(t.elapsed());
        if !is_more {
            break;
        }
    }
    println!(
        "merge left by the inserts, in slices of 10,000 words: {} slices, slowest {:?}",
        slices.len(),
        slices.iter().max()
    );
    let t = Instant::now();
    index.pack();
    let pack = t.elapsed();
    let t = Instant::now();
    index.search("ma", &mut out, |_| ["", ""]);
    let first_search = t.elapsed();
    pages.sort();
    println!(
        "inserted page by page: 200 pages in {:?}; slowest: {:?}; last pack {pack:?}; first search {first_search:?}",
        started.elapsed(),
        &pages[pages.len() - 6..]
    );

    // The bulk builder, as the panel uses it for a whole listing.
    for _ in 0..3 {
        let started = Instant::now();
        let mut builder = SearchIndexBuilder::new();
        for (key, colleague) in directory.iter().enumerate() {
            builder.insert(key as u32, colleague);
        }
        let gathered = started.elapsed();
        let mut built = builder.finish();
        let total = started.elapsed();
        let mut from_builder = Vec::new();
        built.search("ma", &mut from_builder, |_| ["", ""]);
        index.search("ma", &mut out, |_| ["", ""]);
        assert_eq!(
            from_builder, out,
            "the builder's index answers as the inserted one"
        );
        println!(
            "built at once: {total:?} (gathering the words {gathered:?}, sorting and packing {:?})",
            total - gathered
        );
    }
}
