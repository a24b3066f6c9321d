//! Property tests of the wire-to-domain conversions: any message a gateway (or a
//! hostile one) can send converts or is refused, never panics; what converts survives a
//! round trip.
// A test crate: an `expect` fails the property that called it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use presence_contract::proto;
use presence_domain::{Colleague, Presence};
use proptest::prelude::*;

fn timestamp() -> impl Strategy<Value = Option<prost_types::Timestamp>> {
    proptest::option::of(
        (any::<i64>(), any::<i32>())
            .prop_map(|(seconds, nanos)| prost_types::Timestamp { seconds, nanos }),
    )
}

prop_compose! {
    fn wire_presence()(
        upn in "\\PC{0,40}",
        availability in any::<i32>(),
        availability_raw in "\\PC{0,20}",
        activity in any::<i32>(),
        activity_raw in "\\PC{0,20}",
        text in "\\PC{0,60}",
        expires_at in timestamp(),
        has_message in any::<bool>(),
        out_of_office in any::<bool>(),
        out_of_office_message in "\\PC{0,60}",
        since in timestamp(),
        technology in any::<i32>(),
        version in any::<u64>(),
    ) -> proto::Presence {
        proto::Presence {
            upn,
            availability,
            availability_raw,
            activity,
            activity_raw,
            status_message: has_message.then_some(proto::StatusMessage { text, expires_at }),
            out_of_office,
            out_of_office_message,
            since,
            technology,
            version,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_024))]

    #[test]
    fn any_wire_presence_converts_or_is_refused(wire in wire_presence()) {
        let blank = wire.upn.trim().is_empty();
        match Presence::try_from(wire) {
            Ok(presence) => {
                prop_assert!(!blank);
                let _ = presence.describe();
                let again = Presence::try_from(proto::Presence::from(&presence))
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(again.availability, presence.availability);
                prop_assert_eq!(again.activity, presence.activity);
                prop_assert_eq!(again.version, presence.version);
                prop_assert_eq!(again.technology, presence.technology);
            }
            Err(_) => prop_assert!(blank),
        }
    }

    #[test]
    fn any_wire_colleague_converts_or_is_refused(
        upn in "\\PC{0,40}",
        display_name in "\\PC{0,40}",
        phones in proptest::collection::vec("\\PC{0,20}", 0..4),
    ) {
        let wire = proto::Colleague {
            upn,
            display_name,
            business_phones: phones,
            ..Default::default()
        };
        if let Ok(colleague) = Colleague::try_from(wire) {
            let again = Colleague::try_from(proto::Colleague::from(&colleague))
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(again, colleague);
        }
    }
}
