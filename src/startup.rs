//! Builds the HTTP server from a database and a token service, so `main` stays small and tests
//! start the real application on port 0.

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::{Server, ServiceResponse};
use actix_web::http::header::{self};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use tracing_actix_web::TracingLogger;
use utoipa::OpenApi;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::api;
use crate::api::cors::AllowedOrigins;
use crate::auth::{LoginThrottle, TokenService};
use crate::connections::ConnectionLimiter;
use crate::db::Database;
use crate::error::{AppError, PROBLEM_CONTENT_TYPE};
use crate::evaluation::records_cache::RecordsCache;
use crate::metrics::{Metrics, MetricsEndpoint};
use crate::response_cache::ResponseCache;
use crate::telemetry::RequestSpan;

pub struct Application {
    server: Server,
    port: u16,
}

/// HTTP settings of the server (the database has its own, in [`crate::db::DatabaseSettings`]).
#[derive(Debug, Clone, Default)]
pub struct ServerSettings {
    /// Origins whose browser pages may call the API (`CORS_ALLOWED_ORIGINS`); none by default.
    pub cors_allowed_origins: AllowedOrigins,
    /// Failed-login limits per username and per client address.
    pub login_throttle: crate::auth::LoginThrottleSettings,
    /// Request head and body deadlines and open-connection limits.
    pub connections: crate::connections::ConnectionSettings,
    /// Whether `GET /metrics` answers, and to which token (`METRICS_ENABLED`, `METRICS_TOKEN`).
    pub metrics_endpoint: MetricsEndpoint,
    /// How often an OpenID provider's JWKS may be fetched again for an unknown key id.
    pub jwks_refetch: crate::auth::provider_token::JwksRefetchInterval,
    /// The public address of this server, under which OpenID providers send the browser back
    /// (`PUBLIC_BASE_URL`); without it, the address of the request.
    pub public_base_url: crate::auth::oidc_login::PublicBaseUrl,
    /// The registry requests are recorded in; other parts may register counters in it first.
    pub metrics: Metrics,
}

impl Application {
    /// Binds `address` (port 0 picks a free port) and prepares the server with default settings.
    pub fn build(address: &str, db: Database, tokens: TokenService) -> std::io::Result<Self> {
        Self::build_with(address, db, tokens, ServerSettings::default())
    }

    /// [`Application::build`] with explicit settings.
    pub fn build_with(
        address: &str,
        db: Database,
        tokens: TokenService,
        settings: ServerSettings,
    ) -> std::io::Result<Self> {
        let login_throttle = web::Data::new(LoginThrottle::new(&settings.login_throttle));
        let listener = crate::connections::bind(address)?;
        let port = listener.local_addr()?.port();
        let provider_keys = web::Data::new(crate::auth::provider_token::ProviderKeys::new(settings.jwks_refetch));
        let public_base_url = web::Data::new(settings.public_base_url.clone());
        let db = web::Data::new(db);
        let tokens = web::Data::new(tokens);
        let openapi_json = web::Data::new(OpenApiJson::default());
        let routes = web::Data::new(KnownRoutes::from_openapi());
        let recording = settings.metrics_endpoint.is_on().then(|| settings.metrics.clone());
        let metrics_endpoint = web::Data::new(settings.metrics_endpoint.clone());
        let metrics = web::Data::new(settings.metrics.clone());
        let response_cache = web::Data::new(ResponseCache::default());
        let plan_records_cache = web::Data::new(RecordsCache::default());
        let comparison_turns = web::Data::new(api::national_indicators::ComparisonTurns::default());
        let body_timeout = settings.connections.body_timeout();
        let limiter = ConnectionLimiter::new(settings.connections.max_connections_per_address);
        let workers = crate::connections::workers();
        let max_connections = settings.connections.max_connections;
        let header_timeout = settings.connections.header_timeout();
        let recording = web::Data::new(crate::telemetry::RequestRecording(recording));
        let body_timeout = web::Data::new(api::body_deadline::BodyTimeout(body_timeout));
        let server = HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::from_fn(api::extract::reject_nul_in_query))
                // Innermost: a preflight is answered before routing and authentication.
                .wrap(settings.cors_allowed_origins.middleware())
                .wrap(ErrorHandlers::new().default_handler(problem_for_bare_error))
                .wrap(actix_web::middleware::from_fn(api::security_headers::apply_response_policy))
                .wrap(actix_web::middleware::from_fn(crate::telemetry::log_and_measure_request))
                .wrap(TracingLogger::<RequestSpan>::new())
                .wrap(actix_web::middleware::from_fn(api::body_deadline::limit_body_time))
                // Outermost: whatever the layers inside produced leaves in bounded slices.
                .wrap(actix_web::middleware::from_fn(api::sliced_body::slice_large_bodies))
                .app_data(db.clone())
                .app_data(recording.clone())
                .app_data(body_timeout.clone())
                .app_data(tokens.clone())
                .app_data(provider_keys.clone())
                .app_data(public_base_url.clone())
                .app_data(login_throttle.clone())
                .app_data(openapi_json.clone())
                .app_data(routes.clone())
                .app_data(metrics_endpoint.clone())
                .app_data(metrics.clone())
                .app_data(response_cache.clone())
                .app_data(plan_records_cache.clone())
                .app_data(comparison_turns.clone())
                .app_data(web::QueryConfig::default().error_handler(api::extract::query_error))
                .app_data(web::PathConfig::default().error_handler(api::extract::path_error))
                .app_data(web::JsonConfig::default().error_handler(api::extract::json_error))
                .service(api::health::healthz)
                .service(api::health::readyz)
                .service(api::metrics::metrics)
                .route("/api-docs/openapi.json", web::get().to(openapi_document))
                .route(
                    "/docs",
                    web::get().to(|| async {
                        HttpResponse::PermanentRedirect().insert_header((header::LOCATION, "/docs/")).finish()
                    }),
                )
                // No validator badge: it would load an image from another site, which the
                // documentation's content security policy refuses.
                .service(
                    SwaggerUi::new("/docs/{_:.*}").config(Config::from("/api-docs/openapi.json").validator_url("none")),
                )
                .configure(|cfg| routes.literal_path_guards(cfg))
                .service(
                    web::scope("/api/v1")
                        .wrap(actix_web::middleware::from_fn(crate::auth::resolve_caller))
                        .configure(api::configure_v1),
                )
                .configure(api::public::configure_pages)
                .configure(crate::web::configure)
                .default_service(web::to(no_route))
        })
        .on_connect(move |connection, data| limiter.on_connect(connection, data))
        .workers(workers)
        .max_connections(crate::connections::per_worker(max_connections, workers))
        .client_request_timeout(header_timeout)
        .shutdown_timeout(30)
        // A body larger than one write (`api::sliced_body`) ends in a short segment; with Nagle's
        // algorithm it waits for the client's delayed ACK, 40 ms on Linux.
        .tcp_nodelay(true)
        .h1_write_buffer_size(api::sliced_body::WRITE_BUFFER_BYTES)
        .listen(listener)?
        .run();
        Ok(Self { server, port })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs until SIGINT/SIGTERM; in-flight requests get 30 s to finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// The route table, read from the OpenAPI document (which lists every handler): a path that
/// exists with other methods answers 405 and `Allow`, anything else 404.
struct KnownRoutes(Vec<(PathTemplate, Vec<&'static str>)>);

/// An OpenAPI path template (`/api/v1/plans/{id}`): its `{parameter}` segments match any
/// non-empty segment, as actix's do. Compared segment by segment: actix's `ResourceDef` would
/// compile a regex per template, about 1 MB for this table, held for the life of the process.
struct PathTemplate {
    template: String,
    segments: Vec<Option<String>>,
}

impl PathTemplate {
    fn new(template: &str) -> Self {
        let segments = template
            .split('/')
            .map(|segment| (!(segment.starts_with('{') && segment.ends_with('}'))).then(|| segment.to_owned()))
            .collect();
        Self { template: template.to_owned(), segments }
    }

    fn is_literal(&self) -> bool {
        self.segments.iter().all(Option::is_some)
    }

    fn is_match(&self, path: &str) -> bool {
        let mut parts = path.split('/');
        self.segments.iter().all(|segment| match (segment, parts.next()) {
            (Some(literal), Some(part)) => literal == part,
            (None, Some(part)) => !part.is_empty(),
            (_, None) => false,
        }) && parts.next().is_none()
    }
}

impl KnownRoutes {
    fn from_openapi() -> Self {
        let document = api::openapi::ApiDoc::openapi();
        let routes = document
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ];
                let allowed = methods.iter().filter(|(_, present)| *present).map(|(method, _)| *method).collect();
                (PathTemplate::new(path), allowed)
            })
            .collect();
        Self(routes)
    }

    fn allowed(&self, path: &str) -> Option<String> {
        // A literal path (`/plans/import`) is its own resource, not an instance of `/plans/{id}`.
        if let Some((_, methods)) = self.0.iter().find(|(template, _)| template.template == path) {
            return Some(methods.join(", "));
        }
        let mut allowed: Vec<&str> = self
            .0
            .iter()
            .filter(|(template, _)| template.is_match(path))
            .flat_map(|(_, methods)| methods.iter().copied())
            .collect();
        allowed.sort_unstable();
        allowed.dedup();
        (!allowed.is_empty()).then(|| allowed.join(", "))
    }

    /// Literal paths that a templated one also matches (`/plans/import` and `/plans/{id}`).
    fn shadowed_literals(&self) -> impl Iterator<Item = (&str, &[&'static str])> {
        self.0.iter().filter(|(literal, _)| literal.is_literal()).filter_map(|(literal, methods)| {
            let path = literal.template.as_str();
            let shadowed = self.0.iter().any(|(other, _)| other.template != path && other.is_match(path));
            shadowed.then_some((path, methods.as_slice()))
        })
    }

    /// Registers, ahead of the handlers, a 405 for every other method on a shadowed literal path,
    /// so that `PATCH /plans/import` is "method not allowed" rather than "`import` is not an id".
    fn literal_path_guards(&self, cfg: &mut web::ServiceConfig) {
        for (path, methods) in self.shadowed_literals() {
            let methods: Vec<&'static str> = methods.to_vec();
            let allow = methods.join(", ");
            cfg.service(
                web::resource(path)
                    .guard(actix_web::guard::fn_guard(move |ctx| !methods.contains(&ctx.head().method.as_str())))
                    .to(move || {
                        let allow = allow.clone();
                        async move { Err::<HttpResponse, _>(AppError::MethodNotAllowed { allow }) }
                    }),
            );
        }
    }
}

async fn no_route(req: HttpRequest, routes: web::Data<KnownRoutes>) -> Result<HttpResponse, AppError> {
    match routes.allowed(req.path()) {
        Some(allow) => Err(AppError::MethodNotAllowed { allow }),
        None => Err(AppError::RouteNotFound),
    }
}

/// The committed document, byte for byte.
/// The OpenAPI document as served, serialised on its first request: it is about 1 MB, which a
/// server nobody reads the documentation of need not hold.
#[derive(Default)]
struct OpenApiJson(std::sync::OnceLock<web::Bytes>);

async fn openapi_document(document: web::Data<OpenApiJson>) -> HttpResponse {
    let body = document.0.get_or_init(|| web::Bytes::from(api::openapi::document_json())).clone();
    HttpResponse::Ok().content_type("application/json; charset=utf-8").body(body)
}

/// Responses that actix produced itself (405 for a wrong method, a 404 from the docs service)
/// carry no problem body; give them one so that every error has the same shape.
fn problem_for_bare_error<B>(response: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_CONTENT_TYPE));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(response.map_into_left_body()));
    }
    let status = response.status();
    let error = match status.as_u16() {
        404 => AppError::RouteNotFound,
        405 => AppError::MethodNotAllowed { allow: String::new() },
        413 => AppError::PayloadTooLarge { limit: api::extract::MAX_JSON_BODY_BYTES },
        code if code < 500 => AppError::BadRequest(status.canonical_reason().unwrap_or("bad request").to_owned()),
        _ => AppError::Internal(format!("unhandled {status}")),
    };
    let (request, original) = response.into_parts();
    let mut problem: HttpResponse<BoxBody> = actix_web::ResponseError::error_response(&error);
    // Keep the original status (e.g. 400 vs 404) where our mapping was generic, and the
    // original headers (CORS, Allow) that do not describe the replaced body.
    *problem.status_mut() = status;
    for (name, value) in original.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH && !problem.headers().contains_key(name) {
            problem.headers_mut().append(name.clone(), value.clone());
        }
    }
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(request, problem).map_body(|_, body| EitherBody::right(body)),
    ))
}

#[cfg(test)]
mod tests {
    use super::PathTemplate;

    #[test]
    fn a_template_matches_paths_with_the_same_literals_and_a_non_empty_segment_per_parameter() {
        let template = PathTemplate::new("/api/v1/plans/{id}/evaluation");
        assert!(template.is_match("/api/v1/plans/1/evaluation"));
        assert!(template.is_match("/api/v1/plans/import/evaluation"));
        assert!(!template.is_match("/api/v1/plans//evaluation"));
        assert!(!template.is_match("/api/v1/plans/1"));
        assert!(!template.is_match("/api/v1/plans/1/evaluation/"));
        assert!(!template.is_match("/api/v1/plans/1/2/evaluation"));
        assert!(!template.is_match("/api/v1/measures/1/evaluation"));
        assert!(!template.is_literal());
    }

    #[test]
    fn a_literal_template_matches_only_itself() {
        let template = PathTemplate::new("/api/v1/plans/import");
        assert!(template.is_literal());
        assert!(template.is_match("/api/v1/plans/import"));
        assert!(!template.is_match("/api/v1/plans/import/"));
        assert!(!template.is_match("/api/v1/plans"));
    }
}
