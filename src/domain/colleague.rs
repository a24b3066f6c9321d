//! A person in the company directory.

/// A colleague as the directory knows them. The `upn` (user principal name) is how
/// presence is matched to a person, case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Colleague {
    /// Stable identifier (Entra ID object id, or a generated one in simulation).
    pub id: String,
    pub upn: String,
    pub display_name: String,
    pub given_name: String,
    pub surname: String,
    pub mail: String,
    pub department: String,
    pub job_title: String,
    pub office: String,
    pub business_phones: Vec<String>,
    pub mobile_phone: String,
}

impl Colleague {
    /// The key under which this colleague's presence is kept: the UPN, lower-cased.
    pub fn upn_key(&self) -> String {
        upn_key(&self.upn)
    }
}

/// Normalises a UPN for matching: trimmed and lower-cased.
pub fn upn_key(upn: &str) -> String {
    upn.trim().to_lowercase()
}

/// Why a UPN was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpnError {
    #[error("UPN is empty")]
    Empty,
    #[error("UPN is {0} characters long; at most {MAX_UPN_LEN} are allowed")]
    TooLong(usize),
    #[error("UPN {0:?} has no '@'")]
    NoAt(String),
    #[error("UPN contains control characters or spaces")]
    BadCharacters,
}

/// Longest UPN accepted (Entra ID allows 113 characters before the '@' and 256 in all).
pub const MAX_UPN_LEN: usize = 320;

/// Checks that a UPN looks like `name@domain`, and returns its matching key.
pub fn validate_upn(upn: &str) -> Result<String, UpnError> {
    let trimmed = upn.trim();
    if trimmed.is_empty() {
        return Err(UpnError::Empty);
    }
    let len = trimmed.chars().count();
    if len > MAX_UPN_LEN {
        return Err(UpnError::TooLong(len));
    }
    if trimmed.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(UpnError::BadCharacters);
    }
    if !trimmed.contains('@') {
        return Err(UpnError::NoAt(trimmed.to_owned()));
    }
    Ok(upn_key(trimmed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upn_validation() {
        assert_eq!(
            validate_upn(" Anna.Rossi@Contoso.com "),
            Ok("anna.rossi@contoso.com".into())
        );
        assert_eq!(validate_upn(""), Err(UpnError::Empty));
        assert!(matches!(validate_upn("anna"), Err(UpnError::NoAt(_))));
        assert_eq!(validate_upn("a b@c"), Err(UpnError::BadCharacters));
        assert!(matches!(
            validate_upn(&"a".repeat(400)),
            Err(UpnError::TooLong(400))
        ));
    }
}

/// A colleague's fields packed into one allocation: what a client holding 100,000 of
/// them keeps (a [`Colleague`] costs a dozen allocations). Each field keeps at most
/// [`MAX_PACKED_FIELD_BYTES`], so 16-bit offsets reach every field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedColleague {
    text: Box<str>,
    /// End offset of each field in `text`, in [`PackedField`] order.
    ends: [u16; PACKED_FIELDS],
    /// The mail address is the UPN (as it mostly is): kept once, in the UPN's place.
    is_mail_upn: bool,
}

const PACKED_FIELDS: usize = 11;

/// Longest field a [`PackedColleague`] keeps, in bytes; the rest is cut (at a character
/// boundary). Far above any real name or address: display fields are cut to
/// [`MAX_LINE_CHARS`](super::text::MAX_LINE_CHARS) characters before this.
pub const MAX_PACKED_FIELD_BYTES: usize = 4_096;
const _: () = assert!(MAX_PACKED_FIELD_BYTES * PACKED_FIELDS <= u16::MAX as usize);

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

#[derive(Clone, Copy)]
enum PackedField {
    Id = 0,
    Upn,
    DisplayName,
    GivenName,
    Surname,
    Mail,
    Department,
    JobTitle,
    Office,
    MobilePhone,
    /// Business phones joined by '\n' (fields are single lines).
    BusinessPhones,
}

impl PackedColleague {
    pub fn new(c: &Colleague) -> Self {
        let phones = c.business_phones.join("\n");
        let is_mail_upn = !c.mail.is_empty() && c.mail == c.upn;
        let mail = if is_mail_upn { "" } else { c.mail.as_str() };
        let fields: [&str; PACKED_FIELDS] = [
            &c.id,
            &c.upn,
            &c.display_name,
            &c.given_name,
            &c.surname,
            mail,
            &c.department,
            &c.job_title,
            &c.office,
            &c.mobile_phone,
            &phones,
        ];
        let fields = fields.map(|f| clip_to_bytes(f, MAX_PACKED_FIELD_BYTES));
        let mut text = String::with_capacity(fields.iter().map(|f| f.len()).sum());
        let mut ends = [0u16; PACKED_FIELDS];
        for (end, field) in ends.iter_mut().zip(fields) {
            text.push_str(field);
            // At most MAX_PACKED_FIELD_BYTES * PACKED_FIELDS, checked above to fit.
            *end = text.len() as u16;
        }
        Self {
            text: text.into_boxed_str(),
            ends,
            is_mail_upn,
        }
    }

    fn field(&self, field: PackedField) -> &str {
        let i = field as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.text
            .get(start..self.ends[i] as usize)
            .unwrap_or_default()
    }

    pub fn id(&self) -> &str {
        self.field(PackedField::Id)
    }
    pub fn upn(&self) -> &str {
        self.field(PackedField::Upn)
    }
    pub fn display_name(&self) -> &str {
        self.field(PackedField::DisplayName)
    }
    pub fn given_name(&self) -> &str {
        self.field(PackedField::GivenName)
    }
    pub fn surname(&self) -> &str {
        self.field(PackedField::Surname)
    }
    pub fn mail(&self) -> &str {
        if self.is_mail_upn {
            return self.upn();
        }
        self.field(PackedField::Mail)
    }
    pub fn department(&self) -> &str {
        self.field(PackedField::Department)
    }
    pub fn job_title(&self) -> &str {
        self.field(PackedField::JobTitle)
    }
    pub fn office(&self) -> &str {
        self.field(PackedField::Office)
    }
    pub fn mobile_phone(&self) -> &str {
        self.field(PackedField::MobilePhone)
    }
    pub fn business_phones(&self) -> impl Iterator<Item = &str> {
        self.field(PackedField::BusinessPhones)
            .split('\n')
            .filter(|p| !p.is_empty())
    }

    pub fn upn_key(&self) -> String {
        upn_key(self.upn())
    }

    pub fn unpack(&self) -> Colleague {
        Colleague {
            id: self.id().to_owned(),
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
mod packed_tests {
    use super::*;

    #[test]
    fn packs_and_unpacks() {
        let c = Colleague {
            id: "1".into(),
            upn: "zoë@x".into(),
            display_name: "Zoë Smith".into(),
            given_name: "Zoë".into(),
            surname: "Smith".into(),
            mail: "zoe@x".into(),
            department: "".into(),
            job_title: "Receptionist".into(),
            office: "London".into(),
            business_phones: vec!["+44 1".into(), "+44 2".into()],
            mobile_phone: "+44 7".into(),
        };
        let packed = PackedColleague::new(&c);
        assert_eq!(packed.unpack(), c);
        assert_eq!(packed.display_name(), "Zoë Smith");
        assert_eq!(packed.department(), "");
        assert_eq!(packed.business_phones().count(), 2);
        let none = PackedColleague::new(&Colleague::default());
        assert_eq!(none.business_phones().count(), 0);
        assert_eq!(none.mail(), "");

        let same = Colleague {
            mail: c.upn.clone(),
            ..c.clone()
        };
        let packed_same = PackedColleague::new(&same);
        assert_eq!(packed_same.mail(), "zoë@x");
        assert_eq!(packed_same.unpack(), same);
        assert!(
            packed_same.text.len() < packed.text.len(),
            "the address is kept once"
        );
    }

    #[test]
    fn absurd_fields_are_cut_at_a_character_boundary() {
        let c = Colleague {
            upn: "a@x".into(),
            display_name: "é".repeat(10_000),
            business_phones: vec!["1".repeat(3_000); 5],
            mobile_phone: "+44 7".into(),
            ..Default::default()
        };
        let packed = PackedColleague::new(&c);
        assert_eq!(packed.upn(), "a@x");
        assert_eq!(
            packed.display_name(),
            "é".repeat(MAX_PACKED_FIELD_BYTES / 2)
        );
        assert_eq!(packed.mobile_phone(), "+44 7");
        assert!(packed.business_phones().map(str::len).sum::<usize>() < MAX_PACKED_FIELD_BYTES);
        assert!(std::mem::size_of::<PackedColleague>() <= 40);
    }
}
