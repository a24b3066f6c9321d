//! Directory search: case- and accent-insensitive, several words narrow the result, a
//! typo still finds the person, and the best matches come first.
//!
//! The index keeps a sorted vocabulary of folded words (names, UPN, mail, department,
//! job title, office, phone digits), each with the documents that hold it. A query
//! token matches every vocabulary word it is a prefix of (a range in the sorted map),
//! plus, for tokens of four letters or more, the words within one or two edits of it.
//! Scoring never sorts: documents are walked in name order and dropped into a few rank
//! buckets, so a keystroke costs time in proportion to the postings touched.
//!
//! Pure data structure: it never touches the UI or the network.
//!
//! Here: the index and its documents. The word store is in `vocabulary`, ranking in
//! `ranking`, the documents' name order in `name_order`, typo tolerance in `fuzzy`,
//! queries with '@' in `address`.

mod address;
#[cfg(test)]
mod fixtures;
mod fuzzy;
mod name_order;
mod ranking;
mod vocabulary;

use self::fuzzy::{PrefixColumns, allowed_edits, allows_typo_in_beginning, next_prefix};
use self::name_order::NameOrder;
use self::ranking::{Scratch, fuzzy_rank, prefix_rank};
use self::vocabulary::{DOC_BITS, Vocabulary, VocabularyBuilder};
use super::colleague::Colleague;
use super::text::{fold, fold_into, words};

/// The part of a colleague a word came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Field {
    Name = 0,
    Upn = 1,
    Other = 2,
}

impl Field {
    /// Which vocabulary holds words of this field: names and UPNs, or the rest.
    fn vocabulary(self) -> usize {
        usize::from(self == Field::Other)
    }

    /// The posting of a word of this field in document `doc`.
    fn posting(self, doc: u32) -> u32 {
        ((self as u32) << FIELD_SHIFT) | doc
    }
}

const FIELD_SHIFT: u32 = DOC_BITS;
const DOC_MASK: u32 = (1 << FIELD_SHIFT) - 1;
/// Most documents one index holds (ids share a `u32` with the field tag).
pub const MAX_DOCUMENTS: usize = DOC_MASK as usize;
/// Marks the word of a phone number's digits run together ("#390255501234"), which a
/// query reaches from its third digit on: "39" alone then reads the one word "39" that
/// all Italian numbers share rather than each of their digit runs. Query words never
/// hold it (they are letters and digits).
const ALL_DIGITS: char = '#';
/// Digits a query word has before it reaches the digit runs of phone numbers.
const ALL_DIGITS_FROM: usize = 3;
/// Query words beyond this many are ignored.
const MAX_TOKENS: usize = 8;
/// Query words are cut to this many bytes.
const MAX_TOKEN_LEN: usize = 48;

/// A document's folded display name's place in [`SearchIndex::names`] (its key and
/// whether it is live are in [`SearchIndex::keys`], the one thing a search reads of
/// every match).
struct Document {
    /// Where this document's folded display name (for ordering and whole-name prefix
    /// matches) is in [`SearchIndex::names`].
    name_start: u32,
    name_end: u32,
}

impl Document {
    fn name<'a>(&self, names: &'a str) -> &'a str {
        names
            .get(self.name_start as usize..self.name_end as usize)
            .unwrap_or_default()
    }
}

/// Marks a key with no live document in `live_document_of_key`.
const NO_DOCUMENT: u32 = u32::MAX;
/// The key of a removed document (keys are below [`MAX_DOCUMENTS`]).
const NO_KEY: u32 = u32::MAX;

/// A searchable index of colleagues, keyed by the caller's `u32` keys: small numbers
/// such as row numbers (the index keeps an array as long as the largest key).
///
/// It keeps words and names, not addresses: for a query with '@', the caller lends each
/// colleague's UPN and mail (it holds them anyway).
#[derive(Default)]
pub struct SearchIndex {
    documents: Vec<Document>,
    /// The key of each document, or [`NO_KEY`] once removed: 4 bytes a document, so a
    /// search that collects tens of thousands of matches reads little.
    keys: Vec<u32>,
    /// The folded display names of all documents, one after the other.
    names: String,
    /// The live document of each key, or [`NO_DOCUMENT`].
    live_document_of_key: Vec<u32>,
    live_documents: usize,
    /// Sorted words, one list for names and UPNs, one for everything else (so a
    /// one-letter query, which only looks at names, skips the rest).
    vocabularies: [Vocabulary; 2],
    /// The documents in display-name order.
    name_order: NameOrder,
    dead_documents: usize,
    scratch: Scratch,
    words_scratch: DocumentWords,
    /// The typo walk's table, kept between searches.
    typo_columns: PrefixColumns,
    /// Bumped by every change: what a search carries over to the next is for one
    /// revision only.
    revision: u64,
}

impl SearchIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds an index of many colleagues at once (see [`SearchIndexBuilder`]).
    pub fn build<'a>(colleagues: impl IntoIterator<Item = (u32, &'a Colleague)>) -> Self {
        let mut builder = SearchIndexBuilder::new();
        for (key, colleague) in colleagues {
            builder.insert(key, colleague);
        }
        builder.finish()
    }

    /// How many colleagues are searchable.
    pub fn len(&self) -> usize {
        self.live_documents
    }

    pub fn is_empty(&self) -> bool {
        self.live_documents == 0
    }

    /// Removed or replaced entries still held (a rebuild drops them).
    pub fn dead_len(&self) -> usize {
        self.dead_documents
    }

    /// Share of the index taken by removed entries: worth a rebuild when high.
    pub fn dead_ratio(&self) -> f32 {
        if self.documents.is_empty() {
            0.0
        } else {
            self.dead_documents as f32 / self.documents.len() as f32
        }
    }

    /// Adds a colleague under `key`, replacing what was there under that key. Keys from
    /// [`MAX_DOCUMENTS`] up are refused, as are documents beyond that many.
    pub fn insert(&mut self, key: u32, colleague: &Colleague) {
        let mut words = std::mem::take(&mut self.words_scratch);
        if let Some(doc) = self.add_document(key, colleague, &mut words, false) {
            for (word, field) in words.iter() {
                self.vocabularies[field.vocabulary()].insert(word, field.posting(doc));
            }
        }
        self.words_scratch = words;
    }

    /// Adds the document of a colleague (all but its words, which it writes into
    /// `words` for the caller to file), replacing what was under `key`; `None` when it
    /// is refused. For a bulk load (`is_bulk`), words may repeat: the builder keeps the
    /// best field of each when it sorts.
    fn add_document(
        &mut self,
        key: u32,
        colleague: &Colleague,
        words: &mut DocumentWords,
        is_bulk: bool,
    ) -> Option<u32> {
        // `remove` moves the revision on too.
        self.remove(key);
        if self.documents.len() >= MAX_DOCUMENTS || key as usize >= MAX_DOCUMENTS {
            return None;
        }
        let doc = self.documents.len() as u32;
        let name = fold(&colleague.display_name);
        words.collect(colleague, &name);
        if !is_bulk {
            words.keep_best_of_each();
        }

        let names = &mut self.names;
        let start = names.len();
        names.push_str(&name);
        let (Ok(name_start), Ok(name_end)) = (u32::try_from(start), u32::try_from(names.len()))
        else {
            // Gigabytes of names: refused, as documents beyond MAX_DOCUMENTS are.
            names.truncate(start);
            return None;
        };
        self.name_order.push(doc);
        self.documents.push(Document {
            name_start,
            name_end,
        });
        self.keys.push(key);
        let slot = key as usize;
        if self.live_document_of_key.len() <= slot {
            self.live_document_of_key.resize(slot + 1, NO_DOCUMENT);
        }
        self.live_document_of_key[slot] = doc;
        self.live_documents += 1;
        Some(doc)
    }

    /// Removes the colleague under `key`, if any.
    pub fn remove(&mut self, key: u32) {
        self.revision = self.revision.wrapping_add(1);
        let Some(slot) = self.live_document_of_key.get_mut(key as usize) else {
            return;
        };
        if *slot != NO_DOCUMENT {
            if let Some(key) = self.keys.get_mut(*slot as usize) {
                *key = NO_KEY;
            }
            *slot = NO_DOCUMENT;
            self.live_documents -= 1;
            self.dead_documents += 1;
        }
    }

    /// Packs words added since the last call (or the last automatic packing) into the
    /// compact sorted form. Call it when a bulk load is over; inserts work without it.
    pub fn pack(&mut self) {
        self.revision = self.revision.wrapping_add(1);
        for vocabulary in &mut self.vocabularies {
            vocabulary.freeze();
        }
    }

    /// Goes on merging recently added words into the packed word lists, for at most
    /// `max_words` words; true when there is more to do. A merge starts on its own as
    /// colleagues are added or changed; this spreads it over several calls (frames)
    /// rather than one. Searches see every word meanwhile.
    pub fn tidy(&mut self, max_words: usize) -> bool {
        let mut is_more = false;
        for vocabulary in &mut self.vocabularies {
            is_more |= vocabulary.merge_step(max_words);
        }
        is_more
    }

    /// Searches, writing the matching keys into `out`, best first, then by name.
    /// An empty query lists everyone in name order. `addresses` gives the UPN and mail
    /// of a key; it is asked only for queries with '@'.
    pub fn search<'a>(
        &mut self,
        query: &str,
        out: &mut Vec<u32>,
        addresses: impl Fn(u32) -> [&'a str; 2],
    ) {
        out.clear();
        self.order_by_name();
        let folded_query = fold(query);
        if !folded_query.contains('@') {
            self.search_words(&folded_query, out);
            return;
        }
        self.search_with_address(&folded_query, out, addresses);
    }

    /// Searches by words: `folded_query` is already folded and has no '@'.
    fn search_words(&mut self, folded_query: &str, out: &mut Vec<u32>) {
        let normalized_query = words(folded_query).collect::<Vec<_>>().join(" ");
        // A lone digit is the start of a phone number still being typed ("+3"): it
        // would match most numbers, so it narrows nothing until the second digit.
        let mut tokens: Vec<&str> = words(folded_query)
            .filter(|t| !(t.len() == 1 && t.as_bytes()[0].is_ascii_digit()))
            .map(|t| &t[..t.len().min(MAX_TOKEN_LEN)])
            .collect();
        tokens.dedup();
        tokens.truncate(MAX_TOKENS);
        if tokens.is_empty() {
            out.extend(
                self.name_order
                    .all()
                    .iter()
                    .filter_map(|&doc| self.keys.get(doc as usize))
                    .filter(|&&key| key != NO_KEY)
                    .copied(),
            );
            return;
        }

        let (base, applied) =
            self.scratch
                .begin_tokens(self.documents.len(), &tokens, self.revision);
        for (i, token) in tokens.iter().enumerate().skip(applied) {
            if i + 1 == tokens.len() && i > 0 {
                self.scratch.keep_before_last();
            }
            self.scratch.start_token(i == 0);
            let expected = base + i as u32;
            // A single letter is the start of a name: departments, titles and phone
            // numbers join from the second character on.
            let vocabularies = if token.len() == 1 && !token.as_bytes()[0].is_ascii_digit() {
                &self.vocabularies[..1]
            } else {
                &self.vocabularies[..]
            };
            // Two letters are the start of a name, or a whole short word ("IT"): only the
            // names join on a prefix; departments, titles and offices only when they are
            // the word itself (thousands of "manager"s join from "man" on).
            let is_short_word = token.len() == 2 && !token.bytes().all(|b| b.is_ascii_digit());
            if token.len() >= ALL_DIGITS_FROM && token.bytes().all(|b| b.is_ascii_digit()) {
                let marked = format!("{ALL_DIGITS}{token}");
                self.vocabularies[1].for_each_with_prefix(&marked, |word, postings| {
                    let is_exact = word.len() == marked.len();
                    self.scratch.apply(postings, expected, i == 0, |field| {
                        prefix_rank(field, is_exact)
                    });
                });
            }
            for (v, vocabulary) in vocabularies.iter().enumerate() {
                if v == 1 && is_short_word {
                    // Folded words are letters and digits: none sorts between the
                    // token and the token followed by U+0001.
                    let end = format!("{token}\u{1}");
                    vocabulary.for_each_in_range(token, Some(&end), |_, postings| {
                        self.scratch
                            .apply(postings, expected, i == 0, |field| prefix_rank(field, true));
                    });
                } else {
                    vocabulary.for_each_with_prefix(token, |word, postings| {
                        let is_exact = word.len() == token.len();
                        self.scratch.apply(postings, expected, i == 0, |field| {
                            prefix_rank(field, is_exact)
                        });
                    });
                }
            }
            let max_edits = allowed_edits(token);
            if max_edits == 0 {
                continue;
            }
            let first = &token[..1];
            let next = next_prefix(first);
            let typo_in_beginning = allows_typo_in_beginning(token);
            for vocabulary in &self.vocabularies {
                vocabulary.for_each_close_to(
                    token,
                    (first, &next),
                    max_edits,
                    &mut self.typo_columns,
                    |word, postings, _| {
                        if word.starts_with(token) {
                            return;
                        }
                        let edits = self.scratch.edit_rows.word_distance(token, word, max_edits);
                        let whole_word_edits = (edits <= max_edits).then_some(edits);
                        if whole_word_edits.is_none() && !typo_in_beginning {
                            return;
                        }
                        self.scratch.apply(postings, expected, i == 0, |field| {
                            fuzzy_rank(field, whole_word_edits)
                        });
                    },
                );
            }
            self.first_letter_typos(token, expected, i == 0, max_edits);
        }

        self.scratch.carry_over(&tokens, base, self.revision);
        let done = base + tokens.len() as u32;
        self.collect_ranked(done, &normalized_query, out);
    }

    /// Words the token reaches only through a typo in its first letter ("nernard",
    /// "ontaine", "umuller", "omreau"): the main typo scan looks only at words that start
    /// as the token does. Each case narrows to a few short ranges of the sorted names:
    /// the first letter replaced or missing (one range per letter), an extra letter in
    /// front, the first two swapped.
    fn first_letter_typos(&mut self, token: &str, expected: u32, is_first: bool, max_edits: usize) {
        let t = token.as_bytes();
        if !token.is_ascii() || t.len() < 4 {
            return;
        }
        // Three-letter prefixes, on the stack: this runs on every keystroke.
        let mut prefixes: Vec<[u8; 3]> = Vec::with_capacity(2 * 26 + 2);
        for c in b'a'..=b'z' {
            if c == t[0] {
                continue;
            }
            // Replaced: c + token[1..]; missing: c + token.
            prefixes.push([c, t[1], t[2]]);
            prefixes.push([c, t[0], t[1]]);
        }
        // An extra letter in front; the first two swapped.
        prefixes.push([t[1], t[2], t[3]]);
        prefixes.push([t[1], t[0], t[2]]);
        prefixes.sort_unstable();
        prefixes.dedup();
        let vocabulary = &self.vocabularies[0];
        for prefix in &prefixes {
            if prefix[0] == t[0] {
                continue;
            }
            // ASCII (the token is): the range ends where the last letter is one more.
            let mut end = *prefix;
            end[2] = end[2].saturating_add(1).min(0x7f);
            let (Ok(from), Ok(to)) = (std::str::from_utf8(prefix), std::str::from_utf8(&end))
            else {
                continue;
            };
            vocabulary.for_each_in_range(from, Some(to), |word, postings| {
                let distance = self.scratch.edit_rows.word_distance(token, word, max_edits);
                if distance <= max_edits {
                    self.scratch.apply(postings, expected, is_first, |field| {
                        fuzzy_rank(field, Some(distance))
                    });
                }
            });
        }
    }

    /// Renumbers the documents (which have no words filed yet) in name order; returns
    /// the new number of each old one.
    fn number_in_name_order(&mut self) -> Vec<u32> {
        self.order_by_name();
        let by_name = self.name_order.all().to_vec();
        let mut new_document = vec![0u32; self.documents.len()];
        for (rank, &doc) in by_name.iter().enumerate() {
            new_document[doc as usize] = rank as u32;
        }
        let mut documents: Vec<Option<Document>> = std::mem::take(&mut self.documents)
            .into_iter()
            .map(Some)
            .collect();
        // The names, too, one after the other in name order: a search that reads the
        // names of thousands of matches then reads them front to back.
        let old_names = std::mem::take(&mut self.names);
        let mut names = String::with_capacity(old_names.len());
        self.documents = by_name
            .iter()
            .filter_map(|&doc| documents.get_mut(doc as usize).and_then(Option::take))
            .map(|document| {
                let start = names.len();
                names.push_str(document.name(&old_names));
                // No longer than the old names, whose offsets fitted.
                Document {
                    name_start: start as u32,
                    name_end: names.len() as u32,
                }
            })
            .collect();
        self.names = names;
        self.keys = by_name
            .iter()
            .map(|&doc| self.keys.get(doc as usize).copied().unwrap_or(NO_KEY))
            .collect();
        for live in &mut self.live_document_of_key {
            if let Some(&new) = new_document.get(*live as usize) {
                *live = new;
            }
        }
        self.name_order.set_numbered(self.documents.len() as u32);
        new_document
    }

    /// Merges documents added since the last search into the name order.
    fn order_by_name(&mut self) {
        let (documents, names) = (&self.documents, self.names.as_str());
        self.name_order.settle(|doc| {
            documents
                .get(doc as usize)
                .map_or("", |document| document.name(names))
        });
    }
}

/// Builds a [`SearchIndex`] of many colleagues: the words are gathered as they come and
/// sorted once when it is finished, several times faster than inserting each colleague
/// into an index. For a whole directory, such as the first listing a client receives.
#[derive(Default)]
pub struct SearchIndexBuilder {
    index: SearchIndex,
    vocabularies: [VocabularyBuilder; 2],
    words: DocumentWords,
}

impl SearchIndexBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many colleagues it holds.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Adds a colleague under `key`, replacing what was there under that key (as
    /// [`SearchIndex::insert`] does).
    pub fn insert(&mut self, key: u32, colleague: &Colleague) {
        if let Some(doc) = self
            .index
            .add_document(key, colleague, &mut self.words, true)
        {
            for (word, field) in self.words.iter() {
                self.vocabularies[field.vocabulary()].insert(word, field.posting(doc));
            }
        }
    }

    /// The index, its words sorted and packed, its documents in name order.
    pub fn finish(self) -> SearchIndex {
        let Self {
            mut index,
            vocabularies: [names, others],
            ..
        } = self;
        // Documents are numbered in name order: a search then reads its arrays front
        // to back, not at random.
        let new_document = index.number_in_name_order();
        // The two word lists are independent: the second is sorted on a second core
        // where there is one (here, should no thread start).
        let others = std::sync::Mutex::new(Some(others));
        let take_others = || others.lock().ok().and_then(|mut held| held.take());
        let finish = |words: VocabularyBuilder| words.finish(&new_document);
        std::thread::scope(|scope| {
            let sorting = std::thread::Builder::new()
                .name("search-index-sort".into())
                .spawn_scoped(scope, || take_others().map(finish));
            let names = finish(names);
            let sorted = match sorting {
                Ok(sorting) => sorting.join().ok().flatten(),
                Err(_) => None,
            };
            let others = sorted
                .or_else(|| take_others().map(finish))
                .unwrap_or_default();
            index.vocabularies = [names, others];
        });
        index
    }
}

/// The words of one colleague with the field each came from; kept between documents
/// so that its buffers are reused.
#[derive(Default)]
struct DocumentWords {
    text: String,
    /// Start, end (in `text`) and field of each word.
    words: Vec<(u32, u32, Field)>,
    /// A field being folded.
    folded: String,
}

impl DocumentWords {
    /// Collects the words of `colleague`, whose folded display name is `name`. A word
    /// may come more than once: [`Self::keep_best_of_each`] makes them one.
    fn collect(&mut self, colleague: &Colleague, name: &str) {
        self.text.clear();
        self.words.clear();
        self.push_words(name, Field::Name);
        let mut folded = std::mem::take(&mut self.folded);
        let fields = [
            (colleague.given_name.as_str(), Field::Name),
            (colleague.surname.as_str(), Field::Name),
            (local_part(&colleague.upn), Field::Upn),
            (local_part(&colleague.mail), Field::Upn),
            (colleague.department.as_str(), Field::Other),
            (colleague.job_title.as_str(), Field::Other),
            (colleague.office.as_str(), Field::Other),
        ];
        for (text, field) in fields {
            folded.clear();
            fold_into(&mut folded, text);
            self.push_words(&folded, field);
        }
        self.folded = folded;
        for phone in colleague
            .business_phones
            .iter()
            .chain([&colleague.mobile_phone])
        {
            self.push_phone_words(phone);
        }
    }

    /// Leaves one word per vocabulary, with the best field it came from (an index
    /// files each word of a document once).
    fn keep_best_of_each(&mut self) {
        let text = self.text.as_str();
        let word = |&(start, end, _): &(u32, u32, Field)| {
            text.get(start as usize..end as usize).unwrap_or_default()
        };
        self.words.sort_unstable_by(|a, b| {
            (a.2.vocabulary(), word(a), a.2 as u8).cmp(&(b.2.vocabulary(), word(b), b.2 as u8))
        });
        self.words.dedup_by(|later, earlier| {
            later.2.vocabulary() == earlier.2.vocabulary() && word(later) == word(earlier)
        });
    }

    fn push_words(&mut self, folded: &str, field: Field) {
        for word in words(folded) {
            self.push(word, field);
        }
    }

    /// The words a phone number is found by: each group of two digits or more, the last
    /// four (the extension), and all its digits behind [`ALL_DIGITS`].
    fn push_phone_words(&mut self, phone: &str) {
        for group in phone.split(|c: char| !c.is_ascii_digit()) {
            if group.len() >= 2 {
                self.push(group, Field::Other);
            }
        }
        let start = self.text.len();
        self.text.push(ALL_DIGITS);
        self.text.extend(phone.chars().filter(char::is_ascii_digit));
        let digits = self.text.len() - start - 1;
        if digits == 0 {
            self.text.truncate(start);
            return;
        }
        self.record(start, self.text.len(), Field::Other);
        if digits > 4 {
            self.record(self.text.len() - 4, self.text.len(), Field::Other);
        }
    }

    fn push(&mut self, word: &str, field: Field) {
        let start = self.text.len();
        self.text.push_str(word);
        self.record(start, self.text.len(), field);
    }

    fn record(&mut self, start: usize, end: usize, field: Field) {
        // A colleague's text is bounded (sanitised, cut per field); should it not be,
        // the words past 4 GiB are left out.
        if let (Ok(start), Ok(end)) = (u32::try_from(start), u32::try_from(end)) {
            self.words.push((start, end, field));
        }
    }

    fn iter(&self) -> impl Iterator<Item = (&str, Field)> {
        self.words.iter().map(|&(start, end, field)| {
            (
                self.text
                    .get(start as usize..end as usize)
                    .unwrap_or_default(),
                field,
            )
        })
    }
}

/// The part of an address before its '@'.
fn local_part(address: &str) -> &str {
    address.split('@').next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::SearchIndex;
    use super::fixtures::{colleague, find, index};
    use crate::colleague::Colleague;

    proptest! {
        #[test]
        fn typing_on_finds_what_a_search_from_scratch_finds(
            people in proptest::collection::vec(("[a-e]{1,6} [a-e]{1,6}", "[a-e]{0,5}"), 1..40),
            queries in proptest::collection::vec("[a-e ]{0,14}", 1..6),
        ) {
            let colleagues: Vec<Colleague> = people
                .iter()
                .enumerate()
                .map(|(n, (name, department))| Colleague {
                    upn: format!("user{n}@contoso.com"),
                    display_name: name.clone(),
                    department: department.clone(),
                    ..Default::default()
                })
                .collect();
            let build = || {
                SearchIndex::build(colleagues.iter().enumerate().map(|(n, c)| (n as u32, c)))
            };
            let (mut typed, mut fresh) = (build(), build());
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for query in &queries {
                // Typed a letter at a time, then deleted back a letter at a time.
                let prefixes: Vec<&str> = (0..=query.len())
                    .map(|end| &query[..end])
                    .chain((0..query.len()).rev().map(|end| &query[..end]))
                    .collect();
                for prefix in prefixes {
                    typed.search(prefix, &mut a, |_| ["", ""]);
                    fresh.scratch.forget_carried();
                    fresh.search(prefix, &mut b, |_| ["", ""]);
                    prop_assert_eq!(&a, &b, "{:?}", prefix);
                }
            }
        }
    }

    /// Several thousand colleagues of a few departments, titles and offices: the words
    /// they share are held by enough of them to be kept as bit sets.
    fn crowded_directory() -> Vec<Colleague> {
        let mut seed = 7u64;
        let mut next = move |n: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) % n
        };
        let (given, surnames) = (
            ["anna", "marco", "maria", "mario", "lars", "ola"],
            [
                "rossi", "russo", "hansen", "berg", "bianchi", "dahl", "marino",
            ],
        );
        let departments = ["sales", "finance", "engineering"];
        let titles = ["sales manager", "account manager", "engineer", "manager"];
        let phones = ["+39 02 5550", "+47 22 55", "+39 06 555", "+34 91 555"];
        (0..6_000)
            .map(|n| {
                let (g, s) = (given[next(6) as usize], surnames[next(7) as usize]);
                Colleague {
                    upn: format!("{g}.{s}{n}@contoso.com"),
                    display_name: format!("{g} {s}"),
                    department: departments[next(3) as usize].into(),
                    job_title: titles[next(4) as usize].into(),
                    business_phones: vec![format!(
                        "{} {:04}",
                        phones[next(4) as usize],
                        next(10_000)
                    )],
                    ..Default::default()
                }
            })
            .collect()
    }

    /// Both indexes find the same colleagues for `query` (in any order).
    fn assert_same_matches(with: &mut SearchIndex, without: &mut SearchIndex, query: &str) {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        with.search(query, &mut a, |_| ["", ""]);
        without.search(query, &mut b, |_| ["", ""]);
        a.sort_unstable();
        b.sort_unstable();
        assert!(
            a == b,
            "{query:?}: {} found, {} without bit sets",
            a.len(),
            b.len()
        );
    }

    #[test]
    fn words_kept_as_bit_sets_find_what_their_postings_find() {
        let directory = crowded_directory();
        let mut built =
            SearchIndex::build(directory.iter().enumerate().map(|(n, c)| (n as u32, c)));
        assert!(
            built.vocabularies[1].dense_words() >= 5,
            "departments, titles and phone groups are bit sets"
        );
        // Inserted one by one, the words stay in the recent tier: postings only.
        let mut inserted = SearchIndex::new();
        for (n, colleague) in directory.iter().enumerate() {
            inserted.insert(n as u32, colleague);
        }
        assert_eq!(inserted.vocabularies[1].dense_words(), 0);
        for query in [
            "+39 02 555",
            "sales manager",
            "manager sales",
            "engineering engineer",
            "mario sales 22 55",
            "finance +34 91",
            "account manager rossi",
            "maria finance manager",
        ] {
            // Whole, as the first search of a new index.
            let mut first =
                SearchIndex::build(directory.iter().enumerate().map(|(n, c)| (n as u32, c)));
            assert_same_matches(&mut first, &mut inserted, query);
            // Typed, deleted back, typed again.
            let ends = (1..=query.len())
                .chain((1..query.len()).rev())
                .chain(1..=query.len());
            for end in ends {
                assert_same_matches(&mut built, &mut inserted, &query[..end]);
            }
            let mut found = Vec::new();
            built.search(query, &mut found, |_| ["", ""]);
            assert!(!found.is_empty(), "{query:?} finds someone");
        }
    }

    #[test]
    fn a_changed_directory_lists_in_the_order_a_new_build_would() {
        let mut directory = crowded_directory();
        let mut index =
            SearchIndex::build(directory.iter().enumerate().map(|(n, c)| (n as u32, c)));
        // Renamed (names of their own, before, among and after the others), removed.
        for (n, key) in (0..directory.len()).step_by(97).enumerate() {
            let colleague = &mut directory[key];
            let given = ["aaron", "maria", "zed", "lars"][n % 4];
            colleague.display_name = format!("{given} {}{n}", colleague.display_name);
            index.insert(key as u32, colleague);
        }
        let removed: Vec<u32> = (5..directory.len() as u32).step_by(89).collect();
        for &key in &removed {
            index.remove(key);
        }
        let mut fresh = SearchIndex::build(
            directory
                .iter()
                .enumerate()
                .map(|(n, c)| (n as u32, c))
                .filter(|(n, _)| !removed.contains(n)),
        );
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for query in [
            "",
            "a",
            "m",
            "ma",
            "maria",
            "maria r",
            "zed",
            "lars",
            "sales",
            "+39 02 555",
            "maria sales",
            "manager",
            "rossi",
        ] {
            index.search(query, &mut a, |_| ["", ""]);
            fresh.search(query, &mut b, |_| ["", ""]);
            assert!(
                a == b,
                "{query:?}: {} found, {} by a new build",
                a.len(),
                b.len()
            );
        }
    }

    #[test]
    fn accents_case_and_words() {
        let mut index = index();
        assert_eq!(find(&mut index, "jose"), [2]);
        assert_eq!(find(&mut index, "LUKASZ"), [3]);
        assert_eq!(find(&mut index, "rossi sales"), [0]);
        assert_eq!(find(&mut index, "rossi"), [0, 1]);
        assert_eq!(find(&mut index, "").len(), 5);
        assert!(find(&mut index, "zzzz").is_empty());
    }

    #[test]
    fn two_letters_reach_names_and_whole_short_words_only() {
        let mut index = index();
        // "sa": nobody's name starts so; the Sales department joins from "sal" on.
        assert!(find(&mut index, "sa").is_empty());
        assert_eq!(find(&mut index, "sal"), [0, 2]);
        // "ro": the names (Rosa first: her whole name starts with it).
        assert_eq!(find(&mut index, "ro"), [4, 0, 1]);
        // A whole two-letter word of a department is found ("IT").
        let mut it = colleague("Øyvind", "Hansen", "IT", "");
        it.upn = "oyvind.hansen@contoso.com".into();
        index.insert(5, &it);
        assert_eq!(find(&mut index, "it"), [5]);
        assert_eq!(find(&mut index, "it hansen"), [5]);
    }

    #[test]
    fn phone_numbers_by_group_extension_or_digits_run_together() {
        let mut index = index();
        // The country code: the Italian numbers (Anna, Marco, Rosa).
        assert_eq!(find(&mut index, "+39"), [0, 1, 4]);
        assert_eq!(find(&mut index, "+39 02 5550"), [0, 1]);
        // The extension, and the digits typed without spaces, whole or begun.
        assert_eq!(find(&mut index, "1234"), [0]);
        assert_eq!(find(&mut index, "390255501234"), [0]);
        assert_eq!(find(&mut index, "3902555"), [0, 1]);
        assert_eq!(find(&mut index, "48225550199"), [3]);
        // Two digits reach groups only: no number has a group starting "90".
        assert!(find(&mut index, "90").is_empty());
    }

    #[test]
    fn remove_and_replace() {
        let mut index = index();
        index.remove(0);
        assert_eq!(find(&mut index, "rossi"), [1]);
        let mut renamed = colleague("Marco", "Bianchi", "Finance", "");
        renamed.upn = "marco.bianchi@contoso.com".into();
        index.insert(1, &renamed);
        assert!(find(&mut index, "rossi").is_empty());
        assert_eq!(find(&mut index, "bianchi"), [1]);
        assert_eq!(index.len(), 4);
        assert!(index.dead_ratio() > 0.0);
    }
}
