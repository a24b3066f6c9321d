//! The PNGs in assets/icons/ are the icons the panel draws: same geometry, same colours.
// A test crate: an `expect` in a helper fails the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use presence_panel::status_icon::{app_icon_shape, icon_shape, rasterize};
use presence_panel::theme::{IconPalette, LIGHT};
use presence_panel::ui::legend_ui::{APP_ICON_PNG, ICON_PNG_SIZE, ICON_PNGS, decode_png};

#[test]
fn asset_pngs_match_the_drawn_icons() {
    assert_eq!(ICON_PNGS.len(), 11);
    for &(kind, teams, sip) in ICON_PNGS {
        for (bytes, palette) in [(teams, IconPalette::Teams), (sip, IconPalette::Platform)] {
            let (w, h, rgba) = decode_png(bytes).expect("a PNG");
            assert_eq!((w, h), (ICON_PNG_SIZE, ICON_PNG_SIZE));
            let expected = rasterize(&icon_shape(kind, palette, &LIGHT), ICON_PNG_SIZE);
            assert!(
                rgba == expected,
                "assets/icons for {kind:?} {palette:?} are out of date: run `presence-panel --write-icons assets/icons`"
            );
        }
    }
    let (w, h, rgba) = decode_png(APP_ICON_PNG).expect("app icon");
    assert_eq!((w, h), (256, 256));
    assert!(
        rgba == rasterize(&app_icon_shape(&LIGHT), 256),
        "app icon out of date"
    );
}
