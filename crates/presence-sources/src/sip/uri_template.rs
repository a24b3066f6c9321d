//! Which SIP URI belongs to a colleague: a template over the directory, so that the
//! same directory serves Graph and SIP. `sip:{upn}` (the default: Teams and the PBX
//! share user names), `sip:{extension}@{domain}` (the colleague's business phone's
//! extension: the digits after the last `x`, `ext.` or `;ext=`, else its last
//! `extension_digits` digits), `sip:{user}@{domain}` (the UPN's part before `@`),
//! `sip:{mail}`.

use presence_domain::Colleague;

/// A URI template, checked when made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriTemplate {
    template: String,
    /// Digits of a business phone taken as the extension when it names none.
    pub extension_digits: usize,
}

impl Default for UriTemplate {
    fn default() -> Self {
        Self {
            template: "sip:{upn}".to_owned(),
            extension_digits: 4,
        }
    }
}

/// Why a template cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TemplateError {
    #[error("a SIP URI template must start with sip: (got {0:?})")]
    NotSip(String),
    #[error(
        "unknown placeholder {{{0}}} in the SIP URI template (use upn, user, mail, extension, domain)"
    )]
    UnknownPlaceholder(String),
    #[error(
        "the SIP URI template {0:?} names no colleague ({{upn}}, {{user}}, {{mail}} or {{extension}})"
    )]
    NoColleague(String),
}

const PLACEHOLDERS: [&str; 5] = ["upn", "user", "mail", "extension", "domain"];

impl UriTemplate {
    pub fn parse(template: &str) -> Result<Self, TemplateError> {
        let template = template.trim();
        if !template.to_ascii_lowercase().starts_with("sip:") {
            return Err(TemplateError::NotSip(template.to_owned()));
        }
        let mut rest = template;
        let mut names_colleague = false;
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or_else(|| TemplateError::UnknownPlaceholder(after.to_owned()))?;
            let name = &after[..close];
            if !PLACEHOLDERS.contains(&name) {
                return Err(TemplateError::UnknownPlaceholder(name.to_owned()));
            }
            names_colleague |= name != "domain";
            rest = &after[close + 1..];
        }
        if !names_colleague {
            return Err(TemplateError::NoColleague(template.to_owned()));
        }
        Ok(Self {
            template: template.to_owned(),
            extension_digits: 4,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.template
    }

    /// The colleague's SIP URI, or `None` when the template needs what the directory
    /// does not hold for them (no phone for `{extension}`, no mail for `{mail}`).
    pub fn uri_for(&self, colleague: &Colleague, domain: &str) -> Option<String> {
        let upn = colleague.upn.trim().to_ascii_lowercase();
        let mut uri = self.template.clone();
        if uri.contains("{upn}") {
            uri = uri.replace("{upn}", &upn);
        }
        if uri.contains("{user}") {
            let user = upn.split('@').next().unwrap_or_default();
            uri = uri.replace("{user}", user);
        }
        if uri.contains("{mail}") {
            let mail = colleague.mail.trim().to_ascii_lowercase();
            if mail.is_empty() {
                return None;
            }
            uri = uri.replace("{mail}", &mail);
        }
        if uri.contains("{extension}") {
            let extension = colleague
                .business_phones
                .iter()
                .find_map(|phone| extension_of(phone, self.extension_digits))?;
            uri = uri.replace("{extension}", &extension);
        }
        uri = uri.replace("{domain}", domain);
        is_plain_sip_uri(&uri).then_some(uri)
    }
}

/// The extension of a business phone number.
fn extension_of(phone: &str, digits: usize) -> Option<String> {
    let lower = phone.to_ascii_lowercase();
    for marker in [";ext=", "ext.", "ext", "x"] {
        if let Some(at) = lower.rfind(marker) {
            let tail: String = lower[at + marker.len()..]
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            if !tail.is_empty() {
                return Some(tail);
            }
        }
    }
    let all: String = phone.chars().filter(char::is_ascii_digit).collect();
    (all.len() >= digits && digits > 0).then(|| all[all.len() - digits..].to_owned())
}

/// `sip:` then user@host of plain characters: nothing that could inject a header.
fn is_plain_sip_uri(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("sip:") else {
        return false;
    };
    let Some((user, host)) = rest.split_once('@') else {
        return false;
    };
    let is_plain = |part: &str, extra: &str| {
        !part.is_empty()
            && part.len() <= 128
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~+!'*".contains(c) || extra.contains(c))
    };
    is_plain(user, "") && is_plain(host, ":[]")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anna() -> Colleague {
        Colleague {
            upn: "Anna.Rossi@Contoso.com".into(),
            mail: "anna@contoso.com".into(),
            business_phones: vec!["+39 02 1234 5678 x 2041".into()],
            ..Colleague::default()
        }
    }

    #[test]
    fn templates_over_the_directory() {
        let upn = UriTemplate::default();
        assert_eq!(
            upn.uri_for(&anna(), "pbx.contoso.com").as_deref(),
            Some("sip:anna.rossi@contoso.com")
        );
        let extension = UriTemplate::parse("sip:{extension}@{domain}").expect("valid");
        assert_eq!(
            extension.uri_for(&anna(), "pbx.contoso.com").as_deref(),
            Some("sip:2041@pbx.contoso.com")
        );
        let no_ext = Colleague {
            business_phones: vec!["+39 02 1234 5678".into()],
            ..anna()
        };
        assert_eq!(
            extension.uri_for(&no_ext, "pbx").as_deref(),
            Some("sip:5678@pbx"),
            "the last 4 digits"
        );
        let no_phone = Colleague {
            business_phones: Vec::new(),
            ..anna()
        };
        assert_eq!(extension.uri_for(&no_phone, "pbx"), None);
        let user = UriTemplate::parse("sip:{user}@{domain}").expect("valid");
        assert_eq!(
            user.uri_for(&anna(), "pbx").as_deref(),
            Some("sip:anna.rossi@pbx")
        );
    }

    #[test]
    fn bad_templates_and_hostile_values_are_refused() {
        assert!(matches!(
            UriTemplate::parse("tel:{extension}"),
            Err(TemplateError::NotSip(_))
        ));
        assert!(matches!(
            UriTemplate::parse("sip:{phone}@x"),
            Err(TemplateError::UnknownPlaceholder(_))
        ));
        assert!(matches!(
            UriTemplate::parse("sip:reception@{domain}"),
            Err(TemplateError::NoColleague(_))
        ));
        let hostile = Colleague {
            upn: "a>\r\nVia: x@contoso.com".into(),
            ..Colleague::default()
        };
        assert_eq!(UriTemplate::default().uri_for(&hostile, "pbx"), None);
    }
}
