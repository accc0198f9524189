//! Login (`POST /auth/token`) and the caller (`GET /me`).

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::Datelike;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::JsonBody;
use crate::auth::password::{MAX_LOGIN_CANDIDATES, check_credentials, verify_password};
use crate::auth::token::Subject;
use crate::auth::{Caller, LoginThrottle, TokenService};
use crate::db::users::LoginScope;
use crate::db::{Database, collections, departments, identity_providers, users};
use crate::domain::collection::japan_date;
use crate::domain::current_cycle::{CurrentCycle, current_cycle};
use crate::domain::fiscal_year::FiscalYear;
use crate::domain::identity_provider::password_login_allowed;
use crate::domain::ids::{DepartmentId, UserId};
use crate::domain::municipality_code::MunicipalityCode;
use crate::error::{AppError, Problem};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    #[schema(example = "koseki", max_length = 64)]
    #[serde(deserialize_with = "crate::domain::limits::code")]
    pub username: String,
    #[schema(example = "demo-koseki-password", max_length = 1024)]
    #[serde(deserialize_with = "crate::domain::limits::password")]
    pub password: String,
    /// The account's municipality (全国地方公共団体コード, 6 digits with the check digit, or 5).
    /// Usernames are unique per municipality: without it, the one account of that username whose
    /// password matches (system_admin and analyst accounts belong to none).
    #[schema(example = "131199", max_length = 64)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_code")]
    pub municipality: Option<String>,
}

impl std::fmt::Debug for TokenRequest {
    // Never print the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRequest")
            .field("username", &self.username)
            .field("municipality", &self.municipality)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the token expires
    #[schema(example = 3600)]
    pub expires_in: i64,
}

/// Exchanges a username and password for a bearer token.
///
/// An unknown user, a deactivated one and a wrong password get the same answer, after the same
/// work. Failed logins are throttled per client address and per client address and username: past
/// the limit, 429 with `Retry-After` (seconds), whether or not the username exists. Correct logins
/// are never throttled by failures from other addresses.
#[utoipa::path(tag = "auth", request_body = TokenRequest, responses(
    (status = 200, body = TokenResponse),
    (status = 401, description = "unknown user or wrong password (the same answer for both)", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "the account's municipality has switched local passwords off (its users log in through its OpenID provider)", body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "too many failed logins from the address, or for the username from the address",
        body = Problem, content_type = "application/problem+json",
        headers(("Retry-After" = u64, description = "seconds until a login is accepted again"))),
))]
#[post("/auth/token")]
pub async fn issue_token(
    req: HttpRequest,
    db: web::Data<Database>,
    tokens: web::Data<TokenService>,
    throttle: web::Data<LoginThrottle>,
    body: JsonBody<TokenRequest>,
) -> Result<HttpResponse, AppError> {
    let request = body.parse()?;
    let municipality = request
        .municipality
        .as_deref()
        .map(MunicipalityCode::parse)
        .transpose()
        .map_err(|e| AppError::invalid("municipality", e.to_string()))?;
    // The account a login is for: its municipality (when named) and its username.
    let account = format!("{}/{}", municipality.as_ref().map_or("", |code| code.as_str()), request.username);
    let attempt = throttle.begin(throttle.client_address(&req), &account).await?;
    let username = request.username.clone();
    let found = db
        .read(move |conn| {
            let scope = match &municipality {
                Some(code) => LoginScope::Municipality(code),
                None => LoginScope::Anywhere,
            };
            // One more than is tried, to tell "too many to try" from "all of them".
            users::find_login(conn, scope, &username, MAX_LOGIN_CANDIDATES as i64 + 1)
        })
        .await;
    // Hashing is slow on purpose: keep it off the async workers, and hold no connection meanwhile.
    let checked = match found {
        Ok(found) => web::block(move || check_credentials(found, &request.password, verify_password))
            .await
            .map_err(|e| AppError::Internal(e.to_string())),
        Err(error) => Err(error),
    };
    // An attempt that could not be decided (the database was unreachable) is dropped uncounted.
    let Some(login) = checked? else {
        attempt.failed();
        return Err(AppError::Unauthenticated(
            "ユーザー名またはパスワードが違います。同じユーザー名が他の自治体にもある場合は自治体コード (municipality) を指定してください \
             (unknown user or wrong password; name the municipality when the username may exist in several)"
                .into(),
        ));
    };
    // Decided: attempts of the same key waiting for room need not wait for the token.
    drop(attempt);
    let user = login.user;
    if let Some(municipality_id) = user.municipality_id {
        let allowed = db.read(move |conn| identity_providers::local_passwords_allowed(conn, municipality_id)).await?;
        if !password_login_allowed(user.role, allowed) {
            return Err(AppError::Forbidden(
                "この自治体ではパスワードでのログインは停止されています。庁内の認証基盤のアカウントでログインしてください \
                 (local passwords are switched off for this municipality; log in through its OpenID provider)"
                    .into(),
            ));
        }
    }
    let token = tokens.issue(&Subject {
        user_id: user.id,
        username: &user.username,
        role: user.role,
        department_id: user.department_id,
        token_version: login.token_version,
    })?;
    tracing::info!(username = %user.username, role = user.role.as_str(), "token issued");
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(TokenResponse {
        access_token: token,
        token_type: "Bearer",
        expires_in: tokens.ttl_seconds(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub user: crate::domain::account::User,
    pub department: Option<crate::domain::department::Department>,
    /// Where the municipality's yearly cycle stands (the plan and year screens open on): the newest
    /// year whose collection is open, else the latest year with actuals, else the current year of
    /// the plan running now; `null` without a municipality or plans
    pub current_cycle: Option<CurrentCycle>,
}

/// The authenticated caller: user, role and department, and where the yearly cycle stands.
#[utoipa::path(tag = "auth", security(("bearer" = [])), responses(
    (status = 200, body = Me),
))]
#[get("/me")]
pub async fn me(db: web::Data<Database>, caller: Caller) -> Result<HttpResponse, AppError> {
    let me = db
        .read(move |conn| {
            let user = users::get(conn, UserId::new(caller.user_id))?;
            let department = user.department_id.map(|id| departments::get(conn, DepartmentId::new(id))).transpose()?;
            let current_cycle = match caller.municipality_id {
                Some(municipality_id) => {
                    let today = japan_date(chrono::Utc::now().naive_utc());
                    let current_year = FiscalYear::of_date(today).map(FiscalYear::year).unwrap_or(today.year());
                    current_cycle(&collections::plan_activity(conn, municipality_id)?, current_year)
                }
                None => None,
            };
            Ok::<_, AppError>(Me { user, department, current_cycle })
        })
        .await?;
    Ok(HttpResponse::Ok().json(me))
}
