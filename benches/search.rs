//! Search per keystroke over 100,000 colleagues: each query is typed one character at a
//! time, as an operator would, and every prefix is searched.
// A benchmark crate: an `expect` in a helper fails the benchmark that called it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Queries with one typo in a surname, shared with `presence-sources`' ranking test.
#[path = "../crates/presence-sources/tests/support/typo_queries.rs"]
mod typo_queries;
use presence_domain::search::SearchIndex;

const QUERIES: &[&str] = &[
    "rossi",
    "jose garcia",
    "lukasz",
    "hnasen",
    "anna sales",
    "sales manager",
    "+39 02 5550",
    "maria.lopez@",
    // Short prefixes of the most common given names and surnames, typed on.
    "maria",
    "martin",
    "anna",
    "jan",
    "muller",
    "garcia",
    // Several words, UPN and phone prefixes, typos.
    "ann ross",
    "kowalski",
    "kowalska",
    "maria martinez sales",
    "anna.ro",
    "+49 30",
    "francois martn",
    "matrin",
    "rordigues",
];

/// Colleagues in the company searched: 100,000, or `SEARCH_BENCH_USERS` (500,000 for
/// the largest tenants).
fn users() -> usize {
    std::env::var("SEARCH_BENCH_USERS")
        .ok()
        .and_then(|users| users.parse().ok())
        .unwrap_or(100_000)
}

fn search_per_keystroke(c: &mut Criterion) {
    let directory = typo_queries::simulated_company(users());
    let mut index = SearchIndex::build(directory.iter().enumerate().map(|(i, c)| (i as u32, c)));
    let keystrokes: Vec<&str> = QUERIES
        .iter()
        .flat_map(|q| q.char_indices().map(move |(i, ch)| &q[..i + ch.len_utf8()]))
        .collect();
    let addresses = |key: u32| {
        let c = &directory[key as usize];
        [c.upn.as_str(), c.mail.as_str()]
    };
    let mut out = Vec::with_capacity(100_000);
    let mut group = c.benchmark_group(format!("search_{}k", directory.len() / 1_000));
    group.throughput(Throughput::Elements(keystrokes.len() as u64));
    group.bench_function("typing_queries_per_keystroke", |b| {
        b.iter(|| {
            let mut found = 0;
            for prefix in &keystrokes {
                index.search(prefix, &mut out, addresses);
                found += out.len();
            }
            found
        })
    });
    for query in ["r", "ro", "rossi", "hnasen", "rossi sales"] {
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("query/{query}"), |b| {
            b.iter(|| {
                index.search(query, &mut out, addresses);
                out.len()
            })
        });
    }
    group.finish();

    // The distribution per keystroke (criterion reports means over the whole typing).
    let per_keystroke = keystroke_times(&mut index, &keystrokes, addresses);
    report_keystrokes(&per_keystroke, directory.len(), "");
    // A live directory: 1 % of the colleagues changed since the listing (each becomes a
    // new entry, kept in name order apart from the built ones).
    for (i, colleague) in directory.iter().enumerate().step_by(100) {
        index.insert(i as u32, colleague);
    }
    let per_keystroke = keystroke_times(&mut index, &keystrokes, addresses);
    report_keystrokes(
        &per_keystroke,
        directory.len(),
        ", 1 % of them changed since",
    );
    // The panel builds a whole listing at once (off the UI thread); one by one is how
    // changes after it are applied.
    let build_started = std::time::Instant::now();
    let built = SearchIndex::build(directory.iter().enumerate().map(|(i, c)| (i as u32, c)));
    let built_in = build_started.elapsed();
    let insert_started = std::time::Instant::now();
    let mut inserted = SearchIndex::new();
    for (i, colleague) in directory.iter().enumerate() {
        inserted.insert(i as u32, colleague);
    }
    inserted.pack();
    println!(
        "index of {} colleagues: built at once {built_in:?}, inserted one by one {:?}",
        built.len(),
        insert_started.elapsed()
    );
}

/// Each keystroke's time, the median of 15, each timed right after the keystroke
/// before it, as typed (the index carries the words already typed over from one search
/// to the next); slowest last.
fn keystroke_times<'a, 'd>(
    index: &mut SearchIndex,
    keystrokes: &[&'a str],
    addresses: impl Fn(u32) -> [&'d str; 2] + Copy,
) -> Vec<(std::time::Duration, &'a str)> {
    let mut out = Vec::with_capacity(100_000);
    let mut per_keystroke: Vec<(std::time::Duration, &str)> = keystrokes
        .iter()
        .map(|prefix| {
            let before = &prefix[..prefix.len() - prefix.chars().last().map_or(0, char::len_utf8)];
            let mut samples: Vec<std::time::Duration> = (0..15)
                .map(|_| {
                    index.search(before, &mut out, addresses);
                    let t = std::time::Instant::now();
                    index.search(prefix, &mut out, addresses);
                    t.elapsed()
                })
                .collect();
            samples.sort();
            (samples[samples.len() / 2], *prefix)
        })
        .collect();
    per_keystroke.sort();
    per_keystroke
}

fn report_keystrokes(per_keystroke: &[(std::time::Duration, &str)], users: usize, what: &str) {
    let n = per_keystroke.len();
    println!(
        "slowest ten keystrokes{what}: {:?}",
        &per_keystroke[n.saturating_sub(10)..]
    );
    println!(
        "search per keystroke among {users} colleagues{what} over {n} keystrokes: median {:?}, \
         p90 {:?}, slowest {:?} ({:?})",
        per_keystroke[n / 2].0,
        per_keystroke[n * 9 / 10].0,
        per_keystroke[n - 1].0,
        per_keystroke[n - 1].1
    );
}

/// Typo ranking over 100,000 colleagues: how long 400 queries with one typo in the
/// surname take, and how many find the person meant in the first ten (the test in
/// `crates/presence-sources/tests/typo_ranking.rs` holds it to 99 %).
fn typo_ranking(c: &mut Criterion) {
    let directory = typo_queries::simulated_company(100_000);
    let mut index = SearchIndex::build(directory.iter().enumerate().map(|(i, c)| (i as u32, c)));
    let addresses = |key: u32| {
        let c = &directory[key as usize];
        [c.upn.as_str(), c.mail.as_str()]
    };
    let queries = typo_queries::typo_queries(&directory, 400, 7);
    let mut out = Vec::with_capacity(100_000);
    let found = queries
        .iter()
        .filter(|q| {
            index.search(&q.query, &mut out, addresses);
            typo_queries::is_found(q, &out, &directory)
        })
        .count();
    println!(
        "typo ranking: {found} of {} queries find whom they meant in the first ten ({:.1} %)",
        queries.len(),
        100.0 * found as f64 / queries.len() as f64
    );
    let mut group = c.benchmark_group("typo_ranking_100k");
    group.throughput(Throughput::Elements(queries.len() as u64));
    group.bench_function("queries_with_one_typo", |b| {
        b.iter(|| {
            queries
                .iter()
                .map(|q| {
                    index.search(&q.query, &mut out, addresses);
                    out.len()
                })
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, search_per_keystroke, typo_ranking);
criterion_main!(benches);
