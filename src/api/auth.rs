//! Login (`POST /auth/token`) and the caller (`GET /me`).

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::JsonBody;
use crate::auth::password::{check_credentials, verify_password};
use crate::auth::token::Subject;
use crate::auth::{Caller, LoginThrottle, TokenService};
use crate::db::{Database, departments, users};
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
}

impl std::fmt::Debug for TokenRequest {
    // Never print the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRequest").field("username", &self.username).finish_non_exhaustive()
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
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
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
    let attempt = throttle.begin(throttle.client_address(&req), &request.username).await?;
    let username = request.username.clone();
    let found = db.read(move |conn| users::find_login(conn, &username)).await;
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
        return Err(AppError::Unauthenticated("unknown user or wrong password".into()));
    };
    // Decided: attempts of the same key waiting for room need not wait for the token.
    drop(attempt);
    let user = login.user;
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
    pub user: users::User,
    pub department: Option<departments::Department>,
}

/// The authenticated caller: user, role and department.
#[utoipa::path(tag = "auth", security(("bearer" = [])), responses(
    (status = 200, body = Me),
    (status = 401, body = Problem, content_type = "application/problem+json"),
))]
#[get("/me")]
pub async fn me(db: web::Data<Database>, caller: Caller) -> Result<HttpResponse, AppError> {
    let me = db
        .read(move |conn| {
            let user = users::get(conn, caller.user_id)?;
            let department = user.department_id.map(|id| departments::get(conn, id)).transpose()?;
            Ok::<_, AppError>(Me { user, department })
        })
        .await?;
    Ok(HttpResponse::Ok().json(me))
}
