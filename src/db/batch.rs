//! Many rows in a few statements, for bulk writes (an actuals import, a plan document): a
//! multi-row `INSERT` on SQLite and `COPY … FROM STDIN` in the binary format on PostgreSQL
//! ([`insert_many!`]): there a multi-row `INSERT` of 1,000 rows is a statement of thousands of
//! parameters that PostgreSQL parses and plans anew each time. `COPY` returns no ids, so rows whose
//! ids are needed take them first ([`reserve_ids`]).

use diesel::prelude::*;
use diesel::sql_types::Integer;

use super::DbConnection;
use crate::error::AppError;

/// Rows per statement (an `INSERT` on SQLite, a `COPY` on PostgreSQL): keeps SQLite's statements
/// under its 32 766 bound parameters (up to 25 columns a row), and bounds the rows built in memory
/// at once.
pub const WRITE_BATCH_ROWS: usize = 1000;

/// Inserts `rows` (a slice of one `Insertable` struct) into `table`: a multi-row `INSERT` on
/// SQLite, a binary `COPY` on PostgreSQL. The structs set `treat_none_as_default_value = false`,
/// which `COPY` needs (it has no `DEFAULT` either).
macro_rules! insert_many {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite(sqlite) => diesel::insert_into($table).values($rows).execute(sqlite),
            $crate::db::DbConnection::Postgresql(postgres) => {
                diesel::copy_from($table).from_insertable($rows).execute(postgres)
            }
        }
    };
}
pub(crate) use insert_many;

/// Tables whose ids a bulk write takes before writing its rows.
#[derive(Debug, Clone, Copy)]
pub enum IdTable {
    Actuals,
    Indicators,
}

impl IdTable {
    fn name(self) -> &'static str {
        match self {
            Self::Actuals => "actuals",
            Self::Indicators => "indicators",
        }
    }
}

/// `count` new ids of `table`, taken before the rows are written so that they can go by `COPY`
/// (which returns nothing) and their children can name them. PostgreSQL hands them out from the
/// table's sequence, as an insert would. SQLite's `AUTOINCREMENT` counter is read inside the write
/// transaction: this process has one SQLite writer, and a commit by another process after the read
/// makes SQLite refuse this transaction's writes (its snapshot is stale), so no id is taken twice.
/// SQLite moves the counter on past explicit ids by itself.
pub fn reserve_ids(conn: &mut DbConnection, table: IdTable, count: usize) -> Result<Vec<i32>, AppError> {
    let count = i32::try_from(count).map_err(|_| AppError::Internal("too many rows at once".into()))?;
    let table = table.name();
    match conn {
        DbConnection::Postgresql(postgres) => {
            let reserved: Vec<ReservedId> = diesel::sql_query(format!(
                "SELECT nextval(pg_get_serial_sequence('{table}', 'id'))::integer AS id FROM generate_series(1, $1)"
            ))
            .bind::<Integer, _>(count)
            .load(postgres)?;
            Ok(reserved.into_iter().map(|reserved| reserved.id).collect())
        }
        DbConnection::Sqlite(sqlite) => {
            let last: ReservedId = diesel::sql_query(format!(
                "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '{table}'), 0) AS id"
            ))
            .get_result(sqlite)?;
            Ok((1..=count).map(|offset| last.id + offset).collect())
        }
    }
}

#[derive(QueryableByName)]
struct ReservedId {
    #[diesel(sql_type = Integer)]
    id: i32,
}
