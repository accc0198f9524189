//! Multi-row inserts of generated rows at load speed, for the synthetic nationwide data set: one
//! `INSERT … VALUES (…), (…), …` statement per [`ROWS_PER_STATEMENT`] rows, with ids chosen by
//! the caller so that child rows can name their parents without reading them back.
//!
//! Values are written as SQL literals. Only generated data (numbers, and text built by the
//! generator) goes through here, never a request's input; text is quoted all the same.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable};

use super::DbConnection;
use crate::error::AppError;

/// Rows per statement: large enough to amortise the round trip, small enough to stay far below
/// PostgreSQL's statement timeout and SQLite's statement length limit.
pub const ROWS_PER_STATEMENT: usize = 2000;

/// One value of a generated row.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Int(i64),
    Bool(bool),
    Text(String),
}

impl Literal {
    fn write(&self, sql: &mut String) {
        match self {
            Self::Null => sql.push_str("NULL"),
            Self::Int(value) => sql.push_str(&value.to_string()),
            // TRUE/FALSE are keywords on both backends (SQLite ≥ 3.23).
            Self::Bool(value) => sql.push_str(if *value { "TRUE" } else { "FALSE" }),
            Self::Text(text) => {
                sql.push('\'');
                sql.push_str(&text.replace('\'', "''"));
                sql.push('\'');
            }
        }
    }
}

impl From<i32> for Literal {
    fn from(value: i32) -> Self {
        Self::Int(i64::from(value))
    }
}

impl From<&str> for Literal {
    fn from(value: &str) -> Self {
        Self::Text(value.to_owned())
    }
}

impl From<String> for Literal {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}

impl<T: Into<Literal>> From<Option<T>> for Literal {
    fn from(value: Option<T>) -> Self {
        value.map_or(Self::Null, Into::into)
    }
}

/// The statements inserting `rows` into `table`.
pub fn insert_statements(table: &str, columns: &[&str], rows: &[Vec<Literal>]) -> Vec<String> {
    rows.chunks(ROWS_PER_STATEMENT)
        .map(|chunk| {
            let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
            for (index, row) in chunk.iter().enumerate() {
                sql.push_str(if index == 0 { "(" } else { ", (" });
                for (position, value) in row.iter().enumerate() {
                    if position > 0 {
                        sql.push_str(", ");
                    }
                    value.write(&mut sql);
                }
                sql.push(')');
            }
            sql
        })
        .collect()
}

pub fn insert(conn: &mut DbConnection, table: &str, columns: &[&str], rows: &[Vec<Literal>]) -> Result<(), AppError> {
    for statement in insert_statements(table, columns, rows) {
        conn.batch_execute(&statement)?;
    }
    Ok(())
}

#[derive(QueryableByName)]
struct MaxId {
    #[diesel(sql_type = Nullable<Integer>)]
    id: Option<i32>,
}

/// The largest id in `table` (0 when empty): generated rows take the ids after it.
pub fn max_id(conn: &mut DbConnection, table: &str) -> Result<i32, AppError> {
    let found: MaxId = diesel::sql_query(format!("SELECT MAX(id) AS id FROM {table}")).get_result(conn)?;
    Ok(found.id.unwrap_or(0))
}

/// After rows were inserted with explicit ids, the next id the database hands out must follow
/// them: PostgreSQL's sequence is moved on; SQLite's AUTOINCREMENT counter follows by itself.
pub fn resync_ids(conn: &mut DbConnection, table: &str) -> Result<(), AppError> {
    if let DbConnection::Postgresql(_) = conn {
        conn.batch_execute(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_batched_and_text_is_quoted() {
        let rows: Vec<Vec<Literal>> = (0..3)
            .map(|i| vec![Literal::from(i), Literal::from("O'Brien"), Literal::Null, Literal::Bool(true)])
            .collect();
        let statements = insert_statements("t", &["id", "name", "note", "flag"], &rows);
        assert_eq!(
            statements,
            ["INSERT INTO t (id, name, note, flag) VALUES (0, 'O''Brien', NULL, TRUE), (1, 'O''Brien', NULL, TRUE), \
              (2, 'O''Brien', NULL, TRUE)"]
        );
        let many: Vec<Vec<Literal>> = (0..4001).map(|i| vec![Literal::from(i)]).collect();
        assert_eq!(insert_statements("t", &["id"], &many).len(), 3);
    }
}
