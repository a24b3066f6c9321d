//! One panel per user: a second start brings the running window to the front and exits.
//!
//! The first panel holds an exclusive lock on `<settings file>.lock` (so two panels never
//! write the same settings and board) and listens on a loopback port for "show"; the
//! port and a random secret are in `<settings file>.instance`, readable by the user only.
//! A second start finds the lock taken, sends `show <secret>` and exits. The lock goes
//! with the process, so a crashed panel never blocks the next start.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a second start waits for the first to answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest line read from a caller.
const MAX_LINE: u64 = 128;

/// What the first panel does when asked to show itself.
type ShowFn = Box<dyn Fn() + Send + Sync>;

/// Whether this is the first panel for these settings.
pub enum Claim {
    /// The first: keep the guard as long as the panel runs.
    First(InstanceGuard),
    /// Another panel runs and was asked to come to the front.
    AlreadyRunning,
}

/// Held by the first panel: the lock, and the listener's callback.
pub struct InstanceGuard {
    _lock: File,
    show: Arc<Mutex<ShowState>>,
}

#[derive(Default)]
struct ShowState {
    show: Option<ShowFn>,
    /// A "show" that came before the window was there.
    is_pending: bool,
}

impl InstanceGuard {
    /// What to do when a second start asks for the window (called on the listener's
    /// thread: send a viewport command and request a repaint).
    pub fn on_show(&self, show: impl Fn() + Send + Sync + 'static) {
        if let Ok(mut state) = self.show.lock() {
            if std::mem::take(&mut state.is_pending) {
                show();
            }
            state.show = Some(Box::new(show));
        }
    }
}

/// Why the single-instance check could not be made (the panel then starts anyway).
#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    #[error("cannot open {path}: {source}")]
    Lock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot listen on loopback for a second start: {0}")]
    Listen(#[source] std::io::Error),
    #[error("cannot write {path}: {source}")]
    Address {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("another panel holds {path} but does not answer: {why}")]
    NoAnswer { path: PathBuf, why: String },
}

fn sibling(settings: &Path, suffix: &str) -> PathBuf {
    let mut name = settings.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Claims the panel for `settings` (its settings file), or asks the panel that has it
/// to come to the front.
pub fn claim(settings: &Path) -> Result<Claim, InstanceError> {
    let lock_path = sibling(settings, ".lock");
    let address_path = sibling(settings, ".instance");
    if let Some(dir) = lock_path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| InstanceError::Lock {
            path: lock_path.clone(),
            source,
        })?;
    }
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|source| InstanceError::Lock {
            path: lock_path.clone(),
            source,
        })?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return ask_to_show(&address_path).map(|()| Claim::AlreadyRunning);
        }
        Err(std::fs::TryLockError::Error(source)) => {
            return Err(InstanceError::Lock {
                path: lock_path,
                source,
            });
        }
    }
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(InstanceError::Listen)?;
    let port = listener.local_addr().map_err(InstanceError::Listen)?.port();
    let secret = random_secret();
    write_owner_only(&address_path, &format!("{port} {secret}\n")).map_err(|source| {
        InstanceError::Address {
            path: address_path.clone(),
            source,
        }
    })?;
    let show = Arc::new(Mutex::new(ShowState::default()));
    let listener_show = show.clone();
    let spawned = std::thread::Builder::new()
        .name("single-instance".into())
        .spawn(move || listen(listener, &secret, &listener_show));
    if let Err(err) = spawned {
        return Err(InstanceError::Listen(err));
    }
    Ok(Claim::First(InstanceGuard { _lock: lock, show }))
}

fn listen(listener: TcpListener, secret: &str, show: &Mutex<ShowState>) {
    let expected = format!("show {secret}");
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        let _ = stream.set_read_timeout(Some(ANSWER_TIMEOUT));
        let mut line = String::new();
        let mut reader = BufReader::new((&stream).take(MAX_LINE));
        if reader.read_line(&mut line).is_err() || line.trim_end() != expected {
            continue;
        }
        if let Ok(mut state) = show.lock() {
            match &state.show {
                Some(show) => show(),
                None => state.is_pending = true,
            }
        }
        let _ = stream.write_all(b"ok\n");
    }
}

fn ask_to_show(address_path: &Path) -> Result<(), InstanceError> {
    let no_answer = |why: String| InstanceError::NoAnswer {
        path: address_path.to_owned(),
        why,
    };
    let text = std::fs::read_to_string(address_path).map_err(|e| no_answer(e.to_string()))?;
    let (port, secret) = text
        .trim()
        .split_once(' ')
        .ok_or_else(|| no_answer("its address file is damaged".into()))?;
    let port: u16 = port
        .parse()
        .map_err(|_| no_answer("its address file is damaged".into()))?;
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&address, ANSWER_TIMEOUT)
        .map_err(|e| no_answer(e.to_string()))?;
    let _ = stream.set_read_timeout(Some(ANSWER_TIMEOUT));
    stream
        .write_all(format!("show {secret}\n").as_bytes())
        .map_err(|e| no_answer(e.to_string()))?;
    let mut answer = String::new();
    BufReader::new(stream.take(MAX_LINE))
        .read_line(&mut answer)
        .map_err(|e| no_answer(e.to_string()))?;
    if answer.trim() == "ok" {
        Ok(())
    } else {
        Err(no_answer("it did not confirm".into()))
    }
}

/// 128 bits from the system's randomness (via the standard library's hasher keys),
/// mixed with the time and the process.
fn random_secret() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut parts = [0u64; 2];
    for (i, part) in parts.iter_mut().enumerate() {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(i as u64);
        hasher.write_u32(std::process::id());
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        *part = hasher.finish();
    }
    format!("{:016x}{:016x}", parts[0], parts[1])
}

/// Writes a file only its owner can read (on Unix; a Windows profile folder is the
/// user's own already).
fn write_owner_only(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = File::options();
    options.create(true).write(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn wait_until(done: impl Fn() -> bool) {
        let started = std::time::Instant::now();
        while !done() {
            assert!(started.elapsed() < Duration::from_secs(5), "timed out");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_second_start_brings_the_first_to_the_front() {
        let dir = tempfile::tempdir().expect("tempdir");
        let settings = dir.path().join("settings.toml");
        let Ok(Claim::First(guard)) = claim(&settings) else {
            panic!("the first start claims");
        };
        let shown = Arc::new(AtomicUsize::new(0));

        // Asked before the window is there: shown as soon as it is.
        assert!(matches!(claim(&settings), Ok(Claim::AlreadyRunning)));
        let counter = shown.clone();
        guard.on_show(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(shown.load(Ordering::SeqCst), 1);

        assert!(matches!(claim(&settings), Ok(Claim::AlreadyRunning)));
        wait_until(|| shown.load(Ordering::SeqCst) == 2);

        // A caller without the secret is ignored.
        let text = std::fs::read_to_string(sibling(&settings, ".instance")).expect("address");
        let port: u16 = text
            .split_whitespace()
            .next()
            .expect("port")
            .parse()
            .expect("number");
        let mut stranger = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect");
        stranger.write_all(b"show guess\n").expect("write");
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(shown.load(Ordering::SeqCst), 2);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(sibling(&settings, ".instance"))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "owner only: {mode:o}");
        }

        // Gone (or crashed): the next start is the first again.
        drop(guard);
        assert!(matches!(claim(&settings), Ok(Claim::First(_))));
    }
}
