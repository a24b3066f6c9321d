//! "Tell me when available": colleagues the operator waits for. A watch fires once, the
//! first time its colleague is seen Available (live: link and source live, not idle),
//! and then ends; unfired watches end with the operator's day (local midnight). Pure:
//! the app asks who is available and shows what fired.

use std::time::{Duration, SystemTime};

use presence_domain::colleague::upn_key;
use presence_domain::text::single_line;
use serde::{Deserialize, Serialize};

/// Most watches held at once.
pub const MAX_WATCHES: usize = 500;

/// One colleague waited for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailabilityWatch {
    /// The UPN, normalised.
    pub upn: String,
    /// Their display name, for the notification.
    pub name: String,
    /// When the watch ends unfired, in seconds since 1970 (the end of the day it was set).
    pub expires_at: u64,
}

impl AvailabilityWatch {
    pub fn expires_at(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(self.expires_at)
    }
}

/// The watches, in the order they were set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AvailabilityWatches {
    watches: Vec<AvailabilityWatch>,
    revision: u64,
}

impl AvailabilityWatches {
    /// Watches read from a file; those already expired, duplicated or beyond the limit
    /// are dropped.
    pub fn from_saved(saved: Vec<AvailabilityWatch>, now: SystemTime) -> Self {
        let mut watches = Self::default();
        let now_secs = unix_seconds(now);
        for watch in saved {
            let upn = upn_key(&watch.upn);
            if upn.is_empty()
                || watch.expires_at <= now_secs
                || watches.is_watching(&upn)
                || watches.watches.len() >= MAX_WATCHES
            {
                continue;
            }
            watches.watches.push(AvailabilityWatch {
                upn,
                name: single_line(&watch.name, 200),
                expires_at: watch.expires_at,
            });
        }
        watches
    }

    pub fn list(&self) -> &[AvailabilityWatch] {
        &self.watches
    }

    pub fn is_empty(&self) -> bool {
        self.watches.is_empty()
    }

    /// Bumped by every change: what is saved is out of date.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    pub fn is_watching(&self, upn: &str) -> bool {
        let key = upn_key(upn);
        self.watches.iter().any(|w| w.upn == key)
    }

    /// Starts waiting for a colleague until the end of the local day of `now`. Returns
    /// false when the limit is reached.
    pub fn watch(&mut self, upn: &str, name: &str, now: SystemTime) -> bool {
        let upn = upn_key(upn);
        if upn.is_empty() || self.is_watching(&upn) {
            return true;
        }
        if self.watches.len() >= MAX_WATCHES {
            return false;
        }
        self.watches.push(AvailabilityWatch {
            upn,
            name: single_line(name, 200),
            expires_at: unix_seconds(end_of_local_day(now)),
        });
        self.revision += 1;
        true
    }

    pub fn cancel(&mut self, upn: &str) {
        let key = upn_key(upn);
        let before = self.watches.len();
        self.watches.retain(|w| w.upn != key);
        if self.watches.len() != before {
            self.revision += 1;
        }
    }

    /// Ends expired watches and fires those whose colleague `is_available_live` says is
    /// Available now; returns the fired ones (each ends: it fires exactly once).
    pub fn check(
        &mut self,
        now: SystemTime,
        mut is_available_live: impl FnMut(&str) -> bool,
    ) -> Vec<AvailabilityWatch> {
        if self.watches.is_empty() {
            return Vec::new();
        }
        let now_secs = unix_seconds(now);
        let mut fired = Vec::new();
        let before = self.watches.len();
        self.watches.retain(|watch| {
            if watch.expires_at <= now_secs {
                return false;
            }
            if is_available_live(&watch.upn) {
                fired.push(watch.clone());
                return false;
            }
            true
        });
        if self.watches.len() != before {
            self.revision += 1;
        }
        fired
    }
}

/// Seconds since 1970 (0 before it).
pub fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The next local midnight after `now` (a DST change honoured); 24 hours on if the
/// calendar cannot say.
pub fn end_of_local_day(now: SystemTime) -> SystemTime {
    use chrono::{Local, TimeZone};
    let fallback = now + Duration::from_secs(24 * 3600);
    let Ok(secs) = i64::try_from(unix_seconds(now)) else {
        return fallback;
    };
    let Some(local) = chrono::DateTime::from_timestamp(secs, 0).map(|t| t.with_timezone(&Local))
    else {
        return fallback;
    };
    let Some(midnight) = local
        .date_naive()
        .succ_opt()
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .and_then(|naive| Local.from_local_datetime(&naive).earliest())
    else {
        return fallback;
    };
    u64::try_from(midnight.timestamp())
        .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s))
        .unwrap_or(fallback)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watch_fires_once_when_available_and_ends_with_the_day() {
        let now = SystemTime::now();
        let mut watches = AvailabilityWatches::default();
        assert!(watches.watch("Anna.Rossi@contoso.com", "Anna Rossi", now));
        assert!(watches.watch("marco@x", "Marco", now));
        assert!(watches.is_watching("anna.rossi@contoso.com"));
        assert!(watches.check(now, |_| false).is_empty());
        let fired = watches.check(now, |upn| upn == "anna.rossi@contoso.com");
        assert_eq!(fired.len(), 1);
        assert_eq!(fired[0].name, "Anna Rossi");
        assert!(
            watches
                .check(now, |_| true)
                .iter()
                .all(|w| w.upn != "anna.rossi@contoso.com"),
            "fires exactly once"
        );
        assert!(watches.is_empty(), "Marco fired in the last check");

        watches.watch("late@x", "Late", now);
        let end = end_of_local_day(now);
        assert!(end > now && end <= now + Duration::from_secs(25 * 3600));
        assert!(
            watches.check(end, |_| true).is_empty(),
            "expired at midnight: never fires"
        );
        assert!(watches.is_empty());
    }

    #[test]
    fn saved_watches_are_checked_when_read() {
        let now = SystemTime::now();
        let future = unix_seconds(now) + 3600;
        let saved = vec![
            AvailabilityWatch {
                upn: "A@X".into(),
                name: "A".into(),
                expires_at: future,
            },
            AvailabilityWatch {
                upn: "a@x".into(),
                name: "A again".into(),
                expires_at: future,
            },
            AvailabilityWatch {
                upn: "old@x".into(),
                name: "Yesterday".into(),
                expires_at: unix_seconds(now) - 1,
            },
        ];
        let watches = AvailabilityWatches::from_saved(saved, now);
        assert_eq!(watches.list().len(), 1);
        assert_eq!(watches.list()[0].upn, "a@x");
    }
}
