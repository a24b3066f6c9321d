//! Design tokens: every colour the panel uses, for light and dark themes. No other
//! module makes colours from numbers (clippy.toml bans `Color32::from_rgb` elsewhere).

use egui::Color32;

/// Which palette the status icons use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IconPalette {
    /// Microsoft Teams (Fluent UI presence badges): Away orange, Busy red.
    Teams,
    /// The telephony platform's conventional palette for SIP SIMPLE presence:
    /// Away yellow, Busy red, drawn on a rounded square.
    Platform,
}

/// Colours of presence states in one theme.
#[derive(Debug, Clone, Copy)]
pub struct StatusColors {
    pub available: Color32,
    pub away: Color32,
    pub busy: Color32,
    pub out_of_office: Color32,
    pub offline: Color32,
    pub platform_away: Color32,
    pub platform_available: Color32,
    pub platform_busy: Color32,
    /// Glyphs drawn on a filled badge.
    pub glyph: Color32,
}

#[allow(clippy::disallowed_methods)] // the one place colours are defined
pub const LIGHT: StatusColors = StatusColors {
    available: Color32::from_rgb(0x13, 0xA1, 0x0E),
    away: Color32::from_rgb(0xEA, 0xA3, 0x00),
    busy: Color32::from_rgb(0xD1, 0x34, 0x38),
    out_of_office: Color32::from_rgb(0xC2, 0x39, 0xB3),
    offline: Color32::from_rgb(0x61, 0x61, 0x61),
    platform_available: Color32::from_rgb(0x2E, 0x9E, 0x44),
    platform_away: Color32::from_rgb(0xE8, 0xC3, 0x00),
    platform_busy: Color32::from_rgb(0xC6, 0x28, 0x28),
    glyph: Color32::WHITE,
};

#[allow(clippy::disallowed_methods)]
pub const DARK: StatusColors = StatusColors {
    available: Color32::from_rgb(0x3D, 0xB8, 0x38),
    away: Color32::from_rgb(0xF5, 0xB3, 0x1E),
    busy: Color32::from_rgb(0xE3, 0x50, 0x54),
    out_of_office: Color32::from_rgb(0xD1, 0x61, 0xC4),
    offline: Color32::from_rgb(0xAD, 0xAD, 0xAD),
    platform_available: Color32::from_rgb(0x4C, 0xC2, 0x62),
    platform_away: Color32::from_rgb(0xF7, 0xD7, 0x2F),
    platform_busy: Color32::from_rgb(0xE5, 0x48, 0x48),
    glyph: Color32::from_rgb(0x1B, 0x1B, 0x1B),
};

pub fn status_colors(dark_mode: bool) -> StatusColors {
    if dark_mode { DARK } else { LIGHT }
}

/// Colours of the panel's chrome.
#[derive(Debug, Clone, Copy)]
pub struct ChromeColors {
    pub stale_banner_fill: Color32,
    pub stale_banner_text: Color32,
    pub warning_text: Color32,
    pub live_dot: Color32,
    pub connecting_dot: Color32,
    pub error_dot: Color32,
    pub selected_row: Color32,
    pub muted_text: Color32,
    pub status_message_text: Color32,
    pub out_of_office_text: Color32,
    /// The in-app notification ("Anna Rossi is available"): unmistakable.
    pub notice_fill: Color32,
    pub notice_text: Color32,
    /// A favourite's star.
    pub star: Color32,
    /// A board tile's background and outline.
    pub tile_fill: Color32,
    pub tile_stroke: Color32,
}

#[allow(clippy::disallowed_methods)]
pub fn chrome_colors(dark_mode: bool) -> ChromeColors {
    if dark_mode {
        ChromeColors {
            stale_banner_fill: Color32::from_rgb(0x5C, 0x3B, 0x00),
            stale_banner_text: Color32::from_rgb(0xFF, 0xE0, 0xA3),
            warning_text: Color32::from_rgb(0xFF, 0xC1, 0x4D),
            live_dot: DARK.available,
            connecting_dot: DARK.away,
            error_dot: DARK.busy,
            selected_row: Color32::from_rgb(0x2B, 0x3A, 0x55),
            muted_text: Color32::from_rgb(0x9A, 0x9A, 0x9A),
            status_message_text: Color32::from_rgb(0xC8, 0xC8, 0xC8),
            out_of_office_text: DARK.out_of_office,
            notice_fill: Color32::from_rgb(0x1F, 0x5F, 0x2A),
            notice_text: Color32::WHITE,
            star: Color32::from_rgb(0xF5, 0xC2, 0x1B),
            tile_fill: Color32::from_rgb(0x26, 0x26, 0x2A),
            tile_stroke: Color32::from_rgb(0x3A, 0x3A, 0x40),
        }
    } else {
        ChromeColors {
            stale_banner_fill: Color32::from_rgb(0xFF, 0xF4, 0xCE),
            stale_banner_text: Color32::from_rgb(0x5C, 0x3B, 0x00),
            warning_text: Color32::from_rgb(0x9A, 0x5B, 0x00),
            live_dot: LIGHT.available,
            connecting_dot: LIGHT.away,
            error_dot: LIGHT.busy,
            selected_row: Color32::from_rgb(0xDC, 0xE7, 0xFA),
            muted_text: Color32::from_rgb(0x6B, 0x6B, 0x6B),
            status_message_text: Color32::from_rgb(0x3B, 0x3B, 0x3B),
            out_of_office_text: Color32::from_rgb(0x9B, 0x2A, 0x8F),
            notice_fill: Color32::from_rgb(0x0E, 0x7A, 0x0D),
            notice_text: Color32::WHITE,
            star: Color32::from_rgb(0xC2, 0x8A, 0x00),
            tile_fill: Color32::from_rgb(0xF7, 0xF7, 0xF9),
            tile_stroke: Color32::from_rgb(0xE1, 0xE1, 0xE6),
        }
    }
}

/// The application icon's brand colour.
#[allow(clippy::disallowed_methods)]
pub const BRAND: Color32 = Color32::from_rgb(0x5B, 0x5F, 0xC7);
