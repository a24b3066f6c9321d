//! Hands memory freed after a bulk load back to the operating system.
//!
//! Loading a directory decodes, copies and indexes every colleague once; the transient
//! buffers are freed at the end, but glibc's allocator keeps freed pages resident until
//! asked to return them, and by default raises the size from which it maps large blocks
//! on their own each time one is freed, so large transient buffers end up inside its
//! heaps, where they are rarely given back. Together some 25 MB after loading 100,000
//! colleagues. Elsewhere this does nothing: Windows' heap decommits large free blocks on
//! its own and has no per-thread arenas.

/// Blocks from this size up get their own mapping, returned to the system when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const OWN_MAPPING_FROM_BYTES: i32 = 128 * 1024;

/// Sets the allocator up for a long-running panel. Call once, first thing.
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

/// How long after a bulk load the memory is released: the first search and layout over
/// the new directory have run by then, and freed their scratch too.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const SETTLE: std::time::Duration = std::time::Duration::from_secs(2);

/// Returns freed memory to the operating system, on a short-lived background thread,
/// once the load has settled (walking the allocator's arenas takes a few milliseconds).
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let spawned = std::thread::Builder::new()
            .name("release-memory".into())
            .spawn(|| {
                std::thread::sleep(SETTLE);
                // SAFETY: malloc_trim has no preconditions; it only walks glibc's own
                // arenas under their locks.
                unsafe { libc::malloc_trim(0) };
            });
        if let Err(error) = spawned {
            tracing::debug!("could not start the memory release thread: {error}");
        }
    }
}
