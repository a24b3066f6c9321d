//! The search query path: any query over a directory of varied names finds each
//! colleague at most once and never panics.
#![no_main]

use std::sync::{Mutex, OnceLock};

use libfuzzer_sys::fuzz_target;
use presence_domain::Colleague;
use presence_domain::search::SearchIndex;

const NAMES: &[&str] = &[
    "Anna Rossi",
    "José García",
    "Łukasz Nowak",
    "Zoë Smith",
    "Øyvind Hansen",
    "Ayşe Yılmaz",
    "François Martin",
    "Léa Dubois",
    "O'Neil Desk",
    "李 小龍",
    "Ιωάννης Παπαδόπουλος",
    "Müller-Lüdenscheidt",
    "a",
    "",
    "R & D Team",
];

fn directory() -> &'static (Mutex<SearchIndex>, Vec<Colleague>) {
    static DIRECTORY: OnceLock<(Mutex<SearchIndex>, Vec<Colleague>)> = OnceLock::new();
    DIRECTORY.get_or_init(|| {
        let colleagues: Vec<Colleague> = (0..300)
            .map(|n| Colleague {
                upn: format!("user{n}@contoso.com"),
                mail: format!("user{n}@contoso.com"),
                display_name: format!("{} {n}", NAMES[n % NAMES.len()]),
                department: NAMES[(n / 3) % NAMES.len()].to_owned(),
                business_phones: vec![format!("+39 02 5550 {n:04}")],
                ..Default::default()
            })
            .collect();
        let mut index = SearchIndex::new();
        for (n, colleague) in colleagues.iter().enumerate() {
            index.insert(n as u32, colleague);
        }
        index.pack();
        (Mutex::new(index), colleagues)
    })
}

fuzz_target!(|data: &[u8]| {
    let query = String::from_utf8_lossy(data);
    let (index, colleagues) = directory();
    let Ok(mut index) = index.lock() else {
        return;
    };
    let mut out = Vec::new();
    index.search(&query, &mut out, |key| {
        colleagues
            .get(key as usize)
            .map_or(["", ""], |c| [c.upn.as_str(), c.mail.as_str()])
    });
    let mut seen = out.clone();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), out.len(), "a colleague found twice");
    assert!(out.iter().all(|&k| (k as usize) < colleagues.len()));
});
