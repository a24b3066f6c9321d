//! Property tests of reading Microsoft Graph's answers: any bytes, and JSON of the
//! documented shapes with any values in any field, parse or fail cleanly, never panic.
// A test crate: an `expect` fails the property that called it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use presence_sources::graph::wire::{parse_presence_page, parse_users_page};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,20}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-zA-Z@.]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A field that is usually a string, sometimes anything.
fn field() -> impl Strategy<Value = Value> {
    prop_oneof![4 => "\\PC{0,30}".prop_map(Value::from), 1 => any_json()]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_bytes_parse_or_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..1_024)) {
        let _ = parse_users_page(&bytes);
        let _ = parse_presence_page(&bytes);
    }

    #[test]
    fn any_json_parses_or_fails_cleanly(value in any_json()) {
        let bytes = value.to_string().into_bytes();
        let _ = parse_users_page(&bytes);
        let _ = parse_presence_page(&bytes);
    }

    #[test]
    fn presence_pages_of_any_values_map_to_presences(
        entries in proptest::collection::vec((field(), field(), field(), field(), any::<bool>()), 0..8),
    ) {
        let value: Vec<Value> = entries
            .iter()
            .map(|(id, availability, activity, message, is_html)| json!({
                "id": id,
                "availability": availability,
                "activity": activity,
                "statusMessage": { "message": { "content": message, "contentType": if *is_html { "html" } else { "text" } } },
                "outOfOfficeSettings": { "message": message, "isOutOfOffice": is_html },
            }))
            .collect();
        let bytes = json!({ "value": value }).to_string().into_bytes();
        if let Ok(page) = parse_presence_page(&bytes) {
            prop_assert_eq!(page.presences.len() + page.skipped, entries.len());
            for (_, graph) in &page.presences {
                let presence = graph.to_domain("anna@contoso.com");
                let _ = presence.describe();
                if let Some(message) = &presence.status_message {
                    prop_assert!(!message.text.contains('\n'), "one line");
                }
            }
        }
    }

    #[test]
    fn user_pages_of_any_values_keep_users_with_an_id_and_a_upn(
        users in proptest::collection::vec((field(), field(), field()), 0..8),
    ) {
        let value: Vec<Value> = users
            .iter()
            .map(|(id, upn, name)| json!({ "id": id, "userPrincipalName": upn, "displayName": name }))
            .collect();
        let bytes = json!({ "value": value }).to_string().into_bytes();
        if let Ok(page) = parse_users_page(&bytes) {
            prop_assert_eq!(page.users.len() + page.skipped, users.len());
            for user in &page.users {
                prop_assert!(!user.upn.trim().is_empty());
                prop_assert!(!user.display_name.contains('\n'));
            }
        }
    }
}
