//! The legend: every status icon, in both palettes, from the PNGs in `assets/icons/`
//! (decoded with the `image` crate), with what it means; and writing those PNGs from
//! the icon geometry (`presence-panel --write-icons DIR`).

use super::UiCommand;
use crate::status_icon::IconKind;

/// A status icon's PNGs: (kind, Teams palette, platform palette).
pub type IconPngs = (IconKind, &'static [u8], &'static [u8]);

macro_rules! icon_pngs {
    ($($kind:ident => $stem:literal),* $(,)?) => {
        /// Every status icon's PNGs, built into the binary.
        pub const ICON_PNGS: &[IconPngs] = &[
            $((
                IconKind::$kind,
                include_bytes!(concat!("../../assets/icons/", $stem, ".png")),
                include_bytes!(concat!("../../assets/icons/sip-", $stem, ".png")),
            )),*
        ];
    };
}

icon_pngs! {
    Available => "available",
    AvailableIdle => "available-idle",
    Away => "away",
    BeRightBack => "be-right-back",
    Busy => "busy",
    BusyIdle => "busy-idle",
    DoNotDisturb => "do-not-disturb",
    Offline => "offline",
    Unknown => "unknown",
    OutOfOffice => "out-of-office",
    OutOfOfficeActive => "out-of-office-active",
}

/// The application icon (256 x 256).
pub const APP_ICON_PNG: &[u8] = include_bytes!("../../assets/icons/app-256.png");

/// Size of the status icon PNGs.
pub const ICON_PNG_SIZE: u32 = 32;

/// Decodes a PNG to straight-alpha RGBA.
pub fn decode_png(bytes: &[u8]) -> Result<(u32, u32, Vec<u8>), image::ImageError> {
    let image = image::load_from_memory_with_format(bytes, image::ImageFormat::Png)?.to_rgba8();
    Ok((image.width(), image.height(), image.into_raw()))
}

/// Legend textures, made on first use.
#[derive(Default)]
pub struct LegendTextures {
    textures: Option<Vec<(IconKind, egui::TextureHandle, egui::TextureHandle)>>,
    error: Option<String>,
}

impl LegendTextures {
    fn load(&mut self, ctx: &egui::Context) {
        if self.textures.is_some() || self.error.is_some() {
            return;
        }
        let mut textures = Vec::with_capacity(ICON_PNGS.len());
        for &(kind, teams, sip) in ICON_PNGS {
            let handle =
                |name: String, bytes: &[u8]| -> Result<egui::TextureHandle, image::ImageError> {
                    let (w, h, rgba) = decode_png(bytes)?;
                    let image =
                        egui::ColorImage::from_rgba_unmultiplied([w as usize, h as usize], &rgba);
                    Ok(ctx.load_texture(name, image, egui::TextureOptions::LINEAR))
                };
            match (
                handle(format!("legend-{}", kind.file_stem()), teams),
                handle(format!("legend-sip-{}", kind.file_stem()), sip),
            ) {
                (Ok(t), Ok(s)) => textures.push((kind, t, s)),
                (Err(err), _) | (_, Err(err)) => {
                    self.error = Some(format!("cannot decode the icon images: {err}"));
                    return;
                }
            }
        }
        self.textures = Some(textures);
    }
}

pub fn legend_window(
    ctx: &egui::Context,
    legend: &mut LegendTextures,
    commands: &mut Vec<UiCommand>,
) {
    legend.load(ctx);
    let mut is_open = true;
    egui::Window::new("Legend")
        .open(&mut is_open)
        .resizable(false)
        .collapsible(false)
        .default_pos(egui::pos2(ctx.content_rect().right() - 420.0, 70.0))
        .show(ctx, |ui| {
            if let Some(error) = &legend.error {
                ui.label(error);
                return;
            }
            let Some(textures) = &legend.textures else { return };
            ui.label("Teams presence uses the Teams colours (Away orange, Busy red).");
            ui.label("Presence from the phone system (SIP SIMPLE) is drawn on a square, in its own colours.");
            ui.add_space(6.0);
            egui::Grid::new("legend_grid").num_columns(3).spacing([10.0, 6.0]).show(ui, |ui| {
                ui.label(egui::RichText::new("Teams").strong());
                ui.label(egui::RichText::new("SIP").strong());
                ui.label(egui::RichText::new("Meaning").strong());
                ui.end_row();
                let size = egui::vec2(20.0, 20.0);
                for (kind, teams, sip) in textures {
                    ui.add(egui::Image::new((teams.id(), size)).alt_text(kind.legend_label()));
                    ui.add(egui::Image::new((sip.id(), size)).alt_text(kind.legend_label()));
                    ui.label(kind.legend_label());
                    ui.end_row();
                }
            });
            ui.add_space(6.0);
            ui.label("Dimmed icons with \"last known at\" are not live.");
        });
    if !is_open {
        commands.push(UiCommand::ToggleLegend);
    }
}

/// Why the icon PNGs could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteIconsError {
    #[error("cannot create {path}: {source}")]
    CreateDir {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: std::path::PathBuf,
        #[source]
        source: image::ImageError,
    },
}

/// Writes every icon PNG (and the app icon) into `dir`; used to refresh `assets/icons/`.
pub fn write_icon_pngs(dir: &std::path::Path) -> Result<Vec<std::path::PathBuf>, WriteIconsError> {
    use crate::status_icon::{app_icon_shape, icon_shape, rasterize};
    use crate::theme::{IconPalette, LIGHT};
    std::fs::create_dir_all(dir).map_err(|source| WriteIconsError::CreateDir {
        path: dir.to_owned(),
        source,
    })?;
    let mut written = Vec::new();
    let mut save = |name: String, rgba: Vec<u8>, size: u32| -> Result<(), WriteIconsError> {
        let path = dir.join(name);
        image::save_buffer_with_format(
            &path,
            &rgba,
            size,
            size,
            image::ExtendedColorType::Rgba8,
            image::ImageFormat::Png,
        )
        .map_err(|source| WriteIconsError::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
        Ok(())
    };
    for kind in IconKind::ALL {
        for (prefix, palette) in [("", IconPalette::Teams), ("sip-", IconPalette::Platform)] {
            let rgba = rasterize(&icon_shape(kind, palette, &LIGHT), ICON_PNG_SIZE);
            save(
                format!("{prefix}{}.png", kind.file_stem()),
                rgba,
                ICON_PNG_SIZE,
            )?;
        }
    }
    save(
        "app-256.png".to_owned(),
        rasterize(&app_icon_shape(&LIGHT), 256),
        256,
    )?;
    Ok(written)
}
