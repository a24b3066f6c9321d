//! How well a document matches: each token's best rank over the words it matched, the
//! weakest token's rank for the document, and the rank buckets that order the result
//! without sorting.

use super::fuzzy::EditRows;
use super::name_order::set_bits;
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
    /// The documents (a bit each, by number) that matched the token being applied, and
    /// those that matched every token before it: a word held by many documents is
    /// intersected with these 64 at a time. After the last token, `advanced` holds the
    /// result.
    advanced: Vec<u64>,
    candidates: Vec<u64>,
    /// The matches among documents added since the build, a bit each by their place in
    /// the name order of those (see [`NameOrder`](super::name_order::NameOrder)).
    later_matches: Vec<u64>,
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
    /// Starts a search over `documents`; returns the generation base.
    fn begin(&mut self, documents: usize) -> u32 {
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
        u32::from(self.generation_base)
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
            return (self.begin(documents), 0);
        }
        (carried.base, applied)
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
        let expected = expected as u8;
        // A word's rank in each field, looked up by a posting's field bits.
        let ranks = [Field::Name, Field::Upn, Field::Other, Field::Other].map(&rank);
        let rank_of = |packed: u32| ranks[(packed >> FIELD_SHIFT) as usize & 3];
        let next = expected + 1;
        let Self {
            states,
            advanced,
            candidates,
            ..
        } = self;
        let mut on_advance = |doc: u32| {
            if let Some(bits) = advanced.get_mut(doc as usize / 64) {
                *bits |= 1 << (doc % 64);
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
    /// The numbered documents (in name order by number) whose names start with
    /// `prefix`: a run of them, as names are sorted.
    fn numbered_names_starting_with(&self, prefix: &str) -> std::ops::Range<usize> {
        let name_at = |doc: usize| {
            self.documents
                .get(doc)
                .map_or("", |document| document.name(&self.names))
        };
        let count = self.name_order.numbered() as usize;
        let start = first_place(0..count, |doc| name_at(doc) >= prefix);
        let end = first_place(start..count, |doc| !name_at(doc).starts_with(prefix));
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
    /// Writes the documents that matched every token (progress `done`, marked in
    /// `advanced`) into `out`, best rank first and in name order within a rank. The
    /// numbered documents are walked by number, which is their name order; the matches
    /// among later ones are merged in where they fall. The cost follows the matches, not
    /// the directory.
    pub(super) fn collect_ranked(&mut self, done: u32, normalized_query: &str, out: &mut Vec<u32>) {
        // Names are sorted: those that start with the query are a run of the order.
        let whole_prefix = self.numbered_names_starting_with(normalized_query);
        let numbered = self.name_order.numbered() as usize;
        let Scratch {
            states,
            buckets,
            advanced,
            later_matches,
            ..
        } = &mut self.scratch;

        // The later documents that matched, by their place among the later ones.
        later_matches.clear();
        later_matches.resize(self.name_order.later().len().div_ceil(64), 0);
        let from = numbered / 64;
        let later_docs = set_bits(advanced.get(from..).unwrap_or_default())
            .map(|bit| from * 64 + bit)
            .skip_while(|&doc| doc < numbered);
        for doc in later_docs {
            if let Some(place) = self.name_order.later_place(doc as u32)
                && let Some(bits) = later_matches.get_mut(place / 64)
            {
                *bits |= 1 << (place % 64);
            }
        }
        let later = self.name_order.later();
        let mut later_in_order = set_bits(later_matches)
            .filter_map(|place| later.get(place))
            .peekable();

        let (keys, documents, names) = (&self.keys, &self.documents, self.names.as_str());
        let mut file = |doc: usize, is_whole_prefix: bool| {
            let Some(&key) = keys.get(doc).filter(|&&key| key != NO_KEY) else {
                return;
            };
            let rank = if is_whole_prefix {
                RANK_WHOLE_PREFIX
            } else {
                rank_if_done(states, doc, done).unwrap_or(0)
            };
            buckets[rank as usize].push(key);
        };
        let starts_with_query = |doc: u32| {
            documents
                .get(doc as usize)
                .is_some_and(|d| d.name(names).starts_with(normalized_query))
        };
        let next_before = |later: Option<&&(u32, u32)>| later.map_or(usize::MAX, |l| l.0 as usize);
        let mut later_before = next_before(later_in_order.peek());
        let numbered_words = advanced.get(..numbered.div_ceil(64)).unwrap_or_default();
        for (at, &word) in numbered_words.iter().enumerate() {
            let mut bits = word;
            if (at + 1) * 64 > numbered {
                // The last word: later documents' bits are not of this walk.
                bits &= (1u64 << (numbered % 64)) - 1;
            }
            while bits != 0 {
                let doc = at * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                // Later documents that sort before this one come first.
                while later_before <= doc {
                    if let Some(&&(_, later_doc)) = later_in_order.peek() {
                        file(later_doc as usize, starts_with_query(later_doc));
                    }
                    later_in_order.next();
                    later_before = next_before(later_in_order.peek());
                }
                file(doc, whole_prefix.contains(&doc));
            }
        }
        for &(_, later_doc) in later_in_order {
            file(later_doc as usize, starts_with_query(later_doc));
        }
        for bucket in self.scratch.buckets.iter_mut().rev() {
            out.append(bucket);
        }
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
