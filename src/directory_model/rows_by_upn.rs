//! The model's UPN lookup: row numbers by UPN, matched case-insensitively, without a
//! second copy of each UPN (the table holds row numbers and reads UPNs from the rows).

use std::hash::{BuildHasher, Hasher, RandomState};

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

fn hash_upn(hasher: &RandomState, upn: &str) -> u64 {
    let mut state = hasher.build_hasher();
    for c in upn_key_chars(upn) {
        state.write_u32(u32::from(c));
    }
    state.finish()
}

fn is_same_upn(a: &str, b: &str) -> bool {
    upn_key_chars(a).eq(upn_key_chars(b))
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
