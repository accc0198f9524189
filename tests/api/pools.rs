//! The read and write pools: a clean start, read connections that refuse to write, and
//! connections the server closed are not handed out again.

use diesel::prelude::*;
use std::time::Duration;

use municipal_kpi::db::audit::Actor;
use municipal_kpi::db::{Database, DatabaseSettings, departments};
use municipal_kpi::domain::municipality_code::MunicipalityCode;
use municipal_kpi::error::AppError;

use crate::helpers::{Backend, TestDatabase};
use crate::on_both_backends;

on_both_backends!(
    many_connections_open_at_once_without_a_failure,
    reads_cannot_write_and_writes_can,
    a_write_past_its_deadline_is_rolled_back
);
crate::postgres_tests!(a_connection_the_server_closed_is_replaced);

/// Opens a fresh database and makes both pools open connections at the same time; SQLite used to
/// fail some with "database is locked" while each switched the new file to WAL.
async fn many_connections_open_at_once_without_a_failure(backend: Backend) {
    let database = TestDatabase::create(backend);
    let db = Database::open(&database.url, DatabaseSettings { read_pool_size: 8, ..DatabaseSettings::default() })
        .expect("open");
    db.migrate().expect("migrations");
    let workers: Vec<_> = (0..16)
        .map(|_| {
            let db = db.clone();
            std::thread::spawn(move || {
                db.read_blocking(|conn| {
                    diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>("1"))
                        .get_result::<i32>(conn)
                        .map_err(AppError::from)
                })
            })
        })
        .collect();
    for worker in workers {
        assert_eq!(worker.join().expect("no panic").expect("read"), 1);
    }
    db.is_ready().expect("ready");
    assert_eq!(db.connection_failures(), 0, "no connection attempt failed");
}

/// A read that writes fails on both backends instead of competing with the writer.
async fn reads_cannot_write_and_writes_can(backend: Backend) {
    let database = TestDatabase::create(backend);
    let db = Database::connect(&database.url, 2).expect("open");
    db.migrate().expect("migrations");
    let statement = "CREATE TABLE read_pool_probe (id INTEGER PRIMARY KEY)";
    let refused = db.read_blocking(|conn| diesel::sql_query(statement).execute(conn).map_err(AppError::from));
    assert!(refused.is_err(), "a read connection executed a write");
    db.write_blocking(municipal_kpi::db::WriteScope::Installation, |conn| {
        diesel::sql_query(statement).execute(conn).map_err(AppError::from)
    })
    .expect("a write connection writes");
}

/// The caller was told 503: the write it gave up on must not be committed afterwards.
async fn a_write_past_its_deadline_is_rolled_back(backend: Backend) {
    let database = TestDatabase::create(backend);
    let settings = DatabaseSettings { call_deadline: Duration::from_millis(200), ..DatabaseSettings::default() };
    let db = Database::open(&database.url, settings).expect("open");
    db.migrate().expect("migrations");
    let (finish, finished) = std::sync::mpsc::channel::<()>();
    let outcome = db
        .write(municipal_kpi::db::WriteScope::Installation, move |conn| {
            let code = MunicipalityCode::parse("131199").expect("valid code");
            departments::create_municipality(conn, &Actor::system("test"), &code, "板橋区")?;
            // Still working when the caller stops waiting.
            let _ = finished.recv();
            Ok::<_, AppError>(())
        })
        .await;
    assert!(matches!(outcome, Err(AppError::Unavailable(_))), "{outcome:?}");
    drop(finish);
    // The next write waits for the abandoned one to finish, so what it left is visible now.
    db.write_blocking(municipal_kpi::db::WriteScope::Installation, |_conn| Ok::<_, AppError>(()))
        .expect("the write slot is free again");
    let stored = db.read_blocking(departments::list_municipalities).expect("read");
    assert!(stored.is_empty(), "the abandoned write was committed: {stored:?}");
}

async fn a_connection_the_server_closed_is_replaced() {
    #[derive(QueryableByName)]
    struct Pid {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pid: i32,
    }
    let pid = |conn: &mut municipal_kpi::db::DbConnection| {
        diesel::sql_query("SELECT pg_backend_pid() AS pid")
            .get_result::<Pid>(conn)
            .map(|p| p.pid)
            .map_err(AppError::from)
    };
    let database = TestDatabase::create(Backend::Postgres);
    let db = Database::connect(&database.url, 1).expect("open");
    let first = db.read_blocking(pid).expect("pid");
    // The server ends this very session, as a restart or an administrator would.
    let closed = db.read_blocking(|conn| {
        diesel::sql_query("SELECT pg_terminate_backend(pg_backend_pid())").execute(conn).map_err(AppError::from)
    });
    match closed {
        Err(AppError::Unavailable(_)) => {}
        other => panic!("a closed connection is a 503, not {other:?}"),
    }
    let second = db.read_blocking(pid).expect("a fresh connection answers");
    assert_ne!(first, second, "the closed connection was not handed out again");
}
