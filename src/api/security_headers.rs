//! Headers that every response carries so that browsers and intermediaries treat the API safely:
//! no MIME sniffing, no referrer, no framing, a content security policy, and no caching of
//! authenticated data.

use actix_web::HttpRequest;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::middleware::Next;

use crate::api::cors;
use crate::error::RETRY_AFTER_SECONDS;

/// Policy of every response but the API documentation: it is data, never a page, so it may load
/// nothing and be framed by nobody.
pub const API_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// Policy of the vendored Swagger UI at `/docs`: its scripts, styles and the OpenAPI document
/// all come from this server. The UI sets inline styles (`'unsafe-inline'` for styles only,
/// never scripts) and its stylesheet draws icons from `data:` images.
pub const DOCS_CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
     style-src 'self' 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Authenticated data must not be stored by any cache; a handler may set its own policy
/// (the dashboard feed revalidates with its ETag: `private, no-cache`).
/// The 進捗状況報告書's HTML: its own inline styles and SVG only; no script, no fetch, no frame.
pub const REPORT_CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub const AUTHENTICATED_CACHE_CONTROL: &str = "no-store";

/// What the headers of one response depend on, taken from its request.
#[derive(Debug, Clone, Copy)]
pub struct ResponsePolicy {
    documentation: bool,
    authenticated: bool,
}

impl ResponsePolicy {
    pub fn for_request(request: &HttpRequest) -> Self {
        let path = request.path();
        Self {
            documentation: path == "/docs" || path.starts_with("/docs/"),
            authenticated: path.starts_with("/api/") || request.headers().contains_key(header::AUTHORIZATION),
        }
    }

    pub fn apply(self, status: StatusCode, headers: &mut HeaderMap) {
        cors::remove_unless_origin_allowed(headers);
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        let policy = if self.documentation { DOCS_CONTENT_SECURITY_POLICY } else { API_CONTENT_SECURITY_POLICY };
        // A handler that set its own policy (the web view) keeps it.
        if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
            headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
        }
        if self.authenticated && !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(AUTHENTICATED_CACHE_CONTROL));
        }
        // Whatever produced a 503, the client learns when to try again.
        if status == StatusCode::SERVICE_UNAVAILABLE && !headers.contains_key(header::RETRY_AFTER) {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
    }
}

/// Middleware: every response, including an error actix renders later, gets the headers of
/// [`ResponsePolicy`].
pub async fn apply_response_policy(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let policy = ResponsePolicy::for_request(req.request());
    match next.call(req).await {
        Ok(mut response) => {
            let status = response.status();
            policy.apply(status, response.headers_mut());
            Ok(response)
        }
        Err(mut error) => {
            error.add_response_mapper(move |mut response| {
                let status = response.status();
                policy.apply(status, response.headers_mut());
                response
            });
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn headers_for(
        request: TestRequest,
        status: StatusCode,
        preset: &[(header::HeaderName, &'static str)],
    ) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in preset {
            headers.insert(name.clone(), HeaderValue::from_static(value));
        }
        ResponsePolicy::for_request(&request.to_http_request()).apply(status, &mut headers);
        headers
    }

    #[test]
    fn docs_may_load_their_own_files_and_the_api_nothing() {
        let docs = headers_for(TestRequest::get().uri("/docs/index.html"), StatusCode::OK, &[]);
        assert_eq!(docs.get(header::CONTENT_SECURITY_POLICY).expect("header"), DOCS_CONTENT_SECURITY_POLICY);
        let api = headers_for(TestRequest::get().uri("/api/v1/plans"), StatusCode::OK, &[]);
        assert_eq!(api.get(header::CONTENT_SECURITY_POLICY).expect("header"), API_CONTENT_SECURITY_POLICY);
        // `/docsx` is not the documentation.
        let other = headers_for(TestRequest::get().uri("/docsx"), StatusCode::NOT_FOUND, &[]);
        assert_eq!(other.get(header::CONTENT_SECURITY_POLICY).expect("header"), API_CONTENT_SECURITY_POLICY);
    }

    #[test]
    fn a_handlers_cache_policy_is_kept() {
        let preset = [(header::CACHE_CONTROL, "private, no-cache")];
        let dashboard = headers_for(TestRequest::get().uri("/api/v1/plans/1/dashboard"), StatusCode::OK, &preset);
        assert_eq!(dashboard.get(header::CACHE_CONTROL).expect("header"), "private, no-cache");
        let plans = headers_for(TestRequest::get().uri("/api/v1/plans"), StatusCode::OK, &[]);
        assert_eq!(plans.get(header::CACHE_CONTROL).expect("header"), AUTHENTICATED_CACHE_CONTROL);
        let health = headers_for(TestRequest::get().uri("/healthz"), StatusCode::OK, &[]);
        assert!(!health.contains_key(header::CACHE_CONTROL), "public and harmless to cache");
    }

    #[test]
    fn every_503_says_when_to_retry() {
        let headers = headers_for(TestRequest::get().uri("/readyz"), StatusCode::SERVICE_UNAVAILABLE, &[]);
        assert_eq!(headers.get(header::RETRY_AFTER).expect("header"), RETRY_AFTER_SECONDS.to_string().as_str());
    }
}
