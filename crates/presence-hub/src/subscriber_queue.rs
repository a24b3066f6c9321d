//! One subscriber's pending work: *which* colleagues changed (a dirty bit and an index
//! each), the directory changes not yet sent (bounded: past the limit the subscriber is
//! told to start again), and whether the sources' health changed. Never the presence
//! changes themselves: a slow subscriber costs at most one bit and one index per
//! colleague, and reads the latest state when it catches up.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use tokio::sync::Notify;

use crate::bit_set::BitSet;
use crate::hub::DirectoryChange;
use crate::locks::lock;

/// Directory changes a subscriber may have queued before it is cut off and told to
/// resubscribe.
pub const MAX_QUEUED_DIRECTORY_CHANGES: usize = 100_000;

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
    /// Each with the directory revision it brought.
    pub directory_changes: Vec<(u64, DirectoryChange)>,
    pub is_health_changed: bool,
    /// Directory changes overflowed: the subscriber must start again.
    pub is_overflowed: bool,
}

impl Pending {
    pub fn is_empty(&self) -> bool {
        self.presence_slots.is_empty()
            && self.directory_changes.is_empty()
            && !self.is_health_changed
            && !self.is_overflowed
    }
}

impl SubscriberQueue {
    /// Waits until something is pending.
    pub async fn changed(&self) {
        self.notify.notified().await;
    }

    /// Takes everything pending. Presence slots no longer watched are dropped.
    pub fn take(&self) -> Pending {
        let mut inner = lock(&self.inner);
        let mut slots = std::mem::take(&mut inner.dirty_list);
        for &slot in &slots {
            inner.dirty.remove(slot);
        }
        slots.retain(|&slot| inner.is_watching(slot));
        Pending {
            presence_slots: slots,
            directory_changes: inner.directory_changes.drain(..).collect(),
            is_health_changed: std::mem::take(&mut inner.is_health_changed),
            is_overflowed: std::mem::take(&mut inner.is_overflowed),
        }
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
    pub(crate) directory_changes: VecDeque<(u64, DirectoryChange)>,
    pub(crate) is_health_changed: bool,
    pub(crate) is_overflowed: bool,
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

    pub(crate) fn push_directory_change(&mut self, revision: u64, change: DirectoryChange) {
        if self.directory_changes.len() >= MAX_QUEUED_DIRECTORY_CHANGES {
            self.is_overflowed = true;
            self.directory_changes.clear();
            return;
        }
        if !self.is_overflowed {
            self.directory_changes.push_back((revision, change));
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
