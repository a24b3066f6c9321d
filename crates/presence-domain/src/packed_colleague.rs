//! Many colleagues kept compactly, as a client that shows a whole company holds them.
//!
//! A [`Colleague`] costs a dozen allocations. A [`PackedColleague`] keeps a colleague's
//! own text (UPN, names, mail, phones) in one allocation, and the strings many colleagues
//! share (department, job title, office) once for all in [`SharedStrings`]. Common
//! repeats are kept once: a mail address that is the UPN, and a display name that is
//! "given surname". A [`ColleagueRef`] reads one back.

use std::hash::BuildHasher;

use foldhash::fast::RandomState;

use hashbrown::HashTable;

use super::colleague::{Colleague, upn_key};

/// Longest field kept, in bytes; the rest is cut (at a character boundary). Far above
/// any real name or address: display fields are cut to
/// [`MAX_LINE_CHARS`](super::text::MAX_LINE_CHARS) characters before this.
pub const MAX_PACKED_FIELD_BYTES: usize = 4_096;

/// Fields in a packed colleague's own text, in order.
#[derive(Clone, Copy)]
enum Own {
    Upn = 0,
    GivenName,
    /// The surname, after one space (so that "given surname" is one slice).
    Surname,
    DisplayName,
    Mail,
    MobilePhone,
    /// Business phones joined by '\n' (fields are single lines).
    BusinessPhones,
}

const OWN_FIELDS: usize = 7;
// Every field at its longest, plus the space before the surname, fits 16-bit offsets.
const _: () = assert!(MAX_PACKED_FIELD_BYTES * OWN_FIELDS < u16::MAX as usize);

/// Shared fields, in order.
#[derive(Clone, Copy)]
enum Shared {
    Department = 0,
    JobTitle,
    Office,
}

const SHARED_FIELDS: usize = 3;

/// The mail address is the UPN: kept once, in the UPN's place.
const MAIL_IS_UPN: u8 = 1;
/// The display name is "given surname": read from those.
const DISPLAY_IS_FULL_NAME: u8 = 2;

/// A colleague's fields, packed. Read it with [`PackedColleague::read`] and the
/// [`SharedStrings`] it was packed with. The directory id is not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedColleague {
    text: Box<str>,
    /// End offset of each own field in `text`, in [`Own`] order.
    ends: [u16; OWN_FIELDS],
    /// Ids in [`SharedStrings`], in [`Shared`] order.
    shared: [u32; SHARED_FIELDS],
    flags: u8,
}

/// Strings many colleagues share (departments, job titles, offices), each kept once and
/// known by a `u32` id. It only grows: rebuild it (repack everyone) to drop strings no
/// longer used.
#[derive(Clone)]
pub struct SharedStrings {
    /// The string of id `n` is at `n - 1`; id 0 is the empty string.
    strings: Vec<Box<str>>,
    ids: HashTable<u32>,
    hasher: RandomState,
}

impl Default for SharedStrings {
    fn default() -> Self {
        Self {
            strings: Vec::new(),
            ids: HashTable::new(),
            hasher: RandomState::default(),
        }
    }
}

impl SharedStrings {
    /// The id of `text`, added if new.
    pub fn intern(&mut self, text: &str) -> u32 {
        if text.is_empty() {
            return 0;
        }
        let hash = self.hasher.hash_one(text);
        let strings = &self.strings;
        if let Some(&id) = self
            .ids
            .find(hash, |&id| &*strings[id as usize - 1] == text)
        {
            return id;
        }
        let Ok(id) = u32::try_from(self.strings.len() + 1) else {
            // Four billion distinct departments: not kept.
            return 0;
        };
        self.strings.push(text.into());
        let (strings, hasher) = (&self.strings, &self.hasher);
        self.ids
            .insert_unique(hash, id, |&id| hasher.hash_one(&*strings[id as usize - 1]));
        id
    }

    /// The string of `id` (empty for ids not given out).
    #[inline]
    pub fn get(&self, id: u32) -> &str {
        match id.checked_sub(1) {
            Some(i) => self.strings.get(i as usize).map_or("", |s| s),
            None => "",
        }
    }

    /// How many distinct strings are kept.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }
}

/// The longest start of `text` of at most `max` bytes that ends at a character boundary.
fn clip_to_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let end = (0..=max)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    &text[..end]
}

impl PackedColleague {
    /// Packs `c`, keeping its shared fields in `shared`.
    pub fn new(c: &Colleague, shared: &mut SharedStrings) -> Self {
        fn clip(f: &str) -> &str {
            clip_to_bytes(f, MAX_PACKED_FIELD_BYTES)
        }
        let (given, surname) = (clip(&c.given_name), clip(&c.surname));
        let is_full_name = c
            .display_name
            .strip_prefix(given)
            .and_then(|rest| rest.strip_prefix(' '))
            == Some(surname);
        let is_mail_upn = !c.mail.is_empty() && c.mail == c.upn;
        let flags = (if is_full_name {
            DISPLAY_IS_FULL_NAME
        } else {
            0
        }) | (if is_mail_upn { MAIL_IS_UPN } else { 0 });
        let phones = c.business_phones.join("\n");
        let own: [&str; OWN_FIELDS] = [
            clip(&c.upn),
            given,
            surname,
            if is_full_name {
                ""
            } else {
                clip(&c.display_name)
            },
            if is_mail_upn { "" } else { clip(&c.mail) },
            clip(&c.mobile_phone),
            clip(&phones),
        ];
        let mut text = String::with_capacity(own.iter().map(|f| f.len()).sum::<usize>() + 1);
        let mut ends = [0u16; OWN_FIELDS];
        for (i, (end, field)) in ends.iter_mut().zip(own).enumerate() {
            if i == Own::Surname as usize {
                text.push(' ');
            }
            text.push_str(field);
            // At most MAX_PACKED_FIELD_BYTES * OWN_FIELDS + 1, checked above to fit.
            *end = text.len() as u16;
        }
        let shared_ids = [&c.department, &c.job_title, &c.office]
            .map(|f| shared.intern(clip_to_bytes(f, MAX_PACKED_FIELD_BYTES)));
        Self {
            text: text.into_boxed_str(),
            ends,
            shared: shared_ids,
            flags,
        }
    }

    /// Whether `shared` holds every shared string of this colleague: true of the
    /// strings it was packed with, and of a copy of them made since.
    pub fn is_readable_with(&self, shared: &SharedStrings) -> bool {
        self.shared.iter().all(|&id| id as usize <= shared.len())
    }

    /// Reads the colleague, with the shared strings it was packed with.
    #[inline]
    pub fn read<'a>(&'a self, shared: &'a SharedStrings) -> ColleagueRef<'a> {
        ColleagueRef {
            packed: self,
            shared,
        }
    }

    #[inline]
    fn own(&self, field: Own) -> &str {
        let i = field as usize;
        let mut start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        if i == Own::Surname as usize {
            start += 1;
        }
        self.text
            .get(start..self.ends[i] as usize)
            .unwrap_or_default()
    }

    /// The UPN (it needs no shared strings: the key a colleague is found by).
    #[inline]
    pub fn upn(&self) -> &str {
        self.own(Own::Upn)
    }
}

/// A packed colleague, readable.
#[derive(Clone, Copy)]
pub struct ColleagueRef<'a> {
    packed: &'a PackedColleague,
    shared: &'a SharedStrings,
}

impl<'a> ColleagueRef<'a> {
    #[inline]
    fn shared(self, field: Shared) -> &'a str {
        self.shared.get(self.packed.shared[field as usize])
    }

    #[inline]
    pub fn upn(self) -> &'a str {
        self.packed.own(Own::Upn)
    }
    #[inline]
    pub fn display_name(self) -> &'a str {
        if self.packed.flags & DISPLAY_IS_FULL_NAME != 0 {
            let start = self.packed.ends[Own::Upn as usize] as usize;
            let end = self.packed.ends[Own::Surname as usize] as usize;
            return self.packed.text.get(start..end).unwrap_or_default();
        }
        self.packed.own(Own::DisplayName)
    }
    #[inline]
    pub fn given_name(self) -> &'a str {
        self.packed.own(Own::GivenName)
    }
    #[inline]
    pub fn surname(self) -> &'a str {
        self.packed.own(Own::Surname)
    }
    #[inline]
    pub fn mail(self) -> &'a str {
        if self.packed.flags & MAIL_IS_UPN != 0 {
            return self.upn();
        }
        self.packed.own(Own::Mail)
    }
    #[inline]
    pub fn department(self) -> &'a str {
        self.shared(Shared::Department)
    }
    #[inline]
    pub fn job_title(self) -> &'a str {
        self.shared(Shared::JobTitle)
    }
    #[inline]
    pub fn office(self) -> &'a str {
        self.shared(Shared::Office)
    }
    #[inline]
    pub fn mobile_phone(self) -> &'a str {
        self.packed.own(Own::MobilePhone)
    }
    pub fn business_phones(self) -> impl Iterator<Item = &'a str> {
        self.packed
            .own(Own::BusinessPhones)
            .split('\n')
            .filter(|p| !p.is_empty())
    }
    /// The number to call or transfer to: the first business phone, else the mobile.
    pub fn phone_to_call(self) -> Option<&'a str> {
        self.business_phones()
            .next()
            .or_else(|| Some(self.mobile_phone()).filter(|p| !p.is_empty()))
    }

    pub fn upn_key(self) -> String {
        upn_key(self.upn())
    }

    /// The colleague whole again (without the directory id, which is not kept).
    pub fn unpack(self) -> Colleague {
        Colleague {
            id: String::new(),
            upn: self.upn().to_owned(),
            display_name: self.display_name().to_owned(),
            given_name: self.given_name().to_owned(),
            surname: self.surname().to_owned(),
            mail: self.mail().to_owned(),
            department: self.department().to_owned(),
            job_title: self.job_title().to_owned(),
            office: self.office().to_owned(),
            business_phones: self.business_phones().map(str::to_owned).collect(),
            mobile_phone: self.mobile_phone().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zoe() -> Colleague {
        Colleague {
            id: String::new(),
            upn: "zoë@x".into(),
            display_name: "Zoë Smith (London)".into(),
            given_name: "Zoë".into(),
            surname: "Smith".into(),
            mail: "zoe@x".into(),
            department: "".into(),
            job_title: "Receptionist".into(),
            office: "London".into(),
            business_phones: vec!["+44 1".into(), "+44 2".into()],
            mobile_phone: "+44 7".into(),
        }
    }

    #[test]
    fn packs_and_reads_back() {
        let mut shared = SharedStrings::default();
        let c = zoe();
        let packed = PackedColleague::new(&c, &mut shared);
        let read = packed.read(&shared);
        assert_eq!(read.unpack(), c);
        assert_eq!(read.display_name(), "Zoë Smith (London)");
        assert_eq!(read.department(), "");
        assert_eq!(read.business_phones().count(), 2);
        assert_eq!(packed.upn(), "zoë@x");

        let none = PackedColleague::new(&Colleague::default(), &mut shared);
        assert_eq!(none.read(&shared).business_phones().count(), 0);
        assert_eq!(none.read(&shared).mail(), "");
        assert_eq!(none.read(&shared).unpack(), Colleague::default());
    }

    #[test]
    fn the_phone_to_call_is_the_first_business_phone_else_the_mobile() {
        let mut shared = SharedStrings::default();
        let c = zoe();
        let read = |c: &Colleague, shared: &mut SharedStrings| {
            PackedColleague::new(c, shared)
                .read(shared)
                .phone_to_call()
                .map(str::to_owned)
        };
        assert_eq!(read(&c, &mut shared).as_deref(), Some("+44 1"));
        let mobile_only = Colleague {
            business_phones: Vec::new(),
            ..c.clone()
        };
        assert_eq!(read(&mobile_only, &mut shared).as_deref(), Some("+44 7"));
        let neither = Colleague {
            mobile_phone: String::new(),
            ..mobile_only
        };
        assert_eq!(read(&neither, &mut shared), None);
    }

    #[test]
    fn repeats_are_kept_once() {
        let mut shared = SharedStrings::default();
        let plain = PackedColleague::new(&zoe(), &mut shared);
        let usual = Colleague {
            mail: "zoë@x".into(),
            display_name: "Zoë Smith".into(),
            ..zoe()
        };
        let packed = PackedColleague::new(&usual, &mut shared);
        assert_eq!(packed.read(&shared).unpack(), usual);
        assert_eq!(packed.read(&shared).display_name(), "Zoë Smith");
        assert_eq!(packed.read(&shared).mail(), "zoë@x");
        assert!(packed.text.len() + "Zoë Smith (London)".len() + "zoe@x".len() <= plain.text.len());
        // Both share "Receptionist" and "London".
        assert_eq!(shared.len(), 2);
        assert_eq!(packed.shared, plain.shared);
        assert!(std::mem::size_of::<PackedColleague>() <= 48);
    }

    #[test]
    fn absurd_fields_are_cut_at_a_character_boundary() {
        let mut shared = SharedStrings::default();
        let c = Colleague {
            upn: "a@x".into(),
            display_name: "é".repeat(10_000),
            department: "d".repeat(10_000),
            business_phones: vec!["1".repeat(3_000); 5],
            mobile_phone: "+44 7".into(),
            ..Default::default()
        };
        let packed = PackedColleague::new(&c, &mut shared);
        let read = packed.read(&shared);
        assert_eq!(read.upn(), "a@x");
        assert_eq!(read.display_name(), "é".repeat(MAX_PACKED_FIELD_BYTES / 2));
        assert_eq!(read.department().len(), MAX_PACKED_FIELD_BYTES);
        assert_eq!(read.mobile_phone(), "+44 7");
        assert!(read.business_phones().map(str::len).sum::<usize>() < MAX_PACKED_FIELD_BYTES);
    }

    #[test]
    fn shared_strings_give_one_id_per_string() {
        let mut shared = SharedStrings::default();
        assert_eq!(shared.intern(""), 0);
        let sales = shared.intern("Sales");
        let legal = shared.intern("Legal");
        assert_ne!(sales, legal);
        assert_eq!(shared.intern("Sales"), sales);
        assert_eq!(shared.get(sales), "Sales");
        assert_eq!(shared.get(0), "");
        assert_eq!(shared.get(99), "");
        assert_eq!(shared.len(), 2);
    }
}
