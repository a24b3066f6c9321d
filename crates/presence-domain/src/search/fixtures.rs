//! The five-colleague directory the search tests share.

use super::SearchIndex;
use crate::colleague::Colleague;
use crate::text::fold;

pub(super) fn colleague(given: &str, surname: &str, department: &str, phone: &str) -> Colleague {
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

pub(super) fn index() -> SearchIndex {
    SearchIndex::build(directory().iter().enumerate().map(|(i, c)| (i as u32, c)))
}

pub(super) fn find(index: &mut SearchIndex, query: &str) -> Vec<u32> {
    let directory = directory();
    let mut out = Vec::new();
    index.search(query, &mut out, |key| {
        let c = &directory[key as usize];
        [c.upn.as_str(), c.mail.as_str()]
    });
    out
}
