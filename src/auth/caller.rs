//! The authenticated caller of a request, taken from its bearer token.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use crate::auth::TokenService;
use crate::domain::role::Role;
use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: i32,
    pub username: String,
    pub role: Role,
    pub department_id: Option<i32>,
}

impl Caller {
    pub fn require(&self, allowed: bool, what: &str) -> Result<(), AppError> {
        if allowed {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!("the {} role may not {what}", self.role.as_str())))
        }
    }

    pub fn require_hq(&self, what: &str) -> Result<(), AppError> {
        self.require(self.role.edits_plans(), what)
    }

    pub fn require_admin(&self, what: &str) -> Result<(), AppError> {
        self.require(self.role.administers(), what)
    }
}

fn caller_from(req: &HttpRequest) -> Result<Caller, AppError> {
    let tokens = req
        .app_data::<web::Data<TokenService>>()
        .ok_or_else(|| AppError::Internal("token service not configured".into()))?;
    let value = req.headers().get(header::AUTHORIZATION).ok_or_else(|| {
        AppError::Unauthenticated("send Authorization: Bearer <token>; get one at POST /api/v1/auth/token".into())
    })?;
    let value =
        value.to_str().map_err(|_| AppError::Unauthenticated("the Authorization header is not valid text".into()))?;
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => return Err(AppError::Unauthenticated("the Authorization scheme must be Bearer".into())),
    };
    let claims = tokens.verify(token)?;
    let user_id =
        claims.sub.parse().map_err(|_| AppError::Unauthenticated("the token subject is not a user id".into()))?;
    Ok(Caller { user_id, username: claims.username, role: claims.role, department_id: claims.department_id })
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(caller_from(req))
    }
}
