//! Whose a stored resource is: the one lookup behind isolation between municipalities
//! (`auth::tenancy`).

use diesel::prelude::*;

use super::DbConnection;
use super::schema::{departments, goals, indicators, measures, plans, strategies, users};
use crate::auth::tenancy::OwnedResource;
use crate::error::AppError;

/// The municipality the resource belongs to: `None` when it does not exist, `Some(None)` for an
/// account of no municipality (system_admin, analyst). One query.
pub fn municipality_of(conn: &mut DbConnection, resource: OwnedResource) -> Result<Option<Option<i32>>, AppError> {
    let found: Option<Option<i32>> = match resource {
        OwnedResource::Plan(id) => {
            plans::table.find(id).select(plans::municipality_id.nullable()).first(conn).optional()?
        }
        OwnedResource::Goal(id) => goals::table
            .inner_join(plans::table)
            .filter(goals::id.eq(id))
            .select(plans::municipality_id.nullable())
            .first(conn)
            .optional()?,
        OwnedResource::Strategy(id) => strategies::table
            .inner_join(plans::table)
            .filter(strategies::id.eq(id))
            .select(plans::municipality_id.nullable())
            .first(conn)
            .optional()?,
        OwnedResource::Measure(id) => measures::table
            .inner_join(plans::table)
            .filter(measures::id.eq(id))
            .select(plans::municipality_id.nullable())
            .first(conn)
            .optional()?,
        OwnedResource::Indicator(id) => indicators::table
            .inner_join(measures::table.inner_join(plans::table))
            .filter(indicators::id.eq(id))
            .select(plans::municipality_id.nullable())
            .first(conn)
            .optional()?,
        OwnedResource::Department(id) => {
            departments::table.find(id).select(departments::municipality_id.nullable()).first(conn).optional()?
        }
        OwnedResource::User(id) => users::table.find(id).select(users::municipality_id).first(conn).optional()?,
    };
    Ok(found)
}
