//! Bounds on the subscriptions clients can make the gateway hold: in total, and per
//! connection. A subscription holds a permit for as long as it runs; one refused gets
//! `RESOURCE_EXHAUSTED` saying which limit it met.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tonic::Status;

/// The limits a gateway enforces (see the README's table of limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatewayLimits {
    /// Subscriptions open at once, from all clients.
    pub max_subscriptions: usize,
    /// Subscriptions open at once on one connection.
    pub max_subscriptions_per_connection: usize,
    /// HTTP/2 streams open at once on one connection (any call).
    pub max_streams_per_connection: u32,
    /// A subscriber whose buffer stays full this long (it stopped reading) is cut off.
    pub stalled_subscriber_timeout: Duration,
}

impl Default for GatewayLimits {
    fn default() -> Self {
        Self {
            max_subscriptions: 2_000,
            max_subscriptions_per_connection: 16,
            max_streams_per_connection: 32,
            stalled_subscriber_timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_connection: HashMap<SocketAddr, usize>,
}

/// Counts the subscriptions open, in total and per connection.
#[derive(Debug)]
pub struct SubscriptionLimits {
    max_total: usize,
    max_per_connection: usize,
    counts: Mutex<Counts>,
}

/// A subscription's place under the limits, given back when it drops.
#[derive(Debug)]
pub struct SubscriptionPermit {
    limits: Arc<SubscriptionLimits>,
    peer: Option<SocketAddr>,
}

impl SubscriptionLimits {
    pub fn new(limits: &GatewayLimits) -> Arc<Self> {
        Arc::new(Self {
            max_total: limits.max_subscriptions,
            max_per_connection: limits.max_subscriptions_per_connection,
            counts: Mutex::new(Counts::default()),
        })
    }

    /// Subscriptions open now.
    pub fn open(&self) -> usize {
        self.counts.lock().map_or(0, |c| c.total)
    }

    /// A permit for one more subscription from `peer` (the connection's remote
    /// address), or the limit it meets.
    pub fn try_acquire(
        self: &Arc<Self>,
        peer: Option<SocketAddr>,
    ) -> Result<SubscriptionPermit, Status> {
        let mut counts = self
            .counts
            .lock()
            .map_err(|_| Status::internal("subscription counts unavailable"))?;
        if counts.total >= self.max_total {
            return Err(Status::resource_exhausted(format!(
                "the gateway serves at most {} subscriptions at once; try again later",
                self.max_total
            )));
        }
        if let Some(peer) = peer {
            let on_connection = counts.per_connection.entry(peer).or_insert(0);
            if *on_connection >= self.max_per_connection {
                return Err(Status::resource_exhausted(format!(
                    "at most {} subscriptions on one connection; one subscription can watch everyone (watch_all)",
                    self.max_per_connection
                )));
            }
            *on_connection += 1;
        }
        counts.total += 1;
        Ok(SubscriptionPermit {
            limits: self.clone(),
            peer,
        })
    }
}

impl Drop for SubscriptionPermit {
    fn drop(&mut self) {
        if let Ok(mut counts) = self.limits.counts.lock() {
            counts.total = counts.total.saturating_sub(1);
            if let Some(peer) = self.peer
                && let Some(n) = counts.per_connection.get_mut(&peer)
            {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    counts.per_connection.remove(&peer);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permits_count_in_total_and_per_connection() {
        let limits = SubscriptionLimits::new(&GatewayLimits {
            max_subscriptions: 3,
            max_subscriptions_per_connection: 2,
            ..GatewayLimits::default()
        });
        let a: SocketAddr = "10.0.0.1:5000".parse().expect("addr");
        let b: SocketAddr = "10.0.0.2:5000".parse().expect("addr");
        let first = limits.try_acquire(Some(a)).expect("1");
        let _second = limits.try_acquire(Some(a)).expect("2");
        let refused = limits.try_acquire(Some(a)).expect_err("per connection");
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
        assert!(refused.message().contains("one connection"));
        let _third = limits.try_acquire(Some(b)).expect("another connection");
        let refused = limits.try_acquire(Some(b)).expect_err("in total");
        assert!(refused.message().contains("at most 3 subscriptions"));
        drop(first);
        assert_eq!(limits.open(), 2);
        limits.try_acquire(Some(a)).expect("a place was given back");
    }
}
