//! What an administrator set for every user of this machine: the gateways, the token
//! file and the CA file, and whether users may change them.
//!
//! On Windows the installer writes them (`msiexec /i ... GATEWAY_URL=... TOKEN_FILE=...
//! CA_FILE=... LOCK_CONNECTION=1`) as string values under
//! `HKEY_LOCAL_MACHINE\SOFTWARE\UCX\Presence Panel`: `GatewayUrl` (one or more URLs,
//! separated by `,` or `;`, preferred first), `TokenFile`, `CaFile`, `LockConnection`
//! (`1` to lock). Elsewhere they are read from `/etc/presence-panel/defaults.toml`
//! (`gateway_url`, `token_file`, `ca_file`, `lock_connection`). Empty values mean "not
//! set". Anything unreadable is reported once and ignored: the panel still starts.

use std::path::{Path, PathBuf};

/// The registry key the installer writes (under `HKEY_LOCAL_MACHINE`).
pub const REGISTRY_KEY: &str = r"SOFTWARE\UCX\Presence Panel";
/// Where the defaults live on Linux and other systems without a registry.
pub const DEFAULTS_FILE: &str = "/etc/presence-panel/defaults.toml";

/// The administrator's defaults. `Default` is "nothing set".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MachineDefaults {
    /// Gateways in order of preference; empty when not set.
    pub endpoints: Vec<String>,
    pub token_file: Option<PathBuf>,
    pub ca_file: Option<PathBuf>,
    /// Users may not change the gateways, the token file or the CA file.
    pub is_locked: bool,
    /// Where they were read from, for the settings dialog ("set by your administrator
    /// in ...").
    pub origin: String,
    /// Why some could not be read, to show once.
    pub warning: Option<String>,
}

/// The values as stored, before they are checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawDefaults {
    pub gateway_url: String,
    pub token_file: String,
    pub ca_file: String,
    pub lock_connection: String,
}

impl MachineDefaults {
    /// Reads this machine's defaults (the registry on Windows, [`DEFAULTS_FILE`]
    /// elsewhere).
    pub fn load() -> Self {
        #[cfg(windows)]
        {
            match registry::read() {
                Ok(raw) => Self::from_raw(raw, &format!(r"HKEY_LOCAL_MACHINE\{REGISTRY_KEY}")),
                Err(err) => Self {
                    warning: Some(format!(
                        "Cannot read the administrator's settings (HKEY_LOCAL_MACHINE\\{REGISTRY_KEY}): {err}"
                    )),
                    ..Self::default()
                },
            }
        }
        #[cfg(not(windows))]
        {
            Self::from_file(Path::new(DEFAULTS_FILE))
        }
    }

    /// Reads the defaults from a TOML file; a missing file means none.
    pub fn from_file(path: &Path) -> Self {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Self::default(),
            Err(err) => {
                return Self {
                    warning: Some(format!(
                        "Cannot read the administrator's settings in {}: {err}",
                        path.display()
                    )),
                    ..Self::default()
                };
            }
        };
        match toml::from_str::<RawDefaults>(&text) {
            Ok(raw) => Self::from_raw(raw, &path.display().to_string()),
            Err(err) => Self {
                warning: Some(format!(
                    "The administrator's settings in {} are damaged and were ignored: {}",
                    path.display(),
                    presence_domain::text::single_line(err.message(), 160)
                )),
                ..Self::default()
            },
        }
    }

    /// Checks stored values: a URL that is not `http://` or `https://` is left out with
    /// a warning; so is a lock value other than `0`, `1`, `true`, `false`.
    pub fn from_raw(raw: RawDefaults, origin: &str) -> Self {
        let mut problems = Vec::new();
        let mut endpoints = Vec::new();
        for url in split_endpoints(&raw.gateway_url) {
            match check_endpoint(&url) {
                Ok(()) => endpoints.push(url),
                Err(why) => problems.push(format!("gateway {url:?} ignored: {why}")),
            }
        }
        let is_locked = match raw.lock_connection.trim().to_ascii_lowercase().as_str() {
            "" | "0" | "false" | "no" => false,
            "1" | "true" | "yes" => true,
            other => {
                problems.push(format!("LockConnection {other:?} is not 0 or 1: locked"));
                true
            }
        };
        let path = |value: &str| {
            let value = value.trim();
            (!value.is_empty()).then(|| PathBuf::from(value))
        };
        Self {
            endpoints,
            token_file: path(&raw.token_file),
            ca_file: path(&raw.ca_file),
            is_locked,
            origin: origin.to_owned(),
            warning: (!problems.is_empty()).then(|| {
                format!(
                    "The administrator's settings in {origin}: {}.",
                    problems.join("; ")
                )
            }),
        }
    }

    /// Whether an administrator set anything.
    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty() && self.token_file.is_none() && self.ca_file.is_none()
    }
}

/// Splits a list of gateway URLs (`,`, `;` or whitespace between them), dropping
/// empty entries and repeats.
pub fn split_endpoints(list: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for url in list.split([',', ';', '\n', '\r', ' ', '\t']) {
        let url = url.trim().trim_end_matches('/');
        if !url.is_empty() && !out.iter().any(|u| u.eq_ignore_ascii_case(url)) {
            out.push(url.to_owned());
        }
    }
    out
}

/// Why `url` is not a gateway address a panel can use, in words.
pub fn check_endpoint(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("it must start with http:// or https://")?;
    if rest.is_empty() {
        return Err("it names no host".to_owned());
    }
    if rest.contains(['/', '?', '#', '@']) {
        return Err("a gateway address is a host and a port only (no path)".to_owned());
    }
    let uri: tonic::codegen::http::Uri =
        url.parse()
            .map_err(|err: tonic::codegen::http::uri::InvalidUri| {
                format!("not a valid address ({err})")
            })?;
    let host = uri.host().unwrap_or_default();
    if host.is_empty() {
        return Err("it names no host".to_owned());
    }
    let authority = uri.authority().map_or("", |a| a.as_str());
    let port = match authority.rfind(':') {
        Some(at) if !authority[at..].contains(']') => Some(&authority[at + 1..]),
        _ => None,
    };
    if let Some(port) = port
        && !matches!(port.parse::<u16>(), Ok(1..))
    {
        return Err(format!("{port:?} is not a port (1 to 65535)"));
    }
    Ok(())
}

#[cfg(windows)]
mod registry {
    //! Reads the installer's string values under `HKEY_LOCAL_MACHINE`.

    use windows_sys::Win32::Foundation::{ERROR_FILE_NOT_FOUND, ERROR_SUCCESS};
    use windows_sys::Win32::System::Registry::{HKEY_LOCAL_MACHINE, RRF_RT_REG_SZ, RegGetValueW};

    use super::{REGISTRY_KEY, RawDefaults};

    fn wide(text: &str) -> Vec<u16> {
        text.encode_utf16().chain(std::iter::once(0)).collect()
    }

    /// One value; `Ok("")` when it (or the key) does not exist.
    fn value(name: &str) -> Result<String, String> {
        let key = wide(REGISTRY_KEY);
        let name_w = wide(name);
        let mut buffer = vec![0u16; 2048];
        let mut bytes = u32::try_from(buffer.len() * 2).unwrap_or(u32::MAX);
        // SAFETY: key and name are NUL-terminated UTF-16; the buffer is `bytes` long and
        // RegGetValueW writes at most that many bytes into it.
        let status = unsafe {
            RegGetValueW(
                HKEY_LOCAL_MACHINE,
                key.as_ptr(),
                name_w.as_ptr(),
                // (REG_EXPAND_SZ would need RRF_NOEXPAND, or the call is refused; the
                // installer writes plain strings)
                RRF_RT_REG_SZ,
                std::ptr::null_mut(),
                buffer.as_mut_ptr().cast(),
                &mut bytes,
            )
        };
        if status == ERROR_FILE_NOT_FOUND {
            return Ok(String::new());
        }
        if status != ERROR_SUCCESS {
            return Err(format!("{name}: error {status}"));
        }
        let chars = (bytes as usize / 2).min(buffer.len());
        let text = String::from_utf16_lossy(&buffer[..chars]);
        Ok(text.trim_end_matches('\0').to_owned())
    }

    pub fn read() -> Result<RawDefaults, String> {
        Ok(RawDefaults {
            gateway_url: value("GatewayUrl")?,
            token_file: value("TokenFile")?,
            ca_file: value("CaFile")?,
            lock_connection: value("LockConnection")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_split_checked_and_deduplicated() {
        assert_eq!(
            split_endpoints(" https://ucx01:50051/, https://ucx02:50051;https://UCX01:50051 "),
            vec!["https://ucx01:50051", "https://ucx02:50051"]
        );
        assert!(check_endpoint("https://ucx01:50051").is_ok());
        assert!(check_endpoint("http://[::1]:50051").is_ok());
        assert!(check_endpoint("ucx01:50051").is_err());
        assert!(check_endpoint("https://").is_err());
        assert!(check_endpoint("https://ucx01:50051/presence").is_err());
        assert!(check_endpoint("https://ucx01:0").is_err());
        assert!(check_endpoint("https://ucx01:99999").is_err());
    }

    #[test]
    fn a_file_of_defaults_is_read_and_bad_values_are_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("defaults.toml");
        assert_eq!(
            MachineDefaults::from_file(&path),
            MachineDefaults::default()
        );

        std::fs::write(
            &path,
            "gateway_url = \"https://ucx01:50051, ftp://nope, https://ucx02:50051\"\n\
             token_file = 'C:\\ProgramData\\UCX\\token.txt'\n\
             lock_connection = \"1\"\n",
        )
        .expect("write");
        let defaults = MachineDefaults::from_file(&path);
        assert_eq!(
            defaults.endpoints,
            vec!["https://ucx01:50051", "https://ucx02:50051"]
        );
        assert_eq!(
            defaults.token_file.as_deref(),
            Some(Path::new(r"C:\ProgramData\UCX\token.txt"))
        );
        assert_eq!(defaults.ca_file, None);
        assert!(defaults.is_locked);
        let warning = defaults.warning.expect("the ftp:// entry is reported");
        assert!(warning.contains("ftp://nope"), "{warning}");

        std::fs::write(&path, "gateway_url = [1, 2]\n").expect("write");
        let damaged = MachineDefaults::from_file(&path);
        assert!(damaged.is_empty());
        assert!(damaged.warning.expect("warned").contains("damaged"));

        std::fs::write(&path, "lock_connection = \"perhaps\"\n").expect("write");
        let unclear = MachineDefaults::from_file(&path);
        assert!(unclear.is_locked, "an unclear lock locks");
    }
}
