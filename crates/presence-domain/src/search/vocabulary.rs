//! The search index's word list: every folded word, in sorted order, with the postings
//! (document and field) that hold it.
//!
//! Two tiers keep it both compact and cheap to change. Most words live in a frozen,
//! sorted array: one string of all words, one byte array of all postings, and two arrays
//! of end offsets (about 8 bytes a word plus 1 to 2 a posting, against some 100 for a
//! map entry and 4 a posting). Words added since the last freeze go into a small sorted
//! map, which is merged into the frozen array once it grows to a quarter of it, or when
//! the caller says a bulk load is over. A word may have postings in both tiers; readers
//! see both.
//!
//! A posting is a `u32` whose low [`DOC_BITS`] bits number the document (the rest are
//! the caller's). Frozen postings are sorted by document and stored as LEB128 varints of
//! the gaps between them, document bits first: documents holding a common word are
//! close together, so most gaps take one byte. A frozen word held by many documents
//! (a department, a title, a phone group) is kept as a bit set of its documents too,
//! when that takes at most twice its varints: a query word after the first intersects
//! it with the documents still in the running 64 at a time.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::hash::BuildHasher;
use std::ops::Bound;

use hashbrown::HashTable;

use super::fuzzy::{Closeness, PrefixColumns, next_prefix};

/// Words the recent tier holds before it is merged, at least.
const MIN_RECENT_WORDS: usize = 32_768;

/// Low bits of a posting that number its document.
pub(super) const DOC_BITS: u32 = 28;
const DOC_MASK: u32 = (1 << DOC_BITS) - 1;

/// A posting with its document bits first, so that postings sorted by document ascend.
fn document_first(posting: u32) -> u32 {
    posting.rotate_left(32 - DOC_BITS)
}

fn from_document_first(value: u32) -> u32 {
    value.rotate_right(32 - DOC_BITS)
}

/// The postings of one word in one tier, as read.
pub(super) enum PostingsIter<'a> {
    Plain(std::slice::Iter<'a, u32>),
    /// Varints of gaps between document-first values.
    Packed {
        bytes: &'a [u8],
        previous: u32,
    },
    /// A word held by many documents: a bit a document, all with the same `tag` (the
    /// bits of a posting above its document). A search intersects it with its
    /// candidates 64 documents at a time.
    Dense(DenseBits<'a>),
}

/// The documents of a [`PostingsIter::Dense`] word, read from `word` (64 documents a
/// `u64`) on, past the one last read (`bit`).
#[derive(Clone)]
pub(super) struct DenseBits<'a> {
    pub(super) words: &'a [u64],
    pub(super) tag: u32,
    at: usize,
    bit: u64,
}

impl<'a> DenseBits<'a> {
    fn new(dense: &'a DenseWord) -> Self {
        Self {
            words: &dense.bits,
            tag: dense.tag,
            at: 0,
            bit: dense.bits.first().copied().unwrap_or(0),
        }
    }

    /// The posting of document `doc`.
    pub(super) fn posting(&self, doc: u32) -> u32 {
        (self.tag << DOC_BITS) | doc
    }
}

/// Sets the bits of `postings`' documents in `bits`, all of whose postings have `tag`
/// (the first posting's, when `None`); `None` when one has another tag, or the set
/// would pass [`DENSE_BYTES_PER_VARINT_BYTE`] times `encoded_bytes`.
fn add_postings(
    bits: &mut Vec<u64>,
    tag: &mut Option<u32>,
    postings: impl Iterator<Item = u32>,
    encoded_bytes: usize,
) -> Option<()> {
    let most_words = DENSE_BYTES_PER_VARINT_BYTE * encoded_bytes / 8;
    for posting in postings {
        let posting_tag = posting >> DOC_BITS;
        if *tag.get_or_insert(posting_tag) != posting_tag {
            return None;
        }
        let doc = (posting & DOC_MASK) as usize;
        let at = doc / 64;
        if at >= bits.len() {
            if at >= most_words {
                return None;
            }
            bits.resize(at + 1, 0);
        }
        bits[at] |= 1 << (doc % 64);
    }
    Some(())
}

/// Words whose postings take at least this many bytes may also be kept as a bit set.
const MIN_DENSE_BYTES: usize = 1024;
/// A word is kept as a bit set too when the bit set takes at most this many times the
/// bytes of its varints (at most some 2 bytes a posting more for the common words).
const DENSE_BYTES_PER_VARINT_BYTE: usize = 2;

/// The documents of a word held by many, a bit each: what a search of several words
/// intersects with the documents the earlier words left, 64 at a time, rather than
/// decoding a posting at a time ("55" in "+39 02 55" is in most phone numbers).
#[derive(Clone)]
struct DenseWord {
    /// The word's index in the frozen words.
    word: u32,
    tag: u32,
    bits: Box<[u64]>,
}

impl DenseWord {
    /// The bit set of `postings` (sorted by document), when every posting has the same
    /// tag and the set is small enough beside `encoded_bytes` of varints.
    fn of(word: u32, postings: impl Iterator<Item = u32>, encoded_bytes: usize) -> Option<Self> {
        if encoded_bytes < MIN_DENSE_BYTES {
            return None;
        }
        let (mut bits, mut tag) = (Vec::new(), None);
        add_postings(&mut bits, &mut tag, postings, encoded_bytes)?;
        Some(Self {
            word,
            tag: tag?,
            bits: bits.into_boxed_slice(),
        })
    }

    /// The posting of the last document.
    fn last_posting(&self) -> Option<u32> {
        let at = self.bits.iter().rposition(|&bits| bits != 0)?;
        let doc = at * 64 + 63 - self.bits[at].leading_zeros() as usize;
        Some((self.tag << DOC_BITS) | doc as u32)
    }

    /// This set with the documents of `more` too (`None` when they have another tag, or
    /// the set grows too large beside `encoded_bytes`).
    fn with(&self, more: &[u32], encoded_bytes: usize) -> Option<Self> {
        let (mut bits, mut tag) = (self.bits.to_vec(), Some(self.tag));
        add_postings(&mut bits, &mut tag, more.iter().copied(), encoded_bytes)?;
        Some(Self {
            bits: bits.into_boxed_slice(),
            ..*self
        })
    }
}

/// One LEB128 varint from the front of `bytes` (at most five bytes; a cut one ends it).
#[inline]
fn take_varint(bytes: &mut &[u8]) -> Option<u32> {
    let (&first, rest) = bytes.split_first()?;
    *bytes = rest;
    let mut value = u32::from(first & 0x7f);
    let mut shift = 7;
    let mut byte = first;
    while byte & 0x80 != 0 && shift < 32 {
        let (&next, rest) = bytes.split_first()?;
        *bytes = rest;
        value |= u32::from(next & 0x7f) << shift;
        byte = next;
        shift += 7;
    }
    Some(value)
}

impl Iterator for PostingsIter<'_> {
    type Item = u32;

    /// Every posting, with the tier decided once rather than per posting (a search
    /// walks tens of thousands of them).
    fn fold<B, F: FnMut(B, u32) -> B>(self, init: B, mut f: F) -> B {
        match self {
            Self::Plain(postings) => postings.copied().fold(init, f),
            Self::Packed {
                mut bytes,
                mut previous,
            } => {
                let mut accumulated = init;
                while let Some(gap) = take_varint(&mut bytes) {
                    previous = previous.wrapping_add(gap);
                    accumulated = f(accumulated, from_document_first(previous));
                }
                accumulated
            }
            Self::Dense(mut dense) => {
                let mut accumulated = init;
                loop {
                    while dense.bit != 0 {
                        let doc = dense.at * 64 + dense.bit.trailing_zeros() as usize;
                        dense.bit &= dense.bit - 1;
                        accumulated = f(accumulated, dense.posting(doc as u32));
                    }
                    dense.at += 1;
                    match dense.words.get(dense.at) {
                        Some(&bits) => dense.bit = bits,
                        None => return accumulated,
                    }
                }
            }
        }
    }

    fn next(&mut self) -> Option<u32> {
        match self {
            Self::Plain(postings) => postings.next().copied(),
            Self::Packed { bytes, previous } => {
                let gap = take_varint(bytes)?;
                *previous = previous.wrapping_add(gap);
                Some(from_document_first(*previous))
            }
            Self::Dense(dense) => loop {
                if dense.bit != 0 {
                    let doc = dense.at * 64 + dense.bit.trailing_zeros() as usize;
                    dense.bit &= dense.bit - 1;
                    return Some(dense.posting(doc as u32));
                }
                dense.at += 1;
                dense.bit = *dense.words.get(dense.at)?;
            },
        }
    }
}

fn push_varint(out: &mut Vec<u8>, mut value: u32) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

#[derive(Default)]
pub(super) struct Vocabulary {
    frozen: FrozenWords,
    /// An earlier recent tier being merged into `frozen` a slice at a time.
    merging: Option<Box<Merge>>,
    recent: BTreeMap<Box<str>, Postings>,
    /// The bytes of the recent tier's words, and its postings (for a merge's sizes).
    recent_bytes: usize,
    recent_postings: usize,
}

/// A merge of an earlier recent tier into the frozen words, done a slice at a time so
/// that no one call (a frame of the app) pays for it all. Until it is done, readers see
/// the frozen words and that tier as they were: each posting is in one of them.
struct Merge {
    /// The tier being merged.
    words: BTreeMap<Box<str>, Postings>,
    /// The frozen words being built.
    into: FrozenWords,
    /// The next frozen word to merge.
    frozen_at: usize,
    /// The last word of `words` merged.
    words_done: Option<Box<str>>,
}

impl Merge {
    /// The words of the tier in `from..to` (`None`: no end).
    fn range<'a>(
        &'a self,
        from: &'a str,
        to: Option<&'a str>,
    ) -> impl Iterator<Item = (&'a Box<str>, &'a Postings)> + 'a {
        let upper = to.map_or(Bound::Unbounded, Bound::Excluded);
        self.words.range::<str, _>((Bound::Included(from), upper))
    }
}

/// Words a merge step copies at most on each insert of a new word; the rest is done by
/// [`Vocabulary::merge_step`] (the app's frames).
const MERGE_WORDS_PER_INSERT: usize = 4;

/// Sorted words packed into a few arrays.
#[derive(Default)]
struct FrozenWords {
    /// All words, concatenated in sorted order.
    text: String,
    /// End of each word in `text`.
    word_ends: Vec<u32>,
    /// End of each word's postings in `postings`.
    posting_ends: Vec<u32>,
    /// Each word's postings, sorted by document, as varints of their gaps.
    postings: Vec<u8>,
    /// The words held by many documents, also as bit sets, in word order.
    dense: Vec<DenseWord>,
    /// A bit a word: whether it is in `dense`.
    is_dense: Vec<u64>,
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

    fn postings(&self, i: usize) -> PostingsIter<'_> {
        match self.dense_word(i) {
            Some(dense) => PostingsIter::Dense(DenseBits::new(dense)),
            None => PostingsIter::Packed {
                bytes: self.encoded_postings(i),
                previous: 0,
            },
        }
    }

    /// Word `i` as a bit set, if it is kept so.
    fn dense_word(&self, i: usize) -> Option<&DenseWord> {
        let is_dense = self
            .is_dense
            .get(i / 64)
            .is_some_and(|bits| bits & (1 << (i % 64)) != 0);
        if !is_dense {
            return None;
        }
        let at = self
            .dense
            .binary_search_by_key(&i, |d| d.word as usize)
            .ok()?;
        self.dense.get(at)
    }

    /// Keeps the word just pushed as a bit set too, if it is worth it.
    fn keep_dense(&mut self, dense: Option<DenseWord>) {
        let i = self.word_ends.len().saturating_sub(1);
        if self.is_dense.len() * 64 <= i {
            self.is_dense.resize(i / 64 + 1, 0);
        }
        if let Some(dense) = dense {
            self.is_dense[i / 64] |= 1 << (i % 64);
            self.dense.push(DenseWord {
                word: i as u32,
                ..dense
            });
        }
    }

    /// The bit set of the word just pushed, from its varints.
    fn dense_of_last(&self) -> Option<DenseWord> {
        let i = self.word_ends.len().checked_sub(1)?;
        let encoded = self.encoded_postings(i);
        if encoded.len() < MIN_DENSE_BYTES {
            return None;
        }
        let postings = PostingsIter::Packed {
            bytes: encoded,
            previous: 0,
        };
        DenseWord::of(i as u32, postings, encoded.len())
    }

    /// The varints of word `i`'s postings, as stored.
    fn encoded_postings(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.posting_ends[i - 1] };
        self.postings
            .get(start as usize..self.posting_ends[i] as usize)
            .unwrap_or_default()
    }

    /// Index of the first word not less than `word`.
    fn lower_bound(&self, word: &str) -> usize {
        self.lower_bound_in(word, 0, self.len())
    }

    /// Index of the first word not less than `word`, from `start` on, where it is
    /// likely near: the step doubles until it passes the word, then halves.
    fn lower_bound_after(&self, word: &str, start: usize) -> usize {
        let mut low = start;
        let mut step = 1;
        while low + step < self.len() && self.word(low + step) < word {
            low += step;
            step *= 2;
        }
        self.lower_bound_in(word, low, (low + step + 1).min(self.len()))
    }

    fn lower_bound_in(&self, word: &str, mut low: usize, mut high: usize) -> usize {
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

    /// Appends a word greater than every word so far, with its postings (sorted here;
    /// the caller has checked that the offsets fit in 32 bits).
    fn push(&mut self, word: &str, postings: &mut [u32]) {
        self.text.push_str(word);
        self.word_ends.push(self.text.len() as u32);
        postings.sort_unstable_by_key(|&p| document_first(p));
        let start = self.postings.len();
        let mut previous = 0;
        for &posting in postings.iter() {
            let value = document_first(posting);
            push_varint(&mut self.postings, value - previous);
            previous = value;
        }
        self.posting_ends.push(self.postings.len() as u32);
        let word = self.word_ends.len() - 1;
        let encoded_bytes = self.postings.len() - start;
        let dense = DenseWord::of(word as u32, postings.iter().copied(), encoded_bytes);
        self.keep_dense(dense);
    }

    /// Appends a word greater than every word so far, with postings already encoded
    /// (`encoded`) and more (`more`, sorted here). Documents only get larger numbers, so
    /// `more` mostly comes after: then `encoded` is copied as it is.
    /// `dense` is the bit set `encoded` had, if any: the last posting is read from it,
    /// and the new bit set made from it, rather than by decoding every varint.
    fn push_after(
        &mut self,
        word: &str,
        encoded: &[u8],
        dense: Option<&DenseWord>,
        more: &mut [u32],
    ) {
        more.sort_unstable_by_key(|&p| document_first(p));
        let last = match dense {
            Some(dense) => dense.last_posting(),
            None => PostingsIter::Packed {
                bytes: encoded,
                previous: 0,
            }
            .last(),
        }
        .map_or(0, document_first);
        let first_more = more.first().map_or(u32::MAX, |&p| document_first(p));
        if first_more <= last && !encoded.is_empty() {
            let mut all: Vec<u32> = PostingsIter::Packed {
                bytes: encoded,
                previous: 0,
            }
            .collect();
            all.extend_from_slice(more);
            self.push(word, &mut all);
            return;
        }
        self.text.push_str(word);
        self.word_ends.push(self.text.len() as u32);
        self.postings.extend_from_slice(encoded);
        let mut previous = last;
        for &posting in more.iter() {
            let value = document_first(posting);
            push_varint(&mut self.postings, value - previous);
            previous = value;
        }
        self.posting_ends.push(self.postings.len() as u32);
        let dense = match dense {
            Some(dense) => {
                let word = self.word_ends.len() - 1;
                dense.with(more, self.encoded_postings(word).len())
            }
            None => self.dense_of_last(),
        };
        self.keep_dense(dense);
    }

    /// Appends a word greater than every word so far, with postings already encoded,
    /// and the bit set they had (`dense`), if any.
    fn push_encoded(&mut self, word: &str, encoded: &[u8], dense: Option<&DenseWord>) {
        self.text.push_str(word);
        self.word_ends.push(self.text.len() as u32);
        self.postings.extend_from_slice(encoded);
        self.posting_ends.push(self.postings.len() as u32);
        self.keep_dense(dense.cloned());
    }
}

impl Vocabulary {
    /// Records that the document and field in `posting` hold `word`.
    pub(super) fn insert(&mut self, word: &str, posting: u32) {
        self.recent_postings += 1;
        match self.recent.get_mut(word) {
            Some(postings) => postings.push(posting),
            None => {
                self.recent_bytes += word.len();
                self.recent.insert(word.into(), Postings::One(posting));
                if self.merging.is_none()
                    && self.recent.len() >= MIN_RECENT_WORDS.max(self.frozen.len() / 4)
                {
                    self.start_merge();
                }
                self.merge_step(MERGE_WORDS_PER_INSERT);
            }
        }
    }

    /// Calls `visit` with every word in `from..to` (`to` excluded; `None`: no end) and its
    /// postings. A word with postings in several tiers is visited once for each.
    pub(super) fn for_each_in_range(
        &self,
        from: &str,
        to: Option<&str>,
        mut visit: impl FnMut(&str, PostingsIter<'_>),
    ) {
        let frozen = &self.frozen;
        let end = to.map_or(frozen.len(), |to| frozen.lower_bound(to));
        for i in frozen.lower_bound(from)..end {
            visit(frozen.word(i), frozen.postings(i));
        }
        for (word, postings) in self.merging.iter().flat_map(|m| m.range(from, to)) {
            visit(word, PostingsIter::Plain(postings.as_slice().iter()));
        }
        let upper = to.map_or(Bound::Unbounded, Bound::Excluded);
        for (word, postings) in self.recent.range::<str, _>((Bound::Included(from), upper)) {
            visit(word, PostingsIter::Plain(postings.as_slice().iter()));
        }
    }

    /// Calls `visit` with every word in `from..to` within `max_edits` typos of a prefix
    /// of it (see [`PrefixColumns`]), its postings and how close it is. The sorted
    /// words are walked with shared columns, skipping every word of a beginning that
    /// can no longer come close; the few words of the recent tier are measured alone.
    pub(super) fn for_each_close_to(
        &self,
        token: &str,
        (from, to): (&str, &str),
        max_edits: usize,
        columns: &mut PrefixColumns,
        mut visit: impl FnMut(&str, PostingsIter<'_>, usize),
    ) {
        let frozen = &self.frozen;
        let end = frozen.lower_bound(to);
        let mut i = frozen.lower_bound(from);
        columns.begin(token, max_edits);
        let mut previous = "";
        while i < end {
            let word = frozen.word(i);
            match columns.measure(token, previous, word, max_edits) {
                Closeness::Within(distance) => {
                    visit(word, frozen.postings(i), distance);
                    i += 1;
                }
                Closeness::Beyond => i += 1,
                Closeness::NoneStartingWith(letters) => {
                    let skip_to = next_prefix(word.get(..letters).unwrap_or(word));
                    i = frozen.lower_bound_after(&skip_to, i + 1).min(end);
                }
            }
            previous = word;
        }
        let merging = self.merging.iter().flat_map(|m| m.range(from, Some(to)));
        let recent = self
            .recent
            .range::<str, _>((Bound::Included(from), Bound::Excluded(to)));
        for (word, postings) in merging.chain(recent) {
            // Measured from its first letter: nothing is shared with the word before.
            if let Closeness::Within(distance) = columns.measure(token, "", word, max_edits) {
                visit(
                    word,
                    PostingsIter::Plain(postings.as_slice().iter()),
                    distance,
                );
            }
        }
    }

    /// Calls `visit` with every word that starts with `prefix`, and its postings.
    pub(super) fn for_each_with_prefix(
        &self,
        prefix: &str,
        mut visit: impl FnMut(&str, PostingsIter<'_>),
    ) {
        let frozen = &self.frozen;
        for i in frozen.lower_bound(prefix)..frozen.len() {
            let word = frozen.word(i);
            if !word.starts_with(prefix) {
                break;
            }
            visit(word, frozen.postings(i));
        }
        let merging = self.merging.iter().flat_map(|m| m.range(prefix, None));
        let recent = self
            .recent
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded));
        for (word, postings) in merging
            .take_while(|(word, _)| word.starts_with(prefix))
            .chain(recent.take_while(|(word, _)| word.starts_with(prefix)))
        {
            visit(word, PostingsIter::Plain(postings.as_slice().iter()));
        }
    }

    /// How many frozen words are kept as bit sets too.
    #[cfg(test)]
    pub(super) fn dense_words(&self) -> usize {
        self.frozen.dense.len()
    }

    /// Merges the recent tier into the frozen one, now: any merge under way is finished
    /// first.
    pub(super) fn freeze(&mut self) {
        self.merge_step(usize::MAX);
        if self.start_merge() {
            self.merge_step(usize::MAX);
        }
    }

    /// Sets the recent tier aside to be merged (a new one takes inserts meanwhile);
    /// false when there is nothing to merge, or it would pass what 32-bit offsets
    /// address (gigabytes of words: the recent tier, which has no such limit, keeps
    /// them).
    fn start_merge(&mut self) -> bool {
        if self.recent.is_empty() || self.merging.is_some() {
            return false;
        }
        // A posting takes at most five bytes as a varint.
        let text_len = self.frozen.text.len() + self.recent_bytes;
        let postings_len = self.frozen.postings.len() + 5 * self.recent_postings;
        if u32::try_from(text_len).is_err() || u32::try_from(postings_len).is_err() {
            return false;
        }
        let words = self.frozen.len() + self.recent.len();
        let postings_capacity = self.frozen.postings.len() + 5 * self.recent_postings / 3;
        self.recent_bytes = 0;
        self.recent_postings = 0;
        self.merging = Some(Box::new(Merge {
            words: std::mem::take(&mut self.recent),
            into: FrozenWords {
                text: String::with_capacity(text_len),
                word_ends: Vec::with_capacity(words),
                posting_ends: Vec::with_capacity(words),
                postings: Vec::with_capacity(postings_capacity),
                dense: Vec::new(),
                is_dense: Vec::with_capacity(words.div_ceil(64)),
            },
            frozen_at: 0,
            words_done: None,
        }));
        true
    }

    /// Goes on with the merge under way for at most `max_words` words; true when there
    /// is more to do.
    pub(super) fn merge_step(&mut self, max_words: usize) -> bool {
        let Some(merge) = self.merging.as_deref_mut() else {
            return false;
        };
        let old = &self.frozen;
        let Merge {
            words,
            into,
            frozen_at,
            words_done,
        } = merge;
        let lower = words_done
            .as_deref()
            .map_or(Bound::Unbounded, Bound::Excluded);
        let mut new_words = words.range::<str, _>((lower, Bound::Unbounded)).peekable();
        let mut joined = Vec::new();
        let mut last_new: Option<&str> = None;
        let mut done = 0;
        while done < max_words && (*frozen_at < old.len() || new_words.peek().is_some()) {
            done += 1;
            let order = match new_words.peek() {
                None => Ordering::Less,
                Some((new_word, _)) if *frozen_at < old.len() => old.word(*frozen_at).cmp(new_word),
                Some(_) => Ordering::Greater,
            };
            if order == Ordering::Less {
                // Most words: copied as they are, not decoded (a merge is a copy).
                into.push_encoded(
                    old.word(*frozen_at),
                    old.encoded_postings(*frozen_at),
                    old.dense_word(*frozen_at),
                );
                *frozen_at += 1;
                continue;
            }
            let Some((word, postings)) = new_words.next() else {
                break;
            };
            joined.clear();
            joined.extend_from_slice(postings.as_slice());
            if order == Ordering::Equal {
                into.push_after(
                    word,
                    old.encoded_postings(*frozen_at),
                    old.dense_word(*frozen_at),
                    &mut joined,
                );
                *frozen_at += 1;
            } else {
                into.push(word, &mut joined);
            }
            last_new = Some(word);
        }
        let is_more = *frozen_at < old.len() || new_words.peek().is_some();
        if let Some(word) = last_new {
            *words_done = Some(word.into());
        }
        if is_more {
            return true;
        }
        if let Some(merge) = self.merging.take() {
            let mut merged = merge.into;
            // The varints' length was a guess: give back what they did not take.
            merged.postings.shrink_to_fit();
            self.frozen = merged;
        }
        false
    }
}

/// Gathers the words of many documents at once, then sorts them once: a bulk load
/// without the recent tier's map and merges. About 4 times faster than inserting.
#[derive(Default)]
pub(super) struct VocabularyBuilder {
    /// Word ids, found by the word's text.
    ids: HashTable<u32>,
    hasher: foldhash::fast::RandomState,
    /// The distinct words, in the order first seen, one after the other.
    text: String,
    /// End of each word (by id) in `text`.
    word_ends: Vec<u32>,
    /// Word id (high half) and posting (low half), in the order added; turned into
    /// sort keys in place when finished, so the largest buffer is never held twice.
    postings: Vec<u64>,
}

impl VocabularyBuilder {
    /// Records that the document and field in `posting` hold `word`.
    pub(super) fn insert(&mut self, word: &str, posting: u32) {
        let hash = self.hasher.hash_one(word);
        let (text, word_ends) = (&self.text, &self.word_ends);
        let found = self
            .ids
            .find(hash, |&id| word_of(text, word_ends, id) == word)
            .copied();
        let id = match found {
            Some(id) => id,
            None => {
                let (Ok(id), Ok(end)) = (
                    u32::try_from(self.word_ends.len()),
                    u32::try_from(self.text.len() + word.len()),
                ) else {
                    // Past 4 GiB of distinct words: the rest are left out.
                    return;
                };
                self.text.push_str(word);
                self.word_ends.push(end);
                let (hasher, text, word_ends) = (&self.hasher, &self.text, &self.word_ends);
                self.ids.insert_unique(hash, id, |&id| {
                    hasher.hash_one(word_of(text, word_ends, id))
                });
                id
            }
        };
        self.postings
            .push((u64::from(id) << 32) | u64::from(posting));
    }

    /// The vocabulary of every word gathered, frozen, with each posting's document
    /// renumbered through `new_document` (a document not in it keeps its number).
    pub(super) fn finish(self, new_document: &[u32]) -> Vocabulary {
        let Self {
            ids,
            text,
            word_ends,
            postings,
            ..
        } = self;
        drop(ids);
        let mut by_word: Vec<u32> = (0..word_ends.len() as u32).collect();
        by_word.sort_unstable_by(|&a, &b| {
            word_of(&text, &word_ends, a).cmp(word_of(&text, &word_ends, b))
        });
        let mut rank = vec![0u32; word_ends.len()];
        for (r, &id) in by_word.iter().enumerate() {
            rank[id as usize] = r as u32;
        }
        // Rank, then document: one sort of integers puts every posting in place.
        let mut keyed = postings;
        for key in &mut keyed {
            let (id, posting) = ((*key >> 32) as usize, *key as u32);
            let document = posting & DOC_MASK;
            let renumbered = new_document
                .get(document as usize)
                .map_or(posting, |&new| (posting & !DOC_MASK) | (new & DOC_MASK));
            *key = (u64::from(rank[id]) << 32) | u64::from(document_first(renumbered));
        }
        drop(rank);
        keyed.sort_unstable();
        // A word a document holds more than once (given name and display name): the
        // best field, which sorts first, is kept.
        keyed.dedup_by_key(|key| *key >> (32 - DOC_BITS));

        let mut vocabulary = Vocabulary {
            frozen: FrozenWords {
                text: String::with_capacity(text.len()),
                word_ends: Vec::with_capacity(by_word.len()),
                posting_ends: Vec::with_capacity(by_word.len()),
                postings: Vec::with_capacity(keyed.len() * 5 / 4),
                dense: Vec::new(),
                is_dense: Vec::with_capacity(by_word.len().div_ceil(64)),
            },
            merging: None,
            recent: BTreeMap::new(),
            recent_bytes: 0,
            recent_postings: 0,
        };
        let mut postings_of_word: Vec<u32> = Vec::new();
        let mut at = 0;
        while at < keyed.len() {
            let r = (keyed[at] >> 32) as usize;
            postings_of_word.clear();
            while at < keyed.len() && (keyed[at] >> 32) as usize == r {
                postings_of_word.push(from_document_first(keyed[at] as u32));
                at += 1;
            }
            let word = word_of(&text, &word_ends, by_word[r]);
            let frozen = &vocabulary.frozen;
            let fits = u32::try_from(frozen.text.len() + word.len()).is_ok()
                && u32::try_from(frozen.postings.len() + 5 * postings_of_word.len()).is_ok();
            if fits {
                vocabulary.frozen.push(word, &mut postings_of_word);
            } else {
                // Past what 32-bit offsets address: kept in the recent tier.
                for &posting in &postings_of_word {
                    vocabulary.insert(word, posting);
                }
            }
        }
        vocabulary.frozen.postings.shrink_to_fit();
        vocabulary
    }
}

fn word_of<'a>(text: &'a str, word_ends: &[u32], id: u32) -> &'a str {
    let id = id as usize;
    let start = if id == 0 { 0 } else { word_ends[id - 1] };
    text.get(start as usize..word_ends[id] as usize)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words_with_prefix(vocabulary: &Vocabulary, prefix: &str) -> Vec<(String, Vec<u32>)> {
        let mut out: Vec<(String, Vec<u32>)> = Vec::new();
        vocabulary.for_each_with_prefix(prefix, |word, postings| {
            match out.iter_mut().find(|(w, _)| w == word) {
                Some((_, held)) => held.extend(postings),
                None => out.push((word.to_owned(), postings.collect())),
            }
        });
        for (_, postings) in &mut out {
            postings.sort_unstable();
        }
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
        // Out of the usual order (documents grow): read back all the same.
        vocabulary.insert("bianchi", 0);
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
        vocabulary.for_each_in_range("b", Some("r"), |word, postings| {
            in_range.push((word.to_owned(), postings.collect::<Vec<_>>()));
        });
        assert_eq!(in_range, [("bianchi".to_owned(), vec![0, 3])]);
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
        vocabulary.for_each_with_prefix("w", |_, postings| seen += postings.count());
        assert_eq!(seen, 3 * MIN_RECENT_WORDS);
    }

    #[test]
    fn a_merge_done_a_slice_at_a_time_hides_nothing_meanwhile() {
        let mut vocabulary = Vocabulary::default();
        let count = |vocabulary: &Vocabulary| {
            let mut seen = 0;
            vocabulary.for_each_with_prefix("w", |_, postings| seen += postings.count());
            let mut in_range = 0;
            vocabulary
                .for_each_in_range("w", Some("x"), |_, postings| in_range += postings.count());
            assert_eq!(seen, in_range);
            seen
        };
        let words = 2 * MIN_RECENT_WORDS as u32;
        for n in 0..words {
            vocabulary.insert(&format!("w{n:06}"), n);
        }
        vocabulary.freeze();
        assert!(vocabulary.merging.is_none() && vocabulary.recent.is_empty());
        // A word both frozen and new, and new words: the merge starts on its own.
        let mut added = 0;
        while vocabulary.merging.is_none() {
            vocabulary.insert(&format!("w{:06}", added % words), words + added);
            vocabulary.insert(&format!("x{added:06}"), added);
            added += 1;
        }
        let total = count(&vocabulary);
        assert_eq!(total, (words + added) as usize);
        // Typos are found in the tier being merged too.
        let mut columns = PrefixColumns::default();
        let mut close = 0;
        vocabulary.for_each_close_to("w00000l", ("w", "x"), 1, &mut columns, |_, p, _| {
            close += p.count()
        });
        assert!(close >= 2, "w000000 (frozen and merging)");
        // Step by step, with an insert between the steps: nothing is hidden or lost.
        let mut steps = 0;
        while vocabulary.merge_step(10_000) {
            steps += 1;
            vocabulary.insert("w999999", 7);
            added += 1;
            assert_eq!(count(&vocabulary), (words + added) as usize, "step {steps}");
        }
        assert!(steps >= 2, "done a slice at a time");
        assert!(vocabulary.merging.is_none());
        vocabulary.freeze();
        assert!(vocabulary.recent.is_empty());
        assert_eq!(count(&vocabulary), (words + added) as usize);
    }

    #[test]
    fn packed_postings_read_back_whole_whatever_their_order() {
        let field_bits = |doc: u32, field: u32| (field << DOC_BITS) | doc;
        let mut postings = vec![
            field_bits(70_000, 2),
            field_bits(3, 1),
            field_bits(4, 0),
            field_bits((1 << DOC_BITS) - 1, 3),
            field_bits(0, 2),
        ];
        let mut vocabulary = Vocabulary::default();
        for &posting in &postings {
            vocabulary.insert("word", posting);
        }
        vocabulary.freeze();
        let mut read = Vec::new();
        vocabulary.for_each_with_prefix("word", |_, p| read.extend(p));
        read.sort_unstable();
        postings.sort_unstable();
        assert_eq!(read, postings);
        // Three of five gaps are small: one byte each.
        assert!(vocabulary.frozen.postings.len() < 5 * 4);
    }

    fn postings_of(vocabulary: &Vocabulary, word: &str) -> Vec<u32> {
        let mut read = Vec::new();
        vocabulary.for_each_in_range(word, Some(&format!("{word}\u{1}")), |_, p| {
            read.extend(p);
        });
        read.sort_unstable();
        read
    }

    #[test]
    fn a_word_of_many_documents_is_also_a_bit_set_through_merges() {
        let tag = 2 << DOC_BITS;
        let mut vocabulary = Vocabulary::default();
        let mut expected: Vec<u32> = (0..3_000).step_by(2).map(|doc| tag | doc).collect();
        for &posting in &expected {
            vocabulary.insert("common", posting);
        }
        vocabulary.insert("rare", tag | 7);
        vocabulary.freeze();
        let dense_words =
            |v: &Vocabulary| v.frozen.dense.iter().map(|d| d.word).collect::<Vec<_>>();
        assert_eq!(
            dense_words(&vocabulary),
            [0],
            "\"common\" is a bit set, \"rare\" is not"
        );
        assert!(matches!(
            vocabulary.frozen.postings(0),
            PostingsIter::Dense(_)
        ));
        assert_eq!(postings_of(&vocabulary, "common"), expected);

        // More after the last document (the bit set is extended), one before it (made
        // again from the varints), and a word before it that moves it along.
        for doc in [3_001, 5_000, 1] {
            vocabulary.insert("common", tag | doc);
            expected.push(tag | doc);
        }
        vocabulary.insert("before", tag | 9);
        vocabulary.freeze();
        expected.sort_unstable();
        assert_eq!(dense_words(&vocabulary), [1]);
        assert_eq!(postings_of(&vocabulary, "common"), expected);
        assert_eq!(postings_of(&vocabulary, "rare"), [tag | 7]);

        // A merge a slice at a time keeps the bit set of a word it copies.
        vocabulary.insert("after", tag | 11);
        assert!(vocabulary.start_merge());
        while vocabulary.merge_step(1) {}
        assert_eq!(dense_words(&vocabulary), [2]);
        assert_eq!(postings_of(&vocabulary, "common"), expected);

        // Postings of another tag: the varints alone.
        vocabulary.insert("common", (1 << DOC_BITS) | 6_000);
        vocabulary.freeze();
        assert!(dense_words(&vocabulary).is_empty());
        expected.push((1 << DOC_BITS) | 6_000);
        expected.sort_unstable();
        assert_eq!(postings_of(&vocabulary, "common"), expected);
    }
}
