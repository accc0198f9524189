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

/// Seconds a client is asked to wait (`Retry-After`) before retrying after a 503: about one
/// database call deadline, by when a busy writer or a briefly stuck server has usually cleared.
pub const RETRY_AFTER_SECONDS: u32 = 5;

/// One offending input field of a validation error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON path of the field (`denominator`, `targets[0].value`) or the query/path parameter name.
    #[schema(example = "denominator")]
    pub field: String,
    #[schema(example = "分母は 0 より大きい数で入力してください (must be greater than 0)")]
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
    "errors": [{"field": "denominator", "message": "分母は 0 より大きい数で入力してください (must be greater than 0)"}]
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
    /// The request body did not arrive within `REQUEST_BODY_TIMEOUT_MS`; the connection is closed.
    #[error("the request body did not arrive in time")]
    RequestTimeout,
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
            Self::RequestTimeout => {
                ("request-timeout", "リクエストの受信が時間内に終わりませんでした (request timeout)")
            }
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
            Self::RequestTimeout => "the request body did not arrive in time; send it again on a new connection".into(),
            Self::PayloadTooLarge { limit } => format!("the request body exceeds the limit of {limit} bytes"),
            Self::TooManyRequests { retry_after_seconds } => format!(
                "too many failed logins from this address, or for this username from it; try again in {retry_after_seconds} seconds"
            ),
            Self::Unavailable(_) => "the database is busy or not reachable; try again shortly".into(),
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
                Self::Conflict(describe_unique_violation(info.message(), info.details()))
            }
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                Self::Conflict("the record refers to something that does not exist or is still referenced".into())
            }
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => Self::Unavailable(error.to_string()),
            // PostgreSQL cannot store U+0000 in text (SQLite can). Inputs are checked before they
            // reach the database; this keeps any path that was missed a 422 rather than a 500.
            DieselError::DatabaseError(_, info) if is_nul_byte_rejection(info.message()) => {
                Self::invalid("body", crate::domain::limits::NUL_MESSAGE)
            }
            DieselError::DatabaseError(_, info) if is_overloaded(info.message()) => {
                Self::Unavailable(error.to_string())
            }
            _ => Self::Database(error),
        }
    }
}

/// PostgreSQL's `invalid byte sequence for encoding "UTF8": 0x00`.
fn is_nul_byte_rejection(message: &str) -> bool {
    message.contains("invalid byte sequence") && message.contains("0x00")
}

/// A unique-key violation in the client's words: the columns (and on PostgreSQL the values) of the
/// key, never a table or constraint name. SQLite says `UNIQUE constraint failed: plans.code`,
/// PostgreSQL `duplicate key value … "plans_code_key"` with the detail `Key (code)=(x) already
/// exists.`; both become `code: a record with this code already exists`. Storage functions that
/// insert unique keys report the value too, via [`AppError::duplicate`].
fn describe_unique_violation(message: &str, details: Option<&str>) -> String {
    let from_postgres = details.and_then(|d| {
        let columns = d.strip_prefix("Key (")?.split_once(")=(")?.0;
        Some(columns.split(',').map(|c| c.trim().to_owned()).collect::<Vec<_>>())
    });
    let from_sqlite = || {
        let columns = message.strip_prefix("UNIQUE constraint failed: ")?;
        Some(columns.split(',').map(|c| c.trim().rsplit('.').next().unwrap_or_default().to_owned()).collect())
    };
    let columns: Vec<String> = from_postgres.or_else(from_sqlite).unwrap_or_default();
    let fields: Vec<&str> =
        columns.iter().map(String::as_str).filter(|c| !c.ends_with("_id") || columns.len() == 1).collect();
    match fields.as_slice() {
        [] => "同じ内容のデータが既に存在します (a record with the same key already exists)".to_owned(),
        fields => {
            let joined = fields.join(", ");
            format!("{joined}: 同じ値のデータが既に存在します (a record with this {joined} already exists)")
        }
    }
}

impl AppError {
    /// Adds a check's field errors to `errors`, so that one answer names every bad field; `None`
    /// then, `Some` with the value when the check passed. Any other error ends the whole check.
    pub fn gather<T>(result: Result<T, Self>, errors: &mut Vec<FieldError>) -> Result<Option<T>, Self> {
        match result {
            Ok(value) => Ok(Some(value)),
            Err(Self::Validation(mut found)) => {
                errors.append(&mut found);
                Ok(None)
            }
            Err(other) => Err(other),
        }
    }

    /// A unique-key conflict naming the field and the value the client sent:
    /// `code: a plan with code "itabashi-ict-2020" already exists`.
    pub fn duplicate(field: &str, what: &str, value: impl std::fmt::Display) -> Self {
        Self::Conflict(format!("{field}: {what} with {field} \"{value}\" already exists"))
    }

    /// Turns a unique violation of the insert that produced `result` into [`AppError::duplicate`];
    /// other errors convert as usual.
    pub fn on_duplicate<T>(
        result: Result<T, DieselError>,
        field: &str,
        what: &str,
        value: impl std::fmt::Display,
    ) -> Result<T, Self> {
        result.map_err(|error| match error {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => Self::duplicate(field, what, value),
            other => Self::from(other),
        })
    }
}

/// Messages of a database that is too busy right now rather than of a bad request: PostgreSQL's
/// `statement_timeout` and SQLite's lock timeout. Retrying later can succeed, so they are a 503.
fn is_overloaded(message: &str) -> bool {
    message.contains("canceling statement due to statement timeout")
        || message.contains("database is locked")
        || message.contains("database table is locked")
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
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
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
            Self::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECONDS));
            }
            // The rest of the body may still be on its way; the connection cannot carry another
            // request after it.
            Self::RequestTimeout => {
                response.force_close();
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
    fn unique_violations_name_the_columns_not_the_tables() {
        let sqlite = describe_unique_violation("UNIQUE constraint failed: plans.code", None);
        let postgres = describe_unique_violation(
            "duplicate key value violates unique constraint \"plans_code_key\"",
            Some("Key (code)=(itabashi-ict-2020) already exists."),
        );
        assert_eq!(sqlite, postgres);
        assert!(sqlite.starts_with("code: "), "{sqlite}");
        for internal in ["UNIQUE constraint", "plans.", "plans_code_key"] {
            assert!(!sqlite.contains(internal), "{sqlite}");
        }
        let pair = describe_unique_violation("UNIQUE constraint failed: goals.plan_id, goals.number", None);
        assert!(pair.starts_with("number: "), "{pair}");
    }

    #[test]
    fn duplicates_name_field_and_value() {
        let problem = AppError::duplicate("code", "a plan", "itabashi-ict-2020").to_problem();
        assert_eq!(problem.status, 409);
        assert_eq!(problem.detail, "code: a plan with code \"itabashi-ict-2020\" already exists");
    }

    #[test]
    fn postgres_nul_rejections_are_validation_errors() {
        assert!(is_nul_byte_rejection("invalid byte sequence for encoding \"UTF8\": 0x00"));
        assert!(!is_nul_byte_rejection("invalid byte sequence for encoding \"UTF8\": 0xe3 0x81"));
    }

    #[test]
    fn a_timed_out_or_locked_database_is_unavailable_not_an_internal_error() {
        for message in ["canceling statement due to statement timeout", "database is locked"] {
            let error = DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new(message.to_owned()));
            assert!(matches!(AppError::from(error), AppError::Unavailable(_)), "{message}");
        }
        let other = DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new("syntax error".to_owned()));
        assert!(matches!(AppError::from(other), AppError::Database(_)));
    }

    #[test]
    fn unavailable_asks_the_client_to_retry_later() {
        let response = AppError::Unavailable("pool timed out".into()).error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let retry_after = response.headers().get(header::RETRY_AFTER).expect("Retry-After");
        assert_eq!(retry_after.to_str().unwrap(), RETRY_AFTER_SECONDS.to_string());
        let conflict = AppError::Conflict("x".into()).error_response();
        assert!(conflict.headers().get(header::RETRY_AFTER).is_none(), "only a 503 says when to retry");
    }

    #[test]
    fn problem_kinds_are_stable_on_the_wire() {
        let cases = [
            (AppError::Unauthenticated("x".into()), "/problems/unauthenticated", 401),
            (AppError::Forbidden("x".into()), "/problems/forbidden", 403),
            (AppError::PreconditionFailed("x".into()), "/problems/precondition-failed", 412),
            (AppError::PreconditionRequired("x".into()), "/problems/precondition-required", 428),
            (AppError::RequestTimeout, "/problems/request-timeout", 408),
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

    #[test]
    fn gather_collects_field_errors_and_stops_at_any_other() {
        let mut errors = Vec::new();
        assert_eq!(AppError::gather(Ok::<_, AppError>(7), &mut errors).unwrap(), Some(7));
        assert_eq!(AppError::gather(Err::<i32, _>(AppError::invalid("a", "bad")), &mut errors).unwrap(), None);
        assert_eq!(AppError::gather(Err::<i32, _>(AppError::invalid("b", "bad")), &mut errors).unwrap(), None);
        assert_eq!(errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert!(AppError::gather(Err::<i32, _>(AppError::Conflict("x".into())), &mut errors).is_err());
    }
}
