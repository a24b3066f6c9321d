//! The status icons: one geometric description per presence state, drawn crisply by
//! egui at any scale, and rasterised to the PNGs in `assets/icons/` by the same
//! description (so the legend, the window icon and the list never disagree).
//!
//! Shape carries the meaning as well as colour: a check for available, a bar for do not
//! disturb, a clock for away, a back arrow for be right back, an x for offline, an arrow
//! for out of office; idle states are hollow rings in the same hue. Presence from SIP
//! SIMPLE is drawn on a rounded square in the platform palette.

use egui::{Color32, Pos2, Rect, Stroke, pos2, vec2};

use super::theme::{IconPalette, StatusColors};
use presence_domain::{Availability, Presence, Technology};

/// Which icon a presence gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IconKind {
    Available,
    AvailableIdle,
    Away,
    BeRightBack,
    Busy,
    BusyIdle,
    DoNotDisturb,
    Offline,
    Unknown,
    /// Out of office, nothing else to say (offline or unknown otherwise).
    OutOfOffice,
    /// Out of office while signed in (the hollow variant).
    OutOfOfficeActive,
}

impl IconKind {
    pub const ALL: [Self; 11] = [
        Self::Available,
        Self::AvailableIdle,
        Self::Away,
        Self::BeRightBack,
        Self::Busy,
        Self::BusyIdle,
        Self::DoNotDisturb,
        Self::Offline,
        Self::Unknown,
        Self::OutOfOffice,
        Self::OutOfOfficeActive,
    ];

    pub fn for_presence(presence: &Presence) -> Self {
        if presence.is_out_of_office() {
            return match presence.availability {
                Availability::Offline | Availability::PresenceUnknown => Self::OutOfOffice,
                _ => Self::OutOfOfficeActive,
            };
        }
        match presence.availability {
            Availability::Available => Self::Available,
            Availability::AvailableIdle => Self::AvailableIdle,
            Availability::Away => Self::Away,
            Availability::BeRightBack => Self::BeRightBack,
            Availability::Busy => Self::Busy,
            Availability::BusyIdle => Self::BusyIdle,
            Availability::DoNotDisturb => Self::DoNotDisturb,
            Availability::Offline => Self::Offline,
            Availability::PresenceUnknown => Self::Unknown,
        }
    }

    /// Words for the legend.
    pub fn legend_label(self) -> &'static str {
        match self {
            Self::Available => "Available",
            Self::AvailableIdle => "Available, idle (client inactive)",
            Self::Away => "Away",
            Self::BeRightBack => "Be right back",
            Self::Busy => "Busy (in a call, in a meeting)",
            Self::BusyIdle => "Busy, idle (client inactive)",
            Self::DoNotDisturb => "Do not disturb, presenting",
            Self::Offline => "Offline",
            Self::Unknown => "Status unknown",
            Self::OutOfOffice => "Out of office",
            Self::OutOfOfficeActive => "Out of office, signed in",
        }
    }

    /// File name stem in `assets/icons/`.
    pub fn file_stem(self) -> &'static str {
        match self {
            Self::Available => "available",
            Self::AvailableIdle => "available-idle",
            Self::Away => "away",
            Self::BeRightBack => "be-right-back",
            Self::Busy => "busy",
            Self::BusyIdle => "busy-idle",
            Self::DoNotDisturb => "do-not-disturb",
            Self::Offline => "offline",
            Self::Unknown => "unknown",
            Self::OutOfOffice => "out-of-office",
            Self::OutOfOfficeActive => "out-of-office-active",
        }
    }
}

pub fn palette_for(technology: Technology) -> IconPalette {
    match technology {
        Technology::MsTeams => IconPalette::Teams,
        Technology::SipSimple => IconPalette::Platform,
    }
}

/// A drawing primitive in icon space: the icon spans `[-1, 1]` on both axes, y down.
#[derive(Debug, Clone, PartialEq)]
pub enum Primitive {
    Disc {
        center: [f32; 2],
        radius: f32,
        color: Color32,
    },
    /// A ring whose outer edge is at `radius`.
    Ring {
        center: [f32; 2],
        radius: f32,
        width: f32,
        color: Color32,
    },
    /// A polyline with round joins and caps.
    Polyline {
        points: Vec<[f32; 2]>,
        width: f32,
        color: Color32,
    },
    /// A filled square of half-size `half` with rounded corners.
    Square {
        half: f32,
        corner: f32,
        color: Color32,
    },
    /// A square outline whose outer edge is at `half`.
    SquareRing {
        half: f32,
        corner: f32,
        width: f32,
        color: Color32,
    },
}

/// The primitives of one icon, in painting order.
pub fn icon_shape(kind: IconKind, palette: IconPalette, colors: &StatusColors) -> Vec<Primitive> {
    let is_square = palette == IconPalette::Platform;
    let (available, away, busy) = match palette {
        IconPalette::Teams => (colors.available, colors.away, colors.busy),
        IconPalette::Platform => (
            colors.platform_available,
            colors.platform_away,
            colors.platform_busy,
        ),
    };
    let glyph = colors.glyph;
    let filled = |color| {
        if is_square {
            Primitive::Square {
                half: 0.92,
                corner: 0.3,
                color,
            }
        } else {
            Primitive::Disc {
                center: [0.0, 0.0],
                radius: 1.0,
                color,
            }
        }
    };
    let ring = |color, width| {
        if is_square {
            Primitive::SquareRing {
                half: 0.92,
                corner: 0.3,
                width,
                color,
            }
        } else {
            Primitive::Ring {
                center: [0.0, 0.0],
                radius: 1.0,
                width,
                color,
            }
        }
    };
    // Platform yellow is light: a dark glyph reads better on it.
    let away_glyph = if is_square { colors.offline } else { glyph };
    match kind {
        IconKind::Available => vec![filled(available), check(glyph, 1.0)],
        IconKind::AvailableIdle => vec![ring(available, 0.26), check(available, 0.8)],
        IconKind::Away => vec![filled(away), clock(away_glyph)],
        IconKind::BeRightBack => {
            let mut shape = vec![filled(away)];
            shape.extend(back_arrow(away_glyph));
            shape
        }
        IconKind::Busy => vec![filled(busy)],
        IconKind::BusyIdle => vec![
            ring(busy, 0.26),
            Primitive::Disc {
                center: [0.0, 0.0],
                radius: 0.34,
                color: busy,
            },
        ],
        IconKind::DoNotDisturb => vec![
            filled(busy),
            Primitive::Polyline {
                points: vec![[-0.48, 0.0], [0.48, 0.0]],
                width: 0.26,
                color: glyph,
            },
        ],
        IconKind::Offline => {
            let mut shape = vec![ring(colors.offline, 0.2)];
            shape.extend(cross(colors.offline));
            shape
        }
        IconKind::Unknown => vec![ring(colors.offline, 0.2)],
        IconKind::OutOfOffice => {
            let mut shape = vec![filled(colors.out_of_office)];
            shape.extend(arrow_left(glyph));
            shape
        }
        IconKind::OutOfOfficeActive => {
            let mut shape = vec![ring(colors.out_of_office, 0.2)];
            shape.extend(arrow_left(colors.out_of_office));
            shape
        }
    }
}

fn check(color: Color32, scale: f32) -> Primitive {
    Primitive::Polyline {
        points: vec![
            [-0.44 * scale, 0.02 * scale],
            [-0.13 * scale, 0.33 * scale],
            [0.46 * scale, -0.3 * scale],
        ],
        width: 0.2 * scale,
        color,
    }
}

fn clock(color: Color32) -> Primitive {
    Primitive::Polyline {
        points: vec![[0.0, -0.52], [0.0, 0.02], [0.36, 0.26]],
        width: 0.19,
        color,
    }
}

fn back_arrow(color: Color32) -> Vec<Primitive> {
    // An arc three quarters round, ending in an arrowhead at the top left.
    let radius = 0.44;
    let points: Vec<[f32; 2]> = (0..=18)
        .map(|i| {
            let angle = (200.0 - 270.0 * i as f32 / 18.0).to_radians();
            [radius * angle.cos(), -radius * angle.sin()]
        })
        .collect();
    let start = points[0];
    vec![
        Primitive::Polyline {
            points,
            width: 0.17,
            color,
        },
        Primitive::Polyline {
            points: vec![
                [start[0] - 0.02, start[1] - 0.34],
                [start[0], start[1]],
                [start[0] + 0.32, start[1] - 0.1],
            ],
            width: 0.17,
            color,
        },
    ]
}

fn cross(color: Color32) -> Vec<Primitive> {
    vec![
        Primitive::Polyline {
            points: vec![[-0.34, -0.34], [0.34, 0.34]],
            width: 0.18,
            color,
        },
        Primitive::Polyline {
            points: vec![[0.34, -0.34], [-0.34, 0.34]],
            width: 0.18,
            color,
        },
    ]
}

fn arrow_left(color: Color32) -> Vec<Primitive> {
    vec![
        Primitive::Polyline {
            points: vec![[0.46, 0.0], [-0.42, 0.0]],
            width: 0.19,
            color,
        },
        Primitive::Polyline {
            points: vec![[-0.06, -0.36], [-0.44, 0.0], [-0.06, 0.36]],
            width: 0.19,
            color,
        },
    ]
}

/// Paints primitives into `rect` with egui, at `opacity` (1.0 = live).
pub fn paint(painter: &egui::Painter, rect: Rect, primitives: &[Primitive], opacity: f32) {
    let half = rect.width().min(rect.height()) / 2.0;
    let center = rect.center();
    let at = |p: [f32; 2]| -> Pos2 { center + vec2(p[0], p[1]) * half };
    let fade = |c: Color32| c.gamma_multiply(opacity);
    for primitive in primitives {
        match primitive {
            Primitive::Disc {
                center: c,
                radius,
                color,
            } => {
                painter.circle_filled(at(*c), radius * half, fade(*color));
            }
            Primitive::Ring {
                center: c,
                radius,
                width,
                color,
            } => {
                let w = width * half;
                painter.circle_stroke(
                    at(*c),
                    radius * half - w / 2.0,
                    Stroke::new(w, fade(*color)),
                );
            }
            Primitive::Polyline {
                points,
                width,
                color,
            } => {
                let w = width * half;
                let screen: Vec<Pos2> = points.iter().map(|&p| at(p)).collect();
                for &p in &screen {
                    painter.circle_filled(p, w / 2.0, fade(*color));
                }
                painter.line(screen, Stroke::new(w, fade(*color)));
            }
            Primitive::Square {
                half: h,
                corner,
                color,
            } => {
                let r = Rect::from_center_size(center, vec2(2.0 * h * half, 2.0 * h * half));
                painter.rect_filled(r, corner * half, fade(*color));
            }
            Primitive::SquareRing {
                half: h,
                corner,
                width,
                color,
            } => {
                let r = Rect::from_center_size(center, vec2(2.0 * h * half, 2.0 * h * half));
                painter.rect_stroke(
                    r,
                    corner * half,
                    Stroke::new(width * half, fade(*color)),
                    egui::StrokeKind::Inside,
                );
            }
        }
    }
}

/// Rasterises primitives to straight-alpha RGBA of `size` x `size` pixels, anti-aliased
/// by signed distance.
pub fn rasterize(primitives: &[Primitive], size: u32) -> Vec<u8> {
    let mut rgba = vec![0f32; (size * size * 4) as usize];
    let pixel = 2.0 / size as f32;
    for y in 0..size {
        for x in 0..size {
            let p = pos2(
                -1.0 + (x as f32 + 0.5) * pixel,
                -1.0 + (y as f32 + 0.5) * pixel,
            );
            let i = ((y * size + x) * 4) as usize;
            for primitive in primitives {
                let (distance, color) = signed_distance(primitive, p);
                let coverage = (0.5 - distance / pixel).clamp(0.0, 1.0);
                if coverage <= 0.0 {
                    continue;
                }
                let [r, g, b, a] = color.to_srgba_unmultiplied().map(|v| v as f32 / 255.0);
                let src_a = a * coverage;
                let dst_a = rgba[i + 3];
                let out_a = src_a + dst_a * (1.0 - src_a);
                for (k, src) in [r, g, b].into_iter().enumerate() {
                    let dst = rgba[i + k];
                    rgba[i + k] = if out_a > 0.0 {
                        (src * src_a + dst * dst_a * (1.0 - src_a)) / out_a
                    } else {
                        0.0
                    };
                }
                rgba[i + 3] = out_a;
            }
        }
    }
    rgba.into_iter()
        .map(|v| (v * 255.0).round().clamp(0.0, 255.0) as u8)
        .collect()
}

fn signed_distance(primitive: &Primitive, p: Pos2) -> (f32, Color32) {
    match primitive {
        Primitive::Disc {
            center,
            radius,
            color,
        } => ((p - pos2(center[0], center[1])).length() - radius, *color),
        Primitive::Ring {
            center,
            radius,
            width,
            color,
        } => {
            let d = (p - pos2(center[0], center[1])).length();
            ((d - (radius - width / 2.0)).abs() - width / 2.0, *color)
        }
        Primitive::Polyline {
            points,
            width,
            color,
        } => {
            let d = points
                .windows(2)
                .map(|w| segment_distance(p, pos2(w[0][0], w[0][1]), pos2(w[1][0], w[1][1])))
                .fold(f32::MAX, f32::min);
            (d - width / 2.0, *color)
        }
        Primitive::Square {
            half,
            corner,
            color,
        } => (rounded_box(p, *half, *corner), *color),
        Primitive::SquareRing {
            half,
            corner,
            width,
            color,
        } => {
            let outer = rounded_box(p, *half, *corner);
            (outer.max(-(outer + width)), *color)
        }
    }
}

fn segment_distance(p: Pos2, a: Pos2, b: Pos2) -> f32 {
    let ab = b - a;
    let t = ((p - a).dot(ab) / ab.length_sq().max(f32::EPSILON)).clamp(0.0, 1.0);
    (p - (a + ab * t)).length()
}

fn rounded_box(p: Pos2, half: f32, corner: f32) -> f32 {
    let q = vec2(p.x.abs() - half + corner, p.y.abs() - half + corner);
    let outside = vec2(q.x.max(0.0), q.y.max(0.0)).length();
    outside + q.x.max(q.y).min(0.0) - corner
}

/// The application icon: a brand-coloured rounded square with a person and a green
/// presence dot.
pub fn app_icon_shape(colors: &StatusColors) -> Vec<Primitive> {
    let white = Color32::WHITE;
    let body: Vec<[f32; 2]> = (0..=16)
        .map(|i| {
            let angle = std::f32::consts::PI * i as f32 / 16.0;
            [-0.12 - 0.42 * angle.cos(), 0.62 - 0.42 * angle.sin()]
        })
        .collect();
    vec![
        Primitive::Square {
            half: 0.96,
            corner: 0.34,
            color: super::theme::BRAND,
        },
        Primitive::Disc {
            center: [-0.12, -0.2],
            radius: 0.28,
            color: white,
        },
        Primitive::Polyline {
            points: body,
            width: 0.2,
            color: white,
        },
        Primitive::Disc {
            center: [0.5, 0.5],
            radius: 0.34,
            color: super::theme::BRAND,
        },
        Primitive::Disc {
            center: [0.5, 0.5],
            radius: 0.27,
            color: colors.available,
        },
        check_at([0.5, 0.5], 0.27, white),
    ]
}

fn check_at(center: [f32; 2], radius: f32, color: Color32) -> Primitive {
    let Primitive::Polyline { points, width, .. } = check(color, 1.0) else {
        return Primitive::Disc {
            center,
            radius: 0.0,
            color,
        };
    };
    Primitive::Polyline {
        points: points
            .iter()
            .map(|p| [center[0] + p[0] * radius, center[1] + p[1] * radius])
            .collect(),
        width: width * radius,
        color,
    }
}

/// Paints a five-pointed star (a favourite's mark) centred on `center`: a pentagon and
/// five points, each convex, as egui fills them.
pub fn paint_star(painter: &egui::Painter, center: Pos2, radius: f32, color: Color32) {
    use std::f32::consts::{FRAC_PI_2, TAU};
    let point = |i: usize, r: f32| {
        let angle = -FRAC_PI_2 + i as f32 * TAU / 10.0;
        center + vec2(angle.cos(), angle.sin()) * r
    };
    let inner = radius * 0.4;
    let pentagon: Vec<Pos2> = (0..5).map(|i| point(2 * i + 1, inner)).collect();
    painter.add(egui::Shape::convex_polygon(pentagon, color, Stroke::NONE));
    for i in 0..5 {
        let tip = point(2 * i, radius);
        let left = point((2 * i + 9) % 10, inner);
        let right = point(2 * i + 1, inner);
        painter.add(egui::Shape::convex_polygon(
            vec![left, tip, right],
            color,
            Stroke::NONE,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::theme::LIGHT;

    #[test]
    fn every_icon_differs_from_every_other() {
        let mut seen = std::collections::HashSet::new();
        for palette in [IconPalette::Teams, IconPalette::Platform] {
            for kind in IconKind::ALL {
                let pixels = rasterize(&icon_shape(kind, palette, &LIGHT), 24);
                assert!(
                    seen.insert(pixels),
                    "{kind:?} {palette:?} looks like another icon"
                );
            }
        }
    }

    #[test]
    fn idle_variants_keep_the_hue_but_are_hollow() {
        let centre_alpha = |kind| {
            let px = rasterize(&icon_shape(kind, IconPalette::Teams, &LIGHT), 32);
            // A pixel inside the badge, off the glyph: filled for active, empty for idle.
            let i = ((26 * 32 + 16) * 4) as usize;
            (px[i], px[i + 1], px[i + 2], px[i + 3])
        };
        let available = centre_alpha(IconKind::Available);
        let idle = centre_alpha(IconKind::AvailableIdle);
        assert_eq!(available.3, 255);
        assert!(idle.3 < 64, "idle is hollow: {idle:?}");
    }
}
