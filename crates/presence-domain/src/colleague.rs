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
    let trimmed = upn.trim();
    if trimmed.is_ascii() {
        // Nearly every UPN: the same result, byte by byte, without decoding characters.
        trimmed.to_ascii_lowercase()
    } else {
        upn_key_chars(trimmed).collect()
    }
}

/// The characters of [`upn_key`], without building the string: trimmed, each character
/// lower-cased on its own. The one normalisation of UPNs in the workspace (the hub's
/// keys and the panel's lookup table must agree: `str::to_lowercase` would turn a final
/// 'Σ' into 'ς' where a lookup character by character gives 'σ').
#[inline]
pub fn upn_key_chars(upn: &str) -> impl Iterator<Item = char> + '_ {
    upn.trim().chars().flat_map(char::to_lowercase)
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

    #[test]
    fn one_normalisation_for_keys_and_lookups() {
        // A final capital sigma: per character it is 'σ', never the contextual 'ς'.
        let upn = " ΟΔΥΣΣΕΑΣ@Contoso.com";
        assert_eq!(upn_key(upn), "οδυσσεασ@contoso.com");
        assert!(upn_key_chars(upn).eq(upn_key(upn).chars()));
        assert_eq!(upn_key("ΑΣ"), "ασ");
    }
}
