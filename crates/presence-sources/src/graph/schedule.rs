//! How often each colleague's presence is polled, from the size of the tenant and the
//! request budget. Pure arithmetic, no clock and no HTTP.
//!
//! Graph allows 1,500 presence requests per 30 s per app per tenant, 650 ids each. The
//! gateway aims well below that (1,000 per 30 s by default, every Graph request counted,
//! directory pages included) and never polls a colleague more often than the minimum
//! cycle (10 s by default). A bigger tenant therefore gets a longer cycle once its
//! batches no longer fit in the budget. Must never plan more requests than the budget.

use std::time::Duration;

/// Most ids Graph accepts in one `getPresencesByUserId` request.
pub const MAX_IDS_PER_REQUEST: usize = 650;

/// The request budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollBudget {
    /// Requests allowed per `window` (the gateway's own target, below Graph's 1,500).
    pub max_requests_per_window: u32,
    pub window: Duration,
    /// Shortest time between two polls of the same colleague.
    pub min_cycle: Duration,
    /// Ids per presence request (at most [`MAX_IDS_PER_REQUEST`]).
    pub batch_size: usize,
}

impl Default for PollBudget {
    fn default() -> Self {
        Self {
            max_requests_per_window: 1_000,
            window: Duration::from_secs(30),
            min_cycle: Duration::from_secs(10),
            batch_size: MAX_IDS_PER_REQUEST,
        }
    }
}

/// A plan for one presence cycle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollPlan {
    /// Presence requests per cycle.
    pub batches: usize,
    /// How often each colleague is polled.
    pub cycle: Duration,
    /// Time between two presence requests in a cycle.
    pub spacing: Duration,
}

impl PollBudget {
    /// Ids per request, clamped to what Graph accepts.
    pub fn ids_per_request(&self) -> usize {
        self.batch_size.clamp(1, MAX_IDS_PER_REQUEST)
    }

    /// Shortest gap between any two Graph requests (the budget spread evenly).
    pub fn min_request_gap(&self) -> Duration {
        self.window / self.max_requests_per_window.max(1)
    }

    /// The plan for a tenant of `users` colleagues.
    pub fn plan(&self, users: usize) -> PollPlan {
        let batches = users.div_ceil(self.ids_per_request());
        let needed = self.min_request_gap() * u32::try_from(batches).unwrap_or(u32::MAX);
        let cycle = needed.max(self.min_cycle);
        let spacing = if batches == 0 {
            cycle
        } else {
            cycle / u32::try_from(batches).unwrap_or(u32::MAX)
        };
        PollPlan {
            batches,
            cycle,
            spacing,
        }
    }
}

impl PollPlan {
    /// Presence requests per `window` this plan makes.
    pub fn requests_per_window(&self, window: Duration) -> f64 {
        if self.cycle.is_zero() {
            return 0.0;
        }
        self.batches as f64 * window.as_secs_f64() / self.cycle.as_secs_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table in docs/graph.md.
    #[test]
    fn plans_for_documented_tenant_sizes() {
        let budget = PollBudget::default();
        let window = budget.window;
        let rows: Vec<(usize, usize, u64, f64)> = [1_000, 10_000, 100_000, 250_000, 1_000_000]
            .into_iter()
            .map(|users| {
                let plan = budget.plan(users);
                (
                    users,
                    plan.batches,
                    plan.cycle.as_millis() as u64,
                    plan.requests_per_window(window).round(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            vec![
                (1_000, 2, 10_000, 6.0),
                (10_000, 16, 10_000, 48.0),
                (100_000, 154, 10_000, 462.0),
                (250_000, 385, 11_550, 1_000.0),
                (1_000_000, 1_539, 46_170, 1_000.0),
            ]
        );
        for (_, _, _, per_window) in rows {
            assert!(per_window <= 1_000.0);
        }
    }

    #[test]
    fn batch_size_is_clamped_to_graphs_limit() {
        let budget = PollBudget {
            batch_size: 10_000,
            ..PollBudget::default()
        };
        assert_eq!(budget.plan(1_500).batches, 3);
        assert_eq!(budget.plan(0).batches, 0);
        assert_eq!(budget.min_request_gap(), Duration::from_millis(30));
    }
}
