//! User accounts. Password hashes never leave this module.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::audit::{self, Actor, Change};
use super::schema::{municipalities, users};
use crate::domain::account::{self, Standing};
use crate::domain::ids::{DepartmentId, UserId};
use crate::domain::municipality_code::MunicipalityCode;
use crate::domain::resource::OwnedResource;
use crate::domain::role::Role;
use crate::error::AppError;

use crate::domain::account::User;

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
struct UserRow {
    id: i32,
    username: String,
    display_name: String,
    password_hash: String,
    role: String,
    department_id: Option<i32>,
    active: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    token_version: i32,
    municipality_id: Option<i32>,
    email: Option<String>,
}

/// What a login checks: the user, its password hash and the token version to put in its token.
pub struct Login {
    pub user: User,
    pub password_hash: String,
    pub token_version: i32,
}

impl UserRow {
    fn into_login(self) -> Result<Login, AppError> {
        let role = parse_role(self.id, &self.role)?;
        Ok(Login {
            user: User {
                id: self.id,
                username: self.username,
                display_name: self.display_name,
                role,
                department_id: self.department_id,
                municipality_id: self.municipality_id,
                active: self.active,
                email: self.email,
                created_at: self.created_at,
                updated_at: self.updated_at,
            },
            password_hash: self.password_hash,
            token_version: self.token_version,
        })
    }

    fn into_user(self) -> Result<(User, String), AppError> {
        self.into_login().map(|login| (login.user, login.password_hash))
    }
}

fn parse_role(id: i32, text: &str) -> Result<Role, AppError> {
    Role::parse(text).ok_or_else(|| AppError::Internal(format!("user {id} has unknown role {text}")))
}

/// The account behind a bearer token as it is *now*: read on every request, so that deactivation,
/// a new role or department, and a password change take effect at once on every server process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: i32,
    pub username: String,
    pub role: Role,
    pub department_id: Option<i32>,
    pub municipality_id: Option<i32>,
    pub active: bool,
    /// Tokens carrying another version were issued before a password change or deactivation.
    pub token_version: i32,
}

/// The columns of an [`Account`], for [`super::caller_context`]'s one statement.
#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
pub(super) struct AccountRow {
    id: i32,
    username: String,
    role: String,
    department_id: Option<i32>,
    municipality_id: Option<i32>,
    active: bool,
    token_version: i32,
}

impl AccountRow {
    pub(super) fn into_account(self) -> Result<Account, AppError> {
        Ok(Account {
            role: parse_role(self.id, &self.role)?,
            id: self.id,
            username: self.username,
            department_id: self.department_id,
            municipality_id: self.municipality_id,
            active: self.active,
            token_version: self.token_version,
        })
    }
}

pub fn get(conn: &mut DbConnection, id: UserId) -> Result<User, AppError> {
    let row = users::table
        .find(id.get())
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("user", id))?;
    Ok(row.into_user()?.0)
}

/// Where a login looks for its account: usernames are unique per municipality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginScope<'a> {
    /// The login names its municipality by code: only that municipality's account.
    Municipality(&'a MunicipalityCode),
    /// The login names none: every account with the username, of any municipality or none.
    Anywhere,
}

/// The accounts a login may be for, with their password hashes and token versions: at most
/// `limit` (the caller asks for one more than it accepts, to tell "too many" from "enough").
pub fn find_login(
    conn: &mut DbConnection,
    scope: LoginScope<'_>,
    username: &str,
    limit: i64,
) -> Result<Vec<Login>, AppError> {
    let rows: Vec<UserRow> = match scope {
        LoginScope::Municipality(code) => users::table
            .filter(
                users::municipality_id.eq_any(
                    municipalities::table
                        .filter(municipalities::code.eq(code.as_str()))
                        .select(municipalities::id.nullable()),
                ),
            )
            .filter(users::username.eq(username))
            .select(UserRow::as_select())
            .limit(limit)
            .load(conn)?,
        LoginScope::Anywhere => users::table
            .filter(users::username.eq(username))
            .select(UserRow::as_select())
            .order(users::id)
            .limit(limit)
            .load(conn)?,
    };
    rows.into_iter().map(UserRow::into_login).collect()
}

/// One page of accounts: a municipality's own (`Some`), or every account (`None`, the system
/// administrator's view).
pub fn list(
    conn: &mut DbConnection,
    municipality_id: Option<i32>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<User>, i64), AppError> {
    let scoped = || {
        let mut query = users::table.into_boxed();
        if let Some(municipality_id) = municipality_id {
            query = query.filter(users::municipality_id.eq(municipality_id));
        }
        query
    };
    let total = scoped().count().get_result(conn)?;
    let rows: Vec<UserRow> =
        scoped().select(UserRow::as_select()).order(users::id).limit(limit).offset(offset).load(conn)?;
    let users = rows.into_iter().map(|r| r.into_user().map(|(u, _)| u)).collect::<Result<_, _>>()?;
    Ok((users, total))
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub department_id: Option<i32>,
    /// `None`: the department's municipality, else the only one the database holds (the
    /// single-city default); always `None` for system_admin and analyst.
    pub municipality_id: Option<i32>,
    /// Where reminders go; checked by [`account::check_email`]
    pub email: Option<&'a str>,
}

/// The municipality an account of this role works in: none for the cross-municipality roles;
/// otherwise the one given, which must be its department's, else the department's, else the only
/// one in the database.
fn resolve_municipality(
    conn: &mut DbConnection,
    role: Role,
    given: Option<i32>,
    department_id: Option<i32>,
) -> Result<Option<i32>, AppError> {
    if !role.belongs_to_municipality() {
        return match given {
            Some(_) => Err(AppError::invalid("municipality_id", "system_admin and analyst belong to no municipality")),
            None => Ok(None),
        };
    }
    if let Some(given) = given {
        super::departments::get_municipality(conn, given)
            .map_err(|_| AppError::invalid("municipality_id", "no such municipality"))?;
        if let Some(department_id) = department_id {
            super::ownership::resolve_in(conn, given, DepartmentId::new(department_id), "department_id")?;
        }
        return Ok(Some(given));
    }
    // Only the system administrator names no municipality: the department's is the account's.
    let of_department = match department_id {
        Some(id) => Some(
            super::departments::get(conn, DepartmentId::new(id))
                .map_err(|_| {
                    super::ownership::not_found_in_field(
                        "department_id",
                        OwnedResource::Department(DepartmentId::new(id)),
                    )
                })?
                .municipality_id,
        ),
        None => None,
    };
    match of_department {
        Some(department) => Ok(Some(department)),
        None => {
            let all = super::departments::list_municipalities(conn)?;
            match all.as_slice() {
                [only] => Ok(Some(only.id)),
                _ => Err(AppError::invalid(
                    "municipality_id",
                    "name the municipality the account works in (the database holds none or several)",
                )),
            }
        }
    }
}

fn check_role_department(role: Role, department_id: Option<i32>) -> Result<(), AppError> {
    match (role.needs_department(), department_id) {
        (true, None) => Err(AppError::invalid("department_id", "a department user needs a department")),
        (false, Some(_)) => Err(AppError::invalid("department_id", "only department users belong to a department")),
        _ => Ok(()),
    }
}

fn check_email(email: Option<&str>) -> Result<(), AppError> {
    email.map_or(Ok(()), |address| account::check_email(address).map_err(|message| AppError::invalid("email", message)))
}

pub fn create(conn: &mut DbConnection, actor: &Actor, new: &NewUser<'_>) -> Result<User, AppError> {
    check_role_department(new.role, new.department_id)?;
    check_email(new.email)?;
    let municipality_id = resolve_municipality(conn, new.role, new.municipality_id, new.department_id)?;
    let same_username = users::table.filter(users::username.eq(new.username));
    let exists: i64 = match municipality_id {
        Some(id) => same_username.filter(users::municipality_id.eq(id)).count().get_result(conn)?,
        None => same_username.filter(users::municipality_id.is_null()).count().get_result(conn)?,
    };
    if exists > 0 {
        return Err(AppError::duplicate("username", "a user", new.username));
    }
    let now = audit::now();
    let id: i32 = diesel::insert_into(users::table)
        .values((
            users::username.eq(new.username),
            users::display_name.eq(new.display_name),
            users::password_hash.eq(new.password_hash),
            users::role.eq(new.role.as_str()),
            users::department_id.eq(new.department_id),
            users::municipality_id.eq(municipality_id),
            users::active.eq(true),
            users::email.eq(new.email),
            users::created_at.eq(now),
            users::updated_at.eq(now),
        ))
        .returning(users::id)
        .get_result(conn)?;
    let user = get(conn, UserId::new(id))?;
    audit::record(conn, actor, Change::created("user", id, &user).in_municipality(user.municipality_id))?;
    Ok(user)
}

#[derive(Debug, Default)]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub department_id: Option<Option<i32>>,
    /// Moves the account to another municipality (the system administrator's change).
    pub municipality_id: Option<i32>,
    pub active: Option<bool>,
    pub password_hash: Option<String>,
    /// `Some(None)` removes the address
    pub email: Option<Option<String>>,
}

pub fn update(conn: &mut DbConnection, actor: &Actor, id: UserId, changes: UserChanges) -> Result<User, AppError> {
    let old = get(conn, id)?;
    let role = changes.role.unwrap_or(old.role);
    let department_id = changes.department_id.unwrap_or(old.department_id);
    check_role_department(role, department_id)?;
    let email = changes.email.unwrap_or_else(|| old.email.clone());
    check_email(email.as_deref())?;
    let given = changes.municipality_id.or(old.municipality_id).filter(|_| role.belongs_to_municipality());
    let municipality_id = resolve_municipality(conn, role, given, department_id)?;
    let before = Standing { role: old.role, active: old.active, municipality_id: old.municipality_id };
    let after = Standing { role, active: changes.active.unwrap_or(old.active), municipality_id };
    if let Some(losing) = account::admin_lost(before, after) {
        account::keeps_an_admin(super::admins::other_active_admins(conn, losing, id.get())?)
            .map_err(AppError::Conflict)?;
    }
    diesel::update(users::table.find(id.get()))
        .set((
            users::municipality_id.eq(municipality_id),
            users::display_name.eq(changes.display_name.as_deref().unwrap_or(&old.display_name)),
            users::role.eq(role.as_str()),
            users::department_id.eq(department_id),
            users::active.eq(changes.active.unwrap_or(old.active)),
            users::email.eq(email),
            users::updated_at.eq(audit::now()),
        ))
        .execute(conn)?;
    let password_changed = changes.password_hash.is_some();
    if let Some(hash) = changes.password_hash {
        diesel::update(users::table.find(id.get())).set(users::password_hash.eq(hash)).execute(conn)?;
    }
    // Tokens issued before a new password or a deactivation must not work again (not even after a
    // later reactivation): they carry the old version.
    if password_changed || (old.active && changes.active == Some(false)) {
        diesel::update(users::table.find(id.get()))
            .set(users::token_version.eq(users::token_version + 1))
            .execute(conn)?;
    }
    let new = get(conn, id)?;
    // The audit log says that a password changed, never what it is. It is the account's
    // municipality's, whoever changed it; a move shows in the log of both.
    let reason = password_changed.then_some("password reset");
    audit::record(
        conn,
        actor,
        Change::updated("user", id.get(), &old, &new).with_reason(reason).in_municipality(new.municipality_id),
    )?;
    if old.municipality_id.is_some() && old.municipality_id != new.municipality_id {
        let change =
            Change::updated("user", id.get(), &old, &new).with_reason(reason).in_municipality(old.municipality_id);
        audit::record(conn, actor, change)?;
    }
    Ok(new)
}
