//! Gives the memory of subscribers that left back to the operating system.
//!
//! A subscriber's snapshot and batches are encoded, buffered and freed; glibc's
//! allocator keeps freed pages resident (in per-thread arenas, and below its mmap
//! threshold, which it raises each time a large block is freed) until asked to return
//! them, so without this a gateway's resident memory only grows with the largest crowd
//! of subscribers it ever served. Elsewhere this does nothing: Windows' heap decommits
//! large free blocks on its own.

use std::time::Duration;

/// Blocks from this size up get their own mapping, returned to the system when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const OWN_MAPPING_FROM_BYTES: i32 = 128 * 1024;

/// How often the subscription count is looked at.
pub const RELEASE_CHECK_INTERVAL: Duration = Duration::from_secs(5);

/// Sets the allocator up for a long-running server. Call once, before the runtime.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only sets a glibc tunable; called before other threads run.
        let is_set = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, OWN_MAPPING_FROM_BYTES) };
        if is_set != 1 {
            tracing::debug!("glibc refused the mmap threshold");
        }
    }
}

/// Returns freed memory to the operating system (a few milliseconds of walking the
/// allocator's arenas).
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim has no preconditions; it only walks glibc's own arenas
        // under their locks.
        unsafe { libc::malloc_trim(0) };
    }
}

/// Released at least this often, whatever happens (connections of subscribers that
/// were cut off close later, without the count changing).
pub const RELEASE_AT_LEAST_EVERY: Duration = Duration::from_secs(60);

/// Every [`RELEASE_CHECK_INTERVAL`], releases freed memory if the number of open
/// subscriptions (from `open`) changed since the last look, and at least every
/// [`RELEASE_AT_LEAST_EVERY`].
pub async fn release_after_subscribers_change(open: impl Fn() -> usize) {
    let mut last = open();
    let mut last_release = tokio::time::Instant::now();
    let mut ticks = tokio::time::interval(RELEASE_CHECK_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = open();
        if now != last || last_release.elapsed() >= RELEASE_AT_LEAST_EVERY {
            last = now;
            last_release = tokio::time::Instant::now();
            tokio::task::spawn_blocking(release_freed_memory);
        }
    }
}
