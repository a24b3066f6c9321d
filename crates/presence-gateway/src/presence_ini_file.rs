//! Reading the UCX `Presence.ini` from disk (the parsing itself is pure and lives in
//! `presence_domain::presence_ini`).

use std::path::{Path, PathBuf};

use presence_domain::{PresenceIni, PresenceIniError};

/// Why a `Presence.ini` could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadPresenceIniError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Invalid(#[from] PresenceIniError),
}

/// Reads and parses the file at `path`.
pub fn load(path: &Path) -> Result<PresenceIni, LoadPresenceIniError> {
    let bytes = std::fs::read(path).map_err(|source| LoadPresenceIniError::Read {
        path: path.to_owned(),
        source,
    })?;
    Ok(PresenceIni::from_bytes(bytes, path)?)
}
