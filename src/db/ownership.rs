//! Whose a stored resource is: the one lookup behind isolation between municipalities
//! (`auth::tenancy`).

use diesel::prelude::*;

use super::DbConnection;
use super::schema::users;
use crate::domain::ids::RecordId;
use crate::domain::resource::OwnedResource;
use crate::error::AppError;

/// Whose indicator `id` is: the query of its plan's municipality (an [`owner_query`] of its own,
/// for a statement that also reads the indicator).
macro_rules! indicator_owner {
    ($id:expr) => {{
        use $crate::db::schema::{indicators, measures, plans};
        indicators::table
            .inner_join(measures::table.inner_join(plans::table))
            .filter(indicators::id.eq($id.get()))
            .select(plans::municipality_id)
    }};
}
pub(super) use indicator_owner;

/// Evaluates `$body` with `$query` bound to the query selecting the municipality of the plan or
/// department that `$resource` belongs to (a statement type of its own per kind, so that each is
/// prepared once), or `$user` for a user, bound to its id, whose municipality may be none.
macro_rules! owner_query {
    ($resource:expr, |$query:ident| $body:expr, user($user_id:ident) => $user:expr) => {{
        use $crate::db::schema::{departments, goals, measures, plans, strategies};
        use $crate::domain::resource::OwnedResource;
        match $resource {
            OwnedResource::Plan(id) => {
                let $query = plans::table.find(id.get()).select(plans::municipality_id);
                $body
            }
            OwnedResource::Goal(id) => {
                let $query =
                    goals::table.inner_join(plans::table).filter(goals::id.eq(id.get())).select(plans::municipality_id);
                $body
            }
            OwnedResource::Strategy(id) => {
                let $query = strategies::table
                    .inner_join(plans::table)
                    .filter(strategies::id.eq(id.get()))
                    .select(plans::municipality_id);
                $body
            }
            OwnedResource::Measure(id) => {
                let $query = measures::table
                    .inner_join(plans::table)
                    .filter(measures::id.eq(id.get()))
                    .select(plans::municipality_id);
                $body
            }
            OwnedResource::Indicator(id) => {
                let $query = $crate::db::ownership::indicator_owner!(id);
                $body
            }
            OwnedResource::Department(id) => {
                let $query = departments::table.find(id.get()).select(departments::municipality_id);
                $body
            }
            OwnedResource::User($user_id) => $user,
        }
    }};
}
pub(super) use owner_query;

/// The municipality the resource belongs to: `None` when it does not exist, `Some(None)` for an
/// account of no municipality (system_admin, analyst). One query.
pub fn municipality_of(conn: &mut DbConnection, resource: OwnedResource) -> Result<Option<Option<i32>>, AppError> {
    Ok(owner_query!(
        resource,
        |query| query.first::<i32>(conn).optional()?.map(Some),
        user(id) => users::table.find(id.get()).select(users::municipality_id).first(conn).optional()?
    ))
}

/// The one way an id named in a body, a plan file, an import row or a CLI flag becomes a record to
/// use: it must belong to `municipality_id`. Another municipality's record and a missing one give
/// the same 422, after the same one statement, naming only the id the caller sent.
pub fn resolve_in<Id: RecordId>(
    conn: &mut DbConnection,
    municipality_id: i32,
    id: Id,
    field: impl Into<String>,
) -> Result<Id, AppError> {
    match municipality_of(conn, id.resource())? {
        Some(Some(owner)) if owner == municipality_id => Ok(id),
        _ => Err(not_found_in_field(field, id.resource())),
    }
}

/// What [`resolve_in`] answers for a record that is missing or another municipality's.
pub fn not_found_in_field(field: impl Into<String>, resource: OwnedResource) -> AppError {
    let (entity, id) = (resource.entity(), resource.id());
    AppError::invalid(field, format!("{} {id} は見つかりません (no {entity} {id})", resource.entity_ja()))
}
