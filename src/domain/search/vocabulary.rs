//! The search index's word list: every folded word, in sorted order, with the postings
//! (document and field) that hold it.
//!
//! Two tiers keep it both compact and cheap to change. Most words live in a frozen,
//! sorted array: one string of all words, one array of all postings, and two arrays of
//! end offsets (about 8 bytes a word plus 4 a posting, against some 100 for a map
//! entry). Words added since the last freeze go into a small sorted map, which is merged
//! into the frozen array once it grows to a quarter of it, or when the caller says a
//! bulk load is over. A word may have postings in both tiers; readers see both.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::ops::Bound;

/// Words the recent tier holds before it is merged, at least.
const MIN_RECENT_WORDS: usize = 8_192;

#[derive(Default)]
pub(super) struct Vocabulary {
    frozen: FrozenWords,
    recent: BTreeMap<Box<str>, Postings>,
}

/// Sorted words packed into a few arrays.
#[derive(Default)]
struct FrozenWords {
    /// All words, concatenated in sorted order.
    text: String,
    /// End of each word in `text`.
    word_ends: Vec<u32>,
    /// End of each word's postings in `postings`.
    posting_ends: Vec<u32>,
    postings: Vec<u32>,
}

/// The postings of one word in the recent tier; most words (phone numbers) belong to
/// one document, so a single posting is kept without an allocation.
enum Postings {
    One(u32),
    Many(Vec<u32>),
}

impl Postings {
    fn push(&mut self, posting: u32) {
        match self {
            Self::One(first) => *self = Self::Many(vec![*first, posting]),
            Self::Many(list) => list.push(posting),
        }
    }

    fn as_slice(&self) -> &[u32] {
        match self {
            Self::One(posting) => std::slice::from_ref(posting),
            Self::Many(list) => list,
        }
    }
}

impl FrozenWords {
    fn len(&self) -> usize {
        self.word_ends.len()
    }

    fn word(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.word_ends[i - 1] };
        self.text
            .get(start as usize..self.word_ends[i] as usize)
            .unwrap_or_default()
    }

    fn postings(&self, i: usize) -> &[u32] {
        let start = if i == 0 { 0 } else { self.posting_ends[i - 1] };
        self.postings
            .get(start as usize..self.posting_ends[i] as usize)
            .unwrap_or_default()
    }

    /// Index of the first word not less than `word`.
    fn lower_bound(&self, word: &str) -> usize {
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let middle = low + (high - low) / 2;
            if self.word(middle) < word {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        low
    }

    /// Appends a word greater than every word so far (the caller has checked that the
    /// offsets fit in 32 bits).
    fn push(&mut self, word: &str, postings: &[u32]) {
        self.text.push_str(word);
        self.word_ends.push(self.text.len() as u32);
        self.postings.extend_from_slice(postings);
        self.posting_ends.push(self.postings.len() as u32);
    }
}

impl Vocabulary {
    /// Records that the document and field in `posting` hold `word`.
    pub(super) fn insert(&mut self, word: &str, posting: u32) {
        match self.recent.get_mut(word) {
            Some(postings) => postings.push(posting),
            None => {
                self.recent.insert(word.into(), Postings::One(posting));
                if self.recent.len() >= MIN_RECENT_WORDS.max(self.frozen.len() / 4) {
                    self.freeze();
                }
            }
        }
    }

    /// Calls `visit` with every word in `from..to` (`to` excluded; `None`: no end) and its
    /// postings. A word with postings in both tiers is visited twice.
    pub(super) fn for_each_in_range(
        &self,
        from: &str,
        to: Option<&str>,
        mut visit: impl FnMut(&str, &[u32]),
    ) {
        let frozen = &self.frozen;
        let end = to.map_or(frozen.len(), |to| frozen.lower_bound(to));
        for i in frozen.lower_bound(from)..end {
            visit(frozen.word(i), frozen.postings(i));
        }
        let upper = to.map_or(Bound::Unbounded, Bound::Excluded);
        for (word, postings) in self.recent.range::<str, _>((Bound::Included(from), upper)) {
            visit(word, postings.as_slice());
        }
    }

    /// Calls `visit` with every word that starts with `prefix`, and its postings.
    pub(super) fn for_each_with_prefix(&self, prefix: &str, mut visit: impl FnMut(&str, &[u32])) {
        let frozen = &self.frozen;
        for i in frozen.lower_bound(prefix)..frozen.len() {
            let word = frozen.word(i);
            if !word.starts_with(prefix) {
                break;
            }
            visit(word, frozen.postings(i));
        }
        for (word, postings) in self
            .recent
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(word, _)| word.starts_with(prefix))
        {
            visit(word, postings.as_slice());
        }
    }

    /// Merges the recent tier into the frozen one.
    pub(super) fn freeze(&mut self) {
        if self.recent.is_empty() {
            return;
        }
        let recent_postings: usize = self.recent.values().map(|p| p.as_slice().len()).sum();
        let recent_text: usize = self.recent.keys().map(|w| w.len()).sum();
        let text_len = self.frozen.text.len() + recent_text;
        let postings_len = self.frozen.postings.len() + recent_postings;
        if u32::try_from(text_len).is_err() || u32::try_from(postings_len).is_err() {
            // Past what 32-bit offsets address (gigabytes of words): the rest stays in
            // the recent tier, which has no such limit.
            return;
        }
        let words = self.frozen.len() + self.recent.len();
        let old = std::mem::replace(
            &mut self.frozen,
            FrozenWords {
                text: String::with_capacity(text_len),
                word_ends: Vec::with_capacity(words),
                posting_ends: Vec::with_capacity(words),
                postings: Vec::with_capacity(postings_len),
            },
        );
        let merged = &mut self.frozen;
        let mut recent = std::mem::take(&mut self.recent).into_iter().peekable();
        let mut i = 0;
        let mut joined = Vec::new();
        while i < old.len() || recent.peek().is_some() {
            let order = match recent.peek() {
                None => Ordering::Less,
                Some((new_word, _)) if i < old.len() => old.word(i).cmp(new_word),
                Some(_) => Ordering::Greater,
            };
            match order {
                Ordering::Less => {
                    merged.push(old.word(i), old.postings(i));
                    i += 1;
                }
                Ordering::Equal => {
                    if let Some((word, postings)) = recent.next() {
                        joined.clear();
                        joined.extend_from_slice(old.postings(i));
                        joined.extend_from_slice(postings.as_slice());
                        merged.push(&word, &joined);
                    }
                    i += 1;
                }
                Ordering::Greater => {
                    if let Some((word, postings)) = recent.next() {
                        merged.push(&word, postings.as_slice());
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words_with_prefix(vocabulary: &Vocabulary, prefix: &str) -> Vec<(String, Vec<u32>)> {
        let mut out: Vec<(String, Vec<u32>)> = Vec::new();
        vocabulary.for_each_with_prefix(prefix, |word, postings| {
            match out.iter_mut().find(|(w, _)| w == word) {
                Some((_, held)) => held.extend_from_slice(postings),
                None => out.push((word.to_owned(), postings.to_vec())),
            }
        });
        out.sort();
        out
    }

    #[test]
    fn both_tiers_are_read_and_merge_keeps_every_posting() {
        let mut vocabulary = Vocabulary::default();
        vocabulary.insert("rossi", 1);
        vocabulary.insert("rosa", 2);
        vocabulary.insert("bianchi", 3);
        vocabulary.freeze();
        vocabulary.insert("rossi", 4);
        vocabulary.insert("rossini", 5);
        vocabulary.insert("ro", 6);
        let expected = vec![
            ("ro".to_owned(), vec![6]),
            ("rosa".to_owned(), vec![2]),
            ("rossi".to_owned(), vec![1, 4]),
            ("rossini".to_owned(), vec![5]),
        ];
        assert_eq!(words_with_prefix(&vocabulary, "ro"), expected);
        vocabulary.freeze();
        assert!(vocabulary.recent.is_empty());
        assert_eq!(words_with_prefix(&vocabulary, "ro"), expected);
        assert_eq!(words_with_prefix(&vocabulary, "ross").len(), 2);
        assert!(words_with_prefix(&vocabulary, "z").is_empty());

        let mut in_range = Vec::new();
        vocabulary.for_each_in_range("b", Some("r"), |word, _| in_range.push(word.to_owned()));
        assert_eq!(in_range, ["bianchi"]);
    }

    #[test]
    fn a_growing_recent_tier_is_merged_on_its_own() {
        let mut vocabulary = Vocabulary::default();
        for n in 0..3 * MIN_RECENT_WORDS as u32 {
            vocabulary.insert(&format!("w{n:06}"), n);
        }
        assert!(vocabulary.recent.len() < MIN_RECENT_WORDS);
        assert!(vocabulary.frozen.len() >= 2 * MIN_RECENT_WORDS);
        let mut seen = 0;
        vocabulary.for_each_with_prefix("w", |_, postings| seen += postings.len());
        assert_eq!(seen, 3 * MIN_RECENT_WORDS);
    }
}
