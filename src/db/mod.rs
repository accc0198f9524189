//! Storage: one codebase over SQLite and PostgreSQL.
//!
//! Everything that differs between the two backends lives in this file: how a URL picks the
//! backend, per-connection SQLite pragmas, how writes are serialised and which migrations run.
//! The query modules below are written once against [`DbConnection`].

pub mod actuals;
pub mod audit;
pub mod collections;
pub mod departments;
pub mod indicators;
pub mod measures;
pub mod plans;
pub mod schema;
pub mod users;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::AppError;

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

/// r2d2 manager that opens the backend named by the URL and prepares each connection.
#[derive(Debug)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = diesel::ConnectionError;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        match &self.url {
            DatabaseUrl::Sqlite { path } => {
                let mut conn = diesel::SqliteConnection::establish(path)?;
                // The busy timeout comes first so that the other pragmas wait for a lock instead
                // of failing while the pool opens several connections at once. Foreign keys are
                // off by default in SQLite; WAL lets readers run beside the single writer.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                )
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Sqlite(conn))
            }
            DatabaseUrl::Postgres { url } => diesel::PgConnection::establish(url).map(DbConnection::Postgresql),
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        conn.batch_execute("SELECT 1").map_err(diesel::ConnectionError::CouldntSetupConfiguration)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

pub type Pool = r2d2::Pool<ConnectionManager>;

/// The application's handle on its database. Cheap to clone.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    backend: Backend,
    /// SQLite allows one writer at a time and a deferred transaction that upgrades to a write can
    /// fail at once with "database is locked" instead of waiting; writes from this process are
    /// therefore queued here. PostgreSQL needs no such lock.
    sqlite_write_lock: Arc<Mutex<()>>,
}

impl Database {
    pub fn connect(url: &str, max_connections: u32) -> Result<Self, AppError> {
        let url = DatabaseUrl::parse(url)?;
        if let DatabaseUrl::Sqlite { path } = &url
            && let Some(dir) = std::path::Path::new(path).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| AppError::Config(format!("cannot create directory {}: {e}", dir.display())))?;
        }
        let backend = url.backend();
        let pool = r2d2::Pool::builder()
            .max_size(max_connections)
            .connection_timeout(Duration::from_secs(5))
            .build_unchecked(ConnectionManager { url });
        Ok(Self { pool, backend, sqlite_write_lock: Arc::new(Mutex::new(())) })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn connection(&self) -> Result<r2d2::PooledConnection<ConnectionManager>, AppError> {
        self.pool.get().map_err(|e| AppError::Unavailable(e.to_string()))
    }

    /// Applies the embedded migrations of this backend.
    pub fn migrate(&self) -> Result<Vec<String>, AppError> {
        let mut conn = self.connection()?;
        let migrations = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let applied = conn.run_pending_migrations(migrations).map_err(|e| AppError::Migration(e.to_string()))?;
        Ok(applied.iter().map(|v| v.to_string()).collect())
    }

    /// True when the database answers and no migration is pending.
    pub fn is_ready(&self) -> Result<(), AppError> {
        let mut conn = self.connection()?;
        let migrations = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let pending = conn.has_pending_migration(migrations).map_err(|e| AppError::Unavailable(e.to_string()))?;
        if pending {
            return Err(AppError::Unavailable("migrations are pending".into()));
        }
        Ok(())
    }

    /// Runs a read on a blocking thread (never on an actix worker).
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<AppError> + Send + 'static,
    {
        let db = self.clone();
        actix_web::web::block(move || db.read_blocking(f))
            .await
            .map_err(|e| E::from(AppError::Unavailable(e.to_string())))?
    }

    /// Runs `f` inside one transaction on a blocking thread: it commits only if `f` returns `Ok`,
    /// so a write that fails changes nothing.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<AppError> + From<diesel::result::Error> + Send + 'static,
    {
        let db = self.clone();
        actix_web::web::block(move || db.write_blocking(f))
            .await
            .map_err(|e| E::from(AppError::Unavailable(e.to_string())))?
    }

    pub fn read_blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<AppError>,
    {
        let mut conn = self.connection()?;
        f(&mut conn)
    }

    pub fn write_blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<AppError> + From<diesel::result::Error>,
    {
        let mut conn = self.connection()?;
        let _queued = match self.backend {
            // A poisoned lock only means another writer panicked; the database itself is intact.
            Backend::Sqlite => Some(self.sqlite_write_lock.lock().unwrap_or_else(|p| p.into_inner())),
            Backend::Postgres => None,
        };
        let conn: &mut DbConnection = &mut conn;
        conn.transaction(f)
    }
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
