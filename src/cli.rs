//! The command line: `serve`, `migrate`, `openapi`, `demo` and `user create`.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use rand::RngCore;

use crate::auth::password::{check_password_strength, hash_password};
use crate::auth::{LoginThrottle, LoginThrottleSettings, TokenService};
use crate::db::audit::Actor;
use crate::db::{Database, departments, users};
use crate::demo::{self, DEMO_USERS, DemoOutcome};
use crate::domain::role::Role;
use crate::error::AppError;
use crate::startup::Application;
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
    /// Manage users
    #[command(subcommand)]
    User(UserCommand),
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
    #[arg(long, env = "TOKEN_TTL_MINUTES", default_value_t = 60)]
    pub token_ttl_minutes: i64,
    #[arg(long, env = "DB_POOL_SIZE", default_value_t = 10)]
    pub pool_size: u32,
    #[command(flatten)]
    pub login_throttle: LoginThrottleSettings,
}

impl std::fmt::Debug for ServeArgs {
    // The JWT secret is never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeArgs")
            .field("bind", &self.bind)
            .field("demo", &self.demo)
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "***"))
            .field("token_ttl_minutes", &self.token_ttl_minutes)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input
    Create {
        #[arg(long)]
        username: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Department code or name (department users only)
        #[arg(long)]
        department: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| "expected admin, hq, department or viewer".to_owned())
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(&cli.log_level, cli.log_format);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), AppError> {
    match cli.command {
        Command::Openapi { output } => {
            let document = crate::api::openapi::document_json();
            match output {
                Some(path) => std::fs::write(&path, document)
                    .map_err(|e| AppError::Config(format!("cannot write {}: {e}", path.display())))?,
                None => print!("{document}"),
            }
            Ok(())
        }
        Command::Migrate => {
            let db = Database::connect(&cli.database_url, 2)?;
            let applied = db.migrate()?;
            println!("applied {} migration(s)", applied.len());
            Ok(())
        }
        Command::Demo { no_sample_actuals } => {
            let db = Database::connect(&cli.database_url, 2)?;
            db.migrate()?;
            report_demo(demo::ensure_loaded(&db, !no_sample_actuals)?);
            Ok(())
        }
        Command::User(UserCommand::Create { username, role, department, display_name }) => {
            let db = Database::connect(&cli.database_url, 2)?;
            db.migrate()?;
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .map_err(|e| AppError::Config(format!("cannot read the password from standard input: {e}")))?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            check_password_strength(&password)?;
            let hash = hash_password(&password)?;
            let user = db.write_blocking(move |conn| {
                let department_id = match department {
                    Some(key) => Some(
                        departments::find_by_code_or_name(conn, &key)?
                            .ok_or_else(|| AppError::invalid("department", format!("no department {key}")))?
                            .id,
                    ),
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
                    },
                )
            })?;
            println!("created user {} (id {}, role {})", user.username, user.id, user.role.as_str());
            Ok(())
        }
        Command::Serve(args) => serve(&cli.database_url, args),
    }
}

fn report_demo(outcome: DemoOutcome) {
    match outcome {
        DemoOutcome::Loaded { report, sample_actuals } => {
            println!(
                "loaded the demo plan (id {}): {} measures, {} indicators, {} target revisions, {} retired indicators",
                report.plan_id, report.measures, report.indicators, report.target_revisions, report.retired_indicators
            );
            if sample_actuals > 0 {
                println!(
                    "added {sample_actuals} SAMPLE actuals for FY2018–2020 (is_sample: true, note 「サンプルデータ…」); not real figures"
                );
            }
        }
        DemoOutcome::AlreadyLoaded { plan_id } => println!("the demo plan is already loaded (id {plan_id})"),
    }
}

fn serve(database_url: &str, args: ServeArgs) -> Result<(), AppError> {
    let secret = match (args.jwt_secret, args.demo) {
        (Some(secret), _) => secret.into_bytes(),
        (None, true) => {
            let mut secret = vec![0u8; 48];
            rand::thread_rng().fill_bytes(&mut secret);
            println!("JWT_SECRET is not set: using an ephemeral secret (tokens end when the server stops)");
            secret
        }
        (None, false) => {
            return Err(AppError::Config(
                "JWT_SECRET must be set (at least 32 bytes), or start with --demo for an ephemeral one".into(),
            ));
        }
    };
    let tokens = TokenService::new(&secret, args.token_ttl_minutes.saturating_mul(60))?;
    let db = Database::connect(database_url, args.pool_size)?;
    let applied = db.migrate()?;
    tracing::info!(database = %crate::db::DatabaseUrl::parse(database_url)?.redacted(), migrations_applied = applied.len(), "database ready");
    if args.demo {
        report_demo(demo::ensure_loaded(&db, !args.no_sample_actuals)?);
    }
    actix_web::rt::System::new().block_on(async move {
        let throttle = LoginThrottle::new(&args.login_throttle);
        let app = Application::build_with_login_throttle(&args.bind, db, tokens, throttle)
            .map_err(|e| AppError::Config(format!("cannot listen on {}: {e}", args.bind)))?;
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
    fn database_url_defaults_to_the_embedded_sqlite_file() {
        let cli = Cli::parse_from(["municipal-kpi", "migrate"]);
        assert!(cli.database_url.starts_with("sqlite://") || std::env::var("DATABASE_URL").is_ok());
    }
}
