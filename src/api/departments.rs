//! Municipalities (the system administrator registers them) and departments (a municipality's
//! admin writes them, its users read them).

use actix_web::{HttpResponse, get, patch, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::extract::{JsonBody, Query};
use super::pagination::{Page, PageParams, page_bounds};
use super::resolved::Resolved;
use crate::auth::{Admin, Caller, SystemAdmin};
use crate::db::Database;
use crate::db::audit::Actor;
use crate::db::departments::{self, DepartmentChanges, NewDepartment};
use crate::domain::department::Department;
use crate::domain::ids::DepartmentId;
use crate::domain::municipality::Municipality;
use crate::domain::municipality_code::MunicipalityCode;
use crate::error::{AppError, Problem};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMunicipality {
    /// 全国地方公共団体コード: 6 digits with check digit, or the 5-digit form
    #[schema(example = "131059", max_length = 64)]
    #[serde(deserialize_with = "crate::domain::limits::code")]
    pub code: String,
    #[schema(example = "文京区", max_length = 200)]
    #[serde(deserialize_with = "crate::domain::limits::name")]
    pub name: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDepartment {
    /// The admin's own municipality (may be omitted; another one is not found).
    pub municipality_id: Option<i32>,
    #[schema(example = "family-registry", max_length = 64)]
    #[serde(deserialize_with = "crate::domain::limits::code")]
    pub code: String,
    #[schema(example = "戸籍住民課", max_length = 200)]
    #[serde(deserialize_with = "crate::domain::limits::name")]
    pub name: String,
    pub parent_id: Option<i32>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDepartment {
    /// A new name (the old one stays in the audit log)
    #[serde(default, deserialize_with = "crate::domain::limits::optional_name")]
    #[schema(max_length = 200)]
    pub name: Option<String>,
    pub active: Option<bool>,
}

/// Municipalities known to this installation.
#[utoipa::path(tag = "departments", security(("bearer" = [])), params(PageParams), responses(
    (status = 200, body = Page<Municipality>),
))]
#[get("/municipalities")]
pub async fn list_municipalities(
    caller: Caller,
    db: web::Data<Database>,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (limit, offset) = page_bounds(page.limit, page.offset)?;
    let only = caller.municipality_for(None)?;
    let found = db.read(move |conn| departments::page_municipalities(conn, only, limit, offset)).await?;
    Ok(HttpResponse::Ok().json(Page::new(found, limit, offset)))
}

/// Registers a municipality; the code's check digit is verified.
#[utoipa::path(tag = "departments", security(("bearer" = [])), request_body = CreateMunicipality, responses(
    (status = 201, body = Municipality),
    (status = 409, body = Problem, content_type = "application/problem+json"),
))]
#[post("/municipalities")]
pub async fn create_municipality(
    SystemAdmin(caller): SystemAdmin,
    db: web::Data<Database>,
    body: JsonBody<CreateMunicipality>,
) -> Result<HttpResponse, AppError> {
    let body = body.parse()?;
    let code = MunicipalityCode::parse(&body.code).map_err(|e| AppError::invalid("code", e.to_string()))?;
    if body.name.trim().is_empty() {
        return Err(AppError::invalid("name", "must not be empty"));
    }
    let actor = Actor::from(&caller);
    let created = db
        .write(caller.write_scope(), move |conn| {
            departments::create_municipality(conn, &actor, &code, body.name.trim())
        })
        .await?;
    Ok(HttpResponse::Created().json(created))
}

/// Departments and sub-units, by id.
#[utoipa::path(tag = "departments", security(("bearer" = [])), params(PageParams), responses(
    (status = 200, body = Page<Department>),
))]
#[get("/departments")]
pub async fn list_departments(
    caller: Caller,
    db: web::Data<Database>,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (limit, offset) = page_bounds(page.limit, page.offset)?;
    let municipality_id = caller.own_municipality(None)?;
    let found = db.read(move |conn| departments::page(conn, municipality_id, limit, offset)).await?;
    Ok(HttpResponse::Ok().json(Page::new(found, limit, offset)))
}

/// One department.
#[utoipa::path(tag = "departments", security(("bearer" = [])), params(("id" = i32, Path)), responses(
    (status = 200, body = Department),
))]
#[get("/departments/{id}")]
pub async fn get_department(
    _caller: Caller,
    db: web::Data<Database>,
    id: Resolved<DepartmentId>,
) -> Result<HttpResponse, AppError> {
    let id = id.existing()?;
    let found = db.read(move |conn| departments::get(conn, id)).await?;
    Ok(HttpResponse::Ok().json(found))
}

/// Creates a department or a sub-unit (with `parent_id`).
#[utoipa::path(tag = "departments", security(("bearer" = [])), request_body = CreateDepartment, responses(
    (status = 201, body = Department),
    (status = 409, body = Problem, content_type = "application/problem+json"),
))]
#[post("/departments")]
pub async fn create_department(
    Admin(caller): Admin,
    db: web::Data<Database>,
    body: JsonBody<CreateDepartment>,
) -> Result<HttpResponse, AppError> {
    caller.own_municipality(None)?;
    let body = body.parse()?;
    let municipality_id = caller.own_municipality(body.municipality_id)?;
    if body.code.trim().is_empty() || body.name.trim().is_empty() {
        return Err(AppError::invalid(if body.code.trim().is_empty() { "code" } else { "name" }, "must not be empty"));
    }
    let actor = Actor::from(&caller);
    let created = db
        .write(caller.write_scope(), move |conn| {
            departments::create(
                conn,
                &actor,
                &NewDepartment {
                    municipality_id,
                    code: body.code.trim(),
                    name: body.name.trim(),
                    parent_id: body.parent_id,
                },
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(created))
}

/// Renames or deactivates a department.
#[utoipa::path(tag = "departments", security(("bearer" = [])), params(("id" = i32, Path)), request_body = UpdateDepartment, responses(
    (status = 200, body = Department),
))]
#[patch("/departments/{id}")]
pub async fn update_department(
    Admin(caller): Admin,
    db: web::Data<Database>,
    id: Resolved<DepartmentId>,
    body: JsonBody<UpdateDepartment>,
) -> Result<HttpResponse, AppError> {
    let body = body.parse()?;
    if body.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err(AppError::invalid("name", "must not be empty"));
    }
    let actor = Actor::from(&caller);
    let id = id.existing()?;
    let changes = DepartmentChanges { name: body.name.map(|n| n.trim().to_owned()), active: body.active };
    let updated = db.write(caller.write_scope(), move |conn| departments::update(conn, &actor, id, changes)).await?;
    Ok(HttpResponse::Ok().json(updated))
}
