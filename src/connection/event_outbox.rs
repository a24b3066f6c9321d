//! Events read from the gateway that the UI has not taken yet. The UI takes events once
//! a frame; in between, the link goes on reading and merges what it reads into the last
//! event of the same kind, so that a frame takes thousands of colleagues or presences
//! in a few events rather than a page of them. Bounded: once it holds
//! [`MAX_HELD_ITEMS`], the link stops reading until the UI takes some.

use std::collections::VecDeque;

use super::PanelEvent;

/// Colleagues one merged event carries at most: a page applied in place on the UI
/// thread costs up to some 8 µs a colleague.
const MERGED_COLLEAGUES: usize = 2_000;
/// Directory changes one merged event carries at most: the UI thread applies an event
/// whole, and a change costs up to some 8 µs at 500,000 colleagues (changes come a few
/// at a time, but a reorganisation or a mass departure sends thousands).
const MERGED_CHANGES: usize = 500;
/// Presences one merged event carries at most (well under a microsecond each).
const MERGED_PRESENCES: usize = 5_000;
/// Colleagues, presences and other events held at most before reading stops.
pub(super) const MAX_HELD_ITEMS: usize = 20_000;

#[derive(Default)]
pub(super) struct EventOutbox {
    events: VecDeque<PanelEvent>,
    items: usize,
}

/// What an event weighs: the colleagues or presences it carries, else 1.
fn items(event: &PanelEvent) -> usize {
    match event {
        PanelEvent::DirectoryPage { colleagues, .. } => colleagues.len().max(1),
        PanelEvent::Snapshot { presences, .. } | PanelEvent::Presences(presences) => {
            presences.len().max(1)
        }
        PanelEvent::DirectoryChanges(changes) => changes.len().max(1),
        PanelEvent::State(_) | PanelEvent::SourceHealth(_) | PanelEvent::Gateway(_) => 1,
    }
}

impl EventOutbox {
    pub(super) fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Whether the link should stop reading until the UI takes events.
    pub(super) fn is_full(&self) -> bool {
        self.items >= MAX_HELD_ITEMS
    }

    /// Queues an event, merged into the last one when they are of a kind and the two
    /// together stay under the bound of a merged event.
    pub(super) fn push(&mut self, event: PanelEvent) {
        let event = match self.events.back_mut() {
            Some(last) => {
                let before = items(last);
                match merge(last, event) {
                    Ok(()) => {
                        // A merged event weighs its parts (replaced health, the same).
                        self.items = self.items.saturating_sub(before) + items(last);
                        return;
                    }
                    Err(event) => event,
                }
            }
            None => event,
        };
        self.items += items(&event);
        self.events.push_back(event);
    }

    pub(super) fn pop(&mut self) -> Option<PanelEvent> {
        let event = self.events.pop_front()?;
        self.items = self.items.saturating_sub(items(&event));
        Some(event)
    }
}

/// Merges `next` into `last` when it belongs there; gives it back otherwise.
fn merge(last: &mut PanelEvent, next: PanelEvent) -> Result<(), PanelEvent> {
    match (last, next) {
        (
            PanelEvent::DirectoryPage {
                colleagues,
                is_last: last_is_last @ false,
                ..
            },
            PanelEvent::DirectoryPage {
                colleagues: more,
                is_first: false,
                is_last,
                ..
            },
        ) if colleagues.len() + more.len() <= MERGED_COLLEAGUES => {
            colleagues.extend(more);
            *last_is_last = is_last;
            Ok(())
        }
        (
            PanelEvent::Snapshot {
                presences,
                is_delta,
                is_last: last_is_last @ false,
            },
            PanelEvent::Snapshot {
                presences: more,
                is_delta: next_is_delta,
                is_last,
            },
        ) if *is_delta == next_is_delta && presences.len() + more.len() <= MERGED_PRESENCES => {
            presences.extend(more);
            *last_is_last = is_last;
            Ok(())
        }
        (PanelEvent::Presences(presences), PanelEvent::Presences(more))
            if presences.len() + more.len() <= MERGED_PRESENCES =>
        {
            presences.extend(more);
            Ok(())
        }
        (PanelEvent::DirectoryChanges(changes), PanelEvent::DirectoryChanges(more))
            if changes.len() + more.len() <= MERGED_CHANGES =>
        {
            changes.extend(more);
            Ok(())
        }
        // Only the latest health matters.
        (PanelEvent::SourceHealth(health), PanelEvent::SourceHealth(latest)) => {
            *health = latest;
            Ok(())
        }
        (_, next) => Err(next),
    }
}

#[cfg(test)]
mod tests {
    use presence_domain::{Colleague, Presence};

    use super::*;
    use crate::connection::{ConnectionState, DirectoryChange};

    fn page(range: std::ops::Range<usize>, is_first: bool, is_last: bool) -> PanelEvent {
        PanelEvent::DirectoryPage {
            colleagues: range
                .map(|n| Colleague {
                    upn: format!("p{n}@x"),
                    ..Default::default()
                })
                .collect(),
            is_first,
            is_last,
            total: 3_000,
        }
    }

    fn presences(range: std::ops::Range<usize>) -> Vec<Presence> {
        range
            .map(|n| Presence::unknown(&format!("p{n}@x")))
            .collect()
    }

    #[test]
    fn pages_and_presences_merge_in_order_up_to_a_bound() {
        let mut outbox = EventOutbox::default();
        outbox.push(page(0..500, true, false));
        outbox.push(page(500..1_000, false, false));
        outbox.push(page(1_000..2_100, false, false));
        outbox.push(page(2_100..3_000, false, true));
        outbox.push(PanelEvent::Snapshot {
            presences: presences(0..10),
            is_delta: false,
            is_last: false,
        });
        outbox.push(PanelEvent::Snapshot {
            presences: presences(10..20),
            is_delta: false,
            is_last: true,
        });
        outbox.push(PanelEvent::State(ConnectionState::Live));
        outbox.push(PanelEvent::Presences(presences(0..3)));
        outbox.push(PanelEvent::Presences(presences(3..5)));

        let Some(PanelEvent::DirectoryPage {
            colleagues,
            is_first: true,
            is_last: false,
            ..
        }) = outbox.pop()
        else {
            panic!("the first two pages, merged");
        };
        assert_eq!(colleagues.len(), 1_000, "a third page would pass the bound");
        let Some(PanelEvent::DirectoryPage {
            colleagues,
            is_first: false,
            is_last: true,
            ..
        }) = outbox.pop()
        else {
            panic!("the last two pages, merged");
        };
        assert_eq!(colleagues[0].upn, "p1000@x");
        assert_eq!(colleagues.len(), 2_000);
        let Some(PanelEvent::Snapshot {
            presences,
            is_last: true,
            ..
        }) = outbox.pop()
        else {
            panic!("the whole snapshot");
        };
        assert_eq!(presences.len(), 20);
        assert!(matches!(outbox.pop(), Some(PanelEvent::State(_))));
        let Some(PanelEvent::Presences(latest)) = outbox.pop() else {
            panic!("the updates, merged");
        };
        let upns: Vec<&str> = latest.iter().map(|p| p.upn.as_str()).collect();
        assert_eq!(upns, ["p0@x", "p1@x", "p2@x", "p3@x", "p4@x"]);
        assert!(outbox.pop().is_none());
        assert!(outbox.is_empty());
    }

    #[test]
    fn directory_changes_merge_in_order_into_events_of_a_few_milliseconds() {
        let mut outbox = EventOutbox::default();
        for n in 0..1_200 {
            outbox.push(PanelEvent::DirectoryChanges(vec![
                DirectoryChange::Removed {
                    upn: format!("p{n}@x"),
                },
            ]));
        }
        let mut sizes = Vec::new();
        let mut upns = Vec::new();
        while let Some(event) = outbox.pop() {
            let PanelEvent::DirectoryChanges(changes) = event else {
                panic!("only directory changes were pushed");
            };
            sizes.push(changes.len());
            upns.extend(changes.into_iter().map(|change| match change {
                DirectoryChange::Removed { upn } => upn,
                other => panic!("{other:?} was not pushed"),
            }));
        }
        assert_eq!(sizes, [MERGED_CHANGES, MERGED_CHANGES, 200]);
        let expected: Vec<String> = (0..1_200).map(|n| format!("p{n}@x")).collect();
        assert_eq!(upns, expected);
    }

    #[test]
    fn a_full_snapshot_never_merges_into_a_delta_and_the_outbox_fills() {
        let mut outbox = EventOutbox::default();
        outbox.push(PanelEvent::Snapshot {
            presences: presences(0..1),
            is_delta: true,
            is_last: false,
        });
        outbox.push(PanelEvent::Snapshot {
            presences: presences(1..2),
            is_delta: false,
            is_last: false,
        });
        assert!(outbox.pop().is_some() && outbox.pop().is_some());
        assert!(!outbox.is_full());
        for n in 0..MAX_HELD_ITEMS / 1_000 {
            outbox.push(PanelEvent::Presences(presences(n * 1_000..(n + 1) * 1_000)));
        }
        assert!(outbox.is_full());
        outbox.pop();
        assert!(!outbox.is_full());
    }
}
