//! The command line: `serve`, `migrate`, `backup`, `restore`, `openapi`, `demo`, `synthetic`, `user create`, `config check`
//! and `completions`.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use rand::RngCore;

use crate::api::cors::AllowedOrigins;
use crate::auth::password::{check_password_strength, hash_password};
use crate::auth::{LoginThrottleSettings, TokenService};
use crate::connections::ConnectionSettings;
use crate::db::audit::Actor;
use crate::db::{self, Database, DatabaseSettings, WriteScope, departments, users};
use crate::demo::{self, DEMO_USERS, DemoOutcome};
use crate::domain::limits;
use crate::domain::municipality_code::MunicipalityCode;
use crate::domain::role::Role;
use crate::effective_config;
use crate::error::AppError;
use crate::metrics::{Metrics, MetricsEndpoint};
use crate::startup::{Application, ServerSettings};
use crate::synthetic::nationwide;
use crate::telemetry::{self, LogFormat};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/municipal-kpi.db";

#[derive(Debug, Parser)]
#[command(name = "municipal-kpi", version, about = "KPI tracking for municipal ICT/DX plans")]
pub struct Cli {
    /// sqlite://PATH (embedded, the default) or postgres://USER@HOST/DB
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,
    /// Log filter, e.g. `info` or `municipal_kpi=debug,actix_web=info`
    #[arg(long, env = "LOG_LEVEL", default_value = "info", global = true)]
    pub log_level: String,
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value = "text", global = true)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (applies pending migrations first)
    Serve(ServeArgs),
    /// Apply pending migrations and exit
    Migrate,
    /// Write a consistent copy of the database to a new file while the server runs (SQLite: a
    /// database file; PostgreSQL: a `pg_dump --format=custom` archive, needs the client tools)
    Backup {
        /// The file to write; an existing file is never overwritten
        #[arg(long)]
        output: PathBuf,
    },
    /// Restore a backup into the empty database named by DATABASE_URL, then apply pending migrations
    Restore {
        /// A file written by `backup`
        #[arg(long)]
        input: PathBuf,
    },
    /// Print the OpenAPI document
    Openapi {
        /// Write to this file instead of standard output
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Load the demo plan (板橋区 ICT推進・活用計画2020 追録版) and demo users into an empty database
    Demo {
        /// Leave out the generated FY2018–2020 sample actuals
        #[arg(long)]
        no_sample_actuals: bool,
    },
    /// Load a synthetic plan: the demo plan copied `scale` times, with the demo's sample actuals
    /// (for load measurements, `scripts/load.sh`; load the demo plan first)
    Synthetic {
        /// How many copies of the demo plan's measures (1–100)
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100))]
        scale: u32,
    },
    /// Manage users
    #[command(subcommand)]
    User(UserCommand),
    /// Inspect the configuration
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print a completion script for a shell, e.g. `municipal-kpi completions bash > /etc/bash_completion.d/municipal-kpi`
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Generate synthetic data sets for scale tests
    #[command(subcommand)]
    Generate(GenerateCommand),
    /// Send the e-mail reminders due today, each once (run it daily, e.g. from cron; see README
    /// 「リマインダー」): deadlines near or just passed, returned actuals, the 本部's digest
    Remind(RemindArgs),
    /// Editions of the 自治体DX推進計画 in the national catalogue
    #[command(subcommand)]
    NationalEdition(NationalEditionCommand),
}

#[derive(Debug, Subcommand)]
pub enum NationalEditionCommand {
    /// Append an edition after the latest one: a JSON file of the body `POST /national-editions`
    /// takes, under the same checks
    Import {
        /// The edition as JSON (`code`, `name`, `issued`, `source`, `reading_note`, `items`)
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct RemindArgs {
    /// List what would be sent (recipients, subjects, bodies) and send nothing; needs no SMTP server
    #[arg(long)]
    pub dry_run: bool,
    /// The day in Japan to plan for [default: today in Japan]
    #[arg(long)]
    pub today: Option<chrono::NaiveDate>,
    #[command(flatten)]
    pub settings: crate::reminders::ReminderSettings,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the configuration `serve` would use (each setting, its value and its source; secrets
    /// redacted) and exit non-zero if a setting is invalid. Takes the same flags and environment
    /// as `serve`; opens neither the database nor the port.
    Check(ServeArgs),
}

#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// Municipalities × 60 indicators × years of approved actuals, all marked synthetic
    /// (「合成団体」, is_sample); then times one plan evaluation and one national comparison
    Nationwide {
        #[arg(long, default_value_t = 1741)]
        municipalities: usize,
        #[arg(long, default_value_t = 10)]
        years: i32,
        /// The plans' last fiscal year
        #[arg(long, default_value_t = 2025)]
        last_fiscal_year: i32,
        /// How many timed runs of each read (0: load only)
        #[arg(long, default_value_t = 50)]
        runs: usize,
    },
}

#[derive(Args)]
pub struct ServeArgs {
    #[arg(long, env = "BIND_ADDR", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Load the demo plan and users (into an empty database) and allow an ephemeral JWT secret
    #[arg(long)]
    pub demo: bool,
    /// With --demo: leave out the generated sample actuals
    #[arg(long, requires = "demo")]
    pub no_sample_actuals: bool,
    /// HS256 key, at least 32 bytes
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Access token lifetime in minutes (1 to 10080, a week)
    #[arg(long, env = "TOKEN_TTL_MINUTES", default_value_t = 60, value_parser = clap::value_parser!(i64).range(1..=10_080))]
    pub token_ttl_minutes: i64,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Browser origins (exact `scheme://host[:port]`, comma-separated) allowed to call the API
    /// cross-origin; none by default
    #[arg(long, env = "CORS_ALLOWED_ORIGINS", default_value = "")]
    pub cors_allowed_origins: String,
    #[command(flatten)]
    pub login_throttle: LoginThrottleSettings,
    #[command(flatten)]
    pub connections: ConnectionSettings,
    /// Shortest time between two fetches of an OpenID provider's JWKS for an unknown key id
    #[arg(long, env = "OIDC_JWKS_MIN_REFETCH_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub oidc_jwks_min_refetch_seconds: u64,
    /// The public address of this server (https://kpi.city.example.lg.jp), under which OpenID
    /// providers send the browser back after a login (register PUBLIC_BASE_URL/api/v1/auth/oidc/callback
    /// with the provider); without it, the address each request was made to
    #[arg(long, env = "PUBLIC_BASE_URL")]
    pub public_base_url: Option<String>,
    /// Serve GET /metrics (Prometheus text format); needs METRICS_TOKEN
    #[arg(long = "metrics", env = "METRICS_ENABLED")]
    pub metrics_enabled: bool,
    /// Bearer token a scraper sends to GET /metrics, at least 32 bytes
    #[arg(long, env = "METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    #[command(flatten)]
    pub reminders: crate::reminders::ReminderSettings,
    /// Minutes between the server's own reminder passes, the first at start-up; they run only when
    /// SMTP_HOST is set (0: none, e.g. when `remind` runs from cron)
    #[arg(long, env = "REMINDER_INTERVAL_MINUTES", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(0..=1440))]
    pub reminder_interval_minutes: u64,
}

/// Pool sizes and timeouts of the storage layer (defaults in `db`).
#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// Read connections [default: 2 per core]
    #[arg(long, env = "DB_READ_POOL_SIZE", value_parser = pool_size)]
    pub read_pool_size: Option<u32>,
    /// Write connections on PostgreSQL (SQLite always has one writer) [default: 2 per core]
    #[arg(long, env = "DB_WRITE_POOL_SIZE", value_parser = pool_size)]
    pub write_pool_size: Option<u32>,
    /// How long a request waits for a pooled connection
    #[arg(long, env = "DB_CHECKOUT_TIMEOUT_MS", value_parser = milliseconds, default_value_t = millis(db::DEFAULT_CHECKOUT_TIMEOUT))]
    pub checkout_timeout_ms: u64,
    /// How long opening a PostgreSQL connection may take (libpq connect_timeout, at least 2)
    #[arg(long, env = "DB_CONNECT_TIMEOUT_SECS", value_parser = connect_timeout_seconds, default_value_t = db::DEFAULT_CONNECT_TIMEOUT.as_secs())]
    pub connect_timeout_secs: u64,
    /// PostgreSQL statement_timeout
    #[arg(long, env = "DB_STATEMENT_TIMEOUT_MS", value_parser = milliseconds, default_value_t = millis(db::DEFAULT_STATEMENT_TIMEOUT))]
    pub statement_timeout_ms: u64,
    /// PostgreSQL idle_in_transaction_session_timeout
    #[arg(long, env = "DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", value_parser = milliseconds, default_value_t = millis(db::DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT))]
    pub idle_in_transaction_timeout_ms: u64,
    /// How long a request waits for its database work before answering 503
    #[arg(long, env = "DB_CALL_DEADLINE_MS", value_parser = milliseconds, default_value_t = millis(db::DEFAULT_CALL_DEADLINE))]
    pub call_deadline_ms: u64,
    /// How long a plan or actuals import may take before answering 503
    #[arg(long, env = "DB_BULK_WRITE_DEADLINE_MS", value_parser = milliseconds, default_value_t = millis(db::DEFAULT_BULK_WRITE_DEADLINE))]
    pub bulk_write_deadline_ms: u64,
    /// How long /readyz waits for the database before answering 503
    #[arg(long, env = "DB_READINESS_DEADLINE_MS", value_parser = milliseconds, default_value_t = millis(db::DEFAULT_READINESS_DEADLINE))]
    pub readiness_deadline_ms: u64,
    /// How long a write waits for its turn before answering 503
    #[arg(long, env = "DB_WRITE_WAIT_MS", value_parser = milliseconds, default_value_t = millis(db::DEFAULT_WRITE_WAIT))]
    pub write_wait_ms: u64,
    /// How many writes may wait for their turn; more answer 503 at once
    #[arg(long, env = "DB_MAX_QUEUED_WRITES", value_parser = queued_writes, default_value_t = db::DEFAULT_MAX_QUEUED_WRITES)]
    pub max_queued_writes: usize,
}

/// Longest timeout or deadline accepted from configuration, in milliseconds (one hour).
pub const MAX_TIMEOUT_MS: u64 = 3_600_000;

pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

pub(crate) fn milliseconds(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(ms) if (1..=MAX_TIMEOUT_MS).contains(&ms) => Ok(ms),
        _ => Err(format!("expected a number of milliseconds from 1 to {MAX_TIMEOUT_MS}")),
    }
}

fn connect_timeout_seconds(text: &str) -> Result<u64, String> {
    let min = db::MIN_CONNECT_TIMEOUT.as_secs();
    let max = MAX_TIMEOUT_MS / 1000;
    match text.trim().parse::<u64>() {
        Ok(seconds) if (min..=max).contains(&seconds) => Ok(seconds),
        _ => Err(format!("expected a number of seconds from {min} to {max}")),
    }
}

/// Largest `DB_MAX_QUEUED_WRITES` accepted: each waiting write holds one of the blocking threads
/// (512 per actix worker).
pub const MAX_WRITE_QUEUE: usize = 512;

fn queued_writes(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(count) if count <= MAX_WRITE_QUEUE => Ok(count),
        _ => Err(format!("expected a number of writes from 0 to {MAX_WRITE_QUEUE}")),
    }
}

fn pool_size(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(size) if (1..=db::MAX_POOL_SIZE).contains(&size) => Ok(size),
        _ => Err(format!("expected a number of connections from 1 to {}", db::MAX_POOL_SIZE)),
    }
}

impl DatabaseArgs {
    pub fn settings(&self) -> DatabaseSettings {
        let defaults = DatabaseSettings::default();
        DatabaseSettings {
            read_pool_size: self.read_pool_size.unwrap_or(defaults.read_pool_size),
            write_pool_size: self.write_pool_size.unwrap_or(defaults.write_pool_size),
            checkout_timeout: Duration::from_millis(self.checkout_timeout_ms),
            connect_timeout: Duration::from_secs(self.connect_timeout_secs),
            statement_timeout: Duration::from_millis(self.statement_timeout_ms),
            idle_in_transaction_timeout: Duration::from_millis(self.idle_in_transaction_timeout_ms),
            call_deadline: Duration::from_millis(self.call_deadline_ms),
            bulk_write_deadline: Duration::from_millis(self.bulk_write_deadline_ms),
            readiness_deadline: Duration::from_millis(self.readiness_deadline_ms),
            write_wait: Duration::from_millis(self.write_wait_ms),
            max_queued_writes: self.max_queued_writes,
        }
    }
}

impl std::fmt::Debug for ServeArgs {
    // The JWT secret is never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeArgs")
            .field("bind", &self.bind)
            .field("demo", &self.demo)
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "***"))
            .field("token_ttl_minutes", &self.token_ttl_minutes)
            .field("database", &self.database)
            .field("cors_allowed_origins", &self.cors_allowed_origins)
            .field("metrics_enabled", &self.metrics_enabled)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "***"))
            .field("reminders", &self.reminders)
            .field("reminder_interval_minutes", &self.reminder_interval_minutes)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input
    Create {
        #[arg(long, value_parser = limits::code_argument)]
        username: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Department code or name (department users only)
        #[arg(long, value_parser = limits::name_argument)]
        department: Option<String>,
        /// 全国地方公共団体コード of the user's municipality (not for system_admin or analyst; may be
        /// left out while the database holds exactly one municipality)
        #[arg(long, value_parser = limits::code_argument)]
        municipality: Option<String>,
        /// With --municipality: registers it under this name when the database does not hold it
        /// yet (a city's first start: its municipality and first admin in one command)
        #[arg(long, value_parser = limits::name_argument, requires = "municipality")]
        municipality_name: Option<String>,
        #[arg(long, value_parser = limits::name_argument)]
        display_name: Option<String>,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| "expected system_admin, analyst, admin, hq, department or viewer".to_owned())
}

/// One reminder pass; the SMTP settings are checked before the database is opened.
fn remind(database_url: &str, args: RemindArgs) -> Result<(), AppError> {
    let mailer = if args.dry_run { None } else { Some(args.settings.mailer()?) };
    let db = Database::connect_now(database_url, 2)?;
    db.migrate()?;
    let today = args.today.unwrap_or_else(crate::reminders::today_in_japan);
    let days_before = args.settings.reminder_days_before;
    let mut lines = String::new();
    let report = match &mailer {
        None => crate::reminders::dry_run(&db, today, days_before, &mut lines)?,
        Some(mailer) => {
            crate::reminders::send_due(&db, mailer, today, days_before, Duration::from_secs(2), &mut lines)?
        }
    };
    write_stdout(lines.as_bytes())?;
    println!("{}", report.summary(args.dry_run));
    if report.failed > 0 {
        return Err(AppError::Unavailable(format!(
            "{} reminder(s) could not be sent (logged as failed; see the lines above)",
            report.failed
        )));
    }
    Ok(())
}

pub fn main() -> ExitCode {
    // The matches are kept besides the parsed arguments: `config check` reports where each
    // value came from.
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    telemetry::init(&cli.log_level, cli.log_format);
    match run(cli, &matches) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// An edition file, read with the limits of a request body: it is refused above the size a JSON
/// body may have, and its fields are bounded as the API bounds them.
fn read_edition(file: &std::path::Path) -> Result<crate::domain::national_edition::NewEdition, AppError> {
    let unreadable =
        |e: std::io::Error| AppError::BadRequest(format!("{} を読めません (cannot read): {e}", file.display()));
    let size = std::fs::metadata(file).map_err(unreadable)?.len();
    let limit = crate::api::extract::MAX_JSON_BODY_BYTES;
    if size > limit as u64 {
        return Err(AppError::PayloadTooLarge { limit });
    }
    let text = std::fs::read_to_string(file).map_err(unreadable)?;
    serde_json::from_str(&text)
        .map_err(|e| AppError::invalid("file", format!("JSON として読めません (invalid edition): {e}")))
}

fn run(cli: Cli, matches: &ArgMatches) -> Result<(), AppError> {
    match cli.command {
        Command::Completions { shell } => {
            // Generated into memory: clap_complete panics when its writer fails (a closed pipe).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "municipal-kpi", &mut script);
            write_stdout(&script)
        }
        Command::Config(ConfigCommand::Check(args)) => {
            let mut command = Cli::command();
            // Building the root propagates the global settings (DATABASE_URL, LOG_LEVEL,
            // LOG_FORMAT) to the subcommands.
            command.build();
            let check = command
                .find_subcommand_mut("config")
                .and_then(|config| config.find_subcommand_mut("check"))
                .ok_or_else(|| AppError::Internal("no `config check` command".into()))?;
            let check_matches = matches
                .subcommand_matches("config")
                .and_then(|config| config.subcommand_matches("check"))
                .ok_or_else(|| AppError::Internal("no `config check` matches".into()))?;
            write_stdout(effective_config::render(&effective_config::settings(check, check_matches)).as_bytes())?;
            serve_config(&cli.database_url, &cli.log_level, &args)?;
            write_stdout(b"the configuration is valid\n")
        }
        Command::Openapi { output } => {
            let document = crate::api::openapi::document_json();
            match output {
                Some(path) => std::fs::write(&path, document)
                    .map_err(|e| AppError::Config(format!("cannot write {}: {e}", path.display())))?,
                None => print!("{document}"),
            }
            Ok(())
        }
        Command::Remind(args) => remind(&cli.database_url, args),
        Command::Migrate => {
            let db = Database::connect_now(&cli.database_url, 2)?;
            let applied = db.migrate()?;
            println!("applied {} migration(s)", applied.len());
            Ok(())
        }
        Command::Backup { output } => {
            crate::backup::backup(&cli.database_url, &output)?;
            println!("backup written to {}", output.display());
            Ok(())
        }
        Command::Restore { input } => {
            let applied = crate::backup::restore(&cli.database_url, &input)?;
            println!("restored {}; applied {} migration(s)", input.display(), applied.len());
            Ok(())
        }
        Command::NationalEdition(NationalEditionCommand::Import { file }) => {
            let edition = read_edition(&file)?;
            let db = Database::connect_now(&cli.database_url, 2)?;
            db.migrate()?;
            let imported = db.write_blocking(WriteScope::Installation, |conn| {
                crate::db::national_editions::import(conn, &Actor::system("cli"), &edition)
            })?;
            println!("imported edition {} with {} item(s)", imported.code, imported.items.len());
            Ok(())
        }
        Command::Demo { no_sample_actuals } => {
            let db = Database::connect_now(&cli.database_url, 2)?;
            db.migrate()?;
            report_demo(demo::ensure_loaded(&db, !no_sample_actuals)?);
            Ok(())
        }
        Command::Synthetic { scale } => {
            let db = Database::connect_now(&cli.database_url, 2)?;
            db.migrate()?;
            let report = crate::synthetic::load_scaled_demo_plan(&db, scale)?;
            let actuals = crate::synthetic::add_sample_actuals(&db, report.plan_id)?;
            println!(
                "loaded {} (id {}) with {actuals} sample actuals",
                crate::synthetic::plan_code(scale),
                report.plan_id
            );
            Ok(())
        }
        Command::User(UserCommand::Create {
            username,
            role,
            department,
            municipality,
            municipality_name,
            display_name,
        }) => {
            let db = Database::connect_now(&cli.database_url, 2)?;
            db.migrate()?;
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .map_err(|e| AppError::Config(format!("cannot read the password from standard input: {e}")))?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            check_password_strength(&password)?;
            let hash = hash_password(&password)?;
            let user = db.write_blocking(WriteScope::Installation, move |conn| {
                let municipality_id = match municipality {
                    Some(code) => {
                        let code = MunicipalityCode::parse(&code)
                            .map_err(|e| AppError::invalid("municipality", e.to_string()))?;
                        let found = match (departments::find_municipality_by_code(conn, &code)?, &municipality_name) {
                            (Some(found), _) => found,
                            (None, Some(name)) => {
                                departments::create_municipality(conn, &Actor::system("cli"), &code, name)?
                            }
                            (None, None) => {
                                return Err(AppError::invalid(
                                    "municipality",
                                    format!("no municipality {code}; add --municipality-name to register it"),
                                ));
                            }
                        };
                        Some(found.id)
                    }
                    None => None,
                };
                // A department is named within a municipality: the one given, else the only one.
                let department_id = match department {
                    Some(key) => {
                        let within = match municipality_id {
                            Some(id) => id,
                            None => match departments::list_municipalities(conn)?.as_slice() {
                                [only] => only.id,
                                _ => {
                                    return Err(AppError::invalid(
                                        "municipality",
                                        "name the municipality of the department (the database holds none or several)",
                                    ));
                                }
                            },
                        };
                        Some(
                            departments::find_by_code_or_name(conn, within, &key)?
                                .ok_or_else(|| AppError::invalid("department", format!("no department {key}")))?
                                .id,
                        )
                    }
                    None => None,
                };
                users::create(
                    conn,
                    &Actor::system("cli"),
                    &users::NewUser {
                        username: &username,
                        display_name: display_name.as_deref().unwrap_or(&username),
                        password_hash: &hash,
                        role,
                        department_id,
                        municipality_id,
                        email: None,
                    },
                )
            })?;
            println!("created user {} (id {}, role {})", user.username, user.id, user.role.as_str());
            Ok(())
        }
        Command::Generate(GenerateCommand::Nationwide { municipalities, years, last_fiscal_year, runs }) => {
            let db = Database::connect_now(&cli.database_url, 2)?;
            db.migrate()?;
            let shape = nationwide::Shape { municipalities, years, last_fiscal_year };
            let loaded = nationwide::load(&db, shape)?;
            println!(
                "loaded {} SYNTHETIC municipalities (合成団体, not real figures): {} plans, {} indicators, {} approved actuals in {:.1} s ({:.0} actuals/s)",
                loaded.municipalities,
                loaded.plans.len(),
                loaded.indicators,
                loaded.actuals,
                loaded.seconds,
                loaded.actuals as f64 / loaded.seconds
            );
            if let (Some(&plan_id), true) = (loaded.plans.first(), runs > 0) {
                let code = "dx2-mynumber-card-issuance-rate";
                let timings = nationwide::measure(&db, plan_id, code, last_fiscal_year, runs)?;
                let report = |what: &str, ms: &[f64], queries: usize| {
                    println!(
                        "{what}: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms over {} runs, {queries} queries",
                        nationwide::quantile(ms, 0.5),
                        nationwide::quantile(ms, 0.95),
                        ms.last().copied().unwrap_or(f64::NAN),
                        ms.len()
                    );
                };
                report(
                    &format!("evaluation of plan {plan_id} FY{last_fiscal_year}"),
                    &timings.evaluation_ms,
                    timings.evaluation_queries,
                );
                report(
                    &format!(
                        "comparison of {code} FY{last_fiscal_year} across {} municipalities",
                        timings.comparison_rows
                    ),
                    &timings.comparison_ms,
                    timings.comparison_queries,
                );
            }
            Ok(())
        }
        Command::Serve(args) => serve(&cli.database_url, &cli.log_level, args),
    }
}

/// Writes to standard output; a closed pipe (`| head`) is an error, not a panic as with `print!`.
fn write_stdout(bytes: &[u8]) -> Result<(), AppError> {
    std::io::Write::write_all(&mut std::io::stdout(), bytes)
        .map_err(|e| AppError::Config(format!("cannot write to standard output: {e}")))
}

fn report_demo(outcome: DemoOutcome) {
    match outcome {
        DemoOutcome::Loaded { report, sample_actuals, sample_evaluations } => {
            println!(
                "loaded the demo plan (id {}): {} measures, {} indicators, {} target revisions, {} retired indicators",
                report.plan_id, report.measures, report.indicators, report.target_revisions, report.retired_indicators
            );
            if sample_actuals > 0 {
                println!(
                    "added {sample_actuals} SAMPLE actuals for FY2018–2020 (is_sample: true, note 「サンプルデータ…」); not real figures"
                );
            }
            if sample_evaluations > 0 {
                println!(
                    "added {sample_evaluations} SAMPLE measure evaluations (施策評価) for FY2018–2020 (is_sample: true, \
                     texts begin 「【サンプル】…」); not the ward's words"
                );
            }
        }
        DemoOutcome::AlreadyLoaded { plan_id } => println!("the demo plan is already loaded (id {plan_id})"),
    }
}

/// What `serve` needs that can be checked without opening the database or the port.
struct ServeConfig {
    tokens: TokenService,
    server: ServerSettings,
    reminders: Option<crate::reminders::PeriodicPasses>,
    /// No JWT_SECRET and `--demo`: the key is made for this run only.
    ephemeral_secret: bool,
}

/// Checks every setting of `serve` (also for `config check`); the first invalid one is the error.
fn serve_config(database_url: &str, log_level: &str, args: &ServeArgs) -> Result<ServeConfig, AppError> {
    crate::db::DatabaseUrl::parse(database_url)?;
    telemetry::check_filter(log_level)?;
    std::net::ToSocketAddrs::to_socket_addrs(args.bind.as_str())
        .map_err(|e| AppError::Config(format!("BIND_ADDR `{}` is not a listen address: {e}", args.bind)))?;
    let (secret, ephemeral_secret) = match (&args.jwt_secret, args.demo) {
        (Some(secret), _) => (secret.clone().into_bytes(), false),
        (None, true) => {
            let mut secret = vec![0u8; 48];
            rand::thread_rng().fill_bytes(&mut secret);
            (secret, true)
        }
        (None, false) => {
            return Err(AppError::Config(
                "JWT_SECRET must be set (at least 32 bytes), or start with --demo for an ephemeral one".into(),
            ));
        }
    };
    let tokens = TokenService::new(&secret, args.token_ttl_minutes.saturating_mul(60))?;
    let server = ServerSettings {
        cors_allowed_origins: AllowedOrigins::parse(&args.cors_allowed_origins)?,
        login_throttle: args.login_throttle.clone(),
        connections: args.connections.clone(),
        metrics_endpoint: MetricsEndpoint::from_settings(args.metrics_enabled, args.metrics_token.as_deref())?,
        metrics: Metrics::default(),
        jwks_refetch: crate::auth::provider_token::JwksRefetchInterval(std::time::Duration::from_secs(
            args.oidc_jwks_min_refetch_seconds,
        )),
        public_base_url: crate::auth::oidc_login::PublicBaseUrl::parse(args.public_base_url.as_deref())?,
    };
    let reminders = args.reminders.periodic_passes(args.reminder_interval_minutes)?;
    Ok(ServeConfig { tokens, server, reminders, ephemeral_secret })
}

fn serve(database_url: &str, log_level: &str, args: ServeArgs) -> Result<(), AppError> {
    let ServeConfig { tokens, server: server_settings, reminders, ephemeral_secret } =
        serve_config(database_url, log_level, &args)?;
    if ephemeral_secret {
        println!("JWT_SECRET is not set: using an ephemeral secret (tokens end when the server stops)");
    }
    let db = Database::open_now(database_url, args.database.settings())?;
    let applied = db.migrate()?;
    tracing::info!(database = %crate::db::DatabaseUrl::parse(database_url)?.redacted(), migrations_applied = applied.len(), "database ready");
    if args.demo {
        report_demo(demo::ensure_loaded(&db, !args.no_sample_actuals)?);
    }
    if let Some(passes) = reminders {
        passes.start(db.clone()).map_err(|e| AppError::Internal(format!("cannot start the reminder passes: {e}")))?;
    }
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build_with(&args.bind, db, tokens, server_settings)
            .map_err(|e| AppError::Config(format!("cannot listen on {}: {e}", args.bind)))?;
        // What start-up freed (migrations, the demo, building the OpenAPI document) goes back now.
        crate::heap::return_freed_memory();
        actix_web::rt::spawn(crate::heap::keep_returning_freed_memory());
        let base = format!("http://{}", args.bind);
        println!("municipal-kpi listening on {base}");
        println!("  API docs:  {base}/docs   (OpenAPI: {base}/api-docs/openapi.json)");
        if args.demo {
            println!("  log in:    curl -s -X POST {base}/api/v1/auth/token -H 'Content-Type: application/json' \\");
            println!("               -d '{{\"username\":\"hq\",\"password\":\"hq-demo-password\"}}'");
            println!("  demo users (username / password / role):");
            for user in DEMO_USERS {
                println!("    {:<13} {:<24} {}", user.username, user.password, user.role.as_str());
            }
        }
        app.run_until_stopped().await.map_err(|e| AppError::Internal(e.to_string()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_jwt_secret() {
        let cli = Cli::parse_from(["municipal-kpi", "serve", "--jwt-secret", "super-secret-value-0123456789abcdef"]);
        assert!(!format!("{cli:?}").contains("super-secret"));
    }

    #[test]
    fn database_settings_default_to_the_documented_values() {
        let cli = Cli::parse_from(["municipal-kpi", "serve"]);
        let Command::Serve(args) = cli.command else { panic!("serve") };
        if std::env::vars().any(|(name, _)| name.starts_with("DB_")) {
            return; // the environment overrides the defaults
        }
        assert_eq!(args.database.settings(), DatabaseSettings::default());
    }

    #[test]
    fn database_settings_come_from_the_command_line() {
        let cli = Cli::parse_from([
            "municipal-kpi",
            "serve",
            "--read-pool-size",
            "7",
            "--write-pool-size",
            "3",
            "--call-deadline-ms",
            "1500",
            "--write-wait-ms",
            "250",
        ]);
        let Command::Serve(args) = cli.command else { panic!("serve") };
        let settings = args.database.settings();
        assert_eq!(settings.read_pool_size, 7);
        assert_eq!(settings.write_pool_size, 3);
        assert_eq!(settings.call_deadline, Duration::from_millis(1500));
        assert_eq!(settings.write_wait, Duration::from_millis(250));
    }

    #[test]
    fn connection_settings_default_to_the_documented_values() {
        let cli = Cli::parse_from(["municipal-kpi", "serve"]);
        let Command::Serve(args) = cli.command else { panic!("serve") };
        let names = ["REQUEST_HEADER_TIMEOUT_MS", "REQUEST_BODY_TIMEOUT_MS", "MAX_CONNECTIONS"];
        if std::env::vars().any(|(name, _)| names.iter().any(|prefix| name.starts_with(prefix))) {
            return; // the environment overrides the defaults
        }
        assert_eq!(args.connections, ConnectionSettings::default());
        assert_eq!(args.connections.body_timeout(), crate::connections::DEFAULT_BODY_TIMEOUT);
    }

    #[test]
    fn out_of_range_settings_are_refused() {
        for args in [
            ["municipal-kpi", "serve", "--max-connections", "0"],
            ["municipal-kpi", "serve", "--max-connections-per-address", "0"],
            ["municipal-kpi", "serve", "--body-timeout-ms", "0"],
            ["municipal-kpi", "serve", "--read-pool-size", "0"],
            ["municipal-kpi", "serve", "--write-pool-size", "100000"],
            ["municipal-kpi", "serve", "--call-deadline-ms", "0"],
            ["municipal-kpi", "serve", "--connect-timeout-secs", "1"],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
    }

    #[test]
    fn database_url_defaults_to_the_embedded_sqlite_file() {
        let cli = Cli::parse_from(["municipal-kpi", "migrate"]);
        assert!(cli.database_url.starts_with("sqlite://") || std::env::var("DATABASE_URL").is_ok());
    }
}
