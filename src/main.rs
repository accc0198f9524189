use std::process::ExitCode;

fn main() -> ExitCode {
    if let Err(error) = municipal_kpi::heap::bound_thread_caches() {
        eprintln!("warning: could not start again with bounded malloc thread caches ({error}); glibc's defaults apply");
    }
    municipal_kpi::heap::bound_retained_memory();
    municipal_kpi::cli::main()
}
