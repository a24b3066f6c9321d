//! The UCX "winning technology" rule: when Teams and SIP SIMPLE both report presence for
//! a colleague, the winner is shown; the other stands in when the winner has nothing.

use super::presence::{Availability, Presence, Technology};

/// `RichPresence.WinningTechnology` in `Presence.ini`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WinningTechnology {
    MsTeams,
    /// The UCX default.
    #[default]
    SipSimple,
}

impl WinningTechnology {
    pub fn technology(self) -> Technology {
        match self {
            Self::MsTeams => Technology::MsTeams,
            Self::SipSimple => Technology::SipSimple,
        }
    }

    /// Picks what to show from the two technologies' latest presence.
    ///
    /// The winner's presence is shown when it says something (known availability); the
    /// other technology stands in when the winner has no data or reports unknown. When
    /// neither knows anything, whichever exists is returned (the winner first).
    pub fn choose<'a>(
        self,
        teams: Option<&'a Presence>,
        sip: Option<&'a Presence>,
    ) -> Option<&'a Presence> {
        let (winner, other) = match self {
            Self::MsTeams => (teams, sip),
            Self::SipSimple => (sip, teams),
        };
        let is_known = |p: &&Presence| p.availability != Availability::PresenceUnknown;
        winner
            .filter(is_known)
            .or_else(|| other.filter(is_known))
            .or(winner)
            .or(other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn presence(technology: Technology, availability: Availability) -> Presence {
        Presence {
            technology,
            availability,
            ..Presence::unknown("a@b")
        }
    }

    #[test]
    fn winner_shown_other_stands_in() {
        let teams = presence(Technology::MsTeams, Availability::Busy);
        let sip = presence(Technology::SipSimple, Availability::Available);
        let unknown_teams = presence(Technology::MsTeams, Availability::PresenceUnknown);
        let w = WinningTechnology::MsTeams;
        assert_eq!(w.choose(Some(&teams), Some(&sip)), Some(&teams));
        assert_eq!(w.choose(Some(&unknown_teams), Some(&sip)), Some(&sip));
        assert_eq!(w.choose(None, Some(&sip)), Some(&sip));
        let w = WinningTechnology::SipSimple;
        assert_eq!(w.choose(Some(&teams), Some(&sip)), Some(&sip));
        assert_eq!(w.choose(Some(&teams), None), Some(&teams));
        assert_eq!(w.choose(Some(&unknown_teams), None), Some(&unknown_teams));
        assert_eq!(w.choose(None, None), None);
    }
}
