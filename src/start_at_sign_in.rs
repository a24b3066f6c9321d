//! Starting the panel when the user signs in (a per-user option, off by default).
//!
//! On Windows: the value `UCX Presence Panel` under
//! `HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Run`, holding the
//! quoted path of the running `presence-panel.exe`. On Linux and other XDG desktops:
//! `presence-panel.desktop` in `$XDG_CONFIG_HOME/autostart` (`~/.config/autostart`).
//! Only this user is affected; nothing needs an administrator.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Turns starting at sign-in on or off (the system's, or a recorder in tests).
pub trait SignInStarter: Send + Sync {
    fn set(&self, is_on: bool) -> Result<(), String>;
}

/// The name of the entry, as the user sees it in the system's startup apps.
pub const ENTRY_NAME: &str = "UCX Presence Panel";

/// The system's startup entry for the running executable.
pub struct SystemSignInStarter;

impl SignInStarter for SystemSignInStarter {
    fn set(&self, is_on: bool) -> Result<(), String> {
        let exe = std::env::current_exe()
            .map_err(|err| format!("cannot tell where the panel is installed: {err}"))?;
        #[cfg(windows)]
        {
            registry::set(&exe, is_on)
        }
        #[cfg(not(windows))]
        {
            let dir = autostart_dir().ok_or("no per-user config folder")?;
            set_desktop_entry(&dir, &exe, is_on)
        }
    }
}

/// `$XDG_CONFIG_HOME/autostart`, else `~/.config/autostart`.
pub fn autostart_dir() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|dirs| dirs.config_dir().join("autostart"))
}

/// Writes (or removes) `presence-panel.desktop` in `dir`, starting `exe`.
pub fn set_desktop_entry(dir: &Path, exe: &Path, is_on: bool) -> Result<(), String> {
    let path = dir.join("presence-panel.desktop");
    if !is_on {
        return match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(format!("cannot remove {}: {err}", path.display())),
        };
    }
    let exe = exe.display().to_string();
    if exe.contains(['\n', '\r', '"', '`', '$', '\\']) {
        return Err(format!(
            "the panel's path {exe:?} cannot be written into a desktop entry"
        ));
    }
    let entry = format!(
        "[Desktop Entry]\nType=Application\nName={ENTRY_NAME}\nComment=Colleagues' presence, started at sign-in\nExec=\"{exe}\"\nTerminal=false\nX-GNOME-Autostart-enabled=true\n"
    );
    crate::persisted_file::write_atomically(&path, &entry)
        .map_err(|err| format!("cannot write {}: {err}", path.display()))
}

/// Records what was asked, for tests.
#[derive(Default)]
pub struct RecordingSignInStarter {
    pub calls: Mutex<Vec<bool>>,
}

impl SignInStarter for RecordingSignInStarter {
    fn set(&self, is_on: bool) -> Result<(), String> {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(is_on);
        }
        Ok(())
    }
}

#[cfg(windows)]
mod registry {
    //! The per-user Run key.

    use std::path::Path;

    use windows_sys::Win32::Foundation::{ERROR_FILE_NOT_FOUND, ERROR_SUCCESS};
    use windows_sys::Win32::System::Registry::{
        HKEY_CURRENT_USER, REG_SZ, RegDeleteKeyValueW, RegSetKeyValueW,
    };

    use super::ENTRY_NAME;

    const RUN_KEY: &str = r"Software\Microsoft\Windows\CurrentVersion\Run";

    fn wide(text: &str) -> Vec<u16> {
        text.encode_utf16().chain(std::iter::once(0)).collect()
    }

    pub fn set(exe: &Path, is_on: bool) -> Result<(), String> {
        let key = wide(RUN_KEY);
        let name = wide(ENTRY_NAME);
        let status = if is_on {
            let command = wide(&format!("\"{}\"", exe.display()));
            let bytes = u32::try_from(command.len() * 2).map_err(|_| "path too long")?;
            // SAFETY: key, name and data are NUL-terminated UTF-16 buffers that outlive
            // the call; `bytes` is the data's length in bytes, terminator included.
            unsafe {
                RegSetKeyValueW(
                    HKEY_CURRENT_USER,
                    key.as_ptr(),
                    name.as_ptr(),
                    REG_SZ,
                    command.as_ptr().cast(),
                    bytes,
                )
            }
        } else {
            // SAFETY: key and name are NUL-terminated UTF-16 buffers.
            let status =
                unsafe { RegDeleteKeyValueW(HKEY_CURRENT_USER, key.as_ptr(), name.as_ptr()) };
            if status == ERROR_FILE_NOT_FOUND {
                ERROR_SUCCESS
            } else {
                status
            }
        };
        if status == ERROR_SUCCESS {
            Ok(())
        } else {
            Err(format!(
                "cannot change HKEY_CURRENT_USER\\{RUN_KEY} (error {status})"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_desktop_entry_is_written_and_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let autostart = dir.path().join("autostart");
        let exe = Path::new("/opt/ucx/presence-panel");
        set_desktop_entry(&autostart, exe, true).expect("on");
        let entry =
            std::fs::read_to_string(autostart.join("presence-panel.desktop")).expect("written");
        assert!(entry.starts_with("[Desktop Entry]\n"), "{entry}");
        assert!(
            entry.contains("Exec=\"/opt/ucx/presence-panel\"\n"),
            "{entry}"
        );
        set_desktop_entry(&autostart, exe, true).expect("on again");
        set_desktop_entry(&autostart, exe, false).expect("off");
        assert!(!autostart.join("presence-panel.desktop").exists());
        set_desktop_entry(&autostart, exe, false).expect("off when already off");
        assert!(set_desktop_entry(&autostart, Path::new("/tmp/a\"b"), true).is_err());
    }
}
