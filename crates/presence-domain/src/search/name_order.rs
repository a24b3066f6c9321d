//! The order of the index's documents by display name, which is the order of results
//! within a rank.
//!
//! A build numbers its documents in name order, so for most documents their number is
//! their order: a search walks its matches by number. Documents added since (a colleague
//! joined or changed) come after them in number; they are kept in a list of their own in
//! name order, each with how many of the numbered ones sort before it, and a search
//! merges its few matches among them into the walk.

/// The name order of an index's documents (dead ones included: readers skip them).
#[derive(Default)]
pub(super) struct NameOrder {
    /// Every ordered document, in name order.
    by_name: Vec<u32>,
    /// Documents numbered below this are in name order by number.
    numbered: u32,
    /// The documents from `numbered` on, in name order: how many numbered documents
    /// sort before each, and the document.
    later: Vec<(u32, u32)>,
    /// The place of each later document (`doc - numbered`) in `later`.
    later_place: Vec<u32>,
    /// Documents added since the order was last settled; merged in before a search, so
    /// loading many colleagues costs one sort rather than one shift per colleague.
    unordered: Vec<u32>,
}

impl NameOrder {
    /// Every document, in name order; [`Self::settle`] first.
    pub(super) fn all(&self) -> &[u32] {
        &self.by_name
    }

    /// How many documents are in name order by number.
    pub(super) fn numbered(&self) -> u32 {
        self.numbered
    }

    /// The later documents in name order, each with how many numbered ones sort before.
    pub(super) fn later(&self) -> &[(u32, u32)] {
        &self.later
    }

    /// Where a later document is in [`Self::later`].
    pub(super) fn later_place(&self, doc: u32) -> Option<usize> {
        let index = doc.checked_sub(self.numbered)?;
        self.later_place
            .get(index as usize)
            .map(|&place| place as usize)
    }

    /// A new document, to be put in order by the next [`Self::settle`].
    pub(super) fn push(&mut self, doc: u32) {
        self.unordered.push(doc);
    }

    /// Documents `0..count` are now numbered in name order (and nothing else is held).
    pub(super) fn set_numbered(&mut self, count: u32) {
        self.by_name = (0..count).collect();
        self.numbered = count;
        self.later.clear();
        self.later_place.clear();
        self.unordered.clear();
    }

    /// Merges the documents added since into the order, by `(name, doc)`.
    pub(super) fn settle<'a>(&mut self, name_of: impl Fn(u32) -> &'a str) {
        if self.unordered.is_empty() {
            return;
        }
        let key = |&doc: &u32| (name_of(doc), doc);
        self.unordered.sort_unstable_by(|a, b| key(a).cmp(&key(b)));
        let mut merged = Vec::with_capacity(self.by_name.len() + self.unordered.len());
        let (mut old, mut new) = (
            self.by_name.iter().peekable(),
            self.unordered.iter().peekable(),
        );
        loop {
            let next = match (old.peek(), new.peek()) {
                (Some(a), Some(b)) if key(a) <= key(b) => old.next(),
                (Some(_), Some(_)) | (None, Some(_)) => new.next(),
                (Some(_), None) => old.next(),
                (None, None) => break,
            };
            merged.extend(next.copied());
        }
        self.by_name = merged;
        self.unordered.clear();

        let numbered = self.numbered;
        self.later.clear();
        let mut numbered_before = 0u32;
        for &doc in &self.by_name {
            if doc < numbered {
                numbered_before += 1;
            } else {
                self.later.push((numbered_before, doc));
            }
        }
        self.later_place.clear();
        self.later_place.resize(self.later.len(), u32::MAX);
        for (place, &(_, doc)) in self.later.iter().enumerate() {
            if let Some(slot) = self.later_place.get_mut((doc - numbered) as usize) {
                *slot = place as u32;
            }
        }
    }
}

/// The numbers of the set bits of `words` (64 a word), in order.
pub(super) fn set_bits(words: &[u64]) -> impl Iterator<Item = usize> + '_ {
    words.iter().enumerate().flat_map(|(at, &word)| {
        let mut bits = word;
        std::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let bit = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            Some(at * 64 + bit)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_documents_fall_among_the_numbered_ones_by_name() {
        let names = ["anna", "carla", "emma", "bruno", "zoe", "aaron", "dora"];
        let mut order = NameOrder::default();
        order.set_numbered(3);
        for doc in 3..7 {
            order.push(doc);
        }
        order.settle(|doc| names[doc as usize]);
        // aaron, anna, bruno, carla, dora, emma, zoe
        assert_eq!(order.all(), [5, 0, 3, 1, 6, 2, 4]);
        assert_eq!(order.later(), [(0, 5), (1, 3), (2, 6), (3, 4)]);
        assert_eq!(order.later_place(6), Some(2));
        assert_eq!(order.later_place(2), None, "numbered");
        assert_eq!(order.later_place(9), None, "unknown");
    }

    #[test]
    fn set_bits_in_order() {
        let words = [0b1010, 0, 1 << 63 | 1];
        assert_eq!(set_bits(&words).collect::<Vec<_>>(), [1, 3, 128, 191]);
    }
}
