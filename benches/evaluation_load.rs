//! Load benchmark of `GET /api/v1/plans/{id}/evaluation`: the demo plan and the demo plan scaled
//! 10×, each under N concurrent clients for S seconds, against the real application.
//!
//! ```sh
//! cargo bench --bench evaluation_load -- --backend sqlite
//! cargo bench --bench evaluation_load -- --backend postgres --concurrency 8 --seconds 10
//! ```
//!
//! Options: `--backend sqlite|postgres` (required), `--concurrency N` (8), `--seconds S` (10),
//! `--warmup S` (2), `--scale K` (10), `--pool N` (database connections, 10 = the server's
//! default `DB_POOL_SIZE`), `--year Y` (2020). PostgreSQL is reached through
//! `MUNICIPAL_KPI_BENCH_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`), where
//! the benchmark creates a database of its own and drops it at the end.
//!
//! Each run: fresh database, migrations, the demo plan with its sample actuals, the scaled plan
//! with the same generated actuals, the application on 127.0.0.1:0 in a thread of its own (an
//! actix System with the server's default workers), a bearer token for the demo `hq` user. Then per
//! plan: queries per evaluation (diesel instrumentation), an in-process breakdown of one request
//! (load / evaluate / JSON), a warm-up, and the measured run. Latency is measured by the client
//! from sending the request to the last byte of the body.
use municipal_kpi::domain::ids::PlanId;

use std::time::{Duration, Instant};

use diesel::Connection;
use diesel::connection::SimpleConnection;
use municipal_kpi::auth::TokenService;
use municipal_kpi::auth::token::Subject;
use municipal_kpi::db::{Database, users};
use municipal_kpi::domain::role::Role;
use municipal_kpi::error::AppError;
use municipal_kpi::evaluation::plan as plan_evaluation;
use municipal_kpi::startup::Application;
use municipal_kpi::{demo, synthetic};

const SECRET: &[u8] = b"benchmark-secret-benchmark-secret-benchmark!";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

struct Options {
    backend: Backend,
    concurrency: usize,
    seconds: f64,
    warmup: f64,
    scale: u32,
    pool: u32,
    year: i32,
}

fn usage(problem: &str) -> ! {
    eprintln!("{problem}");
    eprintln!(
        "usage: cargo bench --bench evaluation_load -- --backend sqlite|postgres [--concurrency N] [--seconds S] \
         [--warmup S] [--scale K] [--pool N] [--year Y]"
    );
    std::process::exit(2)
}

fn options() -> Options {
    let mut options = Options {
        backend: Backend::Sqlite,
        concurrency: 8,
        seconds: 10.0,
        warmup: 2.0,
        scale: 10,
        pool: 10,
        year: 2020,
    };
    let mut backend = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().unwrap_or_else(|| usage(&format!("{name} needs a value")));
        fn parse<T: std::str::FromStr>(name: &str, text: String) -> T {
            text.parse().unwrap_or_else(|_| usage(&format!("{name}: cannot read {text:?}")))
        }
        match arg.as_str() {
            "--backend" => {
                backend = Some(match value("--backend").as_str() {
                    "sqlite" => Backend::Sqlite,
                    "postgres" | "postgresql" => Backend::Postgres,
                    other => usage(&format!("unknown backend {other}")),
                })
            }
            "--concurrency" => options.concurrency = parse("--concurrency", value("--concurrency")),
            "--seconds" => options.seconds = parse("--seconds", value("--seconds")),
            "--warmup" => options.warmup = parse("--warmup", value("--warmup")),
            "--scale" => options.scale = parse("--scale", value("--scale")),
            "--pool" => options.pool = parse("--pool", value("--pool")),
            "--year" => options.year = parse("--year", value("--year")),
            // `cargo bench` passes --bench to every bench target.
            "--bench" => {}
            other => usage(&format!("unknown argument {other}")),
        }
    }
    options.backend = backend.unwrap_or_else(|| usage("--backend is required"));
    if options.concurrency == 0 || options.seconds <= 0.0 || options.scale == 0 || options.pool == 0 {
        usage("--concurrency, --seconds, --scale and --pool must be positive");
    }
    options
}

fn postgres_admin_url() -> String {
    std::env::var("MUNICIPAL_KPI_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The benchmark's own database, removed when dropped.
struct BenchDatabase {
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFile(std::path::PathBuf),
    PostgresDatabase { admin_url: String, name: String },
}

impl BenchDatabase {
    fn create(backend: Backend) -> Self {
        let unique = uuid::Uuid::new_v4().simple().to_string();
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("municipal-kpi-bench-{unique}.db"));
                Self { url: format!("sqlite://{}", path.display()), cleanup: Cleanup::SqliteFile(path) }
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url();
                let name = format!("mkpi_bench_{unique}");
                let mut admin = diesel::PgConnection::establish(&admin_url)
                    .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {admin_url}: {e}"));
                admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("create the benchmark database");
                let server = admin_url.rsplit_once('/').map(|(server, _)| server).expect("URL ending in /DATABASE");
                Self { url: format!("{server}/{name}"), cleanup: Cleanup::PostgresDatabase { admin_url, name } }
            }
        }
    }
}

impl Drop for BenchDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::PostgresDatabase { admin_url, name } => match diesel::PgConnection::establish(admin_url) {
                Ok(mut admin) => {
                    if let Err(e) = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")) {
                        eprintln!("could not drop {name}: {e}");
                    }
                }
                Err(e) => eprintln!("could not drop {name}: {e}"),
            },
        }
    }
}

struct PlanUnderTest {
    label: String,
    id: i32,
    measures: usize,
    indicators: usize,
    queries: usize,
    body_bytes: usize,
}

/// Starts the application in a thread with its own actix System; returns the port.
fn start_server(db: Database, tokens: TokenService) -> u16 {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("server".into())
        .spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let app = Application::build("127.0.0.1:0", db, tokens).expect("bind 127.0.0.1:0");
                sender.send(app.port()).expect("report the port");
                app.run_until_stopped().await
            })
        })
        .expect("server thread");
    receiver.recv().expect("server started")
}

/// Median wall time of `f` over `runs` runs.
fn median_of<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

/// One request's work in this process, without HTTP: load (database), evaluate (pure), JSON.
fn breakdown(db: &Database, plan_id: i32, year: i32) -> Result<(Duration, Duration, Duration), AppError> {
    const RUNS: usize = 21;
    let now = chrono::Utc::now().naive_utc();
    let load =
        median_of(RUNS, || db.read_blocking(|conn| plan_evaluation::load(conn, PlanId::new(plan_id))).expect("load"));
    let records = db.read_blocking(|conn| plan_evaluation::load(conn, PlanId::new(plan_id)))?;
    let evaluate = median_of(RUNS, || plan_evaluation::evaluate(&records, year, None, now));
    let evaluation = plan_evaluation::evaluate(&records, year, None, now);
    let serialize = median_of(RUNS, || serde_json::to_vec(&evaluation).expect("json"));
    Ok((load, evaluate, serialize))
}

struct Outcome {
    latencies: Vec<Duration>,
    failures: usize,
    elapsed: Duration,
}

/// `concurrency` clients, each sending the next request when the previous answer has been read,
/// until `duration` has passed.
async fn drive(client: &reqwest::Client, url: &str, token: &str, concurrency: usize, duration: Duration) -> Outcome {
    let start = Instant::now();
    let deadline = start + duration;
    let mut handles = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (client, url, token) = (client.clone(), url.to_owned(), token.to_owned());
        handles.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0;
            while Instant::now() < deadline {
                let sent = Instant::now();
                let ok = match client.get(&url).bearer_auth(&token).send().await {
                    Ok(response) => {
                        let status = response.status();
                        response.bytes().await.is_ok() && status.is_success()
                    }
                    Err(_) => false,
                };
                if ok {
                    latencies.push(sent.elapsed());
                } else {
                    failures += 1;
                }
            }
            (latencies, failures)
        }));
    }
    let mut outcome = Outcome { latencies: Vec::new(), failures: 0, elapsed: Duration::ZERO };
    for handle in handles {
        let (latencies, failures) = handle.await.expect("client task");
        outcome.latencies.extend(latencies);
        outcome.failures += failures;
    }
    outcome.elapsed = start.elapsed();
    outcome.latencies.sort();
    outcome
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// The 1, 5 and 15 minute load averages: the machine may be shared, and other work skews the numbers.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn main() -> Result<(), AppError> {
    let options = options();
    let backend_name = match options.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let build = if cfg!(debug_assertions) { "debug (unoptimised: numbers are not meaningful)" } else { "release" };
    println!("# evaluation_load: {backend_name}");
    println!();
    println!("- machine: {cores} CPUs (nproc), {}", cpu_model());
    println!("- build: {build}");
    println!("- started: {} UTC, load average {}", chrono::Utc::now().format("%Y-%m-%d %H:%M"), load_average());
    println!(
        "- load: {} concurrent clients, {} s per plan after {} s warm-up; server: default actix workers ({cores}), \
         pool of {} connections; GET /api/v1/plans/{{id}}/evaluation?fiscal_year={}",
        options.concurrency, options.seconds, options.warmup, options.pool, options.year
    );

    let database = BenchDatabase::create(options.backend);
    let db = Database::connect(&database.url, options.pool)?;
    db.migrate()?;
    let started = Instant::now();
    let demo_id = demo::ensure_loaded(&db, true)?.plan_id();
    let scaled = synthetic::load_scaled_demo_plan(&db, options.scale)?;
    let scaled_samples = synthetic::add_sample_actuals(&db, scaled.plan_id)?;
    println!(
        "- data: demo plan {demo_id} and {} (plan {}, {} measures, {scaled_samples} sample actuals) loaded in {:.1} s",
        synthetic::plan_code(options.scale),
        scaled.plan_id,
        scaled.measures,
        started.elapsed().as_secs_f64()
    );

    let hq = db
        .read_blocking(|conn| users::find_login(conn, users::LoginScope::Anywhere, "hq", 1))?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::Internal("demo user hq missing".into()))?;
    let tokens = TokenService::new(SECRET, 24 * 3600)?;
    let token = tokens.issue(&Subject {
        user_id: hq.user.id,
        username: &hq.user.username,
        role: Role::Hq,
        department_id: None,
        token_version: hq.token_version,
    })?;
    let port = start_server(db.clone(), TokenService::new(SECRET, 24 * 3600)?);
    let base = format!("http://127.0.0.1:{port}/api/v1");

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let client = reqwest::Client::builder().pool_max_idle_per_host(options.concurrency).build().expect("client");

    let mut plans = Vec::new();
    for (label, id) in [("demo".to_owned(), demo_id), (format!("synthetic ×{}", options.scale), scaled.plan_id)] {
        let url = format!("{base}/plans/{id}/evaluation?fiscal_year={}", options.year);
        let body: serde_json::Value = runtime.block_on(async {
            let response = client.get(&url).bearer_auth(&token).send().await.expect("first request");
            assert!(response.status().is_success(), "GET {url}: {}", response.status());
            response.json().await.expect("JSON")
        });
        let count = |key: &str| body[key].as_array().map_or(0, Vec::len);
        plans.push(PlanUnderTest {
            label,
            id,
            measures: count("measures"),
            indicators: count("indicators"),
            queries: synthetic::count_queries(&db, id, options.year)?,
            body_bytes: serde_json::to_vec(&body).map_or(0, |b| b.len()),
        });
    }

    println!();
    println!("In-process, one request at a time (median of 21): database load, evaluation, JSON encoding.");
    println!();
    println!("| backend | plan | load ms | evaluate ms | JSON ms |");
    println!("|---|---|---:|---:|---:|");
    for plan in &plans {
        let (load, evaluate, serialize) = breakdown(&db, plan.id, options.year)?;
        println!("| {backend_name} | {} | {} | {} | {} |", plan.label, ms(load), ms(evaluate), ms(serialize));
    }

    let seconds = Duration::from_secs_f64(options.seconds);
    let warmup = Duration::from_secs_f64(options.warmup);
    let mut rows = Vec::new();
    for plan in &plans {
        let url = format!("{base}/plans/{}/evaluation?fiscal_year={}", plan.id, options.year);
        if !warmup.is_zero() {
            runtime.block_on(drive(&client, &url, &token, options.concurrency, warmup));
        }
        let outcome = runtime.block_on(drive(&client, &url, &token, options.concurrency, seconds));
        rows.push(format!(
            "| {backend_name} | {} | {} | {} | {} | {} | {} | {:.1} | {} | {} | {} | {:.0} |",
            plan.label,
            plan.measures,
            plan.indicators,
            plan.queries,
            options.concurrency,
            outcome.latencies.len(),
            outcome.latencies.len() as f64 / outcome.elapsed.as_secs_f64(),
            ms(percentile(&outcome.latencies, 50.0)),
            ms(percentile(&outcome.latencies, 99.0)),
            ms(outcome.latencies.last().copied().unwrap_or_default()),
            plan.body_bytes as f64 / 1024.0,
        ));
        if outcome.failures > 0 {
            rows.push(format!("<!-- {}: {} failed requests -->", plan.label, outcome.failures));
        }
    }
    println!();
    println!(
        "| backend | plan | measures | indicators | queries/evaluation | clients | requests | rps | p50 ms | p99 ms | max ms | body KiB |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in &rows {
        println!("{row}");
    }
    println!();
    println!("- finished: load average {}", load_average());
    let failures: Vec<&String> = rows.iter().filter(|r| r.starts_with("<!--")).collect();
    drop(database);
    if !failures.is_empty() {
        return Err(AppError::Internal(format!("{} plan(s) had failed requests", failures.len())));
    }
    Ok(())
}
