//! Directory and presence text made safe to show: each field one line of bounded
//! length, whatever a gateway sends; a UPN that is not one (too long, control
//! characters, no '@') is refused rather than shown.

use presence_domain::colleague::validate_upn;
use presence_domain::text::{MAX_LINE_CHARS, is_single_line, single_line};
use presence_domain::{Activity, Colleague, Presence, StatusMessage};

/// Phone numbers kept per colleague.
pub(super) const MAX_PHONES: usize = 8;
/// Longest raw availability or activity kept (a value this panel does not know).
const MAX_RAW_CHARS: usize = 64;

/// The colleague made safe to show: each field one line of bounded length. `None` when
/// the UPN is not a UPN.
pub(super) fn sanitized_colleague(mut c: Colleague) -> Option<Colleague> {
    validate_upn(&c.upn).ok()?;
    c.business_phones.truncate(MAX_PHONES);
    for field in [
        &mut c.display_name,
        &mut c.given_name,
        &mut c.surname,
        &mut c.mail,
        &mut c.department,
        &mut c.job_title,
        &mut c.office,
        &mut c.mobile_phone,
    ] {
        make_single_line(field);
    }
    for phone in &mut c.business_phones {
        make_single_line(phone);
    }
    if c.display_name.is_empty() {
        c.display_name = c.upn.clone();
    }
    Some(c)
}

/// Makes a field one bounded line, copying it only when it is not one already.
fn make_single_line(field: &mut String) {
    if !is_single_line(field, MAX_LINE_CHARS) {
        *field = single_line(field, MAX_LINE_CHARS);
    }
}

/// The presence made safe to show; `None` when the UPN is not a UPN.
pub(super) fn sanitized_presence(mut p: Presence) -> Option<Presence> {
    validate_upn(&p.upn).ok()?;
    p.availability_raw = p
        .availability_raw
        .map(|raw| single_line(&raw, MAX_RAW_CHARS));
    if let Activity::Other(raw) = &p.activity {
        p.activity = Activity::Other(single_line(raw, MAX_RAW_CHARS));
    }
    p.status_message = p.status_message.map(|m| StatusMessage {
        text: single_line(&m.text, MAX_LINE_CHARS),
        expires_at: m.expires_at,
    });
    p.out_of_office.message = single_line(&p.out_of_office.message, MAX_LINE_CHARS);
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_become_one_bounded_line_and_a_name_is_never_empty() {
        let colleague = sanitized_colleague(Colleague {
            upn: "a@x".into(),
            department: format!("Sales\n\u{1b}[31m{}", "x".repeat(10 * MAX_LINE_CHARS)),
            business_phones: vec!["+1 555 0100".into(); 1_000],
            ..Default::default()
        })
        .expect("a UPN");
        assert_eq!(colleague.business_phones.len(), MAX_PHONES);
        assert_eq!(colleague.display_name, "a@x");
        assert!(!colleague.department.contains(['\n', '\u{1b}']));
        assert!(
            colleague.department.chars().count() <= MAX_LINE_CHARS + 1,
            "and an ellipsis"
        );
        let mut presence = Presence::unknown("a@x");
        presence.out_of_office.message = "line one\nline two".into();
        presence.activity = Activity::Other("Gardening\n".repeat(10_000));
        presence.availability_raw = Some("x".repeat(10_000));
        let presence = sanitized_presence(presence).expect("a UPN");
        assert!(!presence.out_of_office.message.contains('\n'));
        assert!(
            matches!(&presence.activity, Activity::Other(raw) if raw.chars().count() <= MAX_RAW_CHARS + 1)
        );
        assert!(
            presence
                .availability_raw
                .is_some_and(|r| r.chars().count() <= MAX_RAW_CHARS + 1)
        );
    }

    #[test]
    fn what_is_not_a_upn_is_refused() {
        for upn in [
            "",
            "no-at-sign",
            "a\u{0}@x",
            &format!("{}@x", "a".repeat(400)),
        ] {
            let colleague = Colleague {
                upn: upn.to_owned(),
                ..Default::default()
            };
            assert!(sanitized_colleague(colleague).is_none(), "{upn:?}");
            assert!(
                sanitized_presence(Presence::unknown(upn)).is_none(),
                "{upn:?}"
            );
        }
    }
}
