use std::process::ExitCode;

fn main() -> ExitCode {
    municipal_kpi::cli::main()
}
