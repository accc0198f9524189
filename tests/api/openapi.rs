//! The committed OpenAPI document is the one the code generates and the one the server serves,
//! it is valid OpenAPI 3.1 with every `$ref` resolving, and the responses really match it.

use serde_json::Value;

use crate::helpers::{Backend, TestApp, TestUser, json, spawn_app};
use crate::on_both_backends;

on_both_backends!(
    served_document_is_the_committed_file,
    responses_match_their_documented_schemas,
    literal_paths_answer_405_for_other_methods,
    an_if_match_naming_no_version_is_checked_after_the_record_is_found,
    an_array_body_is_refused_rather_than_read_by_position,
);
crate::sync_tests!(
    document_is_openapi_3_1_with_bearer_auth_on_every_protected_operation,
    every_reference_resolves_within_the_document,
    every_operation_documents_the_problems_the_shared_machinery_can_send,
    the_document_version_is_the_crate_version_and_the_changelog_names_it,
);

async fn served_document_is_the_committed_file(backend: Backend) {
    let app = spawn_app(backend).await;
    let served = app.client.get(app.url("/api-docs/openapi.json")).send().await.unwrap().text().await.unwrap();
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json")).unwrap();
    // Not assert_eq: the document is too long to print usefully.
    assert!(
        served == committed,
        "openapi/openapi.json is stale: run `cargo run -- openapi --output openapi/openapi.json`"
    );
}

fn document() -> Value {
    serde_json::from_str(&municipal_kpi::api::openapi::document_json()).unwrap()
}

/// Every operation as `(METHOD, path, operation)`.
fn operations(document: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            found.push((method.to_uppercase(), path.clone(), operation.clone()));
        }
    }
    found
}

fn document_is_openapi_3_1_with_bearer_auth_on_every_protected_operation() {
    let document = document();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1."));
    assert_eq!(document["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    // Logins need no token; the web view's login through the provider neither (its callback is
    // reached by the provider's redirect).
    let public = [
        "/healthz",
        "/readyz",
        "/api/v1/auth/token",
        "/api/v1/auth/oidc/providers",
        "/api/v1/auth/oidc/login",
        "/api/v1/auth/oidc/callback",
        "/api/v1/auth/oidc/ticket",
    ];
    for (method, path, operation) in operations(&document) {
        let secured = operation.get("security").is_some();
        // What was published (公表) is deliberately public.
        let published = path.starts_with("/api/v1/public/") || path.starts_with("/public/");
        assert_eq!(secured, !(public.contains(&path.as_str()) || published), "{method} {path}");
        let responses = operation["responses"].as_object().unwrap();
        if secured {
            assert!(responses.contains_key("401"), "{method} {path} documents 401");
        }
    }
    assert!(document.to_string().contains("マイナンバー"), "Japanese examples are kept");
}

/// Collects every `$ref` in the document.
fn references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            for (key, member) in object {
                match (key.as_str(), member) {
                    ("$ref", Value::String(target)) => found.push(target.clone()),
                    _ => references(member, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| references(item, found)),
        _ => {}
    }
}

fn every_reference_resolves_within_the_document() {
    let document = document();
    let mut found = Vec::new();
    references(&document, &mut found);
    assert!(found.len() > 100, "the walk sees the references ({})", found.len());
    for target in found {
        let pointer = target.strip_prefix('#').unwrap_or_else(|| panic!("{target} is not a local reference"));
        assert!(pointer.starts_with("/components/"), "{target} points into components");
        assert!(document.pointer(pointer).is_some(), "{target} does not resolve");
    }
}

fn every_operation_documents_the_problems_the_shared_machinery_can_send() {
    let document = document();
    for (method, path, operation) in operations(&document) {
        let responses = operation["responses"].as_object().unwrap();
        let has = |status: &str| responses.contains_key(status);
        let parameters = operation["parameters"].as_array().cloned().unwrap_or_default();
        let takes = |place: &str| parameters.iter().any(|p| p["in"] == place);
        let body = operation.get("requestBody").is_some();
        let label = format!("{method} {path}");
        // The probe and the metrics answer without a database call.
        if path != "/healthz" && path != "/metrics" {
            assert!(has("503"), "{label}: 503");
            assert!(responses["503"]["headers"].get("Retry-After").is_some(), "{label}: 503 Retry-After");
        }
        if takes("path") {
            assert!(has("400") && has("404") && has("422"), "{label}: path parameters");
        }
        if body {
            assert!(has("400") && has("413") && has("415") && has("422"), "{label}: body");
        }
        if parameters.iter().any(|p| p["name"] == "If-Match") {
            assert!(has("412"), "{label}: If-Match");
        }
        if method != "GET" && operation.get("security").is_some() {
            assert!(has("403"), "{label}: writes are role-restricted");
        }
        for (status, response) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                let content = &response["content"]["application/problem+json"];
                assert_eq!(content["schema"]["$ref"], "#/components/schemas/Problem", "{label} {status}");
                assert_eq!(content["example"]["status"].to_string(), *status, "{label} {status} example");
                assert!(!response["description"].as_str().unwrap_or_default().is_empty(), "{label} {status}");
            }
        }
    }
    let login = &document["paths"]["/api/v1/auth/token"]["post"]["responses"];
    assert!(login["429"]["headers"].get("Retry-After").is_some());
    let plan = &document["paths"]["/api/v1/plans/{id}"];
    assert!(plan["get"]["responses"]["200"]["headers"].get("ETag").is_some());
    assert!(plan["patch"]["responses"]["200"]["headers"].get("ETag").is_some());
    let revise = &document["paths"]["/api/v1/indicators/{id}/targets"]["post"]["responses"]["201"];
    assert!(revise["headers"].get("ETag").is_some(), "revising a target answers with the indicator's ETag");
    let limit = document["paths"]["/api/v1/plans"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .cloned()
        .unwrap();
    assert_eq!(limit["schema"]["minimum"], 1);
    assert_eq!(limit["schema"]["maximum"], municipal_kpi::api::pagination::MAX_LIMIT);
}

/// Where `value` breaks `schema` (a small JSON Schema subset: `$ref`, `type`, `properties`,
/// `required`, `additionalProperties: false`, `items`, `enum`, `oneOf`/`anyOf`/`allOf` and
/// `format: date-time`), as `location: reason` lines.
fn violations(document: &Value, schema: &Value, value: &Value, location: &str) -> Vec<String> {
    if let Some(target) = schema["$ref"].as_str() {
        let resolved = document.pointer(target.trim_start_matches('#')).unwrap_or(&Value::Null);
        return violations(document, resolved, value, location);
    }
    for combinator in ["oneOf", "anyOf"] {
        if let Some(branches) = schema[combinator].as_array() {
            let results: Vec<Vec<String>> = branches.iter().map(|b| violations(document, b, value, location)).collect();
            if !results.iter().any(Vec::is_empty) {
                return vec![format!("{location}: matches no branch of {combinator}: {results:?}")];
            }
        }
    }
    let mut found = Vec::new();
    if let Some(parts) = schema["allOf"].as_array() {
        for part in parts {
            found.extend(violations(document, part, value, location));
        }
    }
    let type_name = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let allowed: Vec<&str> = match &schema["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let type_ok =
        allowed.is_empty() || allowed.contains(&type_name) || (type_name == "integer" && allowed.contains(&"number"));
    if !type_ok {
        found.push(format!("{location}: {type_name} where the schema says {allowed:?}"));
        return found;
    }
    if let Some(options) = schema["enum"].as_array()
        && !options.contains(value)
    {
        found.push(format!("{location}: {value} is not one of {options:?}"));
    }
    match value {
        Value::String(text)
            if schema["format"] == "date-time" && chrono::DateTime::parse_from_rfc3339(text).is_err() =>
        {
            found.push(format!("{location}: {text:?} is not an RFC 3339 date-time with an offset"));
        }
        Value::Object(object) => {
            let properties = schema["properties"].as_object();
            for required in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                if !object.contains_key(required) {
                    found.push(format!("{location}: required member {required} is missing"));
                }
            }
            for (key, member) in object {
                match properties.and_then(|p| p.get(key)) {
                    Some(property) => {
                        found.extend(violations(document, property, member, &format!("{location}.{key}")))
                    }
                    None if schema["additionalProperties"] == Value::Bool(false) => {
                        found.push(format!("{location}: member {key} is not in the schema"));
                    }
                    None => {}
                }
            }
        }
        Value::Array(items) if schema.get("items").is_some() => {
            for (index, item) in items.iter().enumerate() {
                found.extend(violations(document, &schema["items"], item, &format!("{location}[{index}]")));
            }
        }
        _ => {}
    }
    found
}

/// Fetches `path` (an instance of the documented `template`) and checks the 200 body against the
/// documented schema.
async fn check_get(app: &TestApp, document: &Value, user: &TestUser, template: &str, path: &str) -> Value {
    let response = app.get(path, user).await;
    assert_eq!(response.status().as_u16(), 200, "GET {path}");
    let body = json(response).await;
    let operation = &document["paths"][format!("/api/v1{template}")]["get"];
    let schema = &operation["responses"]["200"]["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "GET {template} documents a JSON 200");
    let found = violations(document, schema, &body, "body");
    assert!(found.is_empty(), "GET {path} does not match the document:\n{}", found.join("\n"));
    body
}

/// Items of a list body, whether paginated (`{items, …}`) or a bare array.
fn items(body: &Value) -> Vec<Value> {
    body.get("items").unwrap_or(body).as_array().cloned().unwrap_or_default()
}

async fn responses_match_their_documented_schemas(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = municipal_kpi::demo::ensure_loaded(&app.db, true).expect("demo loads").plan_id();
    let document = document();
    let (hq, viewer, admin) = (&app.hq, &app.viewer, &app.admin);

    check_get(&app, &document, viewer, "/me", "/me").await;
    check_get(&app, &document, viewer, "/plans", "/plans").await;
    check_get(&app, &document, viewer, "/plans/{id}", &format!("/plans/{plan}")).await;
    check_get(&app, &document, viewer, "/plans/{id}/goals", &format!("/plans/{plan}/goals")).await;
    check_get(&app, &document, viewer, "/plans/{id}/strategies", &format!("/plans/{plan}/strategies")).await;
    check_get(&app, &document, viewer, "/plans/{id}/dashboard", &format!("/plans/{plan}/dashboard")).await;
    let query = "?fiscal_year=2019";
    check_get(&app, &document, viewer, "/plans/{id}/evaluation", &format!("/plans/{plan}/evaluation{query}")).await;
    check_get(&app, &document, viewer, "/plans/{id}/submissions", &format!("/plans/{plan}/submissions{query}")).await;
    // The demo has FY2020 open already.
    let opened = app.post(&format!("/plans/{plan}/collections"), hq, &serde_json::json!({"fiscal_year": 2019})).await;
    assert_eq!(opened.status().as_u16(), 201);
    check_get(&app, &document, viewer, "/plans/{id}/collections", &format!("/plans/{plan}/collections")).await;

    let measures = check_get(&app, &document, viewer, "/plans/{id}/measures", &format!("/plans/{plan}/measures")).await;
    let measure = items(&measures).iter().find(|m| m["number"] == 6).cloned().expect("measure No.6");
    let measure_id = &measure["id"];
    check_get(&app, &document, viewer, "/measures/{id}", &format!("/measures/{measure_id}")).await;
    let path = format!("/measures/{measure_id}/indicators");
    let indicators = check_get(&app, &document, viewer, "/measures/{id}/indicators", &path).await;
    let indicator = items(&indicators).into_iter().find(|i| i["baseline"]["fiscal_year"].is_number()).unwrap();
    assert!(indicator["baseline"]["fiscal_year_label"].is_string(), "the label is sent (and so documented)");
    let id = &indicator["id"];
    check_get(&app, &document, viewer, "/indicators/{id}", &format!("/indicators/{id}")).await;
    check_get(&app, &document, viewer, "/indicators/{id}/targets", &format!("/indicators/{id}/targets")).await;
    check_get(&app, &document, viewer, "/indicators/{id}/definitions", &format!("/indicators/{id}/definitions")).await;
    check_get(&app, &document, viewer, "/indicators/{id}/achievement", &format!("/indicators/{id}/achievement")).await;
    let actuals =
        check_get(&app, &document, viewer, "/indicators/{id}/actuals", &format!("/indicators/{id}/actuals")).await;
    let year = items(&actuals).first().map(|a| a["fiscal_year"].clone()).expect("sample actuals");
    let one_year = format!("/indicators/{id}/achievement?fiscal_year={year}");
    let achievement = check_get(&app, &document, viewer, "/indicators/{id}/achievement", &one_year).await;
    assert_eq!(achievement["fiscal_year"], year, "one year is one object: {achievement}");
    let path = format!("/indicators/{id}/actuals/{year}");
    let actual = check_get(&app, &document, viewer, "/indicators/{id}/actuals/{fiscal_year}", &path).await;
    assert!(actual["submitted_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{actual}");
    let path = format!("/indicators/{id}/actuals/{year}/history");
    check_get(&app, &document, viewer, "/indicators/{id}/actuals/{fiscal_year}/history", &path).await;

    let departments = check_get(&app, &document, viewer, "/departments", "/departments").await;
    let department = items(&departments).first().map(|d| d["id"].clone()).expect("demo departments");
    check_get(&app, &document, viewer, "/departments/{id}", &format!("/departments/{department}")).await;
    check_get(&app, &document, viewer, "/municipalities", "/municipalities").await;
    check_get(&app, &document, admin, "/users", "/users").await;
    check_get(&app, &document, admin, "/users/{id}", &format!("/users/{}", viewer.id)).await;
    let audit = check_get(&app, &document, hq, "/audit", "/audit").await;
    let first = items(&audit).first().cloned().expect("the demo load is audited");
    assert!(first["occurred_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{first}");
    // The audit filter takes what the entries show: RFC 3339 with an offset.
    let since = first["occurred_at"].as_str().unwrap().replace('+', "%2B");
    check_get(&app, &document, hq, "/audit", &format!("/audit?from={since}")).await;
}

async fn literal_paths_answer_405_for_other_methods(backend: Backend) {
    let app = spawn_app(backend).await;
    // Before any request: loading blocks this thread, and with it the server's keep-alive timers.
    let plan = app.load_demo();
    for method in [reqwest::Method::PATCH, reqwest::Method::GET, reqwest::Method::DELETE] {
        let response = app
            .client
            .request(method.clone(), app.api("/plans/import"))
            .bearer_auth(&app.hq.token)
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 405, "{method} /plans/import");
        assert_eq!(response.headers()["allow"], "POST", "{method} /plans/import");
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with("application/problem+json"), "{content_type}");
    }
    // The templated neighbour still answers as before, and a real id still works.
    let response = app.client.put(app.api(&format!("/plans/{plan}"))).bearer_auth(&app.hq.token).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(response.headers()["allow"], "GET, PATCH");
    let response = app.get(&format!("/plans/{plan}"), &app.viewer).await;
    assert_eq!(response.status().as_u16(), 200);
}

/// schemathesis sent `If-Match:` (empty) with a path that names nothing and got 412; without the
/// header the answer is 404, and RFC 9110 has preconditions ignored when that is so.
async fn an_if_match_naming_no_version_is_checked_after_the_record_is_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = app.load_demo();
    for tag in ["", "\"garbage\""] {
        let response = app
            .client
            .patch(app.api("/plans/999999"))
            .bearer_auth(&app.hq.token)
            .header("If-Match", tag)
            .json(&serde_json::json!({"name": "x"}))
            .send()
            .await
            .unwrap();
        crate::helpers::assert_problem(response, 404).await;
        // On a record that exists, the same tag still cannot match.
        let response = app
            .client
            .patch(app.api(&format!("/plans/{plan}")))
            .bearer_auth(&app.hq.token)
            .header("If-Match", tag)
            .json(&serde_json::json!({"name": "x"}))
            .send()
            .await
            .unwrap();
        crate::helpers::assert_problem(response, 412).await;
    }
    let unchanged = json(app.get(&format!("/plans/{plan}"), &app.viewer).await).await;
    assert_ne!(unchanged["name"], "x", "a refused write changes nothing");
}

/// serde fills a struct from an array of its fields in order: `[null, null]` was a valid
/// `UpdateCollection` and changed the collection.
async fn an_array_body_is_refused_rather_than_read_by_position(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = app.load_demo();
    let opened =
        app.post(&format!("/plans/{plan}/collections"), &app.hq, &serde_json::json!({"fiscal_year": 2020})).await;
    assert_eq!(opened.status().as_u16(), 201);
    let response =
        app.patch(&format!("/plans/{plan}/collections/2020"), &app.hq, &serde_json::json!([null, true])).await;
    let problem = crate::helpers::assert_problem(response, 422).await;
    assert_eq!(problem["errors"][0]["field"], "body");
    let collections = json(app.get(&format!("/plans/{plan}/collections"), &app.viewer).await).await;
    assert!(items(&collections)[0]["closed_at"].is_null(), "the collection stays open");
}

fn the_document_version_is_the_crate_version_and_the_changelog_names_it() {
    let document = document();
    assert_eq!(document["info"]["version"], env!("CARGO_PKG_VERSION"));
    let changelog =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/CHANGELOG.md")).expect("CHANGELOG.md");
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        changelog.lines().any(|line| line.starts_with("## [") && line.contains(version)),
        "CHANGELOG.md has no section for {version}"
    );
}
