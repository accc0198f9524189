//! Request parsing that turns every malformed input into a problem+json 4xx.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::error::{AppError, FieldError};
use crate::versioning::Precondition;

/// Largest accepted JSON body; documented in the OpenAPI description.
pub const MAX_JSON_BODY_BYTES: usize = 256 * 1024;

/// A JSON request body. Unlike `web::Json`, errors name the offending field by its path
/// (`targets[0].value`) and distinguish malformed JSON (400) from a wrong shape (422).
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = is_json_content_type(req);
        let mut payload = payload.take();
        Box::pin(async move {
            if !content_type_ok {
                return Err(not_json());
            }
            let body = read_body(&mut payload, MAX_JSON_BODY_BYTES).await?;
            parse_json(&body).map(Json)
        })
    }
}

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
        let chunk = chunk.map_err(|e| AppError::BadRequest(format!("could not read the request body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        match inner.classify() {
            serde_json::error::Category::Syntax
            | serde_json::error::Category::Eof
            | serde_json::error::Category::Io => AppError::BadRequest(format!("the body is not valid JSON: {inner}")),
            serde_json::error::Category::Data => {
                let field = if path == "." { "body".to_owned() } else { path };
                AppError::Validation(vec![FieldError::new(field, strip_position(&inner.to_string()))])
            }
        }
    })
}

/// serde_json appends " at line 1 column 42", which means nothing to a form user.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

/// `web::Query` failures as 422 naming the parameter.
pub fn query_error(error: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let message = error.to_string();
    let message = message.strip_prefix("Query deserialize error: ").unwrap_or(&message).to_owned();
    AppError::Validation(vec![FieldError::new("query", message)]).into()
}

/// `web::Path` failures (an id that is not a number) as 400 naming the parameter.
pub fn path_error(error: PathError, _req: &HttpRequest) -> actix_web::Error {
    AppError::BadRequest(format!("invalid path parameter: {error}")).into()
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
