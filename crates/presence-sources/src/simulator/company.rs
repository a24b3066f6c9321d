//! The simulated company's people: names from eleven cultures, unique UPNs,
//! departments, titles, offices and phones.

use std::collections::{HashMap, HashSet};

use presence_domain::Colleague;
use presence_domain::rng::SeededRng;
use presence_domain::text::fold;

use crate::names::{CULTURES, DEPARTMENTS, EMAIL_DOMAIN};

/// The local parts of the UPNs handed out: the first Anna Rossi is `anna.rossi`, the
/// next ones `anna.rossi2`, `anna.rossi3`…, each found in constant time (trying every
/// number from 2 made a large company quadratic: a few hundred people share a name).
#[derive(Default)]
pub(super) struct UpnLocalParts {
    taken: HashSet<String>,
    /// For a name taken, the number to try next.
    next_number: HashMap<String, u32>,
}

impl UpnLocalParts {
    pub(super) fn with_capacity(people: usize) -> Self {
        Self {
            taken: HashSet::with_capacity(people),
            next_number: HashMap::new(),
        }
    }

    /// A local part made of `base`, not handed out before.
    fn claim(&mut self, base: String) -> String {
        if self.taken.insert(base.clone()) {
            return base;
        }
        let number = self.next_number.entry(base.clone()).or_insert(2);
        loop {
            let local = format!("{base}{number}");
            *number += 1;
            if self.taken.insert(local.clone()) {
                return local;
            }
        }
    }
}

pub(super) fn make_colleague(
    rng: &mut SeededRng,
    index: usize,
    given: &str,
    surname: &str,
    culture: usize,
    upn_local_parts: &mut UpnLocalParts,
) -> Colleague {
    let local = upn_local_parts.claim(format!("{}.{}", upn_part(given), upn_part(surname)));
    let upn = format!("{local}@{EMAIL_DOMAIN}");
    let (department, titles) = DEPARTMENTS[rng.below(DEPARTMENTS.len())];
    let c = &CULTURES[culture];
    let extension = 1000 + index % 9000;
    Colleague {
        id: format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            rng.next_u64() as u32,
            index as u16,
            index % 4096,
            rng.below(4096),
            rng.next_u64() >> 16
        ),
        upn: upn.clone(),
        display_name: format!("{given} {surname}"),
        given_name: given.to_owned(),
        surname: surname.to_owned(),
        mail: upn,
        department: department.to_owned(),
        job_title: titles[rng.below(titles.len())].to_owned(),
        office: c.office.to_owned(),
        business_phones: vec![format!("{} {extension:04}", c.phone_prefix)],
        mobile_phone: if rng.chance(0.6) {
            format!(
                "+{} 7{:02} {:03} {:04}",
                30 + culture,
                rng.below(100),
                rng.below(1000),
                rng.below(10_000)
            )
        } else {
            String::new()
        },
    }
}

/// A UPN part: folded to ASCII, letters and digits only ("De Luca" -> "deluca").
fn upn_part(name: &str) -> String {
    fold(name)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namesakes_are_numbered_from_two_past_any_name_taken() {
        let mut parts = UpnLocalParts::default();
        let mut claim = |base: &str| parts.claim(base.to_owned());
        assert_eq!(claim("anna.rossi"), "anna.rossi");
        assert_eq!(claim("anna.rossi"), "anna.rossi2");
        assert_eq!(claim("anna.rossi"), "anna.rossi3");
        assert_eq!(claim("marco.rossi"), "marco.rossi");
        // A name that looks numbered already is skipped over.
        assert_eq!(claim("jan.nowak2"), "jan.nowak2");
        assert_eq!(claim("jan.nowak"), "jan.nowak");
        assert_eq!(claim("jan.nowak"), "jan.nowak3");
        assert_eq!(claim("anna.rossi"), "anna.rossi4");
    }
}
