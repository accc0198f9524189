//! Storage: one codebase over SQLite and PostgreSQL.
//!
//! Everything that differs between the two backends lives in this file: how a URL picks the
//! backend, per-connection settings (SQLite pragmas, PostgreSQL timeouts), the read and write
//! pools, how writes are admitted and which migrations run.
//! The query modules below are written once against [`DbConnection`].

pub mod actuals;
pub mod admins;
pub mod audit;
pub mod batch;
pub mod bulk_rows;
pub mod caller_context;
pub mod collections;
pub mod data_version;
pub mod deadline;
pub mod departments;
pub mod identity_providers;
mod ids;
pub mod indicators;
pub mod measure_evaluations;
pub mod measures;
pub mod name_revisions;
pub mod national_editions;
pub mod national_indicators;
pub mod oidc_logins;
pub mod ownership;
pub mod plan_making;
pub mod plan_references;
pub mod plans;
pub mod publications;
pub mod reminders;
pub mod schema;
pub mod users;
pub mod write_gate;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::connection::{InstrumentationEvent, SimpleConnection, get_default_instrumentation};
use diesel::migration::MigrationSource;
use diesel::prelude::*;
use diesel::r2d2::R2D2Connection;
use diesel::result::DatabaseErrorKind;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::AppError;
pub use data_version::WriteScope;
use deadline::{Call, run_within};
use write_gate::WriteGate;

/// Runs a query on the backend's own connection instead of the [`DbConnection`] enum, for two
/// reasons. A multi-row insert: diesel's `MultiConnection` cannot build one for SQLite (which has
/// no `DEFAULT` keyword). A statement run on every request: through the enum its SQL is rebuilt
/// each time to look up the prepared statement, while each backend's connection finds it by the
/// query's type. The SQL is the same; only the connection type differs.
macro_rules! on_each_backend {
    ($conn:expr, |$backend:ident| $query:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($backend) => $query,
            $crate::db::DbConnection::Postgresql($backend) => $query,
        }
    };
}
pub(crate) use on_each_backend;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgresql");

/// A connection to either backend; queries are written once against this type.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Which backend a `DATABASE_URL` names, decided from its scheme alone: diesel's own
/// `MultiConnection::establish` tries each backend in turn and would open a SQLite file named
/// after a mistyped PostgreSQL URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite { path: String },
    Postgres { url: String },
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, AppError> {
        let url = url.trim();
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            if path.is_empty() {
                return Err(AppError::Config("sqlite URL without a file path".into()));
            }
            return Ok(Self::Sqlite { path: path.to_owned() });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres { url: url.to_owned() });
        }
        Err(AppError::Config("DATABASE_URL must start with sqlite:// or postgres:// (postgresql://)".into()))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite { .. } => Backend::Sqlite,
            Self::Postgres { .. } => Backend::Postgres,
        }
    }

    /// The URL with any password replaced, for logs.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite { path } => format!("sqlite://{path}"),
            Self::Postgres { url } => redact_password(url),
        }
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_owned(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Read connections per core by default: SQLite reads are short and use the CPU, PostgreSQL reads
/// mostly wait on the network; two per core keeps every core busy without a queue of idle ones.
pub const READ_CONNECTIONS_PER_CORE: u32 = 2;
/// Write connections per core by default on PostgreSQL. Writes of different municipalities share
/// no row (each raises its own municipality's data version), so they proceed side by side up to
/// the pool; a write mostly waits on the server's round trips and its commit, so two per core keep
/// the cores busy. Writes of one municipality still queue on its version row, briefly: it is
/// raised last, just before the commit.
pub const WRITE_CONNECTIONS_PER_CORE: u32 = 2;
/// SQLite has one writer at a time: its write pool has this many connections whatever is set.
pub const SQLITE_WRITE_CONNECTIONS: u32 = 1;
/// Largest pool size accepted from configuration, per pool.
pub const MAX_POOL_SIZE: u32 = 256;
/// How long a call waits for a pooled connection before answering 503 (`DB_CHECKOUT_TIMEOUT_MS`).
pub const DEFAULT_CHECKOUT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long opening a PostgreSQL connection may take (`DB_CONNECT_TIMEOUT_SECS`; libpq's
/// `connect_timeout`, whole seconds).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// libpq treats a `connect_timeout` below two seconds as two seconds.
pub const MIN_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// PostgreSQL cancels a statement running longer than this (`DB_STATEMENT_TIMEOUT_MS`); the same
/// as the call deadline, after which nobody waits for the result anyway.
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);
/// PostgreSQL ends a session that sits in an open transaction longer than this
/// (`DB_IDLE_IN_TRANSACTION_TIMEOUT_MS`), releasing its locks.
pub const DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(10);
/// A request waits at most this long for its database work, then answers 503 with `Retry-After`
/// (`DB_CALL_DEADLINE_MS`).
pub const DEFAULT_CALL_DEADLINE: Duration = Duration::from_secs(5);
/// A bulk write (a plan or actuals import) waits at most this long (`DB_BULK_WRITE_DEADLINE_MS`):
/// it may rightly take longer than a request, and holds the write lock all the while.
pub const DEFAULT_BULK_WRITE_DEADLINE: Duration = Duration::from_secs(60);
/// `/readyz` answers within this (`DB_READINESS_DEADLINE_MS`).
pub const DEFAULT_READINESS_DEADLINE: Duration = Duration::from_secs(2);
/// A write waits at most this long for its turn (`DB_WRITE_WAIT_MS`), then answers 503.
pub const DEFAULT_WRITE_WAIT: Duration = Duration::from_secs(3);
/// At most this many writes wait for their turn (`DB_MAX_QUEUED_WRITES`); more answer 503 at once.
pub const DEFAULT_MAX_QUEUED_WRITES: usize = 32;
/// A SQLite connection waits this long for a lock held by another process (the command line)
/// before failing with "database is locked".
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The number of CPU cores the process may use (1 when unknown).
pub fn available_cores() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| u32::try_from(n.get()).unwrap_or(u32::MAX))
}

/// Pool sizes and timeouts of the storage layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseSettings {
    /// Connections for reads (both backends); reads never wait for a writer's connection.
    pub read_pool_size: u32,
    /// Connections for writes on PostgreSQL; SQLite always uses [`SQLITE_WRITE_CONNECTIONS`].
    pub write_pool_size: u32,
    pub checkout_timeout: Duration,
    pub connect_timeout: Duration,
    pub statement_timeout: Duration,
    pub idle_in_transaction_timeout: Duration,
    pub call_deadline: Duration,
    pub bulk_write_deadline: Duration,
    pub readiness_deadline: Duration,
    pub write_wait: Duration,
    pub max_queued_writes: usize,
}

impl Default for DatabaseSettings {
    /// Pools sized to the cores: [`READ_CONNECTIONS_PER_CORE`] and [`WRITE_CONNECTIONS_PER_CORE`].
    fn default() -> Self {
        let cores = available_cores();
        Self {
            read_pool_size: cores.saturating_mul(READ_CONNECTIONS_PER_CORE).clamp(2, MAX_POOL_SIZE),
            write_pool_size: cores.saturating_mul(WRITE_CONNECTIONS_PER_CORE).clamp(1, MAX_POOL_SIZE),
            checkout_timeout: DEFAULT_CHECKOUT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            statement_timeout: DEFAULT_STATEMENT_TIMEOUT,
            idle_in_transaction_timeout: DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT,
            call_deadline: DEFAULT_CALL_DEADLINE,
            bulk_write_deadline: DEFAULT_BULK_WRITE_DEADLINE,
            readiness_deadline: DEFAULT_READINESS_DEADLINE,
            write_wait: DEFAULT_WRITE_WAIT,
            max_queued_writes: DEFAULT_MAX_QUEUED_WRITES,
        }
    }
}

/// What a pool's connections are for: read connections refuse to write on both backends, so a
/// read that writes fails in tests instead of racing the writer in production.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PoolRole {
    Read,
    Write,
}

/// Per-connection session settings.
#[derive(Debug, Clone)]
struct Session {
    role: PoolRole,
    statement_timeout: Duration,
    idle_in_transaction_timeout: Duration,
}

/// A connection used this recently is taken as alive at check-out without the `SELECT 1` round
/// trip (HikariCP's "alive bypass window" is the same 500 ms): under load no request pays for it,
/// while a connection idle for longer is still tested before use. A connection that fails anyway
/// is marked lost by its statements and discarded ([`ManagedConnection::run`]).
pub const ALIVE_WITHOUT_TEST: Duration = Duration::from_millis(500);

/// A pooled connection, whether it has lost its server, and when it was last used.
pub struct ManagedConnection {
    conn: DbConnection,
    lost: Arc<AtomicBool>,
    last_used: Instant,
    /// Statements run by requests on its pool's connections (not the pool's own liveness tests).
    statements: Arc<AtomicU64>,
}

impl ManagedConnection {
    /// Runs `f`, counting its statements and watching them for a connection-level failure (the
    /// server closed the connection or could not be sent a command): such a connection goes back
    /// to the pool as broken and is discarded. The watch is installed for each call because query
    /// counting (`synthetic::evaluation_queries`) replaces a connection's instrumentation.
    fn run<T>(&mut self, f: impl FnOnce(&mut DbConnection) -> T) -> T {
        let (lost, statements) = (Arc::clone(&self.lost), Arc::clone(&self.statements));
        self.conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
            if let InstrumentationEvent::FinishQuery { error, .. } = event {
                statements.fetch_add(1, Ordering::Relaxed);
                if error.is_some_and(is_connection_lost) {
                    lost.store(true, Ordering::Release);
                }
            }
        });
        let outcome = f(&mut self.conn);
        self.conn.set_instrumentation(get_default_instrumentation());
        self.last_used = Instant::now();
        outcome
    }
}

fn is_connection_lost(error: &diesel::result::Error) -> bool {
    matches!(
        error,
        diesel::result::Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _
        ) | diesel::result::Error::BrokenTransactionManager
    )
}

/// r2d2 manager that opens the backend named by the URL and prepares each connection.
#[derive(Debug)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    session: Session,
    statements: Arc<AtomicU64>,
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = ManagedConnection;
    type Error = diesel::ConnectionError;

    fn connect(&self) -> Result<ManagedConnection, Self::Error> {
        let conn = match &self.url {
            DatabaseUrl::Sqlite { path } => {
                let mut conn = diesel::SqliteConnection::establish(path)?;
                // WAL is already set on the file (`Database::open`), once, before any pool opens:
                // switching it here raced between the pool's connections ("database is locked").
                // Foreign keys are off by default in SQLite.
                let query_only = if self.session.role == PoolRole::Read { "ON" } else { "OFF" };
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
                     PRAGMA query_only = {query_only};",
                    SQLITE_BUSY_TIMEOUT.as_millis()
                ))
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                DbConnection::Sqlite(conn)
            }
            DatabaseUrl::Postgres { url } => {
                let mut conn = diesel::PgConnection::establish(url)?;
                let read_only = if self.session.role == PoolRole::Read { "on" } else { "off" };
                conn.batch_execute(&format!(
                    "SET statement_timeout = {}; SET idle_in_transaction_session_timeout = {}; \
                     SET default_transaction_read_only = {read_only};",
                    self.session.statement_timeout.as_millis(),
                    self.session.idle_in_transaction_timeout.as_millis()
                ))
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                DbConnection::Postgresql(conn)
            }
        };
        Ok(ManagedConnection {
            conn,
            lost: Arc::new(AtomicBool::new(false)),
            last_used: Instant::now(),
            statements: Arc::clone(&self.statements),
        })
    }

    fn is_valid(&self, conn: &mut ManagedConnection) -> Result<(), Self::Error> {
        if conn.last_used.elapsed() < ALIVE_WITHOUT_TEST {
            return Ok(());
        }
        conn.conn.batch_execute("SELECT 1").map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
        conn.last_used = Instant::now();
        Ok(())
    }

    fn has_broken(&self, conn: &mut ManagedConnection) -> bool {
        // Lost its server, or left in a failed or still open transaction.
        conn.lost.load(Ordering::Acquire) || conn.conn.is_broken()
    }
}

/// Logs a failed connection attempt and counts it.
#[derive(Debug, Default)]
struct ConnectionFailureLog {
    failures: Arc<AtomicU64>,
}

impl r2d2::HandleError<diesel::ConnectionError> for ConnectionFailureLog {
    fn handle_error(&self, error: diesel::ConnectionError) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        tracing::error!(%error, "could not open a database connection");
    }
}

pub type Pool = r2d2::Pool<ConnectionManager>;

/// The table diesel records applied migrations in, read directly for readiness: diesel's own
/// check first creates the table, which a read-only connection may not.
mod applied_migrations {
    diesel::table! {
        __diesel_schema_migrations (version) {
            version -> Text,
        }
    }
}

/// The application's handle on its database. Cheap to clone.
///
/// Reads and writes use separate pools, so a reader never waits for a connection held by a
/// writer. Writers are admitted by a [`WriteGate`] with one permit per write connection
/// *before* they take a connection: on SQLite, with one writer at a time, the write pool is a
/// single connection and the gate is where writes queue, for a bounded time.
#[derive(Clone)]
pub struct Database {
    reads: Pool,
    writes: Pool,
    write_gate: Arc<WriteGate>,
    backend: Backend,
    settings: Arc<DatabaseSettings>,
    connection_failures: Arc<AtomicU64>,
    /// Checkouts waiting for a connection of each pool now, for the metrics.
    read_checkouts_waiting: Arc<AtomicUsize>,
    write_checkouts_waiting: Arc<AtomicUsize>,
    /// Statements run on each pool's connections, for the metrics.
    read_statements: Arc<AtomicU64>,
    write_statements: Arc<AtomicU64>,
}

/// The state of one connection pool, for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    pub in_use: u32,
    pub idle: u32,
    /// Requests waiting for a connection (for writes, also for their turn at the write gate).
    pub waiting: usize,
    /// Statements run on the pool's connections since the database was opened.
    pub statements: u64,
}

/// Counts a checkout as waiting for as long as it lives.
struct WaitingCheckout<'a>(&'a AtomicUsize);

impl<'a> WaitingCheckout<'a> {
    fn start(waiting: &'a AtomicUsize) -> Self {
        waiting.fetch_add(1, Ordering::Relaxed);
        Self(waiting)
    }
}

impl Drop for WaitingCheckout<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn pool_status(pool: &Pool, waiting: &AtomicUsize, statements: &AtomicU64) -> PoolStatus {
    let state = pool.state();
    PoolStatus {
        in_use: state.connections.saturating_sub(state.idle_connections),
        idle: state.idle_connections,
        waiting: waiting.load(Ordering::Relaxed),
        statements: statements.load(Ordering::Relaxed),
    }
}

impl Database {
    /// Opens the database with default settings and `read_pool_size` read connections.
    pub fn connect(url: &str, read_pool_size: u32) -> Result<Self, AppError> {
        Self::open(url, DatabaseSettings { read_pool_size, ..DatabaseSettings::default() })
    }

    /// [`Database::open_now`] with default settings and `read_pool_size` read connections.
    pub fn connect_now(url: &str, read_pool_size: u32) -> Result<Self, AppError> {
        Self::open_now(url, DatabaseSettings { read_pool_size, ..DatabaseSettings::default() })
    }

    /// [`Database::open`] for a command that needs the database at once (`serve`, `migrate`,
    /// `demo`, `user create`, `generate`): a PostgreSQL server that cannot be reached, refuses the login or
    /// lacks the database is one error naming the cause and the setting, after at most the
    /// connect timeout, not the pool's retries logged one by one until its checkout timeout.
    pub fn open_now(url: &str, settings: DatabaseSettings) -> Result<Self, AppError> {
        let parsed = DatabaseUrl::parse(url)?;
        if let DatabaseUrl::Postgres { url: postgres } = &parsed {
            use diesel::Connection;
            diesel::PgConnection::establish(&libpq_url(postgres, settings.connect_timeout)).map_err(|e| {
                AppError::Config(format!(
                    "cannot open the database named by DATABASE_URL ({}): {}",
                    parsed.redacted(),
                    one_line(&e.to_string())
                ))
            })?;
        }
        Self::open(url, settings)
    }

    /// Opens the database. PostgreSQL connections are opened lazily (an unreachable server is a
    /// 503 per request, not a failed start); a SQLite file is created and set to WAL here.
    pub fn open(url: &str, settings: DatabaseSettings) -> Result<Self, AppError> {
        let url = DatabaseUrl::parse(url)?;
        let backend = url.backend();
        let url = match url {
            DatabaseUrl::Sqlite { path } => {
                prepare_sqlite_file(&path)?;
                DatabaseUrl::Sqlite { path }
            }
            DatabaseUrl::Postgres { url } => DatabaseUrl::Postgres { url: libpq_url(&url, settings.connect_timeout) },
        };
        let write_pool_size = match backend {
            Backend::Sqlite => SQLITE_WRITE_CONNECTIONS,
            Backend::Postgres => settings.write_pool_size.clamp(1, MAX_POOL_SIZE),
        };
        let connection_failures = Arc::new(AtomicU64::new(0));
        let (read_statements, write_statements) = (Arc::default(), Arc::default());
        let pool = |role: PoolRole, size: u32, statements: &Arc<AtomicU64>| {
            let session = Session {
                role,
                statement_timeout: settings.statement_timeout,
                idle_in_transaction_timeout: settings.idle_in_transaction_timeout,
            };
            r2d2::Pool::builder()
                .max_size(size)
                // One connection at start, the others on demand.
                .min_idle(Some(1))
                .connection_timeout(settings.checkout_timeout)
                .error_handler(Box::new(ConnectionFailureLog { failures: Arc::clone(&connection_failures) }))
                .build_unchecked(ConnectionManager { url: url.clone(), session, statements: Arc::clone(statements) })
        };
        let reads = pool(PoolRole::Read, settings.read_pool_size.clamp(1, MAX_POOL_SIZE), &read_statements);
        let writes = pool(PoolRole::Write, write_pool_size, &write_statements);
        Ok(Self {
            reads,
            writes,
            write_gate: Arc::new(WriteGate::new(write_pool_size, settings.max_queued_writes)),
            backend,
            settings: Arc::new(settings),
            connection_failures,
            read_checkouts_waiting: Arc::default(),
            write_checkouts_waiting: Arc::default(),
            read_statements,
            write_statements,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn settings(&self) -> &DatabaseSettings {
        &self.settings
    }

    /// Writes waiting for their turn now.
    pub fn queued_writes(&self) -> usize {
        self.write_gate.queued()
    }

    /// The read and the write pool as they are now.
    pub fn pool_status(&self) -> [(&'static str, PoolStatus); 2] {
        let mut writes = pool_status(&self.writes, &self.write_checkouts_waiting, &self.write_statements);
        writes.waiting += self.write_gate.queued();
        [("read", pool_status(&self.reads, &self.read_checkouts_waiting, &self.read_statements)), ("write", writes)]
    }

    /// Connection attempts that failed since the database was opened (each is also logged).
    pub fn connection_failures(&self) -> u64 {
        self.connection_failures.load(Ordering::Relaxed)
    }

    fn migrations(&self) -> EmbeddedMigrations {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        }
    }

    /// Applies the embedded migrations of this backend.
    pub fn migrate(&self) -> Result<Vec<String>, AppError> {
        let _permit = self.write_gate.acquire(self.settings.write_wait)?;
        let mut conn = self.writes.get()?;
        let migrations = self.migrations();
        let backend = self.backend;
        let statement_timeout = self.settings.statement_timeout;
        conn.run(|conn| {
            // A migration may rightly take longer than any request.
            if backend == Backend::Postgres {
                conn.batch_execute("SET statement_timeout = 0")?;
            }
            let applied = conn
                .run_pending_migrations(migrations)
                .map(|versions| versions.iter().map(|v| v.to_string()).collect())
                .map_err(|e| AppError::Migration(e.to_string()));
            match backend {
                Backend::Postgres => {
                    conn.batch_execute(&format!("SET statement_timeout = {}", statement_timeout.as_millis()))?
                }
                // A table-rebuilding migration turns foreign keys off around its own transaction; if
                // it stopped halfway, this pooled connection must not keep them off.
                Backend::Sqlite => conn
                    .batch_execute("ROLLBACK; PRAGMA foreign_keys = ON")
                    .or_else(|_| conn.batch_execute("PRAGMA foreign_keys = ON"))?,
            }
            applied
        })
    }

    /// Applies only the embedded migrations older than `version` (diesel's digits-only form,
    /// `20261202000100`): the database as an earlier
    /// release left it, for tests that carry such a database forward with [`Database::migrate`].
    pub fn migrate_before(&self, version: &str) -> Result<Vec<String>, AppError> {
        let mut conn = self.writes.get()?;
        let migrations = self.migrations();
        conn.run(|conn| {
            let failed = |e: Box<dyn std::error::Error + Send + Sync>| AppError::Migration(e.to_string());
            // Creates diesel's table of applied migrations when it is missing.
            conn.applied_migrations().map_err(failed)?;
            let all =
                MigrationSource::<<DbConnection as Connection>::Backend>::migrations(&migrations).map_err(failed)?;
            let mut applied = Vec::new();
            for migration in all.iter().filter(|m| m.name().version().to_string().as_str() < version) {
                applied.push(conn.run_migration(&**migration).map_err(failed)?.to_string());
            }
            Ok(applied)
        })
    }

    /// True when the database answers and no migration is pending.
    pub fn is_ready(&self) -> Result<(), AppError> {
        self.check_ready(&Call::unbounded())
    }

    fn check_ready(&self, call: &Call) -> Result<(), AppError> {
        let expected: Vec<String> = match self.backend {
            Backend::Sqlite => MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS)
                .map_err(|e| AppError::Migration(e.to_string()))?
                .iter()
                .map(|m| m.name().version().to_string())
                .collect(),
            Backend::Postgres => MigrationSource::<diesel::pg::Pg>::migrations(&POSTGRES_MIGRATIONS)
                .map_err(|e| AppError::Migration(e.to_string()))?
                .iter()
                .map(|m| m.name().version().to_string())
                .collect(),
        };
        let applied: Vec<String> = self.read_call(call, |conn| {
            use applied_migrations::__diesel_schema_migrations::dsl::*;
            __diesel_schema_migrations
                .select(version)
                .load::<String>(conn)
                .map_err(|e| AppError::Unavailable(format!("cannot read the applied migrations: {e}")))
        })?;
        if expected.iter().any(|v| !applied.contains(v)) {
            return Err(AppError::Unavailable("migrations are pending".into()));
        }
        Ok(())
    }

    /// Readiness within [`DatabaseSettings::readiness_deadline`].
    pub async fn ready(&self) -> Result<(), AppError> {
        let db = self.clone();
        run_within(self.settings.readiness_deadline, move |call| db.check_ready(call)).await
    }

    /// Runs a read on a blocking thread (never on an actix worker), waiting for it at most the
    /// call deadline.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<AppError> + Send + 'static,
    {
        let db = self.clone();
        run_within(self.settings.call_deadline, move |call| db.read_call(call, f)).await
    }

    /// Runs `f` inside one transaction on a blocking thread: it commits only if `f` returns `Ok`
    /// and the caller still waits, so a write that fails (or times out) changes nothing.
    /// `scope` says whose data it changes: the [data version](data_version) it raises.
    pub async fn write<T, E, F>(&self, scope: WriteScope, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<AppError> + From<diesel::result::Error> + Send + 'static,
    {
        self.write_within(self.settings.call_deadline, scope, f).await
    }

    /// [`Database::write`] with the bulk write deadline, for an import: one transaction that may
    /// take longer than a request's deadline allows.
    pub async fn bulk_write<T, E, F>(&self, scope: WriteScope, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<AppError> + From<diesel::result::Error> + Send + 'static,
    {
        self.write_within(self.settings.bulk_write_deadline, scope, f).await
    }

    /// [`Database::write`] with its own deadline; it still waits for its turn at most the write
    /// wait.
    pub async fn write_within<T, E, F>(&self, deadline: Duration, scope: WriteScope, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<AppError> + From<diesel::result::Error> + Send + 'static,
    {
        let db = self.clone();
        run_within(deadline, move |call| db.write_call(call, scope, f)).await
    }

    /// A read on the calling thread, without deadline (command line, tests).
    pub fn read_blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<AppError>,
    {
        self.read_call(&Call::unbounded(), f)
    }

    /// A write transaction on the calling thread, without deadline (command line, tests); it
    /// waits for its turn like any write.
    pub fn write_blocking<T, E, F>(&self, scope: WriteScope, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<AppError> + From<diesel::result::Error>,
    {
        self.write_call(&Call::unbounded(), scope, f)
    }

    fn read_call<T, E, F>(&self, call: &Call, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<AppError>,
    {
        call.still_wanted()?;
        let checkout = WaitingCheckout::start(&self.read_checkouts_waiting);
        let mut conn = self.reads.get().map_err(AppError::from)?;
        drop(checkout);
        call.still_wanted()?;
        conn.run(f)
    }

    fn write_call<T, E, F>(&self, call: &Call, scope: WriteScope, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<AppError> + From<diesel::result::Error>,
    {
        call.still_wanted()?;
        // Queue for a turn before taking a connection, so waiting writers hold none.
        let _permit = self.write_gate.acquire(self.settings.write_wait)?;
        call.still_wanted()?;
        let checkout = WaitingCheckout::start(&self.write_checkouts_waiting);
        let mut conn = self.writes.get().map_err(AppError::from)?;
        drop(checkout);
        call.still_wanted()?;
        conn.run(|conn| {
            write_transaction(conn, |conn| {
                let value = f(conn)?;
                // Nobody waits for the answer any more: roll back rather than commit a change
                // the caller was told failed.
                call.still_wanted()?;
                // Commits together with the changes: cached answers of every process see it.
                data_version::raise(conn, scope)?;
                Ok(value)
            })
        })
    }
}

/// Runs `f` in one transaction that commits if it returns `Ok`. On SQLite it begins `IMMEDIATE`,
/// taking the file's write lock at once (waiting up to the busy timeout for another process's
/// writer): a deferred `BEGIN` that reads before it writes fails at its first write, without
/// waiting, with "database is locked" when another process (a `remind` pass beside the server)
/// committed meanwhile. PostgreSQL's transactions need nothing of the kind.
fn write_transaction<T, E>(conn: &mut DbConnection, f: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    fn sqlite(conn: &mut DbConnection) -> Result<&mut diesel::SqliteConnection, diesel::result::Error> {
        match conn {
            DbConnection::Sqlite(sqlite) => Ok(sqlite),
            DbConnection::Postgresql(_) => Err(diesel::result::Error::BrokenTransactionManager),
        }
    }
    if !matches!(conn, DbConnection::Sqlite(_)) {
        return conn.transaction(f);
    }
    AnsiTransactionManager::begin_transaction_sql(sqlite(conn)?, "BEGIN IMMEDIATE")?;
    // As diesel's own transactions end: an error of `f` wins over a failed rollback that leaves
    // the connection to be discarded.
    match f(conn) {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(sqlite(conn)?)?;
            Ok(value)
        }
        Err(error) => match AnsiTransactionManager::rollback_transaction(sqlite(conn)?) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
            Err(rollback_error) => Err(rollback_error.into()),
        },
    }
}

/// Creates the SQLite file (and its directory) and switches it to WAL, on one connection
/// before any pool opens: WAL is a property of the file, and lets readers run beside the writer.
fn prepare_sqlite_file(path: &str) -> Result<(), AppError> {
    check_sqlite_location(path)?;
    #[derive(QueryableByName)]
    struct JournalMode {
        #[diesel(sql_type = diesel::sql_types::Text)]
        journal_mode: String,
    }
    let mut conn = diesel::SqliteConnection::establish(path).map_err(|e| {
        AppError::Config(format!(
            "cannot open the SQLite database {path} named by DATABASE_URL: {}",
            one_line(&e.to_string())
        ))
    })?;
    conn.batch_execute(&format!("PRAGMA busy_timeout = {};", SQLITE_BUSY_TIMEOUT.as_millis()))
        .map_err(|e| AppError::Config(format!("cannot configure the SQLite database {path}: {e}")))?;
    let mode = diesel::sql_query("PRAGMA journal_mode = WAL")
        .get_result::<JournalMode>(&mut conn)
        .map_err(|e| AppError::Config(format!("cannot switch the SQLite database {path} to WAL: {e}")))?;
    if !mode.journal_mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(
            path,
            journal_mode = %mode.journal_mode,
            "SQLite could not use WAL here: reads will wait for writes"
        );
    }
    Ok(())
}

/// The SQLite file's directory exists and this process may create files in it (the database and
/// its `-wal` and `-shm` files), and an existing file is writable: otherwise one line saying so,
/// where SQLite would only say "unable to open database file" or "readonly database". A
/// bind-mounted directory owned by another user than the container's is the usual cause.
fn check_sqlite_location(path: &str) -> Result<(), AppError> {
    if path == ":memory:" || path.starts_with("file:") {
        return Ok(());
    }
    let file = std::path::Path::new(path);
    let dir = match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => std::path::Path::new("."),
    };
    let remedy = "give the user this runs as write access to it (the container image runs as uid 10001: \
                  `chown 10001` a bind-mounted directory on the host) or point DATABASE_URL elsewhere";
    std::fs::create_dir_all(dir).map_err(|e| {
        AppError::Config(format!(
            "cannot create the SQLite data directory {} named by DATABASE_URL ({e}): {remedy}",
            dir.display()
        ))
    })?;
    // Asking is the only reliable answer: permission bits say nothing about a read-only mount,
    // ACLs or root.
    static PROBES: AtomicU64 = AtomicU64::new(0);
    let probe = dir.join(format!(
        ".municipal-kpi-write-check-{}-{}",
        std::process::id(),
        PROBES.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::OpenOptions::new().write(true).create_new(true).open(&probe).map_err(|e| {
        AppError::Config(format!(
            "the SQLite data directory {} named by DATABASE_URL is not writable ({e}): {remedy}",
            dir.display()
        ))
    })?;
    let _ = std::fs::remove_file(&probe);
    if file.exists() {
        std::fs::OpenOptions::new().read(true).write(true).open(file).map_err(|e| {
            AppError::Config(format!(
                "the SQLite database {path} named by DATABASE_URL is not writable ({e}): {remedy}"
            ))
        })?;
    }
    Ok(())
}

/// A multi-line message (libpq's) on one line.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The PostgreSQL URL as libpq gets it: with `connect_timeout` unless the URL sets its own, and
/// without TLS to a loopback host unless the URL says anything about TLS (`sslmode`, `sslcert`,
/// …). libpq's default, `sslmode=prefer`, encrypts even to 127.0.0.1, where the traffic never
/// leaves the kernel: it protects nothing there and cost about a fifth of the CPU of a request
/// answered from the response cache (docs/benchmark.md).
fn libpq_url(url: &str, connect_timeout: Duration) -> String {
    let names: Vec<&str> = url
        .split_once('?')
        .map(|(_, query)| query.split('&').map(|pair| pair.split('=').next().unwrap_or_default()).collect())
        .unwrap_or_default();
    let mut added = Vec::new();
    if !names.contains(&"connect_timeout") {
        added.push(format!("connect_timeout={}", connect_timeout.max(MIN_CONNECT_TIMEOUT).as_secs()));
    }
    // A host given as a parameter (a Unix socket directory, several hosts) is left to libpq.
    let names_tls_or_host = names.iter().any(|name| name.starts_with("ssl") || matches!(*name, "requiressl" | "host"));
    if !names_tls_or_host && is_loopback_host(url) {
        added.push("sslmode=disable".to_owned());
    }
    if added.is_empty() {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{}", added.join("&"))
}

/// Whether the URL's host is this machine's loopback interface (`localhost`, 127.0.0.0/8, ::1).
fn is_loopback_host(url: &str) -> bool {
    let Some((_, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_and_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = match host_and_port.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host_and_port.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|address| address.is_loopback())
}

/// Decimals are stored as canonical text (exact on both backends).
pub fn decimal_to_text(value: rust_decimal::Decimal) -> String {
    value.normalize().to_string()
}

pub fn decimal_from_text(text: &str) -> Result<rust_decimal::Decimal, AppError> {
    text.parse().map_err(|_| AppError::Internal(format!("stored value `{text}` is not a decimal")))
}

pub fn optional_decimal(text: Option<&str>) -> Result<Option<rust_decimal::Decimal>, AppError> {
    text.map(decimal_from_text).transpose()
}

/// Enum columns hold the serde name of the value.
pub fn enum_from_column<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, AppError> {
    crate::domain::plan::from_text(text).map_err(AppError::Internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(3);

    #[test]
    fn a_loopback_url_gets_a_timeout_and_no_tls() {
        for url in [
            "postgres://kpi@127.0.0.1:5432/db",
            "postgres://kpi:secret@localhost/db",
            "postgresql://kpi@[::1]:5432/db",
            "postgres://127.0.0.2/db",
        ] {
            assert_eq!(libpq_url(url, TIMEOUT), format!("{url}?connect_timeout=3&sslmode=disable"), "{url}");
        }
    }

    #[test]
    fn a_remote_host_keeps_libpq_defaults_for_tls() {
        let url = "postgres://kpi@db.example:5432/municipal_kpi";
        assert_eq!(libpq_url(url, TIMEOUT), format!("{url}?connect_timeout=3"));
        assert_eq!(libpq_url("postgres://kpi@10.0.0.5/db", TIMEOUT), "postgres://kpi@10.0.0.5/db?connect_timeout=3");
        // The user name is not the host.
        assert_eq!(
            libpq_url("postgres://localhost@db.example/db", TIMEOUT),
            "postgres://localhost@db.example/db?connect_timeout=3"
        );
    }

    #[test]
    fn settings_in_the_url_win() {
        let url = "postgres://kpi@127.0.0.1/db?sslmode=require&connect_timeout=10";
        assert_eq!(libpq_url(url, TIMEOUT), url);
        let client_certificate = "postgres://kpi@localhost/db?sslcert=/etc/kpi/client.crt";
        assert_eq!(libpq_url(client_certificate, TIMEOUT), format!("{client_certificate}&connect_timeout=3"));
        // A host given as a parameter (e.g. a Unix socket directory) is libpq's to interpret.
        let socket = "postgres://kpi@localhost/db?host=/var/run/postgresql";
        assert_eq!(libpq_url(socket, TIMEOUT), format!("{socket}&connect_timeout=3"));
    }

    #[test]
    fn a_short_timeout_is_raised_to_libpqs_minimum() {
        assert_eq!(
            libpq_url("postgres://db.example/db", Duration::from_secs(1)),
            format!("postgres://db.example/db?connect_timeout={}", MIN_CONNECT_TIMEOUT.as_secs())
        );
    }
}
