//! How many active admins a municipality has, read so that two concurrent changes cannot each
//! leave the other admin as the last one and then both remove it.

use diesel::prelude::*;

use super::DbConnection;
use super::schema::{municipalities, users};
use crate::domain::role::Role;
use crate::error::AppError;

/// The municipality's active admins other than `except`. Call it inside the write transaction
/// that changes the account: on PostgreSQL it first locks the municipality's row, so a concurrent
/// change of another of its admins waits for this transaction and then counts what it committed
/// (SQLite has one writer at a time anyway).
pub fn other_active_admins(conn: &mut DbConnection, municipality_id: i32, except: i32) -> Result<i64, AppError> {
    if let DbConnection::Postgresql(pg) = conn {
        municipalities::table
            .find(municipality_id)
            .select(municipalities::id)
            .for_update()
            .first::<i32>(pg)
            .optional()?;
    }
    Ok(users::table
        .filter(users::municipality_id.eq(municipality_id))
        .filter(users::role.eq(Role::Admin.as_str()))
        .filter(users::active.eq(true))
        .filter(users::id.ne(except))
        .count()
        .get_result(conn)?)
}
