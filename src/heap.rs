//! How much freed memory the process keeps (glibc's allocator; elsewhere these do nothing).
//!
//! glibc's defaults keep freed memory in the process (docs/benchmark.md, "Memory"):
//! - each thread that contends for the heap gets an arena of its own (up to 8 per CPU), and what
//!   is freed in each stays there; with the actix workers and tokio's blocking threads that was
//!   most of the memory held after a load. One arena: with two, each kept its own free space, and
//!   the collection week's peak was 58–59 MB against 53–54 MB with one, at the same read rates
//!   (docs/benchmark.md).
//! - blocks from 128 KiB up are mapped on their own and unmapped when freed, but the first such
//!   free raises that threshold to the block's size (up to 32 MiB), so from then on the 19 MiB
//!   of an argon2 hash, a plan's loaded records or a spreadsheet come from the heap and stay
//!   resident: `serve --demo` held 122 MB once ready, 141 MB after one login. A fixed threshold
//!   keeps every large block mapped and returned (34 MB after the same steps).

use std::time::Duration;

/// Malloc arenas for the whole process.
pub const MALLOC_ARENAS: i32 = 1;
/// Blocks of this size and more are mapped on their own and given back when freed.
pub const MMAP_THRESHOLD_BYTES: i32 = 128 * 1024;

/// Applies [`MALLOC_ARENAS`] and [`MMAP_THRESHOLD_BYTES`]. Called first thing in `main`, before
/// any thread starts, so that it holds wherever the binary runs without depending on
/// `MALLOC_ARENA_MAX` or `MALLOC_MMAP_THRESHOLD_` in the environment.
pub fn bound_retained_memory() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only changes the allocator's settings, under the allocator's own locks.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, MALLOC_ARENAS);
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES);
    }
}

/// The first return of freed memory after the server starts: once the workers have built their
/// routes and the start-up work (migrations, the demo) is over.
pub const FIRST_RETURN_AFTER: Duration = Duration::from_secs(1);
/// How often freed memory is returned while the server runs: often enough that what one national
/// comparison or a burst of misses frees goes back before the next does the same.
pub const RETURN_INTERVAL: Duration = Duration::from_secs(2);

/// Gives the pages of freed blocks back to the system. `free` returns only the top of a heap;
/// what is freed below a block still in use stays resident until this runs (5.8 MB of the 32 MB
/// `serve --demo` held once ready: start-up work, the OpenAPI document built twice, the workers'
/// routes).
pub fn return_freed_memory() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only releases free memory, under the allocator's own locks.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Runs for the life of the server: [`return_freed_memory`] after [`FIRST_RETURN_AFTER`], then
/// every [`RETURN_INTERVAL`], so memory freed after a load peak goes back too. Each call takes
/// well under a millisecond at this heap's size; it runs on the main thread, not on a worker.
pub async fn keep_returning_freed_memory() {
    let start = actix_web::rt::time::Instant::now() + FIRST_RETURN_AFTER;
    let mut ticks = actix_web::rt::time::interval_at(start, RETURN_INTERVAL);
    loop {
        ticks.tick().await;
        return_freed_memory();
    }
}

/// The allocator's view of its heap (main arena and mapped blocks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeapUsage {
    /// Bytes of blocks allocated and not yet freed, mapped ones included.
    pub in_use_bytes: usize,
    /// Bytes freed and kept for reuse; [`return_freed_memory`] gives their whole pages back, so
    /// they count in the resident size only where they share a page with a block in use.
    pub free_bytes: usize,
}

/// The heap as glibc counts it now; `None` with another allocator.
pub fn usage() -> Option<HeapUsage> {
    #[cfg(target_env = "gnu")]
    {
        // SAFETY: mallinfo2 only reads the allocator's counters, under its own locks.
        let info = unsafe { libc::mallinfo2() };
        Some(HeapUsage { in_use_bytes: info.uordblks + info.hblkhd, free_bytes: info.fordblks })
    }
    #[cfg(not(target_env = "gnu"))]
    None
}
