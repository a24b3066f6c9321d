//! `presence-panel --demo`: the simulated gateway started inside the panel's process on
//! a free loopback port. The panel then connects to it over real gRPC, exactly as it
//! would to a gateway elsewhere.

use std::time::Duration;

use presence_domain::PresenceIni;
use presence_gateway::{GatewayConfig, GatewayError, RunningGateway, server};
use presence_hub::{HubSettings, PresenceHub};
use presence_sources::simulator::{self, SimulatorConfig};

/// The in-process gateway and its simulator.
pub struct DemoGateway {
    pub gateway: RunningGateway,
    simulator: tokio::task::JoinHandle<()>,
}

impl DemoGateway {
    /// Starts on the current tokio runtime (call inside `block_on` or a task).
    pub async fn start(users: usize, seed: u64) -> Result<Self, GatewayError> {
        let ini = PresenceIni::embedded_default();
        let hub = PresenceHub::new(HubSettings {
            winning_technology: ini.winning_technology,
            ms_teams_enabled: ini.ms_teams_enabled,
        });
        let simulator = simulator::spawn(
            hub.clone(),
            SimulatorConfig {
                users,
                seed,
                ..SimulatorConfig::default()
            },
        );
        let config = GatewayConfig {
            heartbeat_interval: Duration::from_secs(5),
            ..GatewayConfig::loopback_ephemeral()
        };
        let gateway = server::start(hub, config).await?;
        Ok(Self { gateway, simulator })
    }

    pub fn endpoint_url(&self) -> String {
        self.gateway.endpoint_url()
    }
}

impl Drop for DemoGateway {
    fn drop(&mut self) {
        self.simulator.abort();
    }
}
