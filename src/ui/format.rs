//! Text for people: times, counts, status lines, accessible row labels.

use std::time::SystemTime;

use presence_domain::Presence;
use presence_domain::presence::{format_elapsed_short, format_elapsed_spoken};

/// Local wall-clock time, "14:02"; "--:--" for a time no calendar holds (chrono's own
/// conversion from `SystemTime` panics beyond its range, a hostile gateway's timestamps
/// must not crash the panel).
pub fn local_hh_mm(time: SystemTime) -> String {
    let since_epoch = match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).ok(),
        Err(before) => i64::try_from(before.duration().as_secs()).ok().map(|s| -s),
    };
    since_epoch
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .map_or_else(
            || "--:--".to_owned(),
            |utc| {
                utc.with_timezone(&chrono::Local)
                    .format("%H:%M")
                    .to_string()
            },
        )
}

/// "3,000".
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Time in state for the list, "12 min", or `None` when unknown.
pub fn time_in_state(presence: &Presence, now: SystemTime) -> Option<String> {
    if presence.since == SystemTime::UNIX_EPOCH {
        return None;
    }
    Some(format_elapsed_short(
        now.duration_since(presence.since).unwrap_or_default(),
    ))
}

/// What a screen reader says for a row: "Anna Rossi, Busy, in a call, for 12 minutes".
pub fn row_accessible_label(
    display_name: &str,
    presence: Option<&Presence>,
    stale_since: Option<SystemTime>,
    now: SystemTime,
) -> String {
    let Some(presence) = presence else {
        return format!("{display_name}, status unknown");
    };
    let mut label = format!("{display_name}, {}", presence.describe());
    match stale_since {
        Some(at) => label.push_str(&format!(", last known at {} (not live)", local_hh_mm(at))),
        None if presence.since != SystemTime::UNIX_EPOCH => {
            let elapsed = now.duration_since(presence.since).unwrap_or_default();
            label.push_str(&format!(", {}", format_elapsed_spoken(elapsed)));
        }
        None => {}
    }
    if presence.is_out_of_office() && !presence.out_of_office.message.is_empty() {
        label.push_str(", out of office note: ");
        label.push_str(&presence.out_of_office.message);
    } else if let Some(message) = presence.current_status_message(now) {
        label.push_str(", status message: ");
        label.push_str(message);
    }
    label
}

/// "Loading the directory… 42,000 of 100,000" (colleagues received, and listed in
/// all), while a listing is built off the UI thread.
pub fn loading_text(progress: Option<(usize, usize)>) -> String {
    match progress {
        Some((received, total)) if received < total => format!(
            "Loading the directory… {} of {}",
            thousands(received),
            thousands(total)
        ),
        Some((_, total)) => format!("Making {} colleagues searchable…", thousands(total)),
        None => "Loading the directory…".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use presence_domain::{Activity, Availability};
    use std::time::Duration;

    #[test]
    fn labels_and_numbers() {
        assert_eq!(thousands(3000), "3,000");
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(12), "12");
        let now = SystemTime::now();
        let mut p = Presence::unknown("anna.rossi@contoso.com");
        p.availability = Availability::Busy;
        p.activity = Activity::InACall;
        p.since = now - Duration::from_secs(12 * 60 + 3);
        assert_eq!(
            row_accessible_label("Anna Rossi", Some(&p), None, now),
            "Anna Rossi, Busy, in a call, for 12 minutes"
        );
        assert!(
            row_accessible_label("Anna Rossi", Some(&p), Some(now), now).contains("last known at")
        );
    }

    #[test]
    fn times_out_of_the_calendar_do_not_panic() {
        let far_future = SystemTime::UNIX_EPOCH + Duration::from_secs(i64::MAX as u64 / 2);
        assert_eq!(local_hh_mm(far_future), "--:--");
        let far_past = SystemTime::UNIX_EPOCH - Duration::from_secs(i64::MAX as u64 / 2);
        assert_eq!(local_hh_mm(far_past), "--:--");
        assert_eq!(local_hh_mm(SystemTime::UNIX_EPOCH).len(), 5);
    }
}
