//! Directory and presence text made safe to show: each field one line of bounded
//! length, whatever a gateway sends.

use presence_domain::text::{MAX_LINE_CHARS, single_line};
use presence_domain::{Colleague, Presence, StatusMessage};

/// The colleague made safe to show: each field one line of bounded length.
pub(super) fn sanitized_colleague(mut c: Colleague) -> Colleague {
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
        *field = single_line(field, MAX_LINE_CHARS);
    }
    for phone in &mut c.business_phones {
        *phone = single_line(phone, MAX_LINE_CHARS);
    }
    if c.display_name.is_empty() {
        c.display_name = c.upn.clone();
    }
    c
}

pub(super) fn sanitized_presence(mut p: Presence) -> Presence {
    p.status_message = p.status_message.map(|m| StatusMessage {
        text: single_line(&m.text, MAX_LINE_CHARS),
        expires_at: m.expires_at,
    });
    p.out_of_office.message = single_line(&p.out_of_office.message, MAX_LINE_CHARS);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_become_one_bounded_line_and_a_name_is_never_empty() {
        let colleague = sanitized_colleague(Colleague {
            upn: "a@x".into(),
            department: format!("Sales\n\u{1b}[31m{}", "x".repeat(10 * MAX_LINE_CHARS)),
            ..Default::default()
        });
        assert_eq!(colleague.display_name, "a@x");
        assert!(!colleague.department.contains(['\n', '\u{1b}']));
        assert!(
            colleague.department.chars().count() <= MAX_LINE_CHARS + 1,
            "and an ellipsis"
        );
        let mut presence = Presence::unknown("a@x");
        presence.out_of_office.message = "line one\nline two".into();
        assert!(
            !sanitized_presence(presence)
                .out_of_office
                .message
                .contains('\n')
        );
    }
}
