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
    /// `word`; stops early once it must exceed `max_edits`.
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
        // "anna": Anna Rossi (exact given name) before Rosa Annunziata (prefix).
        assert_eq!(find(&mut index, "anna"), [0, 4]);
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
    fn one_typo_ranks_above_two_and_a_whole_word_above_a_beginning() {
        let mut rows = super::EditRows::default();
        assert_eq!(rows.word_distance("martn", "martin", 1), 1);
        assert_eq!(rows.word_distance("maritn", "martin", 1), 1);
        assert!(rows.word_distance("martn", "martinez", 1) > 1);
        assert_eq!(rows.prefix_distance("martn", "martinez", 1), 1);
        assert_eq!(rows.word_distance("rodriues", "rodriguez", 2), 2);
    }
}
