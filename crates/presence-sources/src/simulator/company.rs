//! The simulated company's people: names from eleven cultures, unique UPNs,
//! departments, titles, offices and phones.

use std::collections::HashSet;

use presence_domain::Colleague;
use presence_domain::rng::SeededRng;
use presence_domain::text::fold;

use crate::names::{CULTURES, DEPARTMENTS, EMAIL_DOMAIN};

pub(super) fn make_colleague(
    rng: &mut SeededRng,
    index: usize,
    given: &str,
    surname: &str,
    culture: usize,
    used_upns: &mut HashSet<String>,
) -> Colleague {
    let local_base = format!("{}.{}", upn_part(given), upn_part(surname));
    let mut local = local_base.clone();
    let mut n = 2;
    while !used_upns.insert(local.clone()) {
        local = format!("{local_base}{n}");
        n += 1;
    }
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
