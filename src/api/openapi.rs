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
`/healthz`, `/readyz`, `/api-docs/openapi.json` and `/docs`.\n\n\
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
        crate::api::auth::issue_token,
        crate::api::auth::me,
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
        crate::api::measures::list_measures,
        crate::api::measures::create_measure,
        crate::api::measures::get_measure,
        crate::api::measures::update_measure,
        crate::api::measures::change_measure_status,
        crate::api::measures::add_owner,
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
        crate::api::evaluation::submissions,
        crate::api::evaluation::list_collections,
        crate::api::evaluation::open_collection,
        crate::api::evaluation::update_collection,
        crate::api::evaluation::dashboard,
        crate::api::evaluation::open_data,
        crate::api::evaluation::import_actuals,
        crate::api::evaluation::import_plan,
        crate::api::audit::list_audit,
    ),
    components(schemas(crate::error::Problem, crate::error::FieldError)),
    modifiers(&BearerAuth, &VersionPrefix),
    tags(
        (name = "health", description = "Probes (no authentication)"),
        (name = "auth", description = "Tokens and the caller"),
        (name = "users", description = "User administration (admin)"),
        (name = "departments", description = "Municipalities and departments (所管課)"),
        (name = "plans", description = "Plans, basic goals (基本目標) and strategies (重点戦略)"),
        (name = "measures", description = "Measures (推進施策)"),
        (name = "indicators", description = "Indicators (指標) and their target and definition revisions"),
        (name = "actuals", description = "Yearly actuals (実績), their review and achievement"),
        (name = "evaluation", description = "Evaluation summaries, collection, dashboards, spreadsheets and imports"),
        (name = "audit", description = "Who changed what, when (hq, admin)"),
    )
)]
pub struct ApiDoc;

/// Paths outside the `/api/v1` scope; every other handler is mounted under it.
pub const UNVERSIONED_PATHS: &[&str] = &["/healthz", "/readyz"];

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
        // Every operation behind the bearer scheme can answer 401 with a problem.
        let unauthorized = utoipa::openapi::ResponseBuilder::new()
            .description("missing, expired or invalid bearer token")
            .content(
                crate::error::PROBLEM_CONTENT_TYPE,
                utoipa::openapi::ContentBuilder::new()
                    .schema(Some(utoipa::openapi::Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build();
        for item in openapi.paths.paths.values_mut() {
            for operation in
                [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete].into_iter().flatten()
            {
                if operation.security.is_some() {
                    operation
                        .responses
                        .responses
                        .entry("401".to_owned())
                        .or_insert_with(|| unauthorized.clone().into());
                }
            }
        }
        if let Some(description) = openapi.info.description.as_mut() {
            description.push_str(&format!(
                "\n\nJSON request bodies are limited to {MAX_JSON_BODY_BYTES} bytes; larger ones get 413."
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
