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

mod vocabulary;

use self::vocabulary::{DOC_BITS, Vocabulary};
use super::colleague::Colleague;
use super::text::{fold, folded_starts_with, words};

/// The part of a colleague a word came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Field {
    Name = 0,
    Upn = 1,
    Other = 2,
}

const FIELD_SHIFT: u32 = DOC_BITS;
const DOC_MASK: u32 = (1 << FIELD_SHIFT) - 1;
/// Most documents one index holds (ids share a `u32` with the field tag).
pub const MAX_DOCUMENTS: usize = DOC_MASK as usize;
/// Query words beyond this many are ignored.
const MAX_TOKENS: usize = 8;
/// Query words are cut to this many bytes.
const MAX_TOKEN_LEN: usize = 48;
/// Rank buckets; higher is better.
const RANKS: usize = 10;
const RANK_WHOLE_PREFIX: u8 = 9;

struct Document {
    key: u32,
    is_alive: bool,
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

/// A searchable index of colleagues, keyed by the caller's `u32` keys: small numbers
/// such as row numbers (the index keeps an array as long as the largest key).
///
/// It keeps words and names, not addresses: for a query with '@', the caller lends each
/// colleague's UPN and mail (it holds them anyway).
#[derive(Default)]
pub struct SearchIndex {
    documents: Vec<Document>,
    /// The folded display names of all documents, one after the other.
    names: String,
    /// The live document of each key, or [`NO_DOCUMENT`].
    live_document_of_key: Vec<u32>,
    live_documents: usize,
    /// Sorted words, one list for names and UPNs, one for everything else (so a
    /// one-letter query, which only looks at names, skips the rest).
    vocabularies: [Vocabulary; 2],
    /// Document ids in display-name order (dead ones included, skipped when read).
    by_name: Vec<u32>,
    /// Documents added since `by_name` was last ordered; merged in before a search, so
    /// loading many colleagues costs one sort rather than one shift per colleague.
    unordered: Vec<u32>,
    dead_documents: usize,
    scratch: Scratch,
}

#[derive(Default)]
struct Scratch {
    generation_base: u32,
    /// `generation_base + n`: the document matched the first `n` tokens of this search.
    progress: Vec<u32>,
    /// Weakest token rank so far (completed tokens).
    overall: Vec<u8>,
    /// Best rank for the token being processed.
    current: Vec<u8>,
    row_previous: Vec<usize>,
    row_before: Vec<usize>,
    row_current: Vec<usize>,
    buckets: [Vec<u32>; RANKS],
}

impl SearchIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds an index of many colleagues at once.
    pub fn build<'a>(colleagues: impl IntoIterator<Item = (u32, &'a Colleague)>) -> Self {
        let mut index = Self::new();
        for (key, colleague) in colleagues {
            index.insert(key, colleague);
        }
        index.pack();
        index
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
        self.remove(key);
        if self.documents.len() >= MAX_DOCUMENTS || key as usize >= MAX_DOCUMENTS {
            return;
        }
        let doc = self.documents.len() as u32;
        let name = fold(&colleague.display_name);

        let mut postings: Vec<(String, Field)> = Vec::with_capacity(16);
        for text in [
            &name,
            &fold(&colleague.given_name),
            &fold(&colleague.surname),
        ] {
            postings.extend(words(text).map(|w| (w.to_owned(), Field::Name)));
        }
        for address in [&colleague.upn, &colleague.mail] {
            let local = fold(address.split('@').next().unwrap_or_default());
            postings.extend(words(&local).map(|w| (w.to_owned(), Field::Upn)));
        }
        for text in [
            &colleague.department,
            &colleague.job_title,
            &colleague.office,
        ] {
            postings.extend(words(&fold(text)).map(|w| (w.to_owned(), Field::Other)));
        }
        for phone in colleague
            .business_phones
            .iter()
            .chain([&colleague.mobile_phone])
        {
            postings.extend(phone_words(phone).into_iter().map(|w| (w, Field::Other)));
        }
        // One posting per word and vocabulary, with its best field.
        postings.sort_by(|a, b| {
            (a.1 == Field::Other)
                .cmp(&(b.1 == Field::Other))
                .then(a.0.cmp(&b.0))
                .then((a.1 as u8).cmp(&(b.1 as u8)))
        });
        postings.dedup_by(|later, earlier| {
            later.0 == earlier.0 && (later.1 == Field::Other) == (earlier.1 == Field::Other)
        });
        let names = &mut self.names;
        let start = names.len();
        names.push_str(&name);
        let (Ok(name_start), Ok(name_end)) = (u32::try_from(start), u32::try_from(names.len()))
        else {
            // Gigabytes of names: refused, as documents beyond MAX_DOCUMENTS are.
            names.truncate(start);
            return;
        };
        self.unordered.push(doc);
        self.documents.push(Document {
            key,
            is_alive: true,
            name_start,
            name_end,
        });
        for (word, field) in postings {
            let packed = ((field as u32) << FIELD_SHIFT) | doc;
            self.vocabularies[usize::from(field == Field::Other)].insert(&word, packed);
        }
        let slot = key as usize;
        if self.live_document_of_key.len() <= slot {
            self.live_document_of_key.resize(slot + 1, NO_DOCUMENT);
        }
        self.live_document_of_key[slot] = doc;
        self.live_documents += 1;
    }

    /// Removes the colleague under `key`, if any.
    pub fn remove(&mut self, key: u32) {
        let Some(slot) = self.live_document_of_key.get_mut(key as usize) else {
            return;
        };
        if *slot != NO_DOCUMENT {
            self.documents[*slot as usize].is_alive = false;
            *slot = NO_DOCUMENT;
            self.live_documents -= 1;
            self.dead_documents += 1;
        }
    }

    /// Packs words added since the last call (or the last automatic packing) into the
    /// compact sorted form. Call it when a bulk load is over; inserts work without it.
    pub fn pack(&mut self) {
        for vocabulary in &mut self.vocabularies {
            vocabulary.freeze();
        }
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
        let query = folded_query.trim();
        let local_part = query.split('@').next().unwrap_or_default();
        if words(local_part).next().is_some() {
            // Narrow by the words before '@' through the index, then keep those with an
            // address that the whole query starts, or starts from one of its words
            // ("rossi@contoso" finds anna.rossi@contoso.com).
            self.search_words(local_part, out);
            out.retain(|&key| {
                addresses(key)
                    .iter()
                    .any(|a| !a.is_empty() && address_matches(a, query))
            });
        } else {
            self.search_addresses(query, out, addresses);
        }
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
                self.by_name
                    .iter()
                    .map(|&doc| &self.documents[doc as usize])
                    .filter(|d| d.is_alive)
                    .map(|d| d.key),
            );
            return;
        }

        let base = self.scratch.begin(self.documents.len(), tokens.len());
        for (i, token) in tokens.iter().enumerate() {
            let expected = base + i as u32;
            // A single letter is the start of a name: departments, titles and phone
            // numbers join from the second character on.
            let vocabularies = if token.len() == 1 && !token.as_bytes()[0].is_ascii_digit() {
                &self.vocabularies[..1]
            } else {
                &self.vocabularies[..]
            };
            for vocabulary in vocabularies {
                vocabulary.for_each_with_prefix(token, |word, postings| {
                    let is_exact = word.len() == token.len();
                    self.scratch.apply(postings, expected, i == 0, |field| {
                        prefix_rank(field, is_exact)
                    });
                });
            }
            let max_edits = allowed_edits(token);
            if max_edits == 0 {
                continue;
            }
            let first = &token[..1];
            let next = next_prefix(first);
            for vocabulary in &self.vocabularies {
                vocabulary.for_each_in_range(first, Some(&next), |word, postings| {
                    if !word.starts_with(token)
                        && self.scratch.prefix_distance(token, word, max_edits) <= max_edits
                    {
                        self.scratch.apply(postings, expected, i == 0, fuzzy_rank);
                    }
                });
            }
        }

        let done = base + tokens.len() as u32;
        let scratch = &mut self.scratch;
        for &doc in &self.by_name {
            let d = doc as usize;
            let document = &self.documents[d];
            if !document.is_alive || scratch.progress[d] != done {
                continue;
            }
            let rank = if document.name(&self.names).starts_with(&normalized_query) {
                RANK_WHOLE_PREFIX
            } else {
                scratch.overall[d].min(scratch.current[d])
            };
            scratch.buckets[rank as usize].push(document.key);
        }
        for bucket in scratch.buckets.iter_mut().rev() {
            out.append(bucket);
        }
    }

    /// Merges documents added since the last search into the name order.
    fn order_by_name(&mut self) {
        if self.unordered.is_empty() {
            return;
        }
        let (documents, names) = (&self.documents, self.names.as_str());
        let by_name_key = |&doc: &u32| (documents[doc as usize].name(names), doc);
        self.unordered
            .sort_unstable_by(|a, b| by_name_key(a).cmp(&by_name_key(b)));
        let mut merged = Vec::with_capacity(self.by_name.len() + self.unordered.len());
        let (mut old, mut new) = (
            self.by_name.iter().peekable(),
            self.unordered.iter().peekable(),
        );
        loop {
            let next = match (old.peek(), new.peek()) {
                (Some(a), Some(b)) if by_name_key(a) <= by_name_key(b) => old.next(),
                (Some(_), Some(_)) | (None, Some(_)) => new.next(),
                (Some(_), None) => old.next(),
                (None, None) => break,
            };
            merged.extend(next.copied());
        }
        self.by_name = merged;
        self.unordered.clear();
    }

    /// A query with '@' and no word before it: "@contoso" finds everyone whose address's
    /// domain starts so; otherwise the whole address must start with it. (`query` is
    /// folded.)
    fn search_addresses<'a>(
        &self,
        query: &str,
        out: &mut Vec<u32>,
        addresses: impl Fn(u32) -> [&'a str; 2],
    ) {
        let matches = |address: &str| match query.strip_prefix('@') {
            Some(domain) => address
                .split_once('@')
                .is_some_and(|(_, d)| folded_starts_with(d, domain)),
            None => folded_starts_with(address, query),
        };
        for &doc in &self.by_name {
            let document = &self.documents[doc as usize];
            if document.is_alive && addresses(document.key).iter().any(|a| matches(a)) {
                out.push(document.key);
            }
        }
    }
}

impl Scratch {
    /// Starts a search over `documents` with `tokens` tokens; returns the generation base.
    fn begin(&mut self, documents: usize, _tokens: usize) -> u32 {
        // Every search takes the same span, so no count left by an earlier search (with
        // more tokens) can equal a count of this one.
        let step = MAX_TOKENS as u32 + 1;
        if self.generation_base.checked_add(2 * step).is_none() || self.generation_base == 0 {
            self.progress.iter_mut().for_each(|p| *p = 0);
            self.generation_base = 1;
        } else {
            self.generation_base += step;
        }
        self.progress.resize(documents, 0);
        self.overall.resize(documents, 0);
        self.current.resize(documents, 0);
        self.generation_base
    }

    /// Records matches of the current token (`expected` = base + token index).
    fn apply(
        &mut self,
        postings: impl Iterator<Item = u32>,
        expected: u32,
        is_first: bool,
        rank: impl Fn(Field) -> u8,
    ) {
        for packed in postings {
            let doc = (packed & DOC_MASK) as usize;
            let field = match packed >> FIELD_SHIFT {
                0 => Field::Name,
                1 => Field::Upn,
                _ => Field::Other,
            };
            let progress = self.progress[doc];
            let rank = rank(field);
            if progress == expected + 1 {
                // Already matched this token through another word.
                self.current[doc] = self.current[doc].max(rank);
            } else if progress == expected || (is_first && progress < expected) {
                self.overall[doc] = if is_first {
                    u8::MAX
                } else {
                    self.overall[doc].min(self.current[doc])
                };
                self.current[doc] = rank;
                self.progress[doc] = expected + 1;
            }
        }
    }

    /// Optimal-string-alignment distance between `token` and the closest prefix of
    /// `word`; stops early once it must exceed `max_edits`.
    fn prefix_distance(&mut self, token: &str, word: &str, max_edits: usize) -> usize {
        let t = token.as_bytes();
        let w = word.as_bytes();
        let columns = w.len().min(t.len() + max_edits);
        let w = &w[..columns];
        self.row_before.clear();
        self.row_previous.clear();
        self.row_previous.extend(0..=columns);
        for i in 1..=t.len() {
            self.row_current.clear();
            self.row_current.push(i);
            let mut row_min = i;
            for j in 1..=columns {
                let cost = usize::from(t[i - 1] != w[j - 1]);
                let mut value = (self.row_previous[j] + 1)
                    .min(self.row_current[j - 1] + 1)
                    .min(self.row_previous[j - 1] + cost);
                if i > 1 && j > 1 && t[i - 1] == w[j - 2] && t[i - 2] == w[j - 1] {
                    value = value.min(self.row_before[j - 2] + 1);
                }
                row_min = row_min.min(value);
                self.row_current.push(value);
            }
            if row_min > max_edits {
                return row_min;
            }
            std::mem::swap(&mut self.row_before, &mut self.row_previous);
            std::mem::swap(&mut self.row_previous, &mut self.row_current);
        }
        let low = t.len().saturating_sub(max_edits);
        self.row_previous[low.min(columns)..=columns]
            .iter()
            .copied()
            .min()
            .unwrap_or(usize::MAX)
    }
}

fn prefix_rank(field: Field, is_exact: bool) -> u8 {
    match (field, is_exact) {
        (Field::Name | Field::Upn, true) => 8,
        (Field::Name, false) => 7,
        (Field::Upn, false) => 6,
        (Field::Other, true) => 5,
        (Field::Other, false) => 4,
    }
}

fn fuzzy_rank(field: Field) -> u8 {
    match field {
        Field::Name | Field::Upn => 2,
        Field::Other => 1,
    }
}

/// Whether `folded_query` (with '@') starts `address`, or starts it from a word of its
/// local part.
fn address_matches(address: &str, folded_query: &str) -> bool {
    let folded = fold(address);
    let local_end = folded.find('@').unwrap_or(folded.len());
    // Folded text is ASCII: every byte offset is a character boundary.
    (0..=local_end)
        .filter(|&i| i == 0 || !folded.as_bytes()[i - 1].is_ascii_alphanumeric())
        .any(|i| folded[i..].starts_with(folded_query))
}

/// Typos forgiven: none below four letters, one up to seven, two from eight.
fn allowed_edits(token: &str) -> usize {
    if token.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    match token.len() {
        0..4 => 0,
        4..8 => 1,
        _ => 2,
    }
}

/// The smallest string greater than every string starting with `prefix` (ASCII).
fn next_prefix(prefix: &str) -> String {
    let mut bytes = prefix.as_bytes().to_vec();
    while let Some(last) = bytes.pop() {
        if last < 0x7f {
            bytes.push(last + 1);
            return String::from_utf8(bytes).unwrap_or_default();
        }
    }
    "\u{7f}".to_owned()
}

/// Words a phone number is found by: all its digits, each group, and the last four
/// (the extension).
fn phone_words(phone: &str) -> Vec<String> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<String> = phone
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| g.len() >= 2)
        .map(str::to_owned)
        .collect();
    if digits.len() > 4 {
        out.push(digits[digits.len() - 4..].to_owned());
    }
    out.push(digits);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn colleague(given: &str, surname: &str, department: &str, phone: &str) -> Colleague {
        let upn = format!("{}.{}@contoso.com", fold(given), fold(surname));
        Colleague {
            id: upn.clone(),
            upn: upn.clone(),
            mail: upn,
            display_name: format!("{given} {surname}"),
            given_name: given.into(),
            surname: surname.into(),
            department: department.into(),
            job_title: "Account Manager".into(),
            office: "Milan".into(),
            business_phones: vec![phone.into()],
            mobile_phone: String::new(),
        }
    }

    fn directory() -> Vec<Colleague> {
        vec![
            colleague("Anna", "Rossi", "Sales", "+39 02 5550 1234"),
            colleague("Marco", "Rossi", "Finance", "+39 02 5550 2000"),
            colleague("José", "García", "Sales", "+34 91 555 0101"),
            colleague("Łukasz", "Nowak", "Engineering", "+48 22 555 0199"),
            colleague("Rosa", "Annunziata", "Legal", "+39 06 555 0001"),
        ]
    }

    fn index() -> SearchIndex {
        SearchIndex::build(directory().iter().enumerate().map(|(i, c)| (i as u32, c)))
    }

    fn find(index: &mut SearchIndex, query: &str) -> Vec<u32> {
        let directory = directory();
        let mut out = Vec::new();
        index.search(query, &mut out, |key| {
            let c = &directory[key as usize];
            [c.upn.as_str(), c.mail.as_str()]
        });
        out
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
    fn typos_and_ranking() {
        let mut index = index();
        assert_eq!(find(&mut index, "rosis"), [0, 1]);
        assert_eq!(find(&mut index, "nowka"), [3]);
        // "ros": Rosa (name starts with it) ranks before the Rossis (surname prefix).
        let ranked = find(&mut index, "ros");
        assert_eq!(ranked[0], 4);
        assert_eq!(&ranked[1..], [0, 1]);
        // "anna": Anna Rossi (exact given name) before Rosa Annunziata (prefix).
        assert_eq!(find(&mut index, "anna"), [0, 4]);
    }

    #[test]
    fn upn_mail_phone() {
        let mut index = index();
        assert_eq!(find(&mut index, "anna.rossi@contoso"), [0]);
        assert_eq!(find(&mut index, "Jose.Garcia@"), [2]);
        assert_eq!(find(&mut index, "anna.rossi@contoso.com"), [0]);
        assert!(find(&mut index, "anna.rossi@fabrikam").is_empty());
        assert_eq!(find(&mut index, "rossi@contoso"), [0, 1]);
        assert_eq!(find(&mut index, "Garcia@"), [2]);
        assert!(
            find(&mut index, "ossi@contoso").is_empty(),
            "from a word's start only"
        );
        assert_eq!(find(&mut index, "@contoso").len(), 5);
        assert_eq!(find(&mut index, "1234"), [0]);
        assert_eq!(find(&mut index, "+39 02 5550"), [0, 1]);
        assert_eq!(
            find(&mut index, "+3").len(),
            5,
            "one digit narrows nothing yet"
        );
    }

    #[test]
    fn a_shorter_query_after_a_longer_one_is_exact() {
        let mut index = index();
        assert_eq!(find(&mut index, "rossi sales account milan"), [0]);
        assert_eq!(find(&mut index, "marco"), [1]);
        assert_eq!(find(&mut index, "anna"), [0, 4]);
        assert_eq!(find(&mut index, "jose"), [2]);
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
