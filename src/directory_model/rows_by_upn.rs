//! The model's UPN lookup: row numbers by UPN, matched case-insensitively, without a
//! second copy of each UPN (the table holds row numbers and reads UPNs from the rows).

use std::hash::{BuildHasher, Hasher};

use foldhash::fast::RandomState;

use hashbrown::HashTable;
use presence_domain::colleague::upn_key_chars;

use super::Row;

/// Row numbers by UPN, matched case-insensitively, without a second copy of each UPN:
/// the table holds row numbers and reads the UPNs from the rows.
#[derive(Default)]
pub(super) struct RowsByUpn {
    table: HashTable<u32>,
    hasher: RandomState,
}

/// Hashes the UTF-8 of the UPN's key (trimmed, lower-cased), 64 bytes at a time, on
/// the stack for the ASCII UPNs nearly everyone has.
fn hash_upn(hasher: &RandomState, upn: &str) -> u64 {
    let mut state = hasher.build_hasher();
    let mut buffer = [0u8; 64];
    let mut filled = 0;
    let mut write = |bytes: &[u8]| {
        for &byte in bytes {
            if filled == buffer.len() {
                state.write(&buffer);
                filled = 0;
            }
            buffer[filled] = byte;
            filled += 1;
        }
    };
    let upn = upn.trim();
    if upn.is_ascii() {
        for &byte in upn.as_bytes() {
            write(&[byte.to_ascii_lowercase()]);
        }
    } else {
        let mut utf8 = [0u8; 4];
        for c in upn_key_chars(upn) {
            write(c.encode_utf8(&mut utf8).as_bytes());
        }
    }
    state.write(&buffer[..filled]);
    state.finish()
}

fn is_same_upn(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        upn_key_chars(a).eq(upn_key_chars(b))
    }
}

impl RowsByUpn {
    pub(super) fn get(&self, rows: &[Row], upn: &str) -> Option<u32> {
        let hash = hash_upn(&self.hasher, upn);
        self.table
            .find(hash, |&key| {
                is_same_upn(rows[key as usize].colleague.upn(), upn)
            })
            .copied()
    }

    /// Adds `key`, whose row (already in `rows`) has a UPN not in the table.
    pub(super) fn insert(&mut self, rows: &[Row], key: u32) {
        let hasher = &self.hasher;
        let hash = hash_upn(hasher, rows[key as usize].colleague.upn());
        self.table.insert_unique(hash, key, |&k| {
            hash_upn(hasher, rows[k as usize].colleague.upn())
        });
    }

    pub(super) fn remove(&mut self, rows: &[Row], upn: &str) -> Option<u32> {
        let hash = hash_upn(&self.hasher, upn);
        let entry = self
            .table
            .find_entry(hash, |&key| {
                is_same_upn(rows[key as usize].colleague.upn(), upn)
            })
            .ok()?;
        Some(entry.remove().0)
    }

    /// An empty lookup with room for `capacity` UPNs.
    pub(super) fn with_capacity(capacity: usize) -> Self {
        Self {
            table: HashTable::with_capacity(capacity),
            hasher: RandomState::default(),
        }
    }

    pub(super) fn rebuild(&mut self, rows: &[Row]) {
        self.table.clear();
        self.table.reserve(rows.len(), |&k| {
            hash_upn(&self.hasher, rows[k as usize].colleague.upn())
        });
        for key in 0..rows.len() as u32 {
            self.insert(rows, key);
        }
    }
}
