//! A log file that never outgrows its cap: when a write would take `presence-gateway.log`
//! past [`MAX_LOG_BYTES`], it becomes `presence-gateway.log.1` (the older ones move up
//! to `.2` ... [`KEPT_LOGS`], the oldest is deleted) and a new file starts. For the
//! Windows service (its logs go to `%ProgramData%`) and for `--log-file`; under systemd
//! the journal does this and the gateway logs to stderr.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Largest size of one log file.
pub const MAX_LOG_BYTES: u64 = 10 * 1024 * 1024;
/// Older files kept besides the current one (at most 50 MB of logs in all).
pub const KEPT_LOGS: u32 = 4;

/// The current log file and its rotation.
#[derive(Debug)]
pub struct RotatingLog {
    path: PathBuf,
    /// `None` only between a rotation that failed to reopen and the next write.
    file: Option<File>,
    written: u64,
    max_bytes: u64,
    kept: u32,
}

impl RotatingLog {
    /// Opens (appends to) `path` with the default cap, making its folder if needed.
    pub fn open(path: &Path) -> io::Result<Self> {
        Self::with_cap(path, MAX_LOG_BYTES, KEPT_LOGS)
    }

    /// Opens `path` rotating at `max_bytes`, keeping `kept` older files.
    pub fn with_cap(path: &Path, max_bytes: u64, kept: u32) -> io::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = open_append(path)?;
        let written = file.metadata()?.len();
        Ok(Self {
            path: path.to_owned(),
            file: Some(file),
            written,
            max_bytes: max_bytes.max(1),
            kept,
        })
    }

    fn numbered(&self, n: u32) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }

    fn rotate(&mut self) -> io::Result<()> {
        // Closed before it is renamed: Windows refuses to rename an open file.
        if let Some(mut file) = self.file.take() {
            file.flush()?;
        }
        self.written = 0;
        if self.kept == 0 {
            self.file = Some(File::create(&self.path)?);
            return Ok(());
        }
        let oldest = self.numbered(self.kept);
        if oldest.exists() {
            std::fs::remove_file(&oldest)?;
        }
        for n in (1..self.kept).rev() {
            let from = self.numbered(n);
            if from.exists() {
                std::fs::rename(&from, self.numbered(n + 1))?;
            }
        }
        std::fs::rename(&self.path, self.numbered(1))?;
        self.file = Some(open_append(&self.path)?);
        Ok(())
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

impl Write for RotatingLog {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.written > 0 && self.written + buf.len() as u64 > self.max_bytes {
            // A log line is never lost to a failed rotation: it goes on in this file.
            if let Err(err) = self.rotate() {
                eprintln!(
                    "presence-gateway: cannot rotate {}: {err}",
                    self.path.display()
                );
            }
        }
        let file = match &mut self.file {
            Some(file) => file,
            None => {
                let file = open_append(&self.path)?;
                self.written = file.metadata()?.len();
                self.file.insert(file)
            }
        };
        let n = file.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().map_or(Ok(()), Write::flush)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_rotates_at_its_cap_and_keeps_a_few() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("logs").join("presence-gateway.log");
        let mut log = RotatingLog::with_cap(&path, 1_000, 2).expect("open");
        let line = [b'x'; 99];
        for i in 0..55u32 {
            log.write_all(&line).expect("write");
            log.write_all(b"\n").expect("write");
            if i == 0 {
                assert_eq!(std::fs::metadata(&path).expect("exists").len(), 100);
            }
        }
        log.flush().expect("flush");
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).ok();
        assert_eq!(size(&path), Some(500), "5 lines since the last rotation");
        assert_eq!(
            size(&dir.path().join("logs/presence-gateway.log.1")),
            Some(1_000)
        );
        assert_eq!(
            size(&dir.path().join("logs/presence-gateway.log.2")),
            Some(1_000)
        );
        assert_eq!(
            size(&dir.path().join("logs/presence-gateway.log.3")),
            None,
            "kept 2"
        );

        // Reopened, it counts what is already there.
        drop(log);
        let mut log = RotatingLog::with_cap(&path, 1_000, 2).expect("reopen");
        log.write_all(&[b'y'; 600]).expect("write");
        log.flush().expect("flush");
        assert_eq!(size(&path), Some(600), "rotated: 500 + 600 > 1,000");
    }
}
