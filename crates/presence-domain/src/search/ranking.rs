//! How well a document matches: each token's best rank over the words it matched, the
//! weakest token's rank for the document, and the rank buckets that order the result
//! without sorting.

use super::fuzzy::EditRows;
use super::vocabulary::PostingsIter;
use super::{DOC_MASK, FIELD_SHIFT, Field, MAX_TOKENS, NO_KEY, SearchIndex};

/// Rank buckets; higher is better.
const RANKS: usize = 11;
const _: () = assert!(RANKS <= 16, "ranks are kept in four bits");
const RANK_WHOLE_PREFIX: u8 = 10;

/// Where one document stands in a search: two bytes, read and written together (one
/// memory access a posting; half a million of them fit in a core's cache).
#[derive(Debug, Clone, Copy, Default)]
struct DocumentState {
    /// `generation_base + n`: the document matched the first `n` tokens of this search.
    progress: u8,
    /// The weakest token rank so far (completed tokens) in the high four bits, the best
    /// rank for the token being processed in the low four (ranks are under 16).
    ranks: u8,
}

/// Stands for "no token yet" in the weakest rank: above every rank.
const NO_WEAKEST: u8 = 0xf;

impl DocumentState {
    fn weakest(self) -> u8 {
        self.ranks >> 4
    }

    fn current(self) -> u8 {
        self.ranks & 0xf
    }

    fn set(&mut self, weakest: u8, current: u8) {
        self.ranks = (weakest << 4) | (current & 0xf);
    }
}

/// Memory one search leaves to the next, sized to the documents.
#[derive(Default)]
pub(super) struct Scratch {
    generation_base: u8,
    states: Vec<DocumentState>,
    /// Rows of the typo distance table.
    pub(super) edit_rows: EditRows,
    buckets: [Vec<u32>; RANKS],
    /// `expected` of the query's last token: documents that match it are listed in
    /// `matched`, so a narrow result is collected without walking every document.
    final_expected: u32,
    matched: Vec<u32>,
    /// Whether `matched` is kept: not while documents are numbered in name order, when
    /// `advanced` already marks the matches by their place.
    pub(super) lists_matched: bool,
    /// The documents (a bit each, by number) that matched the token being applied, and
    /// those that matched every token before it: a word held by many documents is
    /// intersected with these 64 at a time.
    advanced: Vec<u64>,
    candidates: Vec<u64>,
    /// The matched documents, a bit each, by their place in name order.
    in_name_order: Vec<u64>,
    /// What the last search leaves for the next one while typing goes on.
    carried: CarriedOver,
}

/// The work of the last search that the next can start from: its tokens, its counts,
/// and the states before its last token. Typing on ("sales man" after "sales ma") then
/// costs the last word only, not every word again.
#[derive(Default)]
struct CarriedOver {
    tokens: Vec<String>,
    base: u32,
    /// The index's revision the states belong to.
    revision: u64,
    /// The states before the last token, when there were several tokens, and the
    /// documents that matched every token before it.
    before_last: Vec<DocumentState>,
    before_last_candidates: Vec<u64>,
    has_before_last: bool,
}

impl Scratch {
    /// Starts a search over `documents` with `tokens` tokens; returns the generation base.
    pub(super) fn begin(&mut self, documents: usize, tokens: usize) -> u32 {
        // Every search takes the same span, so no count left by an earlier search (with
        // more tokens) can equal a count of this one.
        // Every few dozen searches the counts wrap: all are reset (a pass over the
        // states, about as long as a search of a few matches).
        let step = MAX_TOKENS as u8 + 1;
        if self.generation_base.checked_add(2 * step).is_none() || self.generation_base == 0 {
            self.states.fill(DocumentState::default());
            self.generation_base = 1;
        } else {
            self.generation_base += step;
        }
        self.states.resize(documents, DocumentState::default());
        self.advanced.clear();
        self.advanced.resize(documents.div_ceil(64), 0);
        let base = u32::from(self.generation_base);
        self.final_expected = base + tokens.min(MAX_TOKENS).saturating_sub(1) as u32;
        self.matched.clear();
        base
    }

    /// Starts a search of `tokens` over `documents` (the index at `revision`): returns
    /// the generation base and how many of the tokens the last search already applied.
    pub(super) fn begin_tokens(
        &mut self,
        documents: usize,
        tokens: &[&str],
        revision: u64,
    ) -> (u32, usize) {
        let carried = &self.carried;
        let is_same_index =
            carried.revision == revision && carried.base != 0 && self.states.len() == documents;
        let shared = tokens
            .iter()
            .zip(&carried.tokens)
            .take_while(|(new, old)| **new == old.as_str())
            .count();
        let previous = carried.tokens.len();
        let applied = if !is_same_index || shared == 0 {
            0
        } else if shared == previous && tokens.len() > previous {
            // Typed on with a new word: the last search's states are where to start.
            previous
        } else if carried.has_before_last && shared + 1 >= previous && tokens.len() >= previous {
            // The last word changed: back to the states before it.
            self.states.copy_from_slice(&carried.before_last);
            self.advanced.clone_from(&carried.before_last_candidates);
            previous - 1
        } else {
            0
        };
        if applied == 0 {
            return (self.begin(documents, tokens.len()), 0);
        }
        let base = carried.base;
        self.final_expected = base + tokens.len().saturating_sub(1) as u32;
        self.matched.clear();
        (base, applied)
    }

    /// Forgets what the last search left (a test compares with searches from scratch).
    #[cfg(test)]
    pub(super) fn forget_carried(&mut self) {
        self.carried = CarriedOver::default();
    }

    /// Keeps the states before the last token (call it just before applying that).
    pub(super) fn keep_before_last(&mut self) {
        let carried = &mut self.carried;
        carried.before_last.clear();
        carried.before_last.extend_from_slice(&self.states);
        carried.before_last_candidates.clone_from(&self.advanced);
        carried.has_before_last = true;
    }

    /// Starts applying a token: those that matched the token before are its candidates.
    pub(super) fn start_token(&mut self, is_first: bool) {
        let bits = self.states.len().div_ceil(64);
        if !is_first {
            std::mem::swap(&mut self.candidates, &mut self.advanced);
        }
        self.advanced.clear();
        self.advanced.resize(bits, 0);
    }

    /// Notes what this search did, for the next one to start from.
    pub(super) fn carry_over(&mut self, tokens: &[&str], base: u32, revision: u64) {
        let carried = &mut self.carried;
        if tokens.len() < 2 {
            carried.has_before_last = false;
        }
        carried.tokens.clear();
        carried.tokens.extend(tokens.iter().map(|&t| t.to_owned()));
        carried.base = base;
        carried.revision = revision;
    }

    /// Records matches of the current token (`expected` = base + token index).
    pub(super) fn apply(
        &mut self,
        postings: PostingsIter<'_>,
        expected: u32,
        is_first: bool,
        rank: impl Fn(Field) -> u8,
    ) {
        // Counts stay under `u8::MAX` (`begin` resets them before).
        let (expected, is_final) = (expected as u8, expected == self.final_expected);
        let lists_matched = is_final && self.lists_matched;
        // A word's rank in each field, looked up by a posting's field bits.
        let ranks = [Field::Name, Field::Upn, Field::Other, Field::Other].map(&rank);
        let rank_of = |packed: u32| ranks[(packed >> FIELD_SHIFT) as usize & 3];
        let next = expected + 1;
        let Self {
            states,
            matched,
            advanced,
            candidates,
            ..
        } = self;
        let mut on_advance = |doc: u32| {
            if let Some(bits) = advanced.get_mut(doc as usize / 64) {
                *bits |= 1 << (doc % 64);
            }
            if lists_matched {
                matched.push(doc);
            }
        };
        if is_first {
            postings.for_each(|packed| {
                let Some(state) = states.get_mut((packed & DOC_MASK) as usize) else {
                    return;
                };
                if state.progress == next {
                    // Already matched this token through another word.
                    let current = state.current().max(rank_of(packed));
                    state.set(NO_WEAKEST, current);
                } else if state.progress <= expected {
                    state.set(NO_WEAKEST, rank_of(packed));
                    state.progress = next;
                    on_advance(packed & DOC_MASK);
                }
            });
            return;
        }
        // A later token: most of its documents missed an earlier token. A word held by
        // many is intersected with the candidates 64 documents at a time; otherwise a
        // document's state is the one thing read for it.
        if let PostingsIter::Dense(dense) = &postings {
            let rank = rank_of(dense.posting(0));
            for (at, (&bits, &wanted)) in dense.words.iter().zip(candidates.iter()).enumerate() {
                let mut both = bits & wanted;
                while both != 0 {
                    let doc = (at * 64) as u32 + both.trailing_zeros();
                    both &= both - 1;
                    if let Some(state) = states.get_mut(doc as usize)
                        && later_token_matched(state, expected, rank)
                    {
                        on_advance(doc);
                    }
                }
            }
            return;
        }
        postings.for_each(|packed| {
            let Some(state) = states.get_mut((packed & DOC_MASK) as usize) else {
                return;
            };
            if (state.progress == next || state.progress == expected)
                && later_token_matched(state, expected, rank_of(packed))
            {
                on_advance(packed & DOC_MASK);
            }
        });
    }
}

/// Records that a document matched a token after the first with `rank` (its
/// `progress` at `expected` or one past); true when that moved it on.
#[inline]
fn later_token_matched(state: &mut DocumentState, expected: u8, rank: u8) -> bool {
    if state.progress == expected + 1 {
        // Already matched this token through another word.
        let current = state.current().max(rank);
        state.set(state.weakest(), current);
        false
    } else if state.progress == expected {
        let weakest = state.weakest().min(state.current());
        state.set(weakest, rank);
        state.progress = expected + 1;
        true
    } else {
        false
    }
}

impl SearchIndex {
    /// The places in name order of the names that start with `prefix` (a run of it:
    /// names are sorted).
    fn names_starting_with(&self, prefix: &str) -> std::ops::Range<usize> {
        let name_at = |place: usize| {
            self.document_at(place)
                .and_then(|doc| self.documents.get(doc as usize))
                .map_or("", |document| document.name(&self.names))
        };
        let count = self.by_name.len();
        let start = first_place(0..count, |place| name_at(place) >= prefix);
        let end = first_place(start..count, |place| !name_at(place).starts_with(prefix));
        start..end
    }
}

/// The first place in `range` where `is_past` holds (it holds from there to the end).
fn first_place(range: std::ops::Range<usize>, is_past: impl Fn(usize) -> bool) -> usize {
    let (mut low, mut high) = (range.start, range.end);
    while low < high {
        let middle = low + (high - low) / 2;
        if is_past(middle) {
            high = middle;
        } else {
            low = middle + 1;
        }
    }
    low
}

/// Whether document `doc` matched every token (its progress is `done`), and its rank if
/// so (the weakest of its tokens' best ranks).
fn rank_if_done(states: &[DocumentState], doc: usize, done: u32) -> Option<u8> {
    let state = states.get(doc)?;
    (u32::from(state.progress) == done).then(|| state.weakest().min(state.current()))
}

impl SearchIndex {
    /// Writes the documents that matched every token (progress `done`) into `out`, best
    /// rank first and in name order within a rank. The matched documents are marked in a
    /// bit set by their place in name order, then read back in that order: the cost
    /// follows the matches, not the directory.
    pub(super) fn collect_ranked(&mut self, done: u32, normalized_query: &str, out: &mut Vec<u32>) {
        // Names are sorted: those that start with the query are a run of the name order.
        let whole_prefix = self.names_starting_with(normalized_query);
        // Taken out while the index's name order is read (given back below).
        let mut scratch = std::mem::take(&mut self.scratch);
        let Scratch {
            states,
            buckets,
            matched,
            lists_matched,
            advanced,
            in_name_order,
            ..
        } = &mut scratch;
        let in_name_order: &[u64] = if *lists_matched {
            in_name_order.clear();
            in_name_order.resize(self.by_name.len().div_ceil(64), 0);
            // Listed once each, when they matched the last token: all tokens matched then.
            for &doc in matched.iter() {
                if let Some(place) = self.place_of(doc)
                    && let Some(bits) = in_name_order.get_mut(place / 64)
                {
                    *bits |= 1 << (place % 64);
                }
            }
            in_name_order
        } else {
            // Numbered in name order: the documents that matched the last token are
            // marked by their place already.
            advanced
        };
        for (word_index, &word) in in_name_order.iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                let place = word_index * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let Some(doc) = self.document_at(place) else {
                    continue;
                };
                let d = doc as usize;
                let Some(&key) = self.keys.get(d).filter(|&&key| key != NO_KEY) else {
                    continue;
                };
                let rank = if whole_prefix.contains(&place) {
                    RANK_WHOLE_PREFIX
                } else {
                    rank_if_done(states, d, done).unwrap_or(0)
                };
                buckets[rank as usize].push(key);
            }
        }
        for bucket in buckets.iter_mut().rev() {
            out.append(bucket);
        }
        self.scratch = scratch;
    }
}

pub(super) fn prefix_rank(field: Field, is_exact: bool) -> u8 {
    match (field, is_exact) {
        (Field::Name | Field::Upn, true) => 9,
        (Field::Name, false) => 8,
        (Field::Upn, false) => 7,
        (Field::Other, true) => 6,
        (Field::Other, false) => 5,
    }
}

/// A word within the allowed typos of the query word: as a whole word ("martn" for
/// "martin") it ranks above one whose beginning only is close ("martn" for "martinez"),
/// and one typo away above two, so the person meant comes before the thousands a
/// common name's typo also reaches. `whole_word_edits` is the typos to the whole word,
/// when within those allowed.
pub(super) fn fuzzy_rank(field: Field, whole_word_edits: Option<usize>) -> u8 {
    match (field, whole_word_edits) {
        (Field::Name | Field::Upn, Some(0 | 1)) => 4,
        (Field::Name | Field::Upn, Some(_)) => 3,
        (Field::Name | Field::Upn, None) => 2,
        (Field::Other, _) => 1,
    }
}

#[cfg(test)]
mod tests {
    use crate::search::fixtures::{find, index};

    #[test]
    fn results_hold_when_the_search_counts_wrap() {
        let mut index = index();
        // Past the 8-bit counts (some 28 searches), which are then reset.
        for n in 0..2_000 {
            let query = ["rossi sales account milan", "marco", "rossi"][n % 3];
            let expected: &[u32] = [&[0][..], &[1], &[0, 1]][n % 3];
            assert_eq!(find(&mut index, query), expected, "search {n}");
        }
    }

    #[test]
    fn a_shorter_query_after_a_longer_one_is_exact() {
        let mut index = index();
        assert_eq!(find(&mut index, "rossi sales account milan"), [0]);
        assert_eq!(find(&mut index, "marco"), [1]);
        assert_eq!(find(&mut index, "anna"), [0]);
        assert_eq!(find(&mut index, "jose"), [2]);
    }
}
