//! The one error type of the application and its mapping to RFC 9457 problem details.
//!
//! Every failure a handler can meet ends up here, so the HTTP status, the problem `type` and what
//! is (and is not) shown to the caller are decided in one place.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// One offending input field of a validation error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON path of the field (`denominator`, `targets[0].value`) or the query/path parameter name.
    #[schema(example = "denominator")]
    pub field: String,
    #[schema(example = "must be greater than 0")]
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// RFC 9457 problem details, as every error response carries them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "/problems/validation-error",
    "title": "入力内容に誤りがあります (validation failed)",
    "status": 422,
    "detail": "1 field is invalid",
    "errors": [{"field": "denominator", "message": "must be greater than 0"}]
}))]
pub struct Problem {
    /// A relative URI naming the problem kind; stable, for clients to branch on.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("authentication required: {0}")]
    Unauthenticated(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    #[error("no route for this path")]
    RouteNotFound,
    /// `allow` lists the methods the resource supports, for the `Allow` header.
    #[error("method not allowed")]
    MethodNotAllowed { allow: String },
    #[error("validation failed: {}", describe_fields(.0))]
    Validation(Vec<FieldError>),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    #[error("precondition required: {0}")]
    PreconditionRequired(String),
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("not acceptable: {0}")]
    NotAcceptable(String),
    /// Too many failed logins; `Retry-After` says when to try again.
    #[error("too many requests; retry after {retry_after_seconds} s")]
    TooManyRequests { retry_after_seconds: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("configuration error: {0}")]
    Config(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("database error: {0}")]
    Database(#[source] DieselError),
    #[error("internal error: {0}")]
    Internal(String),
}

fn describe_fields(errors: &[FieldError]) -> String {
    errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
}

impl AppError {
    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        Self::NotFound { entity, id: id.to_string() }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// The stable problem slug and Japanese/English title for this error.
    fn kind(&self) -> (&'static str, &'static str) {
        match self {
            Self::Unauthenticated(_) => ("unauthenticated", "認証が必要です (authentication required)"),
            Self::Forbidden(_) => ("forbidden", "権限がありません (forbidden)"),
            Self::NotFound { .. } => ("not-found", "見つかりません (not found)"),
            Self::RouteNotFound => ("not-found", "見つかりません (not found)"),
            Self::MethodNotAllowed { .. } => {
                ("method-not-allowed", "許可されていないメソッドです (method not allowed)")
            }
            Self::Validation(_) => ("validation-error", "入力内容に誤りがあります (validation failed)"),
            Self::BadRequest(_) => ("bad-request", "不正なリクエストです (bad request)"),
            Self::Conflict(_) => ("conflict", "競合しています (conflict)"),
            Self::PreconditionFailed(_) => ("precondition-failed", "更新前提が一致しません (precondition failed)"),
            Self::PreconditionRequired(_) => ("precondition-required", "If-Match が必要です (precondition required)"),
            Self::PayloadTooLarge { .. } => ("payload-too-large", "リクエストが大きすぎます (payload too large)"),
            Self::UnsupportedMediaType(_) => {
                ("unsupported-media-type", "対応していない形式です (unsupported media type)")
            }
            Self::NotAcceptable(_) => ("not-acceptable", "対応していない応答形式です (not acceptable)"),
            Self::TooManyRequests { .. } => ("too-many-requests", "試行回数が多すぎます (too many requests)"),
            Self::Unavailable(_) => ("service-unavailable", "一時的に利用できません (service unavailable)"),
            Self::Config(_) | Self::Migration(_) | Self::Database(_) | Self::Internal(_) => {
                ("internal-error", "内部エラーが発生しました (internal error)")
            }
        }
    }

    /// What the caller is told. Internal causes are logged, never shown.
    fn detail(&self) -> String {
        match self {
            Self::Unauthenticated(d)
            | Self::Forbidden(d)
            | Self::BadRequest(d)
            | Self::Conflict(d)
            | Self::PreconditionFailed(d)
            | Self::PreconditionRequired(d)
            | Self::UnsupportedMediaType(d)
            | Self::NotAcceptable(d) => d.clone(),
            Self::NotFound { entity, id } => format!("{entity} {id} does not exist"),
            Self::RouteNotFound => "no resource at this path; see /docs for the API".into(),
            Self::MethodNotAllowed { allow } if !allow.is_empty() => {
                format!("this resource supports only {allow}")
            }
            Self::MethodNotAllowed { .. } => "this resource does not support the request method".into(),
            Self::Validation(errors) => match errors.len() {
                1 => format!("{}: {}", errors[0].field, errors[0].message),
                n => format!("{n} fields are invalid"),
            },
            Self::PayloadTooLarge { limit } => format!("the request body exceeds the limit of {limit} bytes"),
            Self::TooManyRequests { retry_after_seconds } => format!(
                "too many failed logins for this username or from this address; try again in {retry_after_seconds} seconds"
            ),
            Self::Unavailable(_) => "the database is not reachable; try again shortly".into(),
            Self::Config(_) | Self::Migration(_) | Self::Database(_) | Self::Internal(_) => {
                "an unexpected error occurred; it has been logged".into()
            }
        }
    }

    pub fn to_problem(&self) -> Problem {
        let (slug, title) = self.kind();
        Problem {
            problem_type: format!("/problems/{slug}"),
            title: title.to_owned(),
            status: self.status_code().as_u16(),
            detail: self.detail(),
            errors: match self {
                Self::Validation(errors) => errors.clone(),
                _ => Vec::new(),
            },
        }
    }
}

impl From<DieselError> for AppError {
    fn from(error: DieselError) -> Self {
        match &error {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                Self::Conflict(format!("a record with the same key already exists ({})", info.message()))
            }
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                Self::Conflict("the record refers to something that does not exist or is still referenced".into())
            }
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => Self::Unavailable(error.to_string()),
            _ => Self::Database(error),
        }
    }
}

impl From<r2d2::Error> for AppError {
    fn from(error: r2d2::Error) -> Self {
        Self::Unavailable(error.to_string())
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound { .. } | Self::RouteNotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Config(_) | Self::Migration(_) | Self::Database(_) | Self::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(error = ?self, "request failed");
        }
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_CONTENT_TYPE)));
        match self {
            Self::Unauthenticated(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            }
            Self::MethodNotAllowed { allow } if !allow.is_empty() => {
                response.insert_header((header::ALLOW, allow.as_str()));
            }
            Self::TooManyRequests { retry_after_seconds } => {
                response.insert_header((header::RETRY_AFTER, retry_after_seconds.to_string()));
            }
            _ => {}
        }
        response.body(serde_json::to_string(&self.to_problem()).unwrap_or_default())
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_problem_lists_the_offending_fields() {
        let error = AppError::invalid("denominator", "must be greater than 0");
        let json = serde_json::to_value(error.to_problem()).unwrap();
        assert_eq!(json["type"], "/problems/validation-error");
        assert_eq!(json["status"], 422);
        assert_eq!(json["errors"][0]["field"], "denominator");
        assert_eq!(json["detail"], "denominator: must be greater than 0");
    }

    #[test]
    fn internal_errors_do_not_leak_their_cause() {
        let error = AppError::Internal("password=hunter2 in a panic message".into());
        let problem = error.to_problem();
        assert_eq!(problem.status, 500);
        assert!(!problem.detail.contains("hunter2"));
    }

    #[test]
    fn not_found_names_the_entity() {
        let problem = AppError::not_found("measure", 99).to_problem();
        assert_eq!(problem.status, 404);
        assert_eq!(problem.detail, "measure 99 does not exist");
    }

    #[test]
    fn problem_kinds_are_stable_on_the_wire() {
        let cases = [
            (AppError::Unauthenticated("x".into()), "/problems/unauthenticated", 401),
            (AppError::Forbidden("x".into()), "/problems/forbidden", 403),
            (AppError::PreconditionFailed("x".into()), "/problems/precondition-failed", 412),
            (AppError::PreconditionRequired("x".into()), "/problems/precondition-required", 428),
            (AppError::PayloadTooLarge { limit: 10 }, "/problems/payload-too-large", 413),
            (AppError::TooManyRequests { retry_after_seconds: 5 }, "/problems/too-many-requests", 429),
            (AppError::Unavailable("x".into()), "/problems/service-unavailable", 503),
        ];
        for (error, problem_type, status) in cases {
            let problem = error.to_problem();
            assert_eq!(problem.problem_type, problem_type);
            assert_eq!(problem.status, status);
        }
    }
}
