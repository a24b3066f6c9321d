//! Who can take a call now: the one rule that the panel's "Available only" filter and
//! its "Sort by status" order share.

use crate::Availability;

/// Whether a colleague can take a transferred call now: Available (idle or not), not
/// out of office, and the status is live (a stale "Available" is only a guess).
#[inline]
pub fn can_take_call_now(
    availability: Availability,
    is_out_of_office: bool,
    is_live: bool,
) -> bool {
    matches!(
        availability,
        Availability::Available | Availability::AvailableIdle
    ) && !is_out_of_office
        && is_live
}

/// Number of distinct [`call_order`] values (for bucket sorts).
pub const CALL_ORDER_LEN: usize = 2 * Availability::ALL.len();

/// The place in "sort by status": everyone who can take a call now first (Available
/// before Available, idle), then everyone else by how reachable their status says they
/// are. Lower comes first; always below [`CALL_ORDER_LEN`].
#[inline]
pub fn call_order(availability: Availability, is_out_of_office: bool, is_live: bool) -> usize {
    let rank = usize::from(availability.reachability_rank());
    if can_take_call_now(availability, is_out_of_office, is_live) {
        rank
    } else {
        Availability::ALL.len() + rank
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_live_available_colleagues_in_the_office_can_take_a_call() {
        assert!(can_take_call_now(Availability::Available, false, true));
        assert!(can_take_call_now(Availability::AvailableIdle, false, true));
        assert!(
            !can_take_call_now(Availability::Available, true, true),
            "out of office"
        );
        assert!(
            !can_take_call_now(Availability::Available, false, false),
            "stale"
        );
        assert!(!can_take_call_now(Availability::Busy, false, true));
        assert!(!can_take_call_now(Availability::BeRightBack, false, true));
    }

    #[test]
    fn the_sort_puts_exactly_those_who_can_take_a_call_first() {
        let mut all = Vec::new();
        for availability in Availability::ALL {
            for is_out_of_office in [false, true] {
                for is_live in [false, true] {
                    all.push((availability, is_out_of_office, is_live));
                }
            }
        }
        let can = |&(a, o, l): &(Availability, bool, bool)| can_take_call_now(a, o, l);
        let order = |&(a, o, l): &(Availability, bool, bool)| call_order(a, o, l);
        let worst_who_can = all.iter().filter(|c| can(c)).map(order).max();
        let best_who_cannot = all.iter().filter(|c| !can(c)).map(order).min();
        assert!(worst_who_can < best_who_cannot);
        assert!(all.iter().map(order).all(|o| o < CALL_ORDER_LEN));
        assert!(
            call_order(Availability::Available, false, true)
                < call_order(Availability::AvailableIdle, false, true)
        );
        // A stale or out-of-office "Available" comes after every live one, before Busy.
        assert!(
            call_order(Availability::Available, true, true)
                > call_order(Availability::AvailableIdle, false, true)
        );
        assert!(
            call_order(Availability::Available, false, false)
                < call_order(Availability::Busy, false, false)
        );
    }
}
