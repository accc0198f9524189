//! Data versions: counters that committed write transactions raise, in the same transaction as
//! their changes ([`super::Database`]'s write path does it, so no write can forget).
//!
//! There is one counter per municipality and one for the installation. A write states whose data
//! it changes ([`WriteScope`], a required argument of every write): a municipality's write raises
//! only that municipality's counter, so it invalidates only the cached answers of that
//! municipality and never waits for another municipality's write on a shared row. A write that
//! belongs to no one municipality raises the installation counter, which every cached answer
//! depends on: such writes (registering a municipality, the national catalogue, a system
//! administrator's changes) are rare, and invalidating everything for them is the safe side.
//!
//! Each municipality also has a non-actual counter, raised by all its writes but those of its
//! actuals ([`WriteScope::MunicipalityActuals`]): a plan's records besides its actuals (goals,
//! measures, indicators, targets, names, collections, 施策評価, the municipality's departments)
//! are read again only when that counter moves ([`crate::evaluation::records_cache`]). A write not
//! declared as one of actuals raises both, so a new kind of write cannot leave kept records stale.
//!
//! Readers that reuse computed answers (the [`crate::response_cache`]) read the installation
//! counter and the counter of the municipality that owns the requested record, with the caller
//! ([`super::caller_context`]): an answer computed after reading versions `v` reflects at least
//! every write up to `v`, and any later commit that could change it raises one of the two, so an
//! answer is never served for a version it does not reflect, whichever server process made the
//! write.

use diesel::prelude::*;

use super::schema::{data_version, municipality_data_versions};
use super::{DbConnection, on_each_backend};
use crate::db::audit::Actor;
use crate::error::AppError;

/// Whose data a write transaction changes: the counter it raises when it commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteScope {
    /// The data of this municipality only (its plans, departments, users, actuals).
    Municipality(i32),
    /// This municipality's actuals only (submissions and their reviews): raises its counter but not
    /// its non-actual counter, so the rest of its plans' records stays valid.
    MunicipalityActuals(i32),
    /// Data of no one municipality, or of several: every cached answer is invalidated.
    Installation,
}

impl WriteScope {
    /// The scope of the actor's writes: its municipality's data, or, for an actor of none (the
    /// system administrator, a command-line tool), the installation's.
    pub fn of(actor: &Actor) -> Self {
        actor.municipality_id.map_or(Self::Installation, Self::Municipality)
    }
}

/// Raises the scope's version; called last in every write transaction, so the row lock it takes
/// on PostgreSQL is held only until the commit that follows and never ahead of another lock. A
/// municipality's row is created by its first write.
pub fn raise(conn: &mut DbConnection, scope: WriteScope) -> Result<(), AppError> {
    match scope {
        WriteScope::Installation => {
            diesel::update(data_version::table.find(1))
                .set(data_version::counter.eq(data_version::counter + 1))
                .execute(conn)?;
        }
        WriteScope::Municipality(municipality_id) => {
            use municipality_data_versions::{counter, non_actual_counter, table};
            on_each_backend!(conn, |backend| diesel::insert_into(table)
                .values((
                    municipality_data_versions::municipality_id.eq(municipality_id),
                    counter.eq(1_i64),
                    non_actual_counter.eq(1_i64),
                ))
                .on_conflict(municipality_data_versions::municipality_id)
                .do_update()
                .set((counter.eq(counter + 1_i64), non_actual_counter.eq(non_actual_counter + 1_i64)))
                .execute(backend))?;
        }
        WriteScope::MunicipalityActuals(municipality_id) => {
            use municipality_data_versions::{counter, table};
            on_each_backend!(conn, |backend| diesel::insert_into(table)
                .values((municipality_data_versions::municipality_id.eq(municipality_id), counter.eq(1_i64)))
                .on_conflict(municipality_data_versions::municipality_id)
                .do_update()
                .set(counter.eq(counter + 1_i64))
                .execute(backend))?;
        }
    }
    Ok(())
}
