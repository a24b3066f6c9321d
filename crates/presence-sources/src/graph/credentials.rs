//! The stored sign-in: tenant, client id and the newest refresh token, in the per-user
//! data folder, readable by its owner only.
//!
//! Writes are atomic: a temporary file in the same folder is written, flushed to disk and
//! renamed over the old one, so a crash leaves either the old or the new file, never
//! neither. The access token is never stored. These functions block: call them from
//! `spawn_blocking`. Must never log the refresh token.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use serde::{Deserialize, Serialize};

use super::secret::Secret;

/// File name of the stored sign-in inside the data folder.
pub const CREDENTIALS_FILE: &str = "graph-credentials.json";

/// What `presence-gateway login` stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCredentials {
    pub tenant: String,
    pub client_id: String,
    /// The identity platform the token came from (sovereign clouds differ).
    pub authority_url: String,
    pub refresh_token: Secret,
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("cannot find the per-user data folder (no home directory?)")]
    NoDataFolder,
    #[error("cannot read the stored sign-in {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the stored sign-in {path} is damaged ({source}); run `presence-gateway login` again")]
    Damaged {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot store the sign-in in {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Where the sign-in is kept: the per-user local data folder of the gateway.
pub fn default_path() -> Result<PathBuf, CredentialsError> {
    directories::ProjectDirs::from("com", "UCX", "Presence Gateway")
        .map(|dirs| dirs.data_local_dir().join(CREDENTIALS_FILE))
        .ok_or(CredentialsError::NoDataFolder)
}

/// Reads the stored sign-in; `Ok(None)` when there is none yet.
pub fn load(path: &Path) -> Result<Option<StoredCredentials>, CredentialsError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(CredentialsError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|source| CredentialsError::Damaged {
            path: path.to_owned(),
            source,
        })
}

/// Stores the sign-in atomically with owner-only permissions.
pub fn save(path: &Path, credentials: &StoredCredentials) -> Result<(), CredentialsError> {
    let error = |source| CredentialsError::Write {
        path: path.to_owned(),
        source,
    };
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    create_private_folder(folder).map_err(error)?;
    let json = serde_json::to_vec_pretty(credentials)
        .map_err(|e| error(std::io::Error::other(e.to_string())))?;
    let temp = temp_path(path);
    let written = write_private_file(&temp, &json).and_then(|()| fs::rename(&temp, path));
    if let Err(err) = written {
        // Best effort: the temporary file holds a secret.
        let _ = fs::remove_file(&temp);
        return Err(error(err));
    }
    sync_folder(folder);
    Ok(())
}

fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| CREDENTIALS_FILE.to_owned());
    path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

fn create_private_folder(folder: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(folder)
    }
    // On Windows the per-user local data folder (%LOCALAPPDATA%) inherits an ACL that
    // grants access to the user, SYSTEM and administrators only: files created in it are
    // private to the user without further work.
    #[cfg(not(unix))]
    {
        fs::create_dir_all(folder)
    }
}

fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Makes the rename durable (Unix); Windows has no directory handles to flush.
fn sync_folder(folder: &Path) {
    #[cfg(unix)]
    if let Ok(dir) = fs::File::open(folder) {
        let _ = dir.sync_all();
    }
    #[cfg(not(unix))]
    let _ = folder;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(token: &str) -> StoredCredentials {
        StoredCredentials {
            tenant: "contoso.onmicrosoft.com".into(),
            client_id: "11111111-2222-3333-4444-555555555555".into(),
            authority_url: "https://login.microsoftonline.com".into(),
            refresh_token: Secret::new(token),
        }
    }

    #[test]
    fn saves_atomically_and_privately() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("nested").join(CREDENTIALS_FILE);
        assert_eq!(load(&path).expect("no file yet"), None);
        save(&path, &sample("first")).expect("saved");
        save(&path, &sample("second")).expect("replaced");
        assert_eq!(load(&path).expect("read"), Some(sample("second")));
        let leftovers: Vec<_> = fs::read_dir(path.parent().expect("folder"))
            .expect("listing")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).expect("metadata").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        fs::write(&path, b"{not json").expect("damage");
        assert!(matches!(load(&path), Err(CredentialsError::Damaged { .. })));
    }
}
