//! `backup` and `restore`: a consistent copy of the database taken while the server runs, and its
//! return into a new, empty database, brought up to date by the pending migrations.
//!
//! SQLite: `VACUUM INTO` reads one snapshot (a read transaction, so writers carry on) into a new
//! file. PostgreSQL: `pg_dump --format=custom` (one snapshot too) and `pg_restore` in a single
//! transaction, so a restore that fails leaves the database as it was. The PostgreSQL client tools
//! must be installed where these commands run.
//!
//! Either way the output is written to a temporary file beside it and moved into place only when
//! complete: a failed backup leaves nothing, and an existing file is never overwritten.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

use diesel::connection::SimpleConnection;
use diesel::{Connection, QueryableByName, RunQueryDsl};

use crate::db::{self, DatabaseUrl, SQLITE_BUSY_TIMEOUT};
use crate::error::AppError;

/// Writes a copy of the database named by `database_url` to `output`, which must not exist.
pub fn backup(database_url: &str, output: &Path) -> Result<(), AppError> {
    refuse_existing(output)?;
    let partial = PartialFile::beside(output)?;
    match DatabaseUrl::parse(database_url)? {
        DatabaseUrl::Sqlite { path } => {
            if !Path::new(&path).is_file() {
                return Err(AppError::Config(format!("no SQLite database at {path} (DATABASE_URL)")));
            }
            let mut conn = open_sqlite(&path)?;
            vacuum_into(&mut conn, partial.path())?;
        }
        DatabaseUrl::Postgres { url } => {
            let (url, password) = without_password(&url)?;
            let mut dump = Command::new("pg_dump");
            dump.arg("--format=custom").arg("--file").arg(partial.path()).arg("--dbname").arg(url);
            run_client_tool("pg_dump", dump, password.as_deref())?;
        }
    }
    partial.keep_as(output)
}

/// Restores the backup `input` into the empty database named by `database_url`, then applies the
/// pending migrations (a backup of an earlier release comes up to date). Returns them.
pub fn restore(database_url: &str, input: &Path) -> Result<Vec<String>, AppError> {
    if !input.is_file() {
        return Err(AppError::Config(format!("no backup file at {}", input.display())));
    }
    match DatabaseUrl::parse(database_url)? {
        DatabaseUrl::Sqlite { path } => restore_sqlite(input, Path::new(&path))?,
        DatabaseUrl::Postgres { url } => {
            refuse_non_empty(first_postgres_table(&mut open_postgres(&url)?)?)?;
            let (url, password) = without_password(&url)?;
            let mut restore = Command::new("pg_restore");
            // Owners and grants are the old server's; the restoring role owns what it creates.
            restore
                .args(["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--dbname"])
                .arg(url)
                .arg(input);
            run_client_tool("pg_restore", restore, password.as_deref())?;
        }
    }
    db::Database::connect_now(database_url, 1)?.migrate()
}

fn restore_sqlite(input: &Path, target: &Path) -> Result<(), AppError> {
    if target.is_file() && std::fs::metadata(target).map(|m| m.len()).unwrap_or(0) > 0 {
        refuse_non_empty(first_sqlite_table(&mut open_sqlite(&target.to_string_lossy())?)?)?;
    }
    let mut backup = open_sqlite(&input.to_string_lossy())?;
    let is_ours = first_table_named(&mut backup, "__diesel_schema_migrations")
        .map_err(|e| not_a_backup(input, &e.to_string()))?;
    if !is_ours {
        return Err(not_a_backup(input, "it holds no municipal-kpi tables"));
    }
    let partial = PartialFile::beside(target)?;
    vacuum_into(&mut backup, partial.path())?;
    drop(backup);
    // The empty database's own journal files would be read as this file's.
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", target.display()));
    }
    partial.replace(target)
}

fn not_a_backup(input: &Path, why: &str) -> AppError {
    AppError::Config(format!("{} is not a municipal-kpi SQLite backup: {}", input.display(), db::one_line(why)))
}

fn refuse_existing(output: &Path) -> Result<(), AppError> {
    if output.symlink_metadata().is_ok() {
        return Err(AppError::Conflict(format!(
            "{} already exists; backup never overwrites a file (choose a new name)",
            output.display()
        )));
    }
    Ok(())
}

fn refuse_non_empty(table: Option<String>) -> Result<(), AppError> {
    match table {
        None => Ok(()),
        Some(table) => Err(AppError::Conflict(format!(
            "restore needs an empty database, and DATABASE_URL already holds table {table}; \
             restore into a new database (or a new SQLite file) instead"
        ))),
    }
}

#[derive(QueryableByName)]
struct TableName {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

const SQLITE_TABLES: &str =
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name LIMIT 1";
const POSTGRES_TABLES: &str = "SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg_toast%' ORDER BY c.relname LIMIT 1";

/// Any table of the SQLite database (diesel's table of applied migrations included), or none.
fn first_sqlite_table(conn: &mut diesel::SqliteConnection) -> Result<Option<String>, AppError> {
    let found: Vec<TableName> = diesel::sql_query(SQLITE_TABLES).load(conn)?;
    Ok(found.into_iter().next().map(|table| table.name))
}

/// Any table of the PostgreSQL database, in any schema of its own, or none.
fn first_postgres_table(conn: &mut diesel::PgConnection) -> Result<Option<String>, AppError> {
    let found: Vec<TableName> = diesel::sql_query(POSTGRES_TABLES).load(conn)?;
    Ok(found.into_iter().next().map(|table| table.name))
}

fn first_table_named(conn: &mut diesel::SqliteConnection, name: &str) -> Result<bool, diesel::result::Error> {
    let found: Vec<TableName> = diesel::sql_query("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?")
        .bind::<diesel::sql_types::Text, _>(name)
        .load(conn)?;
    Ok(!found.is_empty())
}

fn open_sqlite(path: &str) -> Result<diesel::SqliteConnection, AppError> {
    let mut conn = diesel::SqliteConnection::establish(path).map_err(|e| {
        AppError::Config(format!("cannot open the SQLite database {path}: {}", db::one_line(&e.to_string())))
    })?;
    // The server may be writing: wait for its write to end rather than fail.
    conn.batch_execute(&format!("PRAGMA busy_timeout = {};", SQLITE_BUSY_TIMEOUT.as_millis()))?;
    Ok(conn)
}

fn open_postgres(url: &str) -> Result<diesel::PgConnection, AppError> {
    diesel::PgConnection::establish(url).map_err(|e| {
        AppError::Config(format!(
            "cannot connect to the PostgreSQL database named by DATABASE_URL: {}",
            db::one_line(&e.to_string())
        ))
    })
}

fn vacuum_into(conn: &mut diesel::SqliteConnection, destination: &Path) -> Result<(), AppError> {
    let destination = destination
        .to_str()
        .ok_or_else(|| AppError::Config(format!("{} is not a UTF-8 path", destination.display())))?;
    conn.batch_execute(&format!("VACUUM INTO '{}'", destination.replace('\'', "''")))
        .map_err(|e| AppError::Config(format!("cannot copy the SQLite database: {}", db::one_line(&e.to_string()))))
}

/// The URL without its password, and the password (percent-decoded) for `PGPASSWORD`: a password
/// on a command line is visible to every user of the machine.
fn without_password(url: &str) -> Result<(String, Option<String>), AppError> {
    let mut parsed = url::Url::parse(url).map_err(|e| AppError::Config(format!("DATABASE_URL is not a URL: {e}")))?;
    let password = parsed.password().map(percent_decode).transpose()?;
    if password.is_some() {
        parsed.set_password(None).map_err(|()| AppError::Config("DATABASE_URL has no host".into()))?;
    }
    Ok((parsed.to_string(), password))
}

fn percent_decode(text: &str) -> Result<String, AppError> {
    url::form_urlencoded::parse(format!("p={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .ok_or_else(|| AppError::Config("DATABASE_URL has an unreadable password".into()))
}

/// Runs `pg_dump` or `pg_restore`: one line naming the tool when it is missing or fails.
fn run_client_tool(tool: &str, mut command: Command, password: Option<&str>) -> Result<(), AppError> {
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let output = command.output().map_err(|e| match e.kind() {
        ErrorKind::NotFound => AppError::Config(format!(
            "{tool} not found: install the PostgreSQL client tools (e.g. the postgresql-client package, \
             the server's major version or newer) and put them on PATH"
        )),
        _ => AppError::Config(format!("cannot run {tool}: {e}")),
    })?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(AppError::Unavailable(format!("{tool} failed ({}): {}", output.status, db::one_line(&stderr))))
}

/// A file being written beside its final name, removed unless it is moved into place.
struct PartialFile {
    path: PathBuf,
}

impl PartialFile {
    fn beside(destination: &Path) -> Result<Self, AppError> {
        let name = destination
            .file_name()
            .ok_or_else(|| AppError::Config(format!("{} names no file", destination.display())))?;
        let directory = destination.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if !directory.is_dir() {
            return Err(AppError::Config(format!("no directory {}", directory.display())));
        }
        let unique = uuid::Uuid::new_v4().simple();
        let path = directory.join(format!(".{}.partial-{unique}", name.to_string_lossy()));
        Ok(Self { path })
    }

    fn path(&self) -> &Path {
        &self.path
    }

    /// Moves the file to `destination` unless something appeared there meanwhile: a hard link
    /// fails on an existing name, where a rename would replace it.
    fn keep_as(self, destination: &Path) -> Result<(), AppError> {
        match std::fs::hard_link(&self.path, destination) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => refuse_existing(destination),
            // A file system without hard links: the check before the backup stands.
            Err(_) => self.replace(destination),
        }
    }

    fn replace(&self, destination: &Path) -> Result<(), AppError> {
        std::fs::rename(&self.path, destination)
            .map_err(|e| AppError::Config(format!("cannot write {}: {e}", destination.display())))
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_url_for_pgpassword() {
        let (url, password) = without_password("postgres://kpi:p%40ss+w@db.example:5432/municipal_kpi").unwrap();
        assert_eq!(url, "postgres://kpi@db.example:5432/municipal_kpi");
        assert_eq!(password.as_deref(), Some("p@ss+w"));
        let (url, password) = without_password("postgres://postgres@127.0.0.1/kpi").unwrap();
        assert_eq!((url.as_str(), password), ("postgres://postgres@127.0.0.1/kpi", None));
    }

    #[test]
    fn a_backup_never_replaces_an_existing_file() {
        let directory = std::env::temp_dir().join(format!("mkpi-backup-unit-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&directory).unwrap();
        let existing = directory.join("existing.db");
        std::fs::write(&existing, b"earlier backup").unwrap();
        let error = backup(&format!("sqlite://{}", directory.join("absent.db").display()), &existing).unwrap_err();
        assert!(error.to_string().contains("already exists"), "{error}");
        assert_eq!(std::fs::read(&existing).unwrap(), b"earlier backup");
        assert_eq!(std::fs::read_dir(&directory).unwrap().count(), 1, "no partial file is left");
        std::fs::remove_dir_all(&directory).unwrap();
    }
}
