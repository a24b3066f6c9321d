//! The tenant's directory as this source last listed it, and the difference between two
//! listings as directory updates for the hub.
//!
//! Pure: no HTTP. Must never diff a partial listing (a failed page would look like mass
//! removals): the caller hands over only complete listings.

use std::collections::HashMap;
use std::sync::Arc;

use presence_domain::Colleague;
use presence_domain::colleague::upn_key;
use presence_hub::DirectoryUpdate;

/// Colleagues by Entra object id, as of the last complete listing.
#[derive(Debug, Default)]
pub struct DirectoryState {
    by_id: HashMap<String, Colleague>,
    /// Object ids in a stable order (sorted), for batching presence requests; shared so
    /// a poll cycle can hold them while the directory is refreshed.
    ids: Arc<[String]>,
}

impl DirectoryState {
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Object ids, sorted.
    pub fn ids(&self) -> Arc<[String]> {
        self.ids.clone()
    }

    /// The UPN presence for object `id` is kept under.
    pub fn upn_of(&self, id: &str) -> Option<&str> {
        self.by_id.get(id).map(|c| c.upn.as_str())
    }

    pub fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// Replaces the directory with a complete listing; returns what was added, changed
    /// and removed. A colleague whose UPN changed is removed under the old UPN and added
    /// under the new one (the hub keys presence by UPN). Duplicate ids keep the first.
    pub fn replace(&mut self, listing: Vec<Colleague>) -> Vec<DirectoryUpdate> {
        let mut next: HashMap<String, Colleague> = HashMap::with_capacity(listing.len());
        for colleague in listing {
            next.entry(colleague.id.clone()).or_insert(colleague);
        }
        let mut updates = Vec::new();
        for (id, old) in &self.by_id {
            let is_gone = next
                .get(id)
                .is_none_or(|new| upn_key(&new.upn) != upn_key(&old.upn));
            if is_gone {
                updates.push(DirectoryUpdate::Remove {
                    upn: old.upn.clone(),
                });
            }
        }
        for (id, new) in &next {
            if self.by_id.get(id) != Some(new) {
                updates.push(DirectoryUpdate::Upsert(new.clone()));
            }
        }
        let mut ids: Vec<String> = next.keys().cloned().collect();
        ids.sort_unstable();
        self.by_id = next;
        self.ids = ids.into();
        updates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: &str, upn: &str, name: &str) -> Colleague {
        Colleague {
            id: id.into(),
            upn: upn.into(),
            display_name: name.into(),
            ..Colleague::default()
        }
    }

    #[test]
    fn diff_adds_changes_removes_and_renames() {
        let mut dir = DirectoryState::default();
        let first = dir.replace(vec![
            person("1", "a@x", "A"),
            person("2", "b@x", "B"),
            person("3", "c@x", "C"),
        ]);
        assert_eq!(first.len(), 3);
        assert_eq!(&*dir.ids(), ["1", "2", "3"]);
        let second = dir.replace(vec![
            person("1", "a@x", "A"),
            person("2", "b@x", "B renamed"),
            person("3", "c.new@x", "C"),
            person("4", "d@x", "D"),
        ]);
        assert!(second.contains(&DirectoryUpdate::Upsert(person("2", "b@x", "B renamed"))));
        assert!(second.contains(&DirectoryUpdate::Remove { upn: "c@x".into() }));
        assert!(second.contains(&DirectoryUpdate::Upsert(person("3", "c.new@x", "C"))));
        assert!(second.contains(&DirectoryUpdate::Upsert(person("4", "d@x", "D"))));
        assert_eq!(second.len(), 4);
        let third = dir.replace(vec![person("4", "d@x", "D")]);
        assert_eq!(third.len(), 3);
        assert!(
            third
                .iter()
                .all(|u| matches!(u, DirectoryUpdate::Remove { .. }))
        );
        assert_eq!(dir.upn_of("4"), Some("d@x"));
        assert_eq!(dir.upn_of("1"), None);
    }
}
