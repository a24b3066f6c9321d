//! Versions that keep growing across restarts even when the clock steps back: the hub
//! starts from the wall clock in microseconds, or from the ceiling an earlier run
//! reserved, whichever is higher.
//!
//! The file holds a ceiling above every version issued so far: a run reserves
//! [`RESERVE`] versions ahead of the latest before it issues them, and reserves again
//! when it comes within half of that, so even a crash never leaves a version above the
//! stored ceiling.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use presence_hub::PresenceHub;

/// Versions reserved ahead of the latest issued (a billion changes).
pub const RESERVE: u64 = 1_000_000_000;
/// How often the reservation is checked.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);

/// Why the version floor cannot be kept.
#[derive(Debug, thiserror::Error)]
pub enum VersionFloorError {
    #[error("cannot read the version floor {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the version floor {path} holds {text:?}, not a number: delete it if nothing else is wrong"
    )]
    Malformed { path: PathBuf, text: String },
    #[error("cannot store the version floor {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The ceiling stored at `path` (0 when there is none yet).
pub fn load(path: &Path) -> Result<u64, VersionFloorError> {
    match std::fs::read_to_string(path) {
        Ok(text) => text
            .trim()
            .parse()
            .map_err(|_| VersionFloorError::Malformed {
                path: path.to_owned(),
                text: text.chars().take(40).collect(),
            }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(source) => Err(VersionFloorError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Stores `ceiling` at `path` atomically (a temporary file, then a rename), unless the
/// file already holds a higher one (another gateway of the same user reserved more).
pub fn store(path: &Path, ceiling: u64) -> Result<(), VersionFloorError> {
    if load(path).is_ok_and(|stored| stored >= ceiling) {
        return Ok(());
    }
    let write_error = |source| VersionFloorError::Write {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(write_error)?;
    }
    // One temporary file per process: two gateways of the same user may store at once.
    let temp = path.with_extension(format!("tmp.{}", std::process::id()));
    std::fs::write(&temp, format!("{ceiling}\n")).map_err(write_error)?;
    std::fs::rename(&temp, path).map_err(write_error)
}

/// Reserves versions for `hub` now, then keeps the reservation ahead of it until the
/// task is aborted. A failure to store is logged and retried at the next check.
pub fn keep_ahead(
    hub: Arc<PresenceHub>,
    path: PathBuf,
) -> Result<tokio::task::JoinHandle<()>, VersionFloorError> {
    let mut ceiling = hub.latest_version().saturating_add(RESERVE);
    store(&path, ceiling)?;
    Ok(tokio::spawn(async move {
        let mut interval = tokio::time::interval(CHECK_EVERY);
        loop {
            interval.tick().await;
            let latest = hub.latest_version();
            if latest.saturating_add(RESERVE / 2) >= ceiling {
                let next = latest.saturating_add(RESERVE);
                match store(&path, next) {
                    Ok(()) => ceiling = next,
                    Err(err) => tracing::error!(%err, "cannot reserve further versions"),
                }
            }
        }
    }))
}
