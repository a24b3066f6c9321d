//! The board and the availability watches on disk: `board.toml` in the per-user data
//! folder (`%APPDATA%\UCX\Presence Panel\data\` on Windows,
//! `~/.local/share/presencepanel/` on Linux). Saved after every change by a writer
//! thread (the UI never waits for the disk), atomically; a damaged file is moved aside
//! with a warning, never replaced by an empty board.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};

use crate::availability_watches::{AvailabilityWatch, AvailabilityWatches};
use crate::board::{Board, BoardGroup, Favourite};
use crate::persisted_file::{move_aside, project_dirs, write_atomically};

/// The board file's format version.
const FORMAT_VERSION: u32 = 1;

/// What `board.toml` holds.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct BoardFile {
    version: u32,
    favourites: Vec<Favourite>,
    groups: Vec<BoardGroup>,
    watches: Vec<AvailabilityWatch>,
}

/// The board file's path in the per-user data folder.
pub fn default_path() -> Option<PathBuf> {
    project_dirs().map(|dirs| dirs.data_dir().join("board.toml"))
}

/// The board as loaded, with a warning to show when the file was damaged.
#[derive(Debug)]
pub struct LoadedBoard {
    pub board: Board,
    pub watches: AvailabilityWatches,
    pub warning: Option<String>,
    /// Where to save; `None` when saving would destroy a file that could not be read or
    /// moved aside.
    pub path: Option<PathBuf>,
}

impl LoadedBoard {
    /// An empty board that is never saved (tests, or no per-user folder).
    pub fn unsaved() -> Self {
        Self {
            board: Board::default(),
            watches: AvailabilityWatches::default(),
            warning: None,
            path: None,
        }
    }

    /// Loads from `path`: a missing file is an empty board; a damaged one is moved aside
    /// and warned about; one that cannot be read is warned about and never saved over.
    pub fn load(path: Option<&Path>, now: SystemTime) -> Self {
        let Some(path) = path else {
            return Self {
                warning: Some("No per-user data folder: the board will not be saved.".into()),
                ..Self::unsaved()
            };
        };
        let unsaved = |warning: String| Self {
            warning: Some(warning),
            ..Self::unsaved()
        };
        let text = match std::fs::read_to_string(path) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Self {
                    path: Some(path.to_owned()),
                    ..Self::unsaved()
                };
            }
            Err(err) => {
                return unsaved(format!(
                    "Cannot read the board from {}: {err}. The board starts empty and will not be saved over it.",
                    path.display()
                ));
            }
            Ok(text) => text,
        };
        let file = match toml::from_str::<BoardFile>(&text) {
            Ok(file) if file.version <= FORMAT_VERSION => file,
            Ok(file) => {
                return unsaved(format!(
                    "The board in {} was written by a newer panel (format {}). The board starts empty and will not be saved over it.",
                    path.display(),
                    file.version
                ));
            }
            Err(err) => {
                let reason = presence_domain::text::single_line(err.message(), 120);
                return match move_aside(path) {
                    Ok(aside) => Self {
                        warning: Some(format!(
                            "The board file was damaged ({reason}). It is kept as {}; the board starts empty.",
                            aside.display()
                        )),
                        path: Some(path.to_owned()),
                        ..Self::unsaved()
                    },
                    Err(move_err) => unsaved(format!(
                        "The board file {} is damaged ({reason}) and cannot be moved aside ({move_err}). The board starts empty and will not be saved.",
                        path.display()
                    )),
                };
            }
        };
        let (board, repairs) = Board::from_saved(file.favourites, file.groups);
        let warning = (!repairs.is_empty())
            .then(|| format!("The board file needed repairs: {}.", repairs.join("; ")));
        Self {
            board,
            watches: AvailabilityWatches::from_saved(file.watches, now),
            warning,
            path: Some(path.to_owned()),
        }
    }
}

/// The text of `board.toml` for a board and its watches.
pub fn board_file_text(board: &Board, watches: &AvailabilityWatches) -> Result<String, String> {
    let file = BoardFile {
        version: FORMAT_VERSION,
        favourites: board.favourites.clone(),
        groups: board.groups.clone(),
        watches: watches.list().to_vec(),
    };
    toml::to_string_pretty(&file).map_err(|e| e.to_string())
}

/// Saves the board in the background: the latest text wins; written atomically.
pub struct BoardStore {
    sender: Option<SyncSender<String>>,
    writer: Option<std::thread::JoinHandle<()>>,
    /// Text not yet handed to the writer (its queue was full).
    pending: Option<String>,
    /// The last write's error, if it failed (cleared by a good write).
    last_error: Arc<Mutex<Option<String>>>,
    /// The revisions (board, watches) last handed over.
    saved: Option<(u64, u64)>,
    /// The text last handed over, written again after a failed write.
    last_text: Option<String>,
    retry_at: Option<Instant>,
}

/// How long after a failed write the board is written again.
pub const RETRY_INTERVAL: Duration = Duration::from_secs(5);

impl BoardStore {
    /// A store writing to `path`, or one that never writes (`None`).
    pub fn new(path: Option<PathBuf>) -> Self {
        let last_error = Arc::new(Mutex::new(None));
        let (sender, writer) = match path {
            Some(path) => {
                let (sender, receiver) = std::sync::mpsc::sync_channel::<String>(4);
                let errors = last_error.clone();
                match std::thread::Builder::new()
                    .name("board-writer".into())
                    .spawn(move || write_loop(&path, &receiver, &errors))
                {
                    Ok(handle) => (Some(sender), Some(handle)),
                    Err(err) => {
                        tracing::warn!(%err, "cannot start the board writer; the board is not saved");
                        (None, None)
                    }
                }
            }
            None => (None, None),
        };
        Self {
            sender,
            writer,
            pending: None,
            last_error,
            saved: None,
            last_text: None,
            retry_at: None,
        }
    }

    /// Hands the board to the writer if it changed since last time. Never blocks.
    pub fn save_if_changed(&mut self, board: &Board, watches: &AvailabilityWatches) {
        let revisions = (board.revision(), watches.revision());
        if self.saved.is_none() {
            // What was loaded is on disk already.
            self.saved = Some(revisions);
        }
        if self.saved != Some(revisions) && self.sender.is_some() {
            match board_file_text(board, watches) {
                Ok(text) => self.pending = Some(text),
                Err(err) => self.set_error(format!("cannot write the board: {err}")),
            }
            self.saved = Some(revisions);
        }
        // A failed write (a file held by another program) is tried again, with the
        // latest text, until it succeeds.
        let now = Instant::now();
        if self.pending.is_none()
            && self.last_error().is_some()
            && self.retry_at.is_none_or(|at| now >= at)
        {
            self.pending = self.last_text.clone();
            self.retry_at = Some(now + RETRY_INTERVAL);
        }
        self.hand_over_pending();
    }

    fn hand_over_pending(&mut self) {
        let (Some(sender), Some(text)) = (&self.sender, self.pending.take()) else {
            return;
        };
        match sender.try_send(text.clone()) {
            Ok(()) => self.last_text = Some(text),
            Err(TrySendError::Full(text)) => self.pending = Some(text),
            Err(TrySendError::Disconnected(_)) => {
                self.set_error("the board writer stopped".into());
            }
        }
    }

    fn set_error(&self, message: String) {
        if let Ok(mut slot) = self.last_error.lock() {
            *slot = Some(message);
        }
    }

    /// Why the board could not be saved, while that is so.
    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().ok().and_then(|e| e.clone())
    }
}

impl Drop for BoardStore {
    /// Writes what is pending and waits for the writer: nothing is lost on exit.
    fn drop(&mut self) {
        if let (Some(sender), Some(text)) = (&self.sender, self.pending.take())
            && sender.send(text).is_err()
        {
            tracing::warn!("the board writer stopped before the last change was saved");
        }
        self.sender = None;
        if let Some(writer) = self.writer.take()
            && writer.join().is_err()
        {
            tracing::warn!("the board writer panicked");
        }
    }
}

fn write_loop(path: &Path, receiver: &Receiver<String>, errors: &Mutex<Option<String>>) {
    while let Ok(mut text) = receiver.recv() {
        // Only the latest text matters.
        while let Ok(newer) = receiver.try_recv() {
            text = newer;
        }
        let result = write_atomically(path, &text);
        if let Ok(mut slot) = errors.lock() {
            *slot = match result {
                Ok(()) => None,
                Err(err) => {
                    tracing::warn!(%err, path = %path.display(), "cannot save the board");
                    Some(format!(
                        "cannot save the board to {}: {err}",
                        path.display()
                    ))
                }
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::{GroupRule, RuleField};

    #[test]
    fn the_board_and_its_watches_survive_a_round_trip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("data/board.toml");
        let now = SystemTime::now();
        let loaded = LoadedBoard::load(Some(&path), now);
        assert!(loaded.warning.is_none());
        assert_eq!(loaded.board, Board::default());
        let mut board = loaded.board;
        let mut watches = loaded.watches;
        let mut store = BoardStore::new(loaded.path);
        store.save_if_changed(&board, &watches);
        assert!(!path.exists(), "nothing changed, nothing written");

        board.star("anna@x", "Anna").expect("star");
        let group = board.add_group("Sales desk").expect("group");
        board.set_member(group, "bo@x", "Bo", true).expect("member");
        board
            .add_rule_group(
                "IT",
                GroupRule {
                    field: RuleField::Department,
                    value: "IT".into(),
                },
            )
            .expect("rule");
        watches.watch("bo@x", "Bo", now);
        store.save_if_changed(&board, &watches);
        drop(store);

        let again = LoadedBoard::load(Some(&path), now);
        assert!(again.warning.is_none(), "{:?}", again.warning);
        assert_eq!(again.board.favourites, board.favourites);
        assert_eq!(again.board.groups, board.groups);
        assert_eq!(again.watches.list(), watches.list());
    }

    #[test]
    fn a_failed_write_is_tried_again_until_it_succeeds() {
        let dir = tempfile::tempdir().expect("tempdir");
        // A file where the folder should be: writing fails until it is gone.
        let blocker = dir.path().join("data");
        std::fs::write(&blocker, "in the way").expect("write");
        let path = blocker.join("board.toml");
        let mut board = Board::default();
        let watches = AvailabilityWatches::default();
        let mut store = BoardStore::new(Some(path.clone()));
        store.save_if_changed(&board, &watches);
        board.star("anna@x", "Anna").expect("star");
        store.save_if_changed(&board, &watches);
        let started = std::time::Instant::now();
        while store.last_error().is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "the write fails"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(store.last_error().expect("error").contains("cannot save"));
        std::fs::remove_file(&blocker).expect("unblock");
        // The retry interval has passed.
        store.retry_at = Some(Instant::now());
        store.save_if_changed(&board, &watches);
        drop(store);
        let again = LoadedBoard::load(Some(&path), SystemTime::now());
        assert!(again.board.is_favourite("anna@x"), "written on the retry");
    }

    #[test]
    fn a_damaged_board_is_moved_aside_with_a_warning() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("board.toml");
        let damaged = "favourites = [ { upn = \"anna@x\", name = ";
        std::fs::write(&path, damaged).expect("write");
        let loaded = LoadedBoard::load(Some(&path), SystemTime::now());
        let warning = loaded.warning.expect("warned");
        assert!(
            warning.contains("damaged") && warning.contains("kept as"),
            "{warning}"
        );
        assert!(loaded.board.favourites.is_empty());
        assert!(!path.exists());
        let kept = std::fs::read_dir(dir.path())
            .expect("list")
            .filter_map(Result::ok)
            .find(|e| e.file_name().to_string_lossy().contains(".damaged-"))
            .expect("kept aside");
        assert_eq!(std::fs::read_to_string(kept.path()).expect("read"), damaged);

        std::fs::write(&path, "version = 99\n").expect("write");
        let newer = LoadedBoard::load(Some(&path), SystemTime::now());
        assert!(newer.path.is_none(), "a newer format is never saved over");
    }
}
