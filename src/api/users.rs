//! User administration (admin only).

use actix_web::{HttpResponse, get, patch, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::extract::{JsonBody, Query};
use super::pagination::{Page, PageParams, page_bounds};
use super::resolved::Resolved;
use crate::auth::password::{check_password_strength, hash_password};
use crate::auth::{Caller, UserManager};
use crate::db::Database;
use crate::db::audit::Actor;
use crate::db::users::{self, NewUser, UserChanges};
use crate::domain::account::User;
use crate::domain::ids::UserId;
use crate::domain::role::Role;
use crate::error::{AppError, Problem};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[schema(example = "koseki", max_length = 64)]
    #[serde(deserialize_with = "crate::domain::limits::code")]
    pub username: String,
    #[schema(example = "戸籍住民課 担当", max_length = 200)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_name")]
    pub display_name: Option<String>,
    /// At least 12 characters
    #[schema(example = "correct horse battery staple", max_length = 1024)]
    #[serde(deserialize_with = "crate::domain::limits::password")]
    pub password: String,
    pub role: Role,
    /// Required for department users, absent otherwise
    pub department_id: Option<i32>,
    /// The municipality the account works in: the admin's own (may be omitted); the system
    /// administrator names it (omit it for system_admin and analyst accounts).
    pub municipality_id: Option<i32>,
    /// Where reminders go (リマインダー); omit for none
    #[schema(example = "koseki@city.example.lg.jp", max_length = 254)]
    pub email: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[serde(default, deserialize_with = "crate::domain::limits::optional_name")]
    #[schema(max_length = 200)]
    pub display_name: Option<String>,
    pub role: Option<Role>,
    /// `null` removes the department (for roles other than department)
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<i32>)]
    pub department_id: Option<Option<i32>>,
    pub active: Option<bool>,
    /// Moves the account to another municipality (system administrator only).
    pub municipality_id: Option<i32>,
    /// A new password (at least 12 characters)
    #[serde(default, deserialize_with = "crate::domain::limits::optional_password")]
    #[schema(max_length = 1024)]
    pub password: Option<String>,
    /// A new address for reminders; `null` removes it
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>, max_length = 254)]
    pub email: Option<Option<String>>,
}

fn check_username(username: &str) -> Result<(), AppError> {
    let valid = (3..=64).contains(&username.len())
        && username.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(AppError::invalid("username", "3–64 characters: letters, digits, '-', '_' or '.'"))
    }
}

/// Users, by id.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(PageParams), responses(
    (status = 200, body = Page<User>),
))]
#[get("/users")]
pub async fn list_users(
    manager: UserManager,
    db: web::Data<Database>,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (limit, offset) = page_bounds(page.limit, page.offset)?;
    let municipality_id = manager.municipality_for(None)?;
    let found = db.read(move |conn| users::list(conn, municipality_id, limit, offset)).await?;
    Ok(HttpResponse::Ok().json(Page::new(found, limit, offset)))
}

/// Creates a user; the password is stored as an argon2id hash.
#[utoipa::path(tag = "users", security(("bearer" = [])), request_body = CreateUser, responses(
    (status = 201, body = User),
    (status = 409, body = Problem, content_type = "application/problem+json"),
))]
#[post("/users")]
pub async fn create_user(
    UserManager(caller): UserManager,
    db: web::Data<Database>,
    body: JsonBody<CreateUser>,
) -> Result<HttpResponse, AppError> {
    let body = body.parse()?;
    caller.may_grant(body.role)?;
    let municipality_id = caller.municipality_for(body.municipality_id)?;
    check_username(&body.username)?;
    check_password_strength(&body.password)?;
    let password = body.password;
    let hash = web::block(move || hash_password(&password)).await.map_err(|e| AppError::Internal(e.to_string()))??;
    let actor = Actor::from(&caller);
    let user = db
        .write(caller.write_scope(), move |conn| {
            users::create(
                conn,
                &actor,
                &NewUser {
                    username: &body.username,
                    display_name: body.display_name.as_deref().unwrap_or(&body.username),
                    password_hash: &hash,
                    role: body.role,
                    department_id: body.department_id,
                    municipality_id,
                    email: body.email.as_deref(),
                },
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(user))
}

/// One user.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(("id" = i32, Path)), responses(
    (status = 200, body = User),
))]
#[get("/users/{id}")]
pub async fn get_user(caller: Caller, db: web::Data<Database>, id: Resolved<UserId>) -> Result<HttpResponse, AppError> {
    caller.require(caller.role.manages_users() || caller.user_id == id.named().get(), "read other users")?;
    let id = id.existing()?;
    let user = db.read(move |conn| users::get(conn, id)).await?;
    Ok(HttpResponse::Ok().json(user))
}

/// Changes a user's role, department, status or password.
///
/// A municipality's last active admin is neither deactivated, demoted nor moved, by anyone (409).
#[utoipa::path(tag = "users", security(("bearer" = [])), params(("id" = i32, Path)), request_body = UpdateUser, responses(
    (status = 200, body = User),
    (status = 409, body = Problem, content_type = "application/problem+json"),
))]
#[patch("/users/{id}")]
pub async fn update_user(
    UserManager(caller): UserManager,
    db: web::Data<Database>,
    id: Resolved<UserId>,
    body: JsonBody<UpdateUser>,
) -> Result<HttpResponse, AppError> {
    let body = body.parse()?;
    if let Some(role) = body.role {
        caller.may_grant(role)?;
    }
    let municipality_id = match body.municipality_id {
        Some(named) => caller.municipality_for(Some(named))?,
        None => None,
    };
    let password_hash = match body.password {
        Some(password) => {
            check_password_strength(&password)?;
            Some(web::block(move || hash_password(&password)).await.map_err(|e| AppError::Internal(e.to_string()))??)
        }
        None => None,
    };
    let changes = UserChanges {
        display_name: body.display_name,
        role: body.role,
        department_id: body.department_id,
        municipality_id,
        active: body.active,
        password_hash,
        email: body.email,
    };
    let actor = Actor::from(&caller);
    let id = id.existing()?;
    let user = db.write(caller.write_scope(), move |conn| users::update(conn, &actor, id, changes)).await?;
    Ok(HttpResponse::Ok().json(user))
}
