//! A growable set of slot numbers, one bit each: a subscriber's watch set and dirty set
//! cost one bit per colleague, whatever the rate of change.

/// A growable set of slot numbers.
#[derive(Debug, Default)]
pub(crate) struct BitSet {
    words: Vec<u64>,
    len: usize,
}

impl BitSet {
    pub(crate) fn contains(&self, bit: u32) -> bool {
        let (word, mask) = (bit as usize / 64, 1u64 << (bit % 64));
        self.words.get(word).is_some_and(|w| w & mask != 0)
    }

    /// Returns true if the bit was not set before.
    pub(crate) fn insert(&mut self, bit: u32) -> bool {
        let (word, mask) = (bit as usize / 64, 1u64 << (bit % 64));
        if word >= self.words.len() {
            self.words.resize(word + 1, 0);
        }
        let was_set = self.words[word] & mask != 0;
        self.words[word] |= mask;
        if !was_set {
            self.len += 1;
        }
        !was_set
    }

    pub(crate) fn remove(&mut self, bit: u32) {
        let (word, mask) = (bit as usize / 64, 1u64 << (bit % 64));
        if let Some(w) = self.words.get_mut(word)
            && *w & mask != 0
        {
            *w &= !mask;
            self.len -= 1;
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_remove_and_count() {
        let mut set = BitSet::default();
        assert!(set.insert(3));
        assert!(!set.insert(3), "already set");
        assert!(set.insert(200));
        assert!(set.contains(3) && set.contains(200) && !set.contains(4));
        assert_eq!(set.len(), 2);
        set.remove(3);
        set.remove(3);
        set.remove(10_000);
        assert!(!set.contains(3));
        assert_eq!(set.len(), 1);
    }
}
