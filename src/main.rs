use std::process::ExitCode;

fn main() -> ExitCode {
    limit_malloc_arenas();
    municipal_kpi::cli::main()
}

/// glibc gives each thread that contends for the heap an arena of its own (up to 8 per CPU) and keeps
/// what is freed in each; with the actix workers and tokio's blocking threads that is most of the
/// memory held after a load (docs/benchmark.md). Two arenas, set before any thread starts, lower the
/// peak without depending on `MALLOC_ARENA_MAX` being set in the environment.
#[cfg(target_env = "gnu")]
fn limit_malloc_arenas() {
    // SAFETY: mallopt only changes glibc's allocator settings; it is called before any other thread
    // exists, so no allocation runs concurrently with it.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(target_env = "gnu"))]
fn limit_malloc_arenas() {}
