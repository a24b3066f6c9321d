//! Queries with '@': matching colleagues' UPN and mail, which the caller lends, since
//! the index keeps words and names only.

use super::{NO_KEY, SearchIndex};
use crate::text::{fold, folded_starts_with, words};

impl SearchIndex {
    /// Searches by address: `folded_query` is folded and has an '@'.
    pub(super) fn search_with_address<'a>(
        &mut self,
        folded_query: &str,
        out: &mut Vec<u32>,
        addresses: impl Fn(u32) -> [&'a str; 2],
    ) {
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
        for &doc in self.name_order.all() {
            let Some(&key) = self.keys.get(doc as usize) else {
                continue;
            };
            if key != NO_KEY && addresses(key).iter().any(|a| matches(a)) {
                out.push(key);
            }
        }
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

#[cfg(test)]
mod tests {
    use crate::search::fixtures::{find, index};

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
}
