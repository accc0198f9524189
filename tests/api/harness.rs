//! The suite's own runner (`harness = false` for `api` in Cargo.toml): libtest-mimic, with the
//! tests registered by the macros of `helpers.rs` through `inventory`. libtest can only pass or
//! fail a test that has started, so a PostgreSQL variant without a server used to count as passed;
//! here it is reported as ignored with the reason, or fails under MUNICIPAL_KPI_REQUIRE_POSTGRES=1.

use std::process::ExitCode;
use std::sync::OnceLock;

use libtest_mimic::{Arguments, Completion, Failed, Trial};

/// What a registered test needs besides the suite itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    Nothing,
    /// A reachable PostgreSQL server (`MUNICIPAL_KPI_TEST_POSTGRES_URL`).
    Postgres,
}

/// One test as the registration macros submit it.
pub struct RegisteredTest {
    /// `module_path!()` and the test's name: `api::cli::version_prints_the_crate_version`.
    pub path: &'static str,
    pub needs: Needs,
    pub run: fn(),
}

inventory::collect!(RegisteredTest);

impl RegisteredTest {
    pub const fn new(path: &'static str, needs: Needs, run: fn()) -> Self {
        Self { path, needs, run }
    }

    /// The name libtest gave it: the path within the test crate.
    fn name(&self) -> &'static str {
        self.path.strip_prefix("api::").unwrap_or(self.path)
    }
}

/// An async test on a runtime of its own, as `#[actix_web::test]` runs it.
pub fn block_on(test: impl Future<Output = ()>) {
    actix_web::rt::System::new().block_on(test)
}

pub fn main() -> ExitCode {
    let mut arguments = Arguments::from_args();
    // libtest reads this too; CI and developers on a shared machine set it.
    if arguments.test_threads.is_none() {
        arguments.test_threads = std::env::var("RUST_TEST_THREADS").ok().and_then(|n| n.parse().ok());
    }
    let mut registered: Vec<&'static RegisteredTest> = inventory::iter::<RegisteredTest>.into_iter().collect();
    // libtest's order: by name.
    registered.sort_by_key(|test| test.name());
    let trials = registered.into_iter().map(trial).collect();
    libtest_mimic::run(&arguments, trials).exit_code()
}

fn trial(test: &'static RegisteredTest) -> Trial {
    Trial::ignorable_test(test.name(), move || {
        if test.needs == Needs::Postgres
            && let Some(reason) = postgres_missing()?
        {
            return Ok(Completion::ignored_with(reason));
        }
        // A thread of its own named after the test, as libtest gives each test (with
        // --test-threads=1 too, where libtest-mimic would run it on the main thread): nothing
        // thread-local outlives a test, and a panic message names the test.
        let finished = std::thread::Builder::new().name(test.name().to_owned()).spawn(test.run).expect("thread").join();
        if let Err(panic) = finished {
            // libtest-mimic reports the panic's message as the failure.
            std::panic::resume_unwind(panic);
        }
        Ok(Completion::Completed)
    })
}

/// `None` when PostgreSQL answers; else why the test is ignored, or a failure when
/// MUNICIPAL_KPI_REQUIRE_POSTGRES=1 (CI) says it must run. Asked once per run, when the first
/// PostgreSQL test starts (never for `--list` or a run filtered to SQLite).
fn postgres_missing() -> Result<Option<String>, Failed> {
    static REACHABLE: OnceLock<Result<(), String>> = OnceLock::new();
    let url = crate::helpers::admin_url();
    let reachable = REACHABLE.get_or_init(|| {
        use diesel::Connection;
        let outcome = diesel::PgConnection::establish(&url).map(|_| ()).map_err(|e| one_line(&e.to_string()));
        if let Err(error) = &outcome
            && std::env::var("MUNICIPAL_KPI_REQUIRE_POSTGRES").as_deref() != Ok("1")
        {
            eprintln!(
                "\nPostgreSQL is unreachable at {url} ({error}): the PostgreSQL tests are ignored. Start it \
                 (README, Tests) or point MUNICIPAL_KPI_TEST_POSTGRES_URL at one; \
                 MUNICIPAL_KPI_REQUIRE_POSTGRES=1 makes them fail instead.\n"
            );
        }
        outcome
    });
    match reachable {
        Ok(()) => Ok(None),
        Err(error) if std::env::var("MUNICIPAL_KPI_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
            Err(format!("PostgreSQL is required (MUNICIPAL_KPI_REQUIRE_POSTGRES=1) but unreachable at {url}: {error}")
                .into())
        }
        Err(_) => Ok(Some(format!("PostgreSQL unreachable at {url}"))),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

crate::sync_tests!(every_test_of_the_suite_is_registered);

/// With `harness = false` a `#[test]` function is not even compiled, so a test written that way
/// would silently never run: every test here must go through the macros of `helpers.rs`.
fn every_test_of_the_suite_is_registered() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api");
    let mut unregistered = Vec::new();
    for entry in std::fs::read_dir(dir).expect("tests/api") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|ext| ext != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("source");
        for (number, line) in source.lines().enumerate() {
            let line = line.trim_start();
            let attribute = line.starts_with("#[") && line.trim_end().ends_with("test]");
            if attribute || line.starts_with("#[tokio::test") {
                unregistered.push(format!("{}:{}: {line}", path.display(), number + 1));
            }
        }
    }
    assert!(
        unregistered.is_empty(),
        "these tests would never run (tests/api has its own harness): register them with \
         on_both_backends!, sync_tests!, async_tests! or postgres_tests! instead (tests/api/helpers.rs)\n{}",
        unregistered.join("\n")
    );
}
