//! Files the panel keeps in the user's profile (settings, the board): written atomically,
//! and a damaged one moved aside, never overwritten.

use std::path::{Path, PathBuf};

/// Writes `text` to `path` atomically: a temporary file beside it, flushed to disk, then
/// a rename, so a crash, a power cut or a full disk leaves the old file whole.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let temp = path.with_file_name(format!("{name}.tmp"));
    {
        use std::io::Write;
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(text.as_bytes())?;
        // On disk before the rename: after a power cut the file is the old or the new
        // one, never an empty one.
        file.sync_all()?;
    }
    std::fs::rename(&temp, path)
}

/// Renames a damaged file to `<name>.damaged-<seconds since 1970>` (with `-2`, `-3`...
/// if taken) and returns the new path.
pub fn move_aside(path: &Path) -> std::io::Result<PathBuf> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    for attempt in 1..=100u32 {
        let suffix = if attempt == 1 {
            String::new()
        } else {
            format!("-{attempt}")
        };
        let aside = path.with_file_name(format!("{name}.damaged-{stamp}{suffix}"));
        if !aside.exists() {
            std::fs::rename(path, &aside)?;
            return Ok(aside);
        }
    }
    Err(std::io::Error::other("too many damaged copies already"))
}

/// The per-user folders of the panel (`%APPDATA%\UCX\Presence Panel\` on Windows).
pub fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("com", "UCX", "Presence Panel")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_damaged_files_are_kept_aside() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("deep/board.toml");
        write_atomically(&path, "one").expect("write");
        write_atomically(&path, "two").expect("write");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "two");
        assert!(!path.with_file_name("board.toml.tmp").exists());
        let first = move_aside(&path).expect("aside");
        write_atomically(&path, "three").expect("write");
        let second = move_aside(&path).expect("aside");
        assert_ne!(
            first, second,
            "a second damaged copy does not replace the first"
        );
        assert_eq!(std::fs::read_to_string(first).expect("read"), "two");
        assert_eq!(std::fs::read_to_string(second).expect("read"), "three");
    }
}
