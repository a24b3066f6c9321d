//! Property tests of what reads outside input: `Presence.ini` (any bytes, any layout of
//! valid settings), the search query path (any query over any names), and Graph's
//! presence strings. Nothing panics; what is valid means what it says.
// A test crate: an `expect` fails the property that called it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use presence_domain::search::{SearchIndex, SearchIndexBuilder};
use presence_domain::{Colleague, Presence, PresenceIni, WinningTechnology};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn presence_ini_never_panics_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2_048)) {
        let _ = PresenceIni::from_bytes(bytes, Path::new("Presence.ini"));
    }

    #[test]
    fn presence_ini_never_panics_on_any_text(text in "\\PC{0,400}") {
        let _ = PresenceIni::parse(&text, Path::new("Presence.ini"));
    }

    #[test]
    fn valid_presence_ini_means_what_it_says(
        enable in any::<bool>(),
        teams_wins in any::<bool>(),
        sectioned in any::<bool>(),
        upper in any::<bool>(),
        pad in " {0,3}",
        comment in "[;#][ -~]{0,30}",
        utf16 in any::<bool>(),
    ) {
        let winning = if teams_wins { "MSTeams" } else { "SipSimple" };
        let winning = if upper { winning.to_uppercase() } else { winning.to_owned() };
        let enable_value = if enable { "1" } else { "0" };
        let text = if sectioned {
            format!("{comment}\n[MSTeamsPresence]\n{pad}Enable{pad}={pad}{enable_value}\n[RichPresence]\nWinningTechnology={winning}{pad}\n")
        } else {
            format!("{comment}\r\nMSTeamsPresence.Enable={enable_value}\r\n{pad}RichPresence.WinningTechnology = {winning}\r\n")
        };
        let bytes = if utf16 {
            let mut out = vec![0xFF, 0xFE];
            out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
            out
        } else {
            text.into_bytes()
        };
        let parsed = PresenceIni::from_bytes(bytes, Path::new("Presence.ini"));
        let parsed = parsed.map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(parsed.ms_teams_enabled, enable);
        let expected = if teams_wins { WinningTechnology::MsTeams } else { WinningTechnology::SipSimple };
        prop_assert_eq!(parsed.winning_technology, expected);
    }

    #[test]
    fn search_never_panics_and_finds_each_colleague_by_name(
        names in proptest::collection::vec("\\PC{1,30}", 1..40),
        query in "\\PC{0,40}",
    ) {
        let mut index = SearchIndex::new();
        let colleagues: Vec<Colleague> = names
            .iter()
            .enumerate()
            .map(|(n, name)| Colleague {
                upn: format!("user{n}@contoso.com"),
                mail: format!("user{n}@contoso.com"),
                display_name: name.clone(),
                ..Default::default()
            })
            .collect();
        for (n, colleague) in colleagues.iter().enumerate() {
            index.insert(n as u32, colleague);
        }
        let address = |key: u32| {
            let c = &colleagues[key as usize];
            [c.upn.as_str(), c.mail.as_str()]
        };
        let mut out = Vec::new();
        index.search(&query, &mut out, address);
        let mut seen = out.clone();
        seen.sort_unstable();
        seen.dedup();
        prop_assert_eq!(seen.len(), out.len(), "no one twice");
        prop_assert!(out.iter().all(|&k| (k as usize) < colleagues.len()));
        // Everyone is found by their whole name, when it has a word to search by (and
        // no '@': a query with '@' is an address).
        for (n, colleague) in colleagues.iter().enumerate() {
            let folded = presence_domain::text::fold(&colleague.display_name);
            if presence_domain::text::words(&folded).next().is_none() || folded.contains('@') {
                continue;
            }
            index.search(&colleague.display_name, &mut out, address);
            prop_assert!(out.contains(&(n as u32)), "{:?} not found by its name", colleague.display_name);
        }
    }

    #[test]
    fn text_is_single_line_exactly_when_single_line_keeps_it(
        text in "[a-c \t\n\u{202E}\u{a0}é]{0,12}",
        max in 0usize..12,
    ) {
        let made = presence_domain::text::single_line(&text, max);
        prop_assert_eq!(presence_domain::text::is_single_line(&text, max), made == text);
    }

    #[test]
    fn an_index_built_at_once_answers_as_one_built_by_inserting(
        people in proptest::collection::vec(("[a-zA-Zé ]{1,12}", "[a-z ]{0,10}", 0u32..30), 1..60),
        queries in proptest::collection::vec("[a-zA-Zé ]{0,8}", 1..8),
    ) {
        // Keys repeat: a later colleague under a key replaces the earlier one.
        let colleagues: Vec<(u32, Colleague)> = people
            .iter()
            .enumerate()
            .map(|(n, (name, department, key))| (*key, Colleague {
                upn: format!("user{n}@contoso.com"),
                mail: format!("user{n}@contoso.com"),
                display_name: name.clone(),
                department: department.clone(),
                business_phones: vec![format!("+39 02 5550 {n:04}")],
                ..Default::default()
            }))
            .collect();
        let mut inserted = SearchIndex::new();
        let mut builder = SearchIndexBuilder::new();
        for (key, colleague) in &colleagues {
            inserted.insert(*key, colleague);
            builder.insert(*key, colleague);
        }
        inserted.pack();
        let mut built = builder.finish();
        prop_assert_eq!(built.len(), inserted.len());
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for query in queries.iter().map(String::as_str).chain(["", "5550", "user1"]) {
            inserted.search(query, &mut a, |_| ["", ""]);
            built.search(query, &mut b, |_| ["", ""]);
            prop_assert_eq!(&a, &b, "{:?}", query);
        }
    }

    #[test]
    fn any_graph_presence_strings_give_a_presence(
        availability in "\\PC{0,40}",
        activity in "\\PC{0,40}",
    ) {
        let presence = Presence::from_graph_strings("anna@contoso.com", &availability, &activity);
        let _ = presence.describe();
        let _ = presence.headline();
        if presence.availability == presence_domain::Availability::PresenceUnknown && !availability.is_empty() {
            // An unknown value travels as its raw string (unless it is Graph's own
            // "PresenceUnknown").
            prop_assert!(presence.availability_raw.is_some() || availability.eq_ignore_ascii_case("PresenceUnknown"));
        }
    }
}
