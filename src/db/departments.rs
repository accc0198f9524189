//! Municipalities and departments (所管課) with their sub-units.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::audit::{self, Actor, Change};
use super::schema::{departments, municipalities};
use crate::domain::ids::DepartmentId;
use crate::domain::municipality_code::MunicipalityCode;
use crate::error::AppError;

use crate::domain::department::Department;
use crate::domain::municipality::Municipality;

#[derive(Queryable, Selectable)]
#[diesel(table_name = municipalities)]
struct MunicipalityRow {
    id: i32,
    code: String,
    name: String,
    created_at: NaiveDateTime,
}

impl From<MunicipalityRow> for Municipality {
    fn from(row: MunicipalityRow) -> Self {
        Self { id: row.id, code: row.code, name: row.name, created_at: row.created_at }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = departments)]
struct DepartmentRow {
    id: i32,
    municipality_id: i32,
    code: String,
    name: String,
    parent_id: Option<i32>,
    active: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<DepartmentRow> for Department {
    fn from(row: DepartmentRow) -> Self {
        Self {
            id: row.id,
            municipality_id: row.municipality_id,
            code: row.code,
            name: row.name,
            parent_id: row.parent_id,
            active: row.active,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

pub fn list_municipalities(conn: &mut DbConnection) -> Result<Vec<Municipality>, AppError> {
    let rows: Vec<MunicipalityRow> =
        municipalities::table.select(MunicipalityRow::as_select()).order(municipalities::id).load(conn)?;
    Ok(rows.into_iter().map(Municipality::from).collect())
}

/// One page of municipalities by id, and how many there are: just `only` when given (a
/// municipality's users see their own), else all.
pub fn page_municipalities(
    conn: &mut DbConnection,
    only: Option<i32>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Municipality>, i64), AppError> {
    let scoped = || {
        let mut query = municipalities::table.into_boxed();
        if let Some(id) = only {
            query = query.filter(municipalities::id.eq(id));
        }
        query
    };
    let total = scoped().count().get_result(conn)?;
    let rows: Vec<MunicipalityRow> = scoped()
        .select(MunicipalityRow::as_select())
        .order(municipalities::id)
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    Ok((rows.into_iter().map(Municipality::from).collect(), total))
}

pub fn find_municipality_by_code(
    conn: &mut DbConnection,
    code: &MunicipalityCode,
) -> Result<Option<Municipality>, AppError> {
    Ok(municipalities::table
        .filter(municipalities::code.eq(code.as_str()))
        .select(MunicipalityRow::as_select())
        .first(conn)
        .optional()?
        .map(Municipality::from))
}

pub fn get_municipality(conn: &mut DbConnection, id: i32) -> Result<Municipality, AppError> {
    municipalities::table
        .find(id)
        .select(MunicipalityRow::as_select())
        .first(conn)
        .optional()?
        .map(Municipality::from)
        .ok_or_else(|| AppError::not_found("municipality", id))
}

pub fn create_municipality(
    conn: &mut DbConnection,
    actor: &Actor,
    code: &MunicipalityCode,
    name: &str,
) -> Result<Municipality, AppError> {
    let id: QueryResult<i32> = diesel::insert_into(municipalities::table)
        .values((
            municipalities::code.eq(code.as_str()),
            municipalities::name.eq(name),
            municipalities::created_at.eq(audit::now()),
        ))
        .returning(municipalities::id)
        .get_result(conn);
    let id = AppError::on_duplicate(id, "code", "a municipality", code.as_str())?;
    let created: Municipality =
        municipalities::table.find(id).select(MunicipalityRow::as_select()).first::<MunicipalityRow>(conn)?.into();
    audit::record(conn, actor, Change::created("municipality", id, &created).in_municipality(Some(id)))?;
    Ok(created)
}

pub fn get(conn: &mut DbConnection, id: DepartmentId) -> Result<Department, AppError> {
    departments::table
        .find(id.get())
        .select(DepartmentRow::as_select())
        .first(conn)
        .optional()?
        .map(Department::from)
        .ok_or_else(|| AppError::not_found("department", id))
}

/// A municipality's departments by id.
pub fn list_for_municipality(conn: &mut DbConnection, municipality_id: i32) -> Result<Vec<Department>, AppError> {
    let rows: Vec<DepartmentRow> = departments::table
        .filter(departments::municipality_id.eq(municipality_id))
        .select(DepartmentRow::as_select())
        .order(departments::id)
        .load(conn)?;
    Ok(rows.into_iter().map(Department::from).collect())
}

pub fn list(conn: &mut DbConnection) -> Result<Vec<Department>, AppError> {
    let rows: Vec<DepartmentRow> =
        departments::table.select(DepartmentRow::as_select()).order(departments::id).load(conn)?;
    Ok(rows.into_iter().map(Department::from).collect())
}

/// One page of a municipality's departments by id, and how many there are.
pub fn page(
    conn: &mut DbConnection,
    municipality_id: i32,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Department>, i64), AppError> {
    let scoped = || departments::table.filter(departments::municipality_id.eq(municipality_id));
    let total = scoped().count().get_result(conn)?;
    let rows: Vec<DepartmentRow> =
        scoped().select(DepartmentRow::as_select()).order(departments::id).limit(limit).offset(offset).load(conn)?;
    Ok((rows.into_iter().map(Department::from).collect(), total))
}

/// Finds a municipality's department by its code or its exact name (the CLI accepts either).
pub fn find_by_code_or_name(
    conn: &mut DbConnection,
    municipality_id: i32,
    key: &str,
) -> Result<Option<Department>, AppError> {
    Ok(departments::table
        .filter(departments::municipality_id.eq(municipality_id))
        .filter(departments::code.eq(key).or(departments::name.eq(key)))
        .select(DepartmentRow::as_select())
        .order(departments::id)
        .first(conn)
        .optional()?
        .map(Department::from))
}

pub struct NewDepartment<'a> {
    pub municipality_id: i32,
    pub code: &'a str,
    pub name: &'a str,
    pub parent_id: Option<i32>,
}

pub fn create(conn: &mut DbConnection, actor: &Actor, new: &NewDepartment<'_>) -> Result<Department, AppError> {
    get_municipality(conn, new.municipality_id)?;
    if let Some(parent_id) = new.parent_id {
        super::ownership::resolve_in(conn, new.municipality_id, DepartmentId::new(parent_id), "parent_id")?;
    }
    let now = audit::now();
    let id: QueryResult<i32> = diesel::insert_into(departments::table)
        .values((
            departments::municipality_id.eq(new.municipality_id),
            departments::code.eq(new.code),
            departments::name.eq(new.name),
            departments::parent_id.eq(new.parent_id),
            departments::active.eq(true),
            departments::created_at.eq(now),
            departments::updated_at.eq(now),
        ))
        .returning(departments::id)
        .get_result(conn);
    let id = AppError::on_duplicate(id, "code", "a department", new.code)?;
    let created = get(conn, DepartmentId::new(id))?;
    audit::record(conn, actor, Change::created("department", id, &created))?;
    Ok(created)
}

#[derive(Debug, Default)]
pub struct DepartmentChanges {
    pub name: Option<String>,
    pub active: Option<bool>,
}

/// Renames or deactivates a department; the old name stays in the audit log.
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    id: DepartmentId,
    changes: DepartmentChanges,
) -> Result<Department, AppError> {
    let old = get(conn, id)?;
    diesel::update(departments::table.find(id.get()))
        .set((
            departments::name.eq(changes.name.as_deref().unwrap_or(&old.name)),
            departments::active.eq(changes.active.unwrap_or(old.active)),
            departments::updated_at.eq(audit::now()),
        ))
        .execute(conn)?;
    let new = get(conn, id)?;
    audit::record(conn, actor, Change::updated("department", id.get(), &old, &new))?;
    Ok(new)
}
