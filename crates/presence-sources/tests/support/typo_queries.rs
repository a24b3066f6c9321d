//! Queries with one typo in a surname, made from a directory with a fixed seed: for the
//! typo-ranking test (`tests/typo_ranking.rs`) and benchmark (`benches/search.rs`).
//!
//! Each takes a random colleague's folded surname (five letters or more: shorter words
//! are forgiven no typo) and makes one Damerau edit: a letter deleted, one inserted,
//! one replaced, or two neighbours swapped. Half the queries put the exact given name
//! first ("francois martn"), half are the surname alone ("matrin").
// Shared by a test and a benchmark: each uses part of it.
#![allow(dead_code)]

use presence_domain::Colleague;
use presence_domain::rng::SeededRng;
use presence_domain::text::fold;
use presence_sources::simulator::{Simulator, SimulatorConfig};

/// The simulated company of `users` (seed 1) the search is measured on.
pub fn simulated_company(users: usize) -> Vec<Colleague> {
    let now = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
    Simulator::new(
        SimulatorConfig {
            users,
            seed: 1,
            ..Default::default()
        },
        now,
    )
    .directory()
}

/// One query and whom it means.
#[derive(Debug, Clone)]
pub struct TypoQuery {
    pub query: String,
    /// The colleague it was made from (its index in the directory).
    pub key: u32,
    /// Their folded surname.
    pub surname: String,
    /// Whether the exact given name comes first.
    pub with_given_name: bool,
}

const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";

/// `count` queries from `directory`, the same ones for the same `seed`.
pub fn typo_queries(directory: &[Colleague], count: usize, seed: u64) -> Vec<TypoQuery> {
    let mut rng = SeededRng::new(seed);
    let mut out = Vec::with_capacity(count);
    let mut attempts = 0;
    while out.len() < count && attempts < count * 50 {
        attempts += 1;
        let key = rng.below(directory.len());
        let colleague = &directory[key];
        let surname = fold(&colleague.surname);
        let given = fold(&colleague.given_name);
        if surname.len() < 5
            || !surname.bytes().all(|b| b.is_ascii_lowercase())
            || given.is_empty()
            || given.contains(' ')
        {
            continue;
        }
        let bytes = surname.as_bytes();
        let at = rng.below(bytes.len());
        let mut typo = bytes.to_vec();
        match rng.below(4) {
            0 => {
                typo.remove(at);
            }
            1 => typo.insert(at, *rng.pick(LETTERS)),
            2 => typo[at] = *rng.pick(LETTERS),
            _ => {
                if at + 1 >= typo.len() {
                    continue;
                }
                typo.swap(at, at + 1);
            }
        }
        let Ok(typo) = String::from_utf8(typo) else {
            continue;
        };
        if typo == surname {
            continue;
        }
        let with_given_name = rng.chance(0.5);
        let query = if with_given_name {
            format!("{given} {typo}")
        } else {
            typo
        };
        out.push(TypoQuery {
            query,
            key: key as u32,
            surname,
            with_given_name,
        });
    }
    out
}

/// Whether the first ten results hold what the query meant: the colleague when the
/// given name was typed (or a namesake: the query cannot tell them apart), anyone with
/// that surname otherwise.
pub fn is_found(query: &TypoQuery, results: &[u32], directory: &[Colleague]) -> bool {
    let meant = &directory[query.key as usize];
    results.iter().take(10).any(|&key| {
        let found = &directory[key as usize];
        fold(&found.surname) == query.surname
            && (!query.with_given_name || fold(&found.given_name) == fold(&meant.given_name))
    })
}
