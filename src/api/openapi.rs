//! The OpenAPI document, generated from the handlers and types by utoipa.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::extract::MAX_JSON_BODY_BYTES;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "municipal-kpi",
        description = "KPI tracking for municipal ICT/DX plans (板橋区 ICT推進・活用計画2020 and its successors): plans, \
measures (推進施策), indicators (指標), target revisions, yearly actuals (実績), achievement and evaluation.\n\n\
Authentication: `POST /api/v1/auth/token`, then `Authorization: Bearer <token>` on every endpoint except \
`/healthz`, `/readyz`, `/api-docs/openapi.json` and `/docs`; `/metrics` (off unless enabled) takes the server's static \
`METRICS_TOKEN` instead.\n\n\
Errors are RFC 9457 `application/problem+json` with `type`, `title`, `status`, `detail` and, for \
validation errors (422), `errors: [{field, message}]`.\n\n\
Fiscal years (年度, April–March) are integers; responses add a label such as `令和元(2019)年度`. Numbers \
travel as JSON numbers and are kept as exact decimals; inputs also accept decimal strings (\"15.2\", full-width \"１２３．５\", thousands separators \"1,234\") with at most 15 digits before and 10 after the decimal point; more precise input is refused (422), never rounded.\n\nInput bounds: names 200 characters, codes 64, free text 2000, passwords 1024, lists in a body 100 items; no text may contain U+0000. Fiscal years are 1989–2100. A path parameter that is not an integer (or a fiscal year outside the range) is a 422 naming the parameter, on every endpoint. Every collection is paginated as `{items, total, limit, offset}` with `limit` 1–500 (default 50) and `offset` 0–1000000.",
        version = env!("CARGO_PKG_VERSION"),
        license(name = "MIT OR Apache-2.0"),
    ),
    servers((url = "/", description = "this server")),
    paths(
        crate::api::health::healthz,
        crate::api::health::readyz,
        crate::api::metrics::metrics,
        crate::api::auth::issue_token,
        crate::api::auth::me,
        crate::api::oidc_login::list_web_login_providers,
        crate::api::oidc_login::begin_web_login,
        crate::api::oidc_login::finish_web_login,
        crate::api::oidc_login::exchange_login_ticket,
        crate::api::oidc_login::logout,
        crate::api::identity_providers::get_identity_provider,
        crate::api::identity_providers::put_identity_provider,
        crate::api::users::list_users,
        crate::api::users::create_user,
        crate::api::users::get_user,
        crate::api::users::update_user,
        crate::api::departments::list_municipalities,
        crate::api::departments::create_municipality,
        crate::api::departments::list_departments,
        crate::api::departments::create_department,
        crate::api::departments::get_department,
        crate::api::departments::update_department,
        crate::api::plans::list_plans,
        crate::api::plans::create_plan,
        crate::api::plans::get_plan,
        crate::api::plans::update_plan,
        crate::api::plans::list_goals,
        crate::api::plans::create_goal,
        crate::api::plans::rename_goal,
        crate::api::plans::list_strategies,
        crate::api::plans::create_strategy,
        crate::api::plans::rename_strategy,
        crate::api::plans::get_making,
        crate::api::plans::replace_making,
        crate::api::measures::list_measures,
        crate::api::measures::create_measure,
        crate::api::measures::get_measure,
        crate::api::measures::update_measure,
        crate::api::measures::change_measure_status,
        crate::api::measures::add_owner,
        crate::api::measures::update_owner,
        crate::api::measures::remove_owner,
        crate::api::indicators::list_indicators,
        crate::api::indicators::create_indicator,
        crate::api::indicators::get_indicator,
        crate::api::indicators::update_indicator,
        crate::api::indicators::retire_indicator,
        crate::api::indicators::replace_indicator,
        crate::api::indicators::list_targets,
        crate::api::indicators::revise_target,
        crate::api::indicators::list_definitions,
        crate::api::indicators::revise_definition,
        crate::api::actuals::list_actuals,
        crate::api::actuals::get_actual,
        crate::api::actuals::submit_actual,
        crate::api::actuals::actual_history,
        crate::api::actuals::review_actual,
        crate::api::actuals::indicator_achievement,
        crate::api::evaluation::get_evaluation,
        crate::api::report::get_report,
        crate::api::measure_evaluations::get_measure_year,
        crate::api::measure_evaluations::get_department_evaluation,
        crate::api::measure_evaluations::submit_department_evaluation,
        crate::api::measure_evaluations::department_evaluation_history,
        crate::api::measure_evaluations::review_department_evaluation,
        crate::api::measure_evaluations::get_assessment,
        crate::api::measure_evaluations::assess_measure,
        crate::api::measure_evaluations::assessment_history,
        crate::api::measure_evaluations::list_plan_measure_evaluations,
        crate::api::measure_evaluations::get_evaluation_directions,
        crate::api::measure_evaluations::set_evaluation_directions,
        crate::api::measure_evaluations::measure_revision_origins,
        crate::api::measure_evaluations::indicator_revision_origins,
        crate::api::measure_evaluations::import_measure_evaluations,
        crate::api::submissions::submissions,
        crate::api::collections::list_collections,
        crate::api::collections::open_collection,
        crate::api::collections::update_collection,
        crate::api::dashboard::dashboard,
        crate::api::open_data::open_data,
        crate::api::actuals::import_actuals,
        crate::api::plans::import_plan,
        crate::api::audit::list_audit,
        crate::api::reminders::reminder_log,
        crate::api::lineage::indicator_series,
        crate::api::lineage::link_predecessor,
        crate::api::lineage::list_references,
        crate::api::lineage::create_reference,
        crate::api::national_indicators::list_national_indicators,
        crate::api::national_indicators::get_national_indicator,
        crate::api::national_indicators::national_comparison,
        crate::api::publications::publish,
        crate::api::publications::list_publications,
        crate::api::public::published_year,
        crate::api::public::published_version,
        crate::api::public::catalog,
        crate::api::public::year_page,
        crate::api::public::version_page,
        crate::api::national_editions::list_national_editions,
        crate::api::national_editions::import_national_edition,
    ),
    // Schemas that handlers reference only through parameters (which utoipa does not collect).
    components(schemas(crate::error::Problem, crate::error::FieldError, crate::api::evaluation::Format, crate::api::report::ReportFormat, crate::domain::progress_report::ProgressReport, crate::api::public::DataFormat)),
    modifiers(&BearerAuth, &VersionPrefix, &ProblemResponses, &ResponseHeaders, &PaginationBounds, &PathParameterExamples),
    tags(
        (name = "health", description = "Probes (no authentication)"),
        (name = "metrics", description = "Prometheus metrics (off unless METRICS_ENABLED; a static METRICS_TOKEN)"),
        (name = "auth", description = "Tokens and the caller"),
        (name = "users", description = "User administration (admin, system_admin)"),
        (name = "departments", description = "Municipalities and departments (所管課)"),
        (name = "plans", description = "Plans, basic goals (基本目標) and strategies (重点戦略)"),
        (name = "measures", description = "Measures (推進施策)"),
        (name = "indicators", description = "Indicators (指標) and their target and definition revisions"),
        (name = "actuals", description = "Yearly actuals (実績), their review and achievement"),
        (name = "measure evaluations", description = "施策評価: each owning department's evaluation of a measure's year and its review, the 本部's assessment (本部評価, 方向性, 計画への反映)"),
        (name = "evaluation", description = "Evaluation summaries, collection, dashboards, spreadsheets and imports"),
        (name = "audit", description = "Who changed what, when (hq, admin)"),
        (name = "national indicators", description = "The national catalogue (自治体DX推進計画の重点取組事項) by edition and comparisons across municipalities"),
        (name = "publications", description = "公表: the 本部 publishes a plan's year (hq)"),
        (name = "public", description = "What was published, deliberately public (no token): JSON and CSV open data, the DCAT catalogue, the HTML pages"),
    )
)]
pub struct ApiDoc;

/// Paths outside the `/api/v1` scope; every other handler is mounted under it.
pub const UNVERSIONED_PATHS: &[&str] = &[
    "/healthz",
    "/readyz",
    "/metrics",
    "/public/{code}/plans/{plan_id}/{fiscal_year}",
    "/public/{code}/plans/{plan_id}/{fiscal_year}/versions/{version}",
];

/// Handlers declare paths relative to their scope; the document shows the full path.
struct VersionPrefix;

impl Modify for VersionPrefix {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let paths = std::mem::take(&mut openapi.paths.paths);
        openapi.paths.paths = paths
            .into_iter()
            .map(|(path, item)| match UNVERSIONED_PATHS.contains(&path.as_str()) {
                true => (path, item),
                false => (format!("/api/v1{path}"), item),
            })
            .collect();
    }
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".to_owned());
        scheme.description = Some(
            "HS256 JWT from POST /api/v1/auth/token (claims: sub, role, department_id, iat, exp, iss, aud)".to_owned(),
        );
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
        let mut metrics_token = Http::new(HttpAuthScheme::Bearer);
        metrics_token.description =
            Some("the static METRICS_TOKEN of the server (GET /metrics only; not a JWT)".to_owned());
        components.add_security_scheme("metrics_token", SecurityScheme::Http(metrics_token));
        if let Some(description) = openapi.info.description.as_mut() {
            description.push_str(&format!(
                "\n\nJSON request bodies are limited to {MAX_JSON_BODY_BYTES} bytes; larger ones get 413. \
A method that a path does not list gets 405 with `Allow` naming the ones it does. A request body \
that does not arrive in full within the server's deadline gets 408 and the connection is closed; on \
any path, a request head that does not arrive in time gets a bare 408 (no body) and a closed \
connection. Timestamps are RFC 3339 in UTC (`2026-11-24T00:31:32.877433Z`)."
            ));
        }
    }
}

/// The document as committed in `openapi/openapi.json`: pretty, UTF-8 (Japanese not escaped),
/// ending with a newline.
pub fn document_json() -> String {
    let document = ApiDoc::openapi();
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

/// Reads open to every authenticated role, the cross-municipality ones included (what
/// municipalities publish); every other operation can answer 403 to some role (`auth::tenancy`).
const PUBLISHED_READS: &[&str] = &[
    "me",
    "list_municipalities",
    "open_data",
    "list_national_indicators",
    "get_national_indicator",
    "national_comparison",
    "list_national_editions",
];

/// Operations answered without a database call (the metrics read the pools' state in memory),
/// so they can never be 503.
const WITHOUT_DATABASE: &[&str] = &["healthz", "metrics"];

/// The login operation: throttled (429) and public.
const LOGIN_OPERATION: &str = "issue_token";

/// What the shared request machinery can answer on an operation, whatever its handler does:
/// extractors (400, 413, 415, 422), the body deadline (408), the bearer check (401), role checks
/// (403), id lookups (404), `If-Match` (412), login throttling (429) and the connection pool (503).
/// Handlers declare only their own outcomes; this adds the rest so that the document lists every
/// status the server sends.
struct ProblemResponses;

/// The facts about an operation that decide which problems it can answer.
struct OperationShape {
    secured: bool,
    writes: bool,
    has_path_parameters: bool,
    has_query_parameters: bool,
    has_body: bool,
    takes_if_match: bool,
    operation_id: String,
}

impl OperationShape {
    fn of(method: &str, operation: &utoipa::openapi::path::Operation) -> Self {
        use utoipa::openapi::path::ParameterIn;
        let parameters = operation.parameters.as_deref().unwrap_or_default();
        let has = |place: ParameterIn| parameters.iter().any(|p| p.parameter_in == place);
        Self {
            secured: operation.security.is_some(),
            writes: method != "get",
            has_path_parameters: has(ParameterIn::Path),
            has_query_parameters: has(ParameterIn::Query),
            has_body: operation.request_body.is_some(),
            takes_if_match: parameters.iter().any(|p| p.name.eq_ignore_ascii_case("If-Match")),
            operation_id: operation.operation_id.clone().unwrap_or_default(),
        }
    }

    /// Every problem status this operation can answer with.
    fn problem_statuses(&self) -> Vec<u16> {
        let id = self.operation_id.as_str();
        let rules = [
            (400, self.has_path_parameters || self.has_body || self.takes_if_match),
            (401, self.secured),
            (403, self.secured && (self.writes || !PUBLISHED_READS.contains(&id))),
            (404, self.has_path_parameters),
            (408, self.has_body),
            (412, self.takes_if_match),
            (413, self.has_body),
            (415, self.has_body),
            (422, self.has_body || self.has_query_parameters || self.has_path_parameters),
            (429, id == LOGIN_OPERATION),
            (503, !WITHOUT_DATABASE.contains(&id)),
        ];
        rules.into_iter().filter(|(_, applies)| *applies).map(|(status, _)| status).collect()
    }
}

/// What a problem status means on this API, for the response description.
fn problem_description(status: u16) -> &'static str {
    match status {
        400 => {
            "malformed request: a path parameter of the wrong type, a body that is not valid JSON or an unreadable header"
        }
        401 => "missing, expired or invalid bearer token",
        403 => "the caller's role or department may not do this",
        404 => "no such resource",
        405 => "the resource does not support this method (see `Allow`)",
        406 => "none of the media types in Accept can be produced",
        409 => "conflicts with the current state (a duplicate key, a closed record or a record still referenced)",
        408 => "the request body did not arrive within the server's body deadline; the connection is closed",
        412 => "If-Match names a version that is no longer current",
        413 => "the request body is larger than the limit",
        415 => "the request body has an unsupported Content-Type",
        422 => "the input is well formed but invalid; `errors` names each offending field",
        428 => "If-Match is required to change an existing record",
        429 => "too many attempts; try again after `Retry-After` seconds",
        503 => "the database is unavailable; try again after `Retry-After` seconds",
        _ => "error",
    }
}

/// An example problem for a status, produced by the same code that produces real ones.
fn problem_example(status: u16) -> Option<serde_json::Value> {
    use crate::error::AppError;
    let error = match status {
        400 => AppError::BadRequest("the body is not valid JSON: expected value".into()),
        401 => AppError::Unauthenticated("the bearer token has expired".into()),
        403 => AppError::Forbidden("the viewer role may not create plans".into()),
        404 => AppError::not_found("plan", 99),
        405 => AppError::MethodNotAllowed { allow: "GET, POST".into() },
        406 => AppError::NotAcceptable("offered: application/json, text/csv".into()),
        409 => AppError::Conflict("a record with the same key already exists".into()),
        412 => AppError::PreconditionFailed(
            "the measure was changed by someone else (now version 4); GET it again for its current ETag header and \
             send your change with that value as If-Match"
                .into(),
        ),
        408 => AppError::RequestTimeout,
        413 => AppError::PayloadTooLarge { limit: MAX_JSON_BODY_BYTES },
        415 => AppError::UnsupportedMediaType("send the body as application/json".into()),
        422 => AppError::invalid("name", "must not be empty"),
        428 => AppError::PreconditionRequired(
            "an actual exists for this year: GET /api/v1/indicators/16/actuals/2020 returns it with its current ETag \
             header; send that value as If-Match to overwrite it"
                .into(),
        ),
        503 => AppError::Unavailable("pool timed out".into()),
        // 429 comes from the login throttle; its problem has the same members.
        429 => {
            return Some(serde_json::json!({
                "type": "/problems/too-many-requests",
                "title": "リクエストが多すぎます (too many requests)",
                "status": 429,
                "detail": "too many failed logins; try again in 60 seconds"
            }));
        }
        _ => return None,
    };
    serde_json::to_value(error.to_problem()).ok()
}

fn retry_after_header() -> utoipa::openapi::Header {
    utoipa::openapi::HeaderBuilder::new()
        .schema(utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::Type::Integer).minimum(Some(0)))
        .description(Some("seconds to wait before retrying"))
        .build()
}

fn problem_response(status: u16) -> utoipa::openapi::Response {
    let content = utoipa::openapi::ContentBuilder::new()
        .schema(Some(utoipa::openapi::Ref::from_schema_name("Problem")))
        .example(problem_example(status))
        .build();
    let mut response = utoipa::openapi::ResponseBuilder::new()
        .description(problem_description(status))
        .content(crate::error::PROBLEM_CONTENT_TYPE, content)
        .build();
    if matches!(status, 429 | 503) {
        response.headers.insert("Retry-After".to_owned(), retry_after_header());
    }
    response
}

/// `(method, operation)` for every operation of a path item.
fn operations_mut(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = (&'static str, &mut utoipa::openapi::path::Operation)> {
    [
        ("get", item.get.as_mut()),
        ("post", item.post.as_mut()),
        ("put", item.put.as_mut()),
        ("patch", item.patch.as_mut()),
        ("delete", item.delete.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.map(|operation| (method, operation)))
}

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        for item in openapi.paths.paths.values_mut() {
            for (method, operation) in operations_mut(item) {
                let shape = OperationShape::of(method, operation);
                for status in shape.problem_statuses() {
                    operation
                        .responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| RefOr::T(problem_response(status)));
                }
                // Complete the problem responses handlers declared without a description or example.
                for (status, response) in operation.responses.responses.iter_mut() {
                    let (Ok(status), RefOr::T(response)) = (status.parse::<u16>(), response) else { continue };
                    let Some(content) = response.content.get_mut(crate::error::PROBLEM_CONTENT_TYPE) else {
                        continue;
                    };
                    if content.example.is_none() && content.examples.is_empty() {
                        content.example = problem_example(status);
                    }
                    if response.description.is_empty() {
                        response.description = problem_description(status).to_owned();
                    }
                    if matches!(status, 429 | 503) {
                        response.headers.entry("Retry-After".to_owned()).or_insert_with(retry_after_header);
                    }
                }
            }
        }
    }
}

/// Versioned entities: a response showing one carries its `ETag` (see `crate::versioning`).
const VERSIONED_SCHEMAS: &[&str] = &["Plan", "Measure", "Indicator", "Actual", "DepartmentEvaluation", "HqAssessment"];

/// Operations that answer with another body but the ETag of the entity they changed.
const ETAG_OF_CHANGED_ENTITY: &[&str] = &["revise_target"];

/// Declares the `ETag` of every success that sends one.
struct ResponseHeaders;

impl Modify for ResponseHeaders {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        let etag = || {
            utoipa::openapi::HeaderBuilder::new()
                .schema(utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::Type::String))
                .description(Some("the version shown, for If-Match on the next write"))
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            for (_, operation) in operations_mut(item) {
                let changed_entity =
                    operation.operation_id.as_deref().is_some_and(|id| ETAG_OF_CHANGED_ENTITY.contains(&id));
                for (status, response) in operation.responses.responses.iter_mut() {
                    let RefOr::T(response) = response else { continue };
                    if !status.starts_with('2') {
                        continue;
                    }
                    let shows_versioned = response.content.get("application/json").is_some_and(|content| {
                        matches!(&content.schema, Some(RefOr::Ref(r))
                            if VERSIONED_SCHEMAS.iter().any(|name| r.ref_location == format!("#/components/schemas/{name}")))
                    });
                    if shows_versioned || changed_entity {
                        response.headers.entry("ETag".to_owned()).or_insert_with(etag);
                    }
                }
            }
        }
    }
}

/// States the bounds of `limit` and `offset` that `pagination::page_bounds` enforces, on every
/// operation that takes them.
struct PaginationBounds;

impl Modify for PaginationBounds {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::schema::Schema;
        for item in openapi.paths.paths.values_mut() {
            for (_, operation) in operations_mut(item) {
                for parameter in operation.parameters.iter_mut().flatten() {
                    if parameter.parameter_in != ParameterIn::Query {
                        continue;
                    }
                    let Some(RefOr::T(Schema::Object(schema))) = parameter.schema.as_mut() else { continue };
                    match parameter.name.as_str() {
                        "limit" => {
                            schema.minimum.get_or_insert(utoipa::Number::from(1));
                            schema.maximum.get_or_insert(utoipa::Number::from(super::pagination::MAX_LIMIT));
                        }
                        "offset" => {
                            schema.minimum.get_or_insert(utoipa::Number::from(0));
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

/// Path parameters carry an example naming a record of the demo plan (`serve --demo`), so the
/// examples in the document work when tried from the docs UI, and generated requests reach real
/// records rather than only 404s.
struct PathParameterExamples;

/// (the path's first segment after `/api/v1/`, parameter, example): plan 1 is the 2020 plan, measure
/// 6 マイナンバー制度への対応, indicator 17 its マイナンバーカードの交付率, department 2 戸籍住民課, user 5 kouhou.
const PATH_PARAMETER_EXAMPLES: &[(&str, &str, i64)] = &[
    ("plans", "id", 1),
    ("measures", "id", 6),
    ("indicators", "id", 17),
    ("goals", "id", 1),
    ("strategies", "id", 1),
    ("departments", "id", 2),
    ("users", "id", 5),
    ("municipalities", "id", 1),
    ("", "department_id", 2),
    ("", "fiscal_year", 2020),
];

impl Modify for PathParameterExamples {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        for (path, item) in openapi.paths.paths.iter_mut() {
            let resource = path.trim_start_matches("/api/v1/").split('/').next().unwrap_or_default().to_owned();
            for (_, operation) in operations_mut(item) {
                for parameter in operation.parameters.iter_mut().flatten() {
                    if !matches!(parameter.parameter_in, ParameterIn::Path) {
                        continue;
                    }
                    let example = PATH_PARAMETER_EXAMPLES.iter().find(|(segment, name, _)| {
                        *name == parameter.name && (segment.is_empty() || *segment == resource)
                    });
                    if let Some((_, _, value)) = example {
                        let described = std::mem::replace(parameter, ParameterBuilder::new().build());
                        *parameter = ParameterBuilder::from(described).example(Some(serde_json::json!(value))).build();
                    }
                }
            }
        }
    }
}
