use std::process::ExitCode;

fn main() -> ExitCode {
    municipal_kpi::heap::bound_retained_memory();
    municipal_kpi::cli::main()
}
