//! Running the simulated company on tokio: load it into the hub, then step it ten times
//! a second.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use presence_domain::{SourceState, Technology};
use presence_hub::{DirectoryUpdate, PresenceHub};

use super::{Simulator, SimulatorConfig};

/// Loads the simulated company into the hub, then keeps it changing until the hub is
/// dropped by everyone else or the task is aborted.
pub fn spawn(hub: Arc<PresenceHub>, config: SimulatorConfig) -> tokio::task::JoinHandle<()> {
    let now = SystemTime::now();
    let simulate_sip = config.simulate_sip;
    let mut simulator = Simulator::new(config, now);
    hub.apply_directory(
        simulator
            .directory()
            .into_iter()
            .map(DirectoryUpdate::Upsert)
            .collect(),
    );
    let initial = simulator.current_presence();
    hub.publish(Technology::MsTeams, initial.teams);
    hub.set_source_health(Technology::MsTeams, SourceState::Live, "simulated");
    if simulate_sip {
        hub.publish(Technology::SipSimple, initial.sip);
        hub.set_source_health(Technology::SipSimple, SourceState::Live, "simulated");
    }
    tracing::info!(users = simulator.people.len(), "simulated company loaded");
    tokio::spawn(async move {
        let tick = Duration::from_millis(100);
        let mut interval = tokio::time::interval(tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last = SystemTime::now();
        loop {
            interval.tick().await;
            let now = SystemTime::now();
            let elapsed = now.duration_since(last).unwrap_or(tick);
            last = now;
            let changes = simulator.step(now, elapsed);
            hub.apply_directory(changes.directory);
            hub.publish(Technology::MsTeams, changes.teams);
            if simulate_sip {
                hub.publish(Technology::SipSimple, changes.sip);
            }
        }
    })
}
