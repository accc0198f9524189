//! What [`resolve_caller`](crate::auth::resolve_caller) reads for every request, in one statement:
//! the caller's account as stored now, whose the resource named by the path is, and the
//! [data versions](super::data_version) that cached answers are served at: the installation's and
//! that of the municipality the resource belongs to.
//!
//! One statement, because on PostgreSQL each statement is a round trip to the server: read one
//! after the other, the three made a `304` of a cached answer cost three round trips where one
//! does.

use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable};

use super::indicators::{IndicatorRow, StoredIndicator, TargetRow};
use super::ownership::{self, owner_query};
use super::schema::{data_version, indicators, municipality_data_versions, target_revisions, users};
use super::users::{Account, AccountRow};
use super::{DbConnection, on_each_backend};
use crate::domain::ids::IndicatorId;
use crate::domain::resource::OwnedResource;
use crate::error::AppError;

diesel::define_sql_function! {
    /// SQL's `COALESCE` of two nullable integers: the second is evaluated only where the first is
    /// NULL, a subquery included.
    fn coalesce(first: Nullable<Integer>, second: Nullable<Integer>) -> Nullable<Integer>;
}

/// The stored facts a request's caller is judged on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerContext {
    pub account: Account,
    /// Whose the named resource is, as [`ownership::municipality_of`] answers: `None` when the path
    /// names none or it does not exist.
    pub owner: Option<Option<i32>>,
    /// The installation's data version as committed when the statement ran.
    pub installation_version: i64,
    /// The data version of the resource's municipality then (0 before its first write, and for a
    /// request that names no municipality's record).
    pub municipality_version: i64,
    /// That municipality's non-actual version then (0 likewise).
    pub non_actual_version: i64,
}

/// The context of user `user_id`'s request on `resource`; `None` when the user no longer exists.
pub fn lookup(
    conn: &mut DbConnection,
    user_id: i32,
    resource: Option<OwnedResource>,
) -> Result<Option<CallerContext>, AppError> {
    let installation_version = data_version::table.find(1).select(data_version::counter).single_value();
    // Each resource kind has its own owner subquery, and so its own statement type: a statement
    // each backend prepares once and finds again by its type, which a boxed one would not be.
    macro_rules! with_owner {
        ($owner:expr) => {{
            let owner = $owner;
            // Joined, not two subqueries: the owner is looked up once for both counters.
            let versions_of_owner = municipality_data_versions::table
                .on(municipality_data_versions::municipality_id.nullable().eq(owner.clone()));
            on_each_backend!(&mut *conn, |backend| users::table
                .left_join(versions_of_owner)
                .filter(users::id.eq(user_id))
                .select((
                    AccountRow::as_select(),
                    // The joined row names the owner when its municipality has written: the owner
                    // subquery then runs once, for the join, not again for this column.
                    coalesce(municipality_data_versions::municipality_id.nullable(), owner.clone()),
                    installation_version,
                    municipality_data_versions::counter.nullable(),
                    municipality_data_versions::non_actual_counter.nullable(),
                ))
                .first::<(AccountRow, Option<i32>, Option<i64>, Option<i64>, Option<i64>)>(backend)
                .optional()?)
        }};
    }
    let no_owner = || None::<i32>.into_sql::<Nullable<Integer>>();
    let row = match resource {
        None => with_owner!(no_owner()),
        // An account may belong to no municipality, which a NULL subquery cannot tell from no
        // account at all: its owner is read below, on the administrators' routes only.
        Some(resource) => {
            owner_query!(resource, |query| with_owner!(query.single_value()), user(_id) => with_owner!(no_owner()))
        }
    };
    let Some((row, owner, installation_version, municipality_version, non_actual_version)) = row else {
        return Ok(None);
    };
    let account = row.into_account()?;
    let owner = match resource {
        Some(user @ OwnedResource::User(_)) if account.active => ownership::municipality_of(conn, user)?,
        Some(_) => owner.map(Some),
        None => None,
    };
    context(account, owner, installation_version, municipality_version, non_actual_version).map(Some)
}

fn context(
    account: Account,
    owner: Option<Option<i32>>,
    installation_version: Option<i64>,
    municipality_version: Option<i64>,
    non_actual_version: Option<i64>,
) -> Result<CallerContext, AppError> {
    let installation_version =
        installation_version.ok_or_else(|| AppError::Internal("the data_version row is missing".into()))?;
    Ok(CallerContext {
        account,
        owner,
        installation_version,
        municipality_version: municipality_version.unwrap_or(0),
        non_actual_version: non_actual_version.unwrap_or(0),
    })
}

/// One row of [`lookup_reading_indicator`]'s statement: the caller's context as [`lookup`] reads
/// it, and the indicator joined with one of its target revisions.
type ContextWithIndicatorRow =
    (AccountRow, Option<i32>, Option<i64>, Option<i64>, Option<i64>, Option<IndicatorRow>, Option<TargetRow>);

/// [`lookup`] of a request that reads indicator `id`, with the indicator and its target revisions
/// read in the same statement: on PostgreSQL the whole `GET /indicators/{id}` is one round trip
/// (two when the indicator refers to the national catalogue). The indicator is `None` when it does
/// not exist, and left as stored rows: whether the caller may see it is
/// [`crate::auth::tenancy::admit`]'s to say first, on the owner read beside it.
pub fn lookup_reading_indicator(
    conn: &mut DbConnection,
    user_id: i32,
    id: IndicatorId,
) -> Result<Option<(CallerContext, Option<StoredIndicator>)>, AppError> {
    let installation_version = data_version::table.find(1).select(data_version::counter).single_value();
    let owner = ownership::indicator_owner!(id).single_value();
    let versions_of_owner =
        municipality_data_versions::table.on(municipality_data_versions::municipality_id.nullable().eq(owner));
    // The owner subquery reads `indicators` too: the indicator read beside it goes by another name.
    diesel::alias!(indicators as named_indicator: NamedIndicator);
    let indicator_columns = <IndicatorRow as Selectable<<DbConnection as Connection>::Backend>>::construct_selection();
    let rows: Vec<ContextWithIndicatorRow> = on_each_backend!(&mut *conn, |backend| users::table
        .left_join(versions_of_owner)
        .left_join(named_indicator.on(named_indicator.field(indicators::id).eq(id.get())))
        .left_join(target_revisions::table.on(target_revisions::indicator_id.eq(named_indicator.field(indicators::id))))
        .filter(users::id.eq(user_id))
        .select((
            AccountRow::as_select(),
            coalesce(municipality_data_versions::municipality_id.nullable(), owner),
            installation_version,
            municipality_data_versions::counter.nullable(),
            municipality_data_versions::non_actual_counter.nullable(),
            named_indicator.fields(indicator_columns).nullable(),
            Option::<TargetRow>::as_select(),
        ))
        .order(target_revisions::id)
        .load(backend)?);
    let mut joined = Vec::with_capacity(rows.len());
    let mut first = None;
    for (account, owner, installation, municipality, non_actual, indicator, target) in rows {
        if let Some(indicator) = indicator {
            joined.push((indicator, target));
        }
        first.get_or_insert((account, owner, installation, municipality, non_actual));
    }
    let Some((account, owner, installation, municipality, non_actual)) = first else {
        return Ok(None);
    };
    let context = context(account.into_account()?, owner.map(Some), installation, municipality, non_actual)?;
    let indicator = (!joined.is_empty()).then_some(StoredIndicator { id, joined });
    Ok(Some((context, indicator)))
}
