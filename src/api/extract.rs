//! Request parsing that turns every malformed input into a problem+json 4xx.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use super::input_messages;
use crate::domain::limits::NUL_MESSAGE;
use crate::error::{AppError, FieldError};
use crate::versioning::Precondition;

/// Largest accepted JSON body; documented in the OpenAPI description.
/// Largest accepted spreadsheet or plan file.
pub const MAX_UPLOAD_BYTES: usize = 4 * 1024 * 1024;

pub const MAX_JSON_BODY_BYTES: usize = 256 * 1024;

fn is_json_content_type(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON))
}

fn not_json() -> AppError {
    AppError::UnsupportedMediaType("send the body as application/json".into())
}

/// A JSON request body that is read now but judged later: extraction only reads the bytes (within
/// [`MAX_JSON_BODY_BYTES`], else 413); the Content-Type (415) and the JSON itself (400/422, by
/// [`parse_json`]) are checked when the handler calls [`JsonBody::parse`], after it has checked the
/// caller's role, scope and preconditions. So a caller who may not write learns nothing from the
/// body's validation.
pub struct JsonBody<T> {
    bytes: web::Bytes,
    content_type_ok: bool,
    // `fn() -> T` keeps the body `Send` (it moves into database closures) whatever T is.
    shape: std::marker::PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> JsonBody<T> {
    pub fn parse(self) -> Result<T, AppError> {
        if !self.content_type_ok {
            return Err(not_json());
        }
        require_object(&self.bytes)?;
        parse_json(&self.bytes)
    }
}

impl<T: 'static> FromRequest for JsonBody<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = is_json_content_type(req);
        let mut payload = payload.take();
        Box::pin(async move {
            let bytes = read_body(&mut payload, MAX_JSON_BODY_BYTES).await?.freeze();
            Ok(Self { bytes, content_type_ok, shape: std::marker::PhantomData })
        })
    }
}

/// Reads a body up to `limit` bytes; more is 413.
pub async fn read_body<S>(payload: &mut S, limit: usize) -> Result<web::BytesMut, AppError>
where
    S: futures_util::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>> + Unpin,
{
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| match super::body_deadline::is_timed_out(&e) {
            true => AppError::RequestTimeout,
            false => AppError::BadRequest(format!("could not read the request body: {e}")),
        })?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The one JSON body parser: 400 for malformed JSON, 422 naming the field (`targets[0].value`) for
/// a wrong shape, with plain messages that never show Rust type names. No string or key of the
/// body may hold U+0000 (PostgreSQL cannot store it; SQLite would, so the backends would differ).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    if let Some(problem) = nul_in_json(body) {
        return Err(AppError::Validation(vec![problem]));
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        // serde_json reports some shape errors as syntax (a map key that is not a number where
        // one is expected); a body that parses as JSON has a shape problem, which is a 422.
        let well_formed = || serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok();
        match inner.classify() {
            serde_json::error::Category::Syntax if well_formed() => {
                AppError::Validation(vec![input_messages::field_error(&path, &strip_position(&inner.to_string()))])
            }
            serde_json::error::Category::Syntax
            | serde_json::error::Category::Eof
            | serde_json::error::Category::Io => AppError::BadRequest(format!(
                "JSON として読めません (the body is not valid JSON: {})",
                strip_position(&inner.to_string())
            )),
            serde_json::error::Category::Data => {
                AppError::Validation(vec![input_messages::field_error(&path, &strip_position(&inner.to_string()))])
            }
        }
    })
}

/// The first string or key holding U+0000, as a field error naming its path. Only bodies that
/// contain the escape `\u0000` are walked (raw control bytes are already invalid JSON).
fn nul_in_json(body: &[u8]) -> Option<FieldError> {
    const ESCAPE: &[u8] = b"\\u0000";
    if !body.windows(ESCAPE.len()).any(|window| window == ESCAPE) {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    find_nul(&value, String::new())
}

fn find_nul(value: &serde_json::Value, path: String) -> Option<FieldError> {
    let named = |path: &str| if path.is_empty() { "body".to_owned() } else { path.to_owned() };
    match value {
        serde_json::Value::String(text) if text.contains('\0') => Some(FieldError::new(named(&path), NUL_MESSAGE)),
        serde_json::Value::Array(items) => {
            items.iter().enumerate().find_map(|(index, item)| find_nul(item, format!("{path}[{index}]")))
        }
        serde_json::Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                return Some(FieldError::new(
                    named(&path),
                    "項目名に NUL 文字 (U+0000) は使用できません (a field name must not contain the NUL character U+0000)",
                ));
            }
            find_nul(item, if path.is_empty() { key.clone() } else { format!("{path}.{key}") })
        }),
        _ => None,
    }
}

/// serde_json appends " at line 1 column 42", which means nothing to a form user.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

/// Query parameters, like `web::Query` but with errors that name the parameter
/// (`limit: 整数で入力してください …`) and with no value or name holding U+0000.
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Query<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(Query))
    }
}

/// Reads a query string into `T`, naming the offending parameter on error.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, AppError> {
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if name.contains('\0') {
            return Err(AppError::invalid("query", NUL_MESSAGE));
        }
        if value.contains('\0') {
            return Err(AppError::invalid(name.into_owned(), NUL_MESSAGE));
        }
    }
    let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        AppError::Validation(vec![input_messages::field_error_at("query", &path, &error.into_inner().to_string())])
    })
}

/// Middleware: a query string with U+0000 in any parameter name or value is refused with 422
/// naming the parameter, whichever endpoint it is sent to (handlers that read their query check
/// it again in [`Query`]), so that no NUL ever reaches storage or a log.
pub async fn reject_nul_in_query(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<
    actix_web::dev::ServiceResponse<actix_web::body::EitherBody<impl actix_web::body::MessageBody>>,
    actix_web::Error,
> {
    let query = req.query_string();
    if query.contains("%00") || query.contains('\0') {
        let named = form_urlencoded::parse(query.as_bytes()).find_map(|(name, value)| {
            if name.contains('\0') {
                Some("query".to_owned())
            } else if value.contains('\0') {
                Some(name.into_owned())
            } else {
                None
            }
        });
        if let Some(field) = named {
            let response = actix_web::ResponseError::error_response(&AppError::invalid(field, NUL_MESSAGE));
            return Ok(req.into_response(response).map_into_right_body());
        }
    }
    next.call(req).await.map(actix_web::dev::ServiceResponse::map_into_left_body)
}

/// `web::Query` failures (handlers use [`Query`]; this covers any other) as 422.
pub fn query_error(error: QueryPayloadError, req: &HttpRequest) -> actix_web::Error {
    if let Err(named) = parse_query::<std::collections::HashMap<String, String>>(req.query_string()) {
        return named.into();
    }
    let message = error.to_string();
    let message = message.strip_prefix("Query deserialize error: ").unwrap_or(&message).to_owned();
    AppError::Validation(vec![input_messages::field_error_at("query", ".", &message)]).into()
}

/// `web::Path` failures as 422 naming the parameter (`id`, `fiscal_year`): every path parameter
/// of this API is an integer, so the one that is not (or is out of range) is the culprit. The
/// same rule holds for every endpoint and is stated in the OpenAPI description.
pub fn path_error(_error: PathError, req: &HttpRequest) -> actix_web::Error {
    path_parameter_error(req).into()
}

/// The 422 for a path parameter that is not a whole number in range.
pub fn path_parameter_error(req: &HttpRequest) -> AppError {
    let offending = req.match_info().iter().find(|(_, value)| value.parse::<i32>().is_err());
    match offending {
        Some((name, value)) if value.contains('\0') => AppError::invalid(name, NUL_MESSAGE),
        Some((name, _)) => AppError::invalid(name, input_messages::WHOLE_NUMBER),
        None => AppError::invalid("path", input_messages::WHOLE_NUMBER),
    }
}

/// `web::Json` is not used, but keep its errors problem-shaped should a handler take one.
pub fn json_error(error: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    match error {
        JsonPayloadError::Overflow { limit } | JsonPayloadError::OverflowKnownLength { limit, .. } => {
            AppError::PayloadTooLarge { limit }.into()
        }
        JsonPayloadError::ContentType => {
            AppError::UnsupportedMediaType("send the body as application/json".into()).into()
        }
        JsonPayloadError::Payload(ref payload) if super::body_deadline::is_timed_out(payload) => {
            AppError::RequestTimeout.into()
        }
        other => AppError::BadRequest(other.to_string()).into(),
    }
}

/// The `If-Match` precondition of a request.
pub fn precondition(req: &HttpRequest) -> Result<Precondition, AppError> {
    let value = match req.headers().get(header::IF_MATCH) {
        Some(value) => Some(value.to_str().map_err(|_| AppError::BadRequest("If-Match is not valid text".into()))?),
        None => None,
    };
    Precondition::from_if_match(value)
}

/// A JSON response with the strong ETag of the version it shows.
pub fn versioned(
    mut response: actix_web::HttpResponseBuilder,
    tag: header::EntityTag,
    body: &impl serde::Serialize,
) -> actix_web::HttpResponse {
    response.insert_header(header::ETag(tag)).json(body)
}

/// Every JSON body of this API is an object. serde also fills a struct from an array of its
/// fields in order (`[null, null]`), which no client means and the schema does not allow.
fn require_object(body: &[u8]) -> Result<(), AppError> {
    // Scalars and malformed JSON already fail in `parse_json` (422 and 400); only arrays slip through.
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => {
            Err(AppError::Validation(vec![FieldError::new("body", "must be a JSON object ({…}), not an array")]))
        }
        _ => Ok(()),
    }
}
