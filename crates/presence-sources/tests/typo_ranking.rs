//! Typo ranking over the simulated company of 100,000: a query with one typo in the
//! surname finds the colleague meant (or, for a surname alone, someone with that
//! surname) among the first ten results in at least 99 % of 400 queries; exact and
//! prefix matches still come first.
// A test crate: an `expect` fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support {
    pub mod typo_queries;
}

use presence_domain::search::SearchIndex;
use support::typo_queries::{is_found, simulated_company, typo_queries};

#[test]
fn one_typo_in_a_surname_still_finds_the_person_in_the_first_ten() {
    let directory = simulated_company(100_000);
    let mut index = SearchIndex::build(directory.iter().enumerate().map(|(i, c)| (i as u32, c)));
    let addresses = |key: u32| {
        let c = &directory[key as usize];
        [c.upn.as_str(), c.mail.as_str()]
    };
    let queries = typo_queries(&directory, 400, 7);
    assert_eq!(queries.len(), 400);
    let mut out = Vec::new();
    let mut missed = Vec::new();
    for query in &queries {
        index.search(&query.query, &mut out, addresses);
        if !is_found(query, &out, &directory) {
            missed.push(query.query.clone());
        }
    }
    let hit_rate = 1.0 - missed.len() as f64 / queries.len() as f64;
    eprintln!(
        "typo ranking: {:.1} % of {} in the first ten; missed: {missed:?}",
        hit_rate * 100.0,
        queries.len()
    );
    assert!(
        hit_rate >= 0.99,
        "{:.1} %: missed {missed:?}",
        hit_rate * 100.0
    );

    // The examples.
    for (query, surname) in [
        ("matrin", "martin"),
        ("maritn", "martin"),
        ("rordigues", "rodrigues"),
        ("ferraira", "ferreira"),
        ("mudler", "muller"),
    ] {
        index.search(query, &mut out, addresses);
        assert!(
            out.iter()
                .take(10)
                .any(|&k| presence_domain::text::fold(&directory[k as usize].surname) == surname),
            "{query}: no {surname} in the first ten"
        );
    }
    // Exact and prefix matches still first: "martin" puts Martins before "Marti...".
    index.search("martin", &mut out, addresses);
    let first = &directory[out[0] as usize];
    assert!(
        presence_domain::text::fold(&first.display_name).contains("martin"),
        "{}",
        first.display_name
    );
}
