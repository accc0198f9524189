//! How much freed memory the process keeps (glibc's allocator; elsewhere these do nothing).
//!
//! glibc's defaults keep freed memory in the process (docs/benchmark.md, "Memory"):
//! - each thread that contends for the heap gets an arena of its own (up to 8 per CPU), and what
//!   is freed in each stays there; with the actix workers and tokio's blocking threads that was
//!   most of the memory held after a load. Two arenas are enough for two workers.
//! - blocks from 128 KiB up are mapped on their own and unmapped when freed, but the first such
//!   free raises that threshold to the block's size (up to 32 MiB), so from then on the 19 MiB
//!   of an argon2 hash, a plan's loaded records or a spreadsheet come from the heap and stay
//!   resident: `serve --demo` held 122 MB once ready, 141 MB after one login. A fixed threshold
//!   keeps every large block mapped and returned (34 MB after the same steps).

/// Malloc arenas for the whole process.
pub const MALLOC_ARENAS: i32 = 2;
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

/// Gives the pages of freed small blocks back to the system, after one-off work (migrations,
/// loading the demo) whose many small allocations are not needed again.
pub fn return_freed_memory() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only releases free memory, under the allocator's own locks.
    unsafe {
        libc::malloc_trim(0);
    }
}
