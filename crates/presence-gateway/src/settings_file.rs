//! The gateway's own settings file (`gateway.toml`): the same settings as its command
//! line, one `key = value` a line, named as the flags are without the leading dashes
//! (`listen = "0.0.0.0:50051"`, `token_file = "token.txt"`, `max_subscriptions = 500`,
//! `allow_plaintext_off_loopback = true`). Relative paths are relative to the file's
//! folder. A flag given on the command line wins over the file. The SIP SIMPLE options
//! may sit in a `[SipSimple]` section without their `sip_` prefix (`server`, `port`,
//! `transport`, `domain`, `user`, `password_file`, `ca_file`, `uri_template`,
//! `expires_secs`, `no_dialogs`, `subscribes_per_sec`, `rls_uri`).
//!
//! The Windows service reads `%ProgramData%\UCX\Presence Gateway\gateway.toml`;
//! elsewhere `--settings FILE` names one (the systemd unit uses
//! `/etc/presence-gateway/gateway.toml`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Keys whose values are paths (made absolute against the file's folder).
const PATH_KEYS: &[&str] = &[
    "sip_password_file",
    "sip_ca_file",
    "config",
    "token_file",
    "tls_cert",
    "tls_key",
    "tls_client_ca",
    "credentials_file",
    "version_file",
    "log_file",
];

/// Largest settings file read.
const MAX_SETTINGS_BYTES: u64 = 64 * 1024;

/// Why the settings file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsFileError {
    #[error("cannot read the gateway settings {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the gateway settings {path} are over 64 KiB: not a settings file")]
    TooLarge { path: PathBuf },
    #[error("the gateway settings {path} are not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error(
        "in the gateway settings {path}: `{key}` must be a single value (text, number or true/false)"
    )]
    NotAValue { path: PathBuf, key: String },
}

/// The settings of a file, as command-line arguments (`--key value`, or `--key` for
/// `true`), leaving out the keys in `skip` (given on the command line, or not wanted).
pub fn read_as_args(
    path: &Path,
    skip: &dyn Fn(&str) -> bool,
) -> Result<Vec<OsString>, SettingsFileError> {
    let read_error = |source| SettingsFileError::Read {
        path: path.to_owned(),
        source,
    };
    let size = std::fs::metadata(path).map_err(read_error)?.len();
    if size > MAX_SETTINGS_BYTES {
        return Err(SettingsFileError::TooLarge {
            path: path.to_owned(),
        });
    }
    let text = std::fs::read_to_string(path).map_err(read_error)?;
    let table: toml::Table =
        text.parse()
            .map_err(|err: toml::de::Error| SettingsFileError::Syntax {
                path: path.to_owned(),
                message: presence_domain::text::single_line(err.message(), 200),
            })?;
    let folder = path.parent().unwrap_or(Path::new("."));
    let mut args = Vec::new();
    // `[SipSimple]` (or `[sip_simple]`) holds the `sip_` options without the prefix:
    // `server = "pbx01"` is `sip_server = "pbx01"`.
    let mut entries: Vec<(String, toml::Value)> = Vec::new();
    for (key, value) in table {
        match value {
            toml::Value::Table(section) if key == "SipSimple" || key == "sip_simple" => {
                entries.extend(section.into_iter().map(|(k, v)| (format!("sip_{k}"), v)));
            }
            value => entries.push((key, value)),
        }
    }
    for (key, value) in entries {
        if skip(&key) {
            continue;
        }
        let flag = format!("--{}", key.replace('_', "-"));
        let text = match value {
            toml::Value::String(text) if PATH_KEYS.contains(&key.as_str()) => {
                folder.join(text).into_os_string()
            }
            toml::Value::String(text) => text.into(),
            toml::Value::Integer(n) => n.to_string().into(),
            toml::Value::Float(x) => x.to_string().into(),
            toml::Value::Boolean(true) => {
                args.push(flag.into());
                continue;
            }
            toml::Value::Boolean(false) => continue,
            _ => {
                return Err(SettingsFileError::NotAValue {
                    path: path.to_owned(),
                    key,
                });
            }
        };
        args.push(flag.into());
        args.push(text);
    }
    Ok(args)
}

/// The keys given on a command line (`--key value` or `--key=value`), with `_` for `-`.
pub fn keys_on_command_line(args: &[OsString]) -> Vec<String> {
    args.iter()
        .filter_map(|arg| arg.to_str()?.strip_prefix("--"))
        .map(|flag| {
            flag.split_once('=')
                .map_or(flag, |(name, _)| name)
                .replace('-', "_")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settings_file_reads_as_the_flags_it_stands_for() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("gateway.toml");
        std::fs::write(
            &path,
            "listen = \"0.0.0.0:50051\"\ntoken_file = \"token.txt\"\ntls_cert = \"/etc/ucx/cert.pem\"\n\
             max_subscriptions = 500\nallow_plaintext_off_loopback = false\nchanges_per_sec = 2.5\n",
        )
        .expect("write");
        let given =
            keys_on_command_line(&["--listen=127.0.0.1:1".into(), "--users".into(), "5".into()]);
        assert_eq!(given, vec!["listen", "users"]);
        let args = read_as_args(&path, &|key| given.iter().any(|g| g == key)).expect("read");
        let args: Vec<String> = args
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let mut pairs: Vec<(String, String)> = args
            .chunks(2)
            .map(|pair| (pair[0].clone(), pair[1].clone()))
            .collect();
        pairs.sort();
        let token = dir.path().join("token.txt").display().to_string();
        let expected = [
            ("--changes-per-sec", "2.5"),
            ("--max-subscriptions", "500"),
            ("--tls-cert", "/etc/ucx/cert.pem"),
            ("--token-file", token.as_str()),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(pairs, expected);

        std::fs::write(
            &path,
            "users = 5\n[SipSimple]\nserver = \"pbx01\"\ntransport = \"tcp\"\npassword_file = \"sip.pw\"\n",
        )
        .expect("write");
        let args: Vec<String> = read_as_args(&path, &|_| false)
            .expect("read")
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let pw = dir.path().join("sip.pw").display().to_string();
        for pair in [
            ["--sip-server", "pbx01"],
            ["--sip-transport", "tcp"],
            ["--sip-password-file", pw.as_str()],
            ["--users", "5"],
        ] {
            assert!(
                args.windows(2).any(|w| w[0] == pair[0] && w[1] == pair[1]),
                "{pair:?} in {args:?}"
            );
        }

        std::fs::write(&path, "listen = [\"a\"]\n").expect("write");
        let err = read_as_args(&path, &|_| false).expect_err("an array");
        assert!(
            err.to_string().contains("`listen` must be a single value"),
            "{err}"
        );
        std::fs::write(&path, "listen = \n").expect("write");
        let err = read_as_args(&path, &|_| false).expect_err("bad TOML");
        assert!(err.to_string().contains("not valid TOML"), "{err}");
        let err = read_as_args(&dir.path().join("none.toml"), &|_| false).expect_err("missing");
        assert!(err.to_string().contains("cannot read"), "{err}");
    }
}
