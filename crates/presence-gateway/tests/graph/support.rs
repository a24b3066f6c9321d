//! Helpers the tests share: a hub, waiting for a condition, reading Teams health and
//! shown presence, and capturing logs.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use presence_domain::{SourceState, Technology};
use presence_hub::{HubSettings, PresenceHub};

pub(crate) fn new_hub() -> Arc<PresenceHub> {
    PresenceHub::new(HubSettings {
        winning_technology: presence_domain::WinningTechnology::MsTeams,
        ms_teams_enabled: true,
    })
}

pub(crate) async fn eventually(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub(crate) fn teams_health(hub: &PresenceHub) -> (SourceState, String) {
    let view = hub.view();
    let health = view
        .sources()
        .iter()
        .find(|s| s.technology == Technology::MsTeams)
        .expect("teams health");
    (health.state, health.detail.clone())
}

pub(crate) fn shown(hub: &PresenceHub, upn: &str) -> Option<presence_domain::Presence> {
    let view = hub.view();
    let slot = view.slot_of(upn)?;
    view.entry(slot).map(|e| e.presence.clone())
}

/// Everything logged on this test's thread (the test runtime is single-threaded, so the
/// source, the fake and the HTTP client all log here), at every level, every crate.
#[derive(Clone, Default)]
pub(crate) struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("logs")).into_owned()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("logs").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures every log line of the calling thread (tests run on current-thread runtimes,
/// so the source's tasks log there too).
pub(crate) fn capture_logs() -> (Logs, tracing::subscriber::DefaultGuard) {
    keep_tracing_interest_alive();
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
}

pub(crate) fn assert_no_tokens(logs: &str) {
    for secret in [
        "access-0",
        "access-1",
        "access-2",
        "refresh-0",
        "refresh-1",
        "refresh-2",
        "refresh-new",
        "device-code-secret",
    ] {
        assert!(!logs.contains(secret), "{secret} logged:\n{logs}");
    }
}

/// tracing caches each callsite's interest and the highest level enabled process-wide,
/// from the dispatchers alive at that moment, while each capture above is thread-local.
/// Between two captures no dispatcher may be alive, and a callsite first reached then
/// (on another test's thread) could be cached as "never", losing lines a later capture
/// expects. A dispatcher that lives as long as the test binary (and writes nowhere)
/// keeps every callsite enabled.
fn keep_tracing_interest_alive() {
    static KEEP: std::sync::OnceLock<tracing::Dispatch> = std::sync::OnceLock::new();
    KEEP.get_or_init(|| {
        tracing::Dispatch::new(
            tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_writer(std::io::sink)
                .finish(),
        )
    });
}
