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
//!   keeps every large block mapped and returned (34 MB after the same steps). It is 64 KiB, not
//!   glibc's initial 128 KiB, so that the evaluations the response cache keeps (about 90 KB each,
//!   a hundred of them in the collection week, copied to their exact size) are mapped on their
//!   own and returned whole when replaced: the collection week's RSS was 3.5–4 MB lower
//!   (docs/benchmark.md, 6 Dec).
//! - each thread keeps a cache of freed small blocks: see [`THREAD_CACHE_TUNABLES`].

use std::ffi::{OsStr, OsString};
use std::time::Duration;

/// glibc's per-thread caches of freed blocks, bounded to blocks of at most 256 bytes (glibc keeps
/// up to seven of every size up to 1,032 bytes by default). Each of tokio's blocking threads (40-odd
/// under the collection week) kept its own, in use as far as the heap is concerned: 6–8 MB of the
/// collection week's RSS, growing with the threads (docs/benchmark.md, 6 Dec). Small blocks, most
/// of the allocations, still take the fast path.
pub const THREAD_CACHE_TUNABLES: &str = "glibc.malloc.tcache_max=256";

/// Starts the program again, as the same process, with [`THREAD_CACHE_TUNABLES`] added to
/// `GLIBC_TUNABLES`: glibc reads them only from the environment it starts with, and `mallopt`
/// has no setting for them. Nothing is done when the environment already bounds the thread caches
/// (after the restart, or an operator's own setting) or with another C library. Returns only when
/// nothing was done, or with the error that kept the program from starting again; it then runs
/// with glibc's defaults. Called first thing in `main`, before any thread starts.
pub fn bound_thread_caches() -> std::io::Result<()> {
    #[cfg(target_env = "gnu")]
    if let Some(tunables) = with_bounded_thread_caches(std::env::var_os("GLIBC_TUNABLES").as_deref()) {
        use std::os::unix::process::CommandExt;
        let mut args = std::env::args_os();
        let mut command = std::process::Command::new(std::env::current_exe()?);
        if let Some(name) = args.next() {
            command.arg0(name);
        }
        return Err(command.args(args).env("GLIBC_TUNABLES", tunables).exec());
    }
    Ok(())
}

/// `GLIBC_TUNABLES` with [`THREAD_CACHE_TUNABLES`] added; `None` when it bounds the thread
/// caches already, or is not text.
#[cfg_attr(not(target_env = "gnu"), allow(dead_code))]
fn with_bounded_thread_caches(current: Option<&OsStr>) -> Option<OsString> {
    let current = current.map_or(Some(""), OsStr::to_str)?;
    if current.contains("glibc.malloc.tcache") {
        return None;
    }
    Some(if current.is_empty() {
        THREAD_CACHE_TUNABLES.into()
    } else {
        format!("{current}:{THREAD_CACHE_TUNABLES}").into()
    })
}

/// Malloc arenas for the whole process.
pub const MALLOC_ARENAS: i32 = 1;
/// Blocks of this size and more are mapped on their own and given back when freed.
pub const MMAP_THRESHOLD_BYTES: i32 = 64 * 1024;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_thread_cache_bound_is_added_to_the_tunables_unless_they_bound_it_already() {
        let added = |current: Option<&str>| with_bounded_thread_caches(current.map(OsStr::new));
        assert_eq!(added(None), Some("glibc.malloc.tcache_max=256".into()));
        assert_eq!(added(Some("")), Some("glibc.malloc.tcache_max=256".into()));
        assert_eq!(
            added(Some("glibc.malloc.check=3")),
            Some("glibc.malloc.check=3:glibc.malloc.tcache_max=256".into())
        );
        // After the restart, and an operator's own choice: left as they are.
        assert_eq!(added(Some("glibc.malloc.tcache_max=256")), None);
        assert_eq!(added(Some("glibc.malloc.tcache_count=0")), None);
    }

    #[cfg(unix)]
    #[test]
    fn tunables_that_are_not_text_are_left_alone() {
        use std::os::unix::ffi::OsStrExt;
        assert_eq!(with_bounded_thread_caches(Some(OsStr::from_bytes(b"glibc.malloc.check=\xff"))), None);
    }
}
