//! Desktop notifications beside the panel's own: a Windows toast, a freedesktop
//! notification on Linux (notify-rust), sent from a thread of their own so the UI never
//! waits for the notification service. Where none runs, the panel's own notification
//! and the taskbar's attention request stand alone (logged once).

use std::sync::Mutex;
use std::sync::mpsc::SyncSender;

/// Raises a notification outside the panel's window.
pub trait DesktopNotifier: Send + Sync {
    /// Never blocks; a notification that cannot be shown is dropped (the panel shows its
    /// own anyway).
    fn notify(&self, title: &str, body: &str);
}

/// The platform's notifications, through notify-rust on a named thread.
pub struct SystemNotifier {
    sender: Mutex<Option<SyncSender<(String, String)>>>,
}

impl SystemNotifier {
    pub fn start() -> Self {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<(String, String)>(16);
        let spawned = std::thread::Builder::new()
            .name("desktop-notifier".into())
            .spawn(move || {
                let mut has_warned = false;
                while let Ok((title, body)) = receiver.recv() {
                    let shown = notify_rust::Notification::new()
                        .appname("Presence Panel")
                        .summary(&title)
                        .body(&body)
                        .show();
                    if let Err(err) = shown
                        && !has_warned
                    {
                        has_warned = true;
                        tracing::warn!(
                            %err,
                            "no desktop notification service: notifications stay in the panel"
                        );
                    }
                }
            });
        let sender = match spawned {
            Ok(_) => Some(sender),
            Err(err) => {
                tracing::warn!(%err, "cannot start the desktop notifier");
                None
            }
        };
        Self {
            sender: Mutex::new(sender),
        }
    }
}

impl DesktopNotifier for SystemNotifier {
    fn notify(&self, title: &str, body: &str) {
        if let Ok(sender) = self.sender.lock()
            && let Some(sender) = sender.as_ref()
            && sender
                .try_send((title.to_owned(), body.to_owned()))
                .is_err()
        {
            tracing::debug!("desktop notification dropped: the notifier is busy");
        }
    }
}

/// Records notifications, for tests.
#[derive(Debug, Default)]
pub struct RecordingNotifier {
    shown: Mutex<Vec<(String, String)>>,
}

impl RecordingNotifier {
    pub fn shown(&self) -> Vec<(String, String)> {
        self.shown.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl DesktopNotifier for RecordingNotifier {
    fn notify(&self, title: &str, body: &str) {
        if let Ok(mut shown) = self.shown.lock() {
            shown.push((title.to_owned(), body.to_owned()));
        }
    }
}
