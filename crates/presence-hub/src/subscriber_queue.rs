//! One subscriber's pending work: *which* colleagues changed, in presence and in the
//! directory (a dirty bit and an index each), and whether the sources' health changed.
//! Never the changes themselves: a slow subscriber costs at most a few bits and two
//! indexes per colleague, however many changes it has not heard, and reads the latest
//! state when it catches up. Nothing overflows, so no mass change of the directory can
//! send every subscriber back to start at once.

use std::collections::HashSet;
use std::sync::Mutex;

use tokio::sync::Notify;

use crate::bit_set::BitSet;
use crate::hub::DirectoryChange;
use crate::locks::lock;

/// One subscriber's pending work.
pub struct SubscriberQueue {
    pub(crate) inner: Mutex<QueueInner>,
    pub(crate) notify: Notify,
}

/// What a subscriber should send next.
#[derive(Debug, Default)]
pub struct Pending {
    /// Colleagues whose shown presence changed since the last drain (slots).
    pub presence_slots: Vec<u32>,
    /// The directory changes since the last drain, each colleague once with what it is
    /// now, and the directory revision they complete (see [`crate::PresenceHub::take`]).
    pub directory_changes: Vec<(u64, DirectoryChange)>,
    pub is_health_changed: bool,
}

impl Pending {
    pub fn is_empty(&self) -> bool {
        self.presence_slots.is_empty()
            && self.directory_changes.is_empty()
            && !self.is_health_changed
    }
}

/// Colleagues whose directory entry changed, with whether the subscriber could have
/// known them before (the first change since the last drain was not an addition).
pub(crate) struct DirectoryDirty {
    pub(crate) slots: Vec<(u32, bool)>,
}

impl SubscriberQueue {
    /// Waits until something is pending.
    pub async fn changed(&self) {
        self.notify.notified().await;
    }

    /// Takes everything pending (directory changes as slots: the hub reads what they
    /// are now). Presence slots no longer watched are dropped.
    pub(crate) fn take_raw(&self) -> (Pending, DirectoryDirty) {
        let mut inner = lock(&self.inner);
        let mut slots = std::mem::take(&mut inner.dirty_list);
        for &slot in &slots {
            inner.dirty.remove(slot);
        }
        slots.retain(|&slot| inner.is_watching(slot));
        let directory_slots = std::mem::take(&mut inner.directory_dirty_list);
        let directory = directory_slots
            .into_iter()
            .map(|slot| {
                inner.directory_dirty.remove(slot);
                let was_known = inner.directory_was_known.contains(slot);
                inner.directory_was_known.remove(slot);
                (slot, was_known)
            })
            .collect();
        (
            Pending {
                presence_slots: slots,
                directory_changes: Vec::new(),
                is_health_changed: std::mem::take(&mut inner.is_health_changed),
            },
            DirectoryDirty { slots: directory },
        )
    }

    /// Number of colleagues currently marked dirty (for tests and metrics).
    pub fn dirty_len(&self) -> usize {
        lock(&self.inner).dirty_list.len()
    }

    /// How many colleagues are watched explicitly, and whether everyone is.
    pub fn watch_counts(&self) -> (usize, bool) {
        let inner = lock(&self.inner);
        (
            inner.watched.len() + inner.pending_upns.len(),
            inner.is_watching_all,
        )
    }
}

#[derive(Debug, Default)]
pub(crate) struct QueueInner {
    pub(crate) is_watching_all: bool,
    pub(crate) watched: BitSet,
    pub(crate) pending_upns: PendingUpns,
    pub(crate) dirty: BitSet,
    pub(crate) dirty_list: Vec<u32>,
    /// Colleagues whose directory entry changed since the last drain.
    pub(crate) directory_dirty: BitSet,
    pub(crate) directory_dirty_list: Vec<u32>,
    /// Of those, the ones that existed before their first change (not added since).
    pub(crate) directory_was_known: BitSet,
    pub(crate) is_health_changed: bool,
}

impl QueueInner {
    pub(crate) fn is_watching(&self, slot: u32) -> bool {
        self.is_watching_all || self.watched.contains(slot)
    }

    pub(crate) fn mark_dirty(&mut self, slot: u32) {
        if self.dirty.insert(slot) {
            self.dirty_list.push(slot);
        }
    }

    /// Notes a change of `slot`'s directory entry; `was_known` says whether the entry
    /// existed before this change (anything but an addition).
    pub(crate) fn mark_directory_dirty(&mut self, slot: u32, was_known: bool) {
        if self.directory_dirty.insert(slot) {
            self.directory_dirty_list.push(slot);
            if was_known {
                self.directory_was_known.insert(slot);
            }
        }
    }
}

/// UPNs watched before they are in the directory, and what they cost.
#[derive(Debug, Default)]
pub(crate) struct PendingUpns {
    keys: HashSet<String>,
    bytes: usize,
}

/// What one pending UPN costs beyond its text: the `String` and the set's slot.
pub const PENDING_UPN_OVERHEAD_BYTES: usize = 48;

impl PendingUpns {
    /// What `key` would add if inserted (0 when already pending).
    pub(crate) fn cost_of(&self, key: &str) -> usize {
        if self.keys.contains(key) {
            0
        } else {
            key.len() + PENDING_UPN_OVERHEAD_BYTES
        }
    }

    pub(crate) fn insert(&mut self, key: String) {
        let cost = self.cost_of(&key);
        if self.keys.insert(key) {
            self.bytes += cost;
        }
    }

    pub(crate) fn remove(&mut self, key: &str) -> bool {
        let was_pending = self.keys.remove(key);
        if was_pending {
            self.bytes -= key.len() + PENDING_UPN_OVERHEAD_BYTES;
        }
        was_pending
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }
}
