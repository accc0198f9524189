//! The data version: a counter that every committed write transaction raises, in the same
//! transaction as its changes ([`super::Database`]'s write path does it, so no write can forget).
//!
//! Readers that reuse computed answers (the [`crate::response_cache`]) read it first, with the
//! caller ([`super::caller_context`]): an answer computed after reading version `v` reflects at
//! least every write up to `v`, and any later commit raises the counter, so an answer is never
//! served for a version it does not reflect, whichever server process made the write.

use diesel::prelude::*;

use super::DbConnection;
use super::schema::data_version;
use crate::error::AppError;

/// Raises the version; called last in every write transaction, so the row lock it takes on
/// PostgreSQL is held only until the commit that follows and never ahead of another lock.
pub fn raise(conn: &mut DbConnection) -> Result<(), AppError> {
    diesel::update(data_version::table.find(1))
        .set(data_version::counter.eq(data_version::counter + 1))
        .execute(conn)?;
    Ok(())
}
