//! Typo tolerance: how many edits a query word may have, and the edit distance from a
//! word to the closest prefix of a vocabulary word.

/// The rows of the edit distance table, kept from one word to the next.
#[derive(Default)]
pub(super) struct EditRows {
    previous: Vec<usize>,
    before: Vec<usize>,
    current: Vec<usize>,
}

impl EditRows {
    /// Optimal-string-alignment distance between `token` and the closest prefix of
    /// `word`; stops early once it must exceed `max_edits`. The reference that
    /// [`PrefixColumns`] is tested against.
    #[cfg(test)]
    pub(super) fn prefix_distance(&mut self, token: &str, word: &str, max_edits: usize) -> usize {
        let t = token.as_bytes();
        let columns = word.len().min(t.len() + max_edits);
        let w = &word.as_bytes()[..columns];
        if let Some(exceeded) = self.fill(t, w, max_edits) {
            return exceeded;
        }
        let low = t.len().saturating_sub(max_edits);
        self.previous[low.min(columns)..=columns]
            .iter()
            .copied()
            .min()
            .unwrap_or(usize::MAX)
    }

    /// Fills the table of `t` against `w` row by row, leaving the last row in
    /// `previous`; returns the smallest value of a row once every value of it exceeds
    /// `max_edits` (no alignment can come back under it).
    fn fill(&mut self, t: &[u8], w: &[u8], max_edits: usize) -> Option<usize> {
        self.before.clear();
        self.previous.clear();
        self.previous.extend(0..=w.len());
        for i in 1..=t.len() {
            self.current.clear();
            self.current.push(i);
            let mut row_min = i;
            for j in 1..=w.len() {
                let cost = usize::from(t[i - 1] != w[j - 1]);
                let mut value = (self.previous[j] + 1)
                    .min(self.current[j - 1] + 1)
                    .min(self.previous[j - 1] + cost);
                if i > 1 && j > 1 && t[i - 1] == w[j - 2] && t[i - 2] == w[j - 1] {
                    value = value.min(self.before[j - 2] + 1);
                }
                row_min = row_min.min(value);
                self.current.push(value);
            }
            if row_min > max_edits {
                return Some(row_min);
            }
            std::mem::swap(&mut self.before, &mut self.previous);
            std::mem::swap(&mut self.previous, &mut self.current);
        }
        None
    }
}

impl EditRows {
    /// Optimal-string-alignment distance between `token` and the whole of `word`;
    /// stops early (returning more than `max_edits`) once it must exceed it.
    pub(super) fn word_distance(&mut self, token: &str, word: &str, max_edits: usize) -> usize {
        if word.len().abs_diff(token.len()) > max_edits {
            return max_edits + 1;
        }
        match self.fill(token.as_bytes(), word.as_bytes(), max_edits) {
            Some(exceeded) => exceeded,
            None => self.previous[word.len()],
        }
    }
}

/// The edit distance table of a token against sorted words, one column per letter of
/// the word: words that share a beginning share its columns, and once two columns in a
/// row are all over the typos allowed, no word with that beginning can come back under
/// them, so the walk skips them all.
#[derive(Default)]
pub(super) struct PrefixColumns {
    /// Column `j` at `j * (token length + 1)`: the distances of each token prefix to
    /// the word's first `j` letters.
    cells: Vec<usize>,
    /// Smallest value of each column.
    column_min: Vec<usize>,
    /// Closest distance of the whole token to a prefix of at most `j` letters.
    best: Vec<usize>,
    /// Columns valid for the word last seen.
    depth: usize,
}

/// What [`PrefixColumns::measure`] found for one word.
pub(super) enum Closeness {
    /// The token is within the typos allowed of a prefix of the word, this close.
    Within(usize),
    /// Not this word.
    Beyond,
    /// Neither this word nor any word starting with its first `n` letters.
    NoneStartingWith(usize),
}

impl PrefixColumns {
    /// Starts a walk of sorted words for `token`.
    pub(super) fn begin(&mut self, token: &str, max_edits: usize) {
        let rows = token.len() + 1;
        let columns = token.len() + max_edits + 1;
        self.cells.clear();
        self.cells.resize(rows * columns, 0);
        self.column_min.clear();
        self.column_min.resize(columns, 0);
        self.best.clear();
        self.best.resize(columns, usize::MAX);
        for (i, cell) in self.cells[..rows].iter_mut().enumerate() {
            *cell = i;
        }
        self.best[0] = if token.len() <= max_edits {
            token.len()
        } else {
            usize::MAX
        };
        self.depth = 0;
    }

    /// Measures `word`, the next in sorted order after `previous` (the word measured
    /// before, or "" at the start).
    pub(super) fn measure(
        &mut self,
        token: &str,
        previous: &str,
        word: &str,
        max_edits: usize,
    ) -> Closeness {
        let (t, w) = (token.as_bytes(), word.as_bytes());
        let rows = t.len() + 1;
        let shared = previous
            .bytes()
            .zip(w.iter().copied())
            .take_while(|(a, b)| a == b)
            .count();
        self.depth = self.depth.min(shared);
        let limit = w.len().min(t.len() + max_edits);
        let low = t.len().saturating_sub(max_edits);
        while self.depth < limit {
            let j = self.depth + 1;
            let (done, rest) = self.cells.split_at_mut(j * rows);
            let column = &mut rest[..rows];
            let before = &done[(j - 1) * rows..];
            column[0] = j;
            let mut column_min = j;
            for i in 1..rows {
                let cost = usize::from(t[i - 1] != w[j - 1]);
                let mut value = (before[i] + 1)
                    .min(column[i - 1] + 1)
                    .min(before[i - 1] + cost);
                if i > 1 && j > 1 && t[i - 1] == w[j - 2] && t[i - 2] == w[j - 1] {
                    value = value.min(done[(j - 2) * rows + i - 2] + 1);
                }
                column[i] = value;
                column_min = column_min.min(value);
            }
            self.column_min[j] = column_min;
            let whole = if j >= low {
                column[t.len()]
            } else {
                usize::MAX
            };
            self.best[j] = self.best[j - 1].min(whole);
            self.depth = j;
            // Later columns grow from these two: neither can come back under the limit.
            if column_min > max_edits && self.column_min[j - 1] > max_edits {
                return if self.best[j] <= max_edits {
                    Closeness::Within(self.best[j])
                } else {
                    Closeness::NoneStartingWith(j)
                };
            }
        }
        match self.best[self.depth] {
            best if best <= max_edits => Closeness::Within(best),
            _ => Closeness::Beyond,
        }
    }
}

/// Whether a typo may stand in the beginning of a longer word ("matri" for "martinez"),
/// or only in a whole word ("mari" for "mark", not for "marcus"). Four letters with a
/// typo are the beginning of tens of thousands of names in a large company: noise the
/// exact beginnings already rank above, at the cost of a slow keystroke.
pub(super) fn allows_typo_in_beginning(token: &str) -> bool {
    token.len() >= 5
}

/// Typos forgiven: none below four letters, one up to seven, two from eight.
pub(super) fn allowed_edits(token: &str) -> usize {
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
pub(super) fn next_prefix(prefix: &str) -> String {
    let mut bytes = prefix.as_bytes().to_vec();
    while let Some(last) = bytes.pop() {
        if last < 0x7f {
            bytes.push(last + 1);
            return String::from_utf8(bytes).unwrap_or_default();
        }
    }
    "\u{7f}".to_owned()
}

#[cfg(test)]
mod tests {
    use crate::search::fixtures::{find, index};

    #[test]
    fn typos_and_ranking() {
        let mut index = index();
        assert_eq!(find(&mut index, "rosis"), [0, 1]);
        assert_eq!(find(&mut index, "nowka"), [3]);
        // "ros": Rosa (name starts with it) ranks before the Rossis (surname prefix).
        let ranked = find(&mut index, "ros");
        assert_eq!(ranked[0], 4);
        assert_eq!(&ranked[1..], [0, 1]);
        // Four letters: a typo only in a whole word. "anna" is Anna Rossi, not the
        // beginning of Annunziata with a letter changed; from five letters a typo may
        // stand in a beginning ("annuz…", "annin…").
        assert_eq!(find(&mut index, "anna"), [0]);
        assert_eq!(find(&mut index, "annuz"), [4]);
        assert_eq!(find(&mut index, "annin"), [4]);
        assert_eq!(
            find(&mut index, "nowk"),
            [3],
            "a whole word, one letter missing"
        );
    }

    #[test]
    fn a_typo_in_the_first_letter_still_finds_the_name() {
        let mut index = index();
        for query in ["tossi", "ossi", "krossi", "orssi", "anna tossi"] {
            let found = find(&mut index, query);
            assert!(found.contains(&0), "{query}: {found:?}");
        }
        assert_eq!(find(&mut index, "anna ossi"), [0]);
    }

    #[test]
    fn the_column_walk_agrees_with_the_distance_of_each_word() {
        let mut words = vec![
            "ma", "mar", "mara", "marc", "marco", "maria", "mario", "marta", "martin", "martinez",
            "marx", "matrin", "mb", "mbxyz", "mbzz", "mira", "mraio", "muller", "rossi",
        ];
        words.sort_unstable();
        let mut rows = super::EditRows::default();
        let mut columns = super::PrefixColumns::default();
        for token in ["mari", "matr", "martn", "rodriues", "maritn"] {
            for max_edits in 1..=2 {
                columns.begin(token, max_edits);
                let mut previous = "";
                let mut skip_until: Option<String> = None;
                for word in &words {
                    if let Some(end) = &skip_until
                        && word.starts_with(end.as_str())
                    {
                        let close = rows.prefix_distance(token, word, max_edits);
                        assert!(close > max_edits, "{token} skipped {word}");
                        continue;
                    }
                    skip_until = None;
                    let expected = rows.prefix_distance(token, word, max_edits);
                    match columns.measure(token, previous, word, max_edits) {
                        super::Closeness::Within(found) => {
                            assert_eq!(found, expected, "{token} {word}");
                        }
                        super::Closeness::Beyond => {
                            assert!(expected > max_edits, "{token} {word}");
                        }
                        super::Closeness::NoneStartingWith(n) => {
                            assert!(expected > max_edits, "{token} {word}");
                            skip_until = Some(word[..n].to_owned());
                        }
                    }
                    previous = word;
                }
            }
        }
    }

    #[test]
    fn one_typo_ranks_above_two_and_a_whole_word_above_a_beginning() {
        let mut rows = super::EditRows::default();
        assert_eq!(rows.word_distance("martn", "martin", 1), 1);
        assert_eq!(rows.word_distance("maritn", "martin", 1), 1);
        assert!(rows.word_distance("martn", "martinez", 1) > 1);
        assert_eq!(rows.prefix_distance("martn", "martinez", 1), 1);
        assert_eq!(rows.word_distance("rodriues", "rodriguez", 2), 2);
    }
}
