//! The order of the checks: authentication (401), role (403), scope (403), preconditions
//! (428/412), then the request body (415/400/422). A caller who may not write learns nothing from
//! how its request would have been judged. Write endpoints are enumerated from the OpenAPI
//! document, so a new endpoint is covered without touching this file.

use municipal_kpi::api::openapi::ApiDoc;
use serde_json::{Value, json};
use utoipa::OpenApi;

use crate::helpers::{Backend, TestApp, TestUser, assert_problem, json, spawn_app};
use crate::on_both_backends;

on_both_backends!(
    a_viewer_gets_403_on_every_write_whatever_the_request,
    a_department_gets_403_on_every_write_outside_its_role,
    a_department_outside_its_scope_gets_403_before_preconditions_and_body,
    preconditions_come_before_the_body,
    no_token_gets_401_before_anything_else,
    read_only_roles_get_403_before_query_validation,
);

/// Writes that a department user may make (its scope is checked per indicator or row).
const DEPARTMENT_WRITES: &[&str] =
    &["submit_actual", "import_actuals", "submit_department_evaluation", "import_measure_evaluations"];
/// Writes that need no token (the logins), and logout, which every caller may do for itself.
const PUBLIC_WRITES: &[&str] = &["issue_token", "exchange_login_ticket", "logout"];

struct Endpoint {
    method: reqwest::Method,
    path: String,
    operation: String,
}

/// Every POST, PUT, PATCH and DELETE operation of the API.
fn write_endpoints() -> Vec<Endpoint> {
    let document = ApiDoc::openapi();
    let mut endpoints = Vec::new();
    for (path, item) in &document.paths.paths {
        let operations = [
            (reqwest::Method::POST, &item.post),
            (reqwest::Method::PUT, &item.put),
            (reqwest::Method::PATCH, &item.patch),
            (reqwest::Method::DELETE, &item.delete),
        ];
        for (method, operation) in operations {
            if let Some(operation) = operation {
                let operation = operation.operation_id.clone().unwrap_or_else(|| format!("{method} {path}"));
                endpoints.push(Endpoint { method, path: path.clone(), operation });
            }
        }
    }
    assert!(endpoints.len() >= 28, "the document lists the write endpoints ({})", endpoints.len());
    endpoints
}

/// The path with every `{parameter}` replaced: fiscal years by a year, other ids by `id`.
fn concrete(path: &str, id: &str) -> String {
    let mut concrete = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').map(|e| start + e).expect("closing brace");
        concrete.push_str(&rest[..start]);
        concrete.push_str(if rest[start + 1..end].contains("year") { "2019" } else { id });
        rest = &rest[end + 1..];
    }
    concrete.push_str(rest);
    concrete
}

/// Requests that would each fail validation in a different way if they got that far.
fn bad_requests(app: &TestApp, endpoint: &Endpoint, user: &TestUser) -> Vec<(&'static str, reqwest::RequestBuilder)> {
    let request = |id: &str| {
        app.client.request(endpoint.method.clone(), app.url(&concrete(&endpoint.path, id))).bearer_auth(&user.token)
    };
    vec![
        ("malformed JSON", request("999999").header("Content-Type", "application/json").body("{\"name\": ")),
        ("wrong content type", request("999999").header("Content-Type", "text/plain").body("hello")),
        ("an empty object", request("999999").json(&json!({}))),
        ("a wrong shape", request("999999").json(&json!({"number": "one", "name": ["x"], "unknown": true}))),
        ("a stale If-Match", request("999999").header("If-Match", "\"plan-1-v999\"").json(&json!({}))),
        ("a malformed If-Match", request("999999").header("If-Match", "garbage").body("")),
        ("a non-numeric id", request("not-a-number").header("Content-Type", "application/json").body("{")),
    ]
}

async fn assert_forbidden_everywhere(app: &TestApp, user: &TestUser, exempt: &[&str]) -> usize {
    let mut checked = 0;
    for endpoint in write_endpoints().iter().filter(|e| !exempt.contains(&e.operation.as_str())) {
        for (case, request) in bad_requests(app, endpoint, user) {
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            assert_eq!(
                status, 403,
                "{} {} ({}) as {:?} with {case}: {body}",
                endpoint.method, endpoint.path, endpoint.operation, user.role
            );
            let problem: Value = serde_json::from_str(&body).expect("problem+json");
            assert_eq!(problem["type"], "/problems/forbidden");
        }
        checked += 1;
    }
    checked
}

async fn a_viewer_gets_403_on_every_write_whatever_the_request(backend: Backend) {
    let app = spawn_app(backend).await;
    let checked = assert_forbidden_everywhere(&app, &app.viewer, PUBLIC_WRITES).await;
    assert!(checked >= 28, "{checked} endpoints");
}

async fn a_department_gets_403_on_every_write_outside_its_role(backend: Backend) {
    let app = spawn_app(backend).await;
    let department = app.department_user("it-promotion", "IT推進課");
    let exempt: Vec<&str> = PUBLIC_WRITES.iter().chain(DEPARTMENT_WRITES).copied().collect();
    let checked = assert_forbidden_everywhere(&app, &department, &exempt).await;
    assert!(checked >= 26, "{checked} endpoints");
}

/// A list body, bare or paginated.
fn items(body: &Value) -> &Vec<Value> {
    body.get("items").unwrap_or(body).as_array().expect("a list")
}

/// The demo plan's active indicator `number` of measure `measure`.
async fn indicator(app: &TestApp, plan_id: i32, measure: i64, number: i64) -> Value {
    let page = json(app.get(&format!("/plans/{plan_id}/measures?limit=500"), &app.hq).await).await;
    let measure = items(&page).iter().find(|m| m["number"] == measure).expect("measure").clone();
    let list = json(app.get(&format!("/measures/{}/indicators?limit=500", measure["id"]), &app.hq).await).await;
    items(&list).iter().find(|i| i["number"] == number && i["status"] == "active").expect("indicator").clone()
}

async fn put_raw(app: &TestApp, path: &str, user: &TestUser, body: &str, if_match: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .put(app.api(path))
        .bearer_auth(&user.token)
        .header("Content-Type", "application/json")
        .body(body.to_owned());
    if let Some(tag) = if_match {
        request = request.header("If-Match", tag);
    }
    request.send().await.expect("request")
}

async fn a_department_outside_its_scope_gets_403_before_preconditions_and_body(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = app.load_demo();
    let kouhou = app.department_user("public-relations", "広聴広報課");
    let it = app.department_user("it-promotion", "IT推進課");
    let open_data = indicator(&app, plan, 1, 1).await; // No.1, IT推進課 only
    let path = format!("/indicators/{}/actuals/2019", open_data["id"]);
    // Before any actual exists, and after one does (when a missing If-Match would be 428).
    for existing in [false, true] {
        if existing {
            assert_eq!(app.put(&path, &it, &json!({"value": 220}), None).await.status(), 201);
        }
        for (body, if_match) in [("{\"value\": ", None), ("{\"value\": \"many\"}", None), ("{}", Some("\"x-1-v99\""))] {
            let problem = assert_problem(put_raw(&app, &path, &kouhou, body, if_match).await, 403).await;
            assert!(problem["detail"].as_str().unwrap().contains("No.1"), "names the measure: {problem}");
        }
        let wrong_type = app
            .client
            .put(app.api(&path))
            .bearer_auth(&kouhou.token)
            .header("Content-Type", "text/plain")
            .body("220")
            .send()
            .await
            .expect("request");
        assert_problem(wrong_type, 403).await;
    }
    // A measure evaluation: for a measure the department does not own, or for another department.
    let measure = open_data["measure_id"].as_i64().unwrap();
    let own = format!("/measures/{measure}/evaluations/2019/departments/{}", kouhou.department_id.unwrap());
    let others = format!("/measures/{measure}/evaluations/2019/departments/{}", it.department_id.unwrap());
    let report = json!({"work_done": "実施", "roadmap_progress": "on_schedule", "self_grade": "B"});
    assert_eq!(app.put(&others, &it, &report, None).await.status(), 201);
    for (body, if_match) in [("{\"work_done\": ", None), ("{\"self_grade\": \"Z\"}", None), ("{}", Some("\"x-1-v99\""))]
    {
        let problem = assert_problem(put_raw(&app, &own, &kouhou, body, if_match).await, 403).await;
        assert!(problem["detail"].as_str().unwrap().contains("No.1"), "names the measure: {problem}");
        assert_problem(put_raw(&app, &others, &kouhou, body, if_match).await, 403).await;
    }
}

async fn preconditions_come_before_the_body(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan_id = app.load_demo();
    let it = app.department_user("it-promotion", "IT推進課");
    let open_data = indicator(&app, plan_id, 1, 1).await;
    let path = format!("/indicators/{}/actuals/2019", open_data["id"]);
    let created = app.put(&path, &it, &json!({"value": 220}), None).await;
    assert_eq!(created.status(), 201);
    let etag = created.headers()["etag"].to_str().unwrap().to_owned();
    assert_problem(put_raw(&app, &path, &it, "{\"value\": ", None).await, 428).await;
    assert_problem(put_raw(&app, &path, &it, "{\"value\": ", Some("\"actual-1-v99\"")).await, 412).await;
    // With the right version the body is judged.
    assert_problem(put_raw(&app, &path, &it, "{\"value\": ", Some(&etag)).await, 400).await;

    // Optional If-Match on hq edits: a stale one is 412 whatever the body, a missing resource 404.
    for (path, kind) in
        [(format!("/plans/{plan_id}"), "plan"), (format!("/indicators/{}", open_data["id"]), "indicator")]
    {
        let stale = app
            .client
            .patch(app.api(&path))
            .bearer_auth(&app.hq.token)
            .header("If-Match", format!("\"{kind}-1-v999\""))
            .header("Content-Type", "application/json")
            .body("{\"name\": ")
            .send()
            .await
            .expect("request");
        assert_problem(stale, 412).await;
    }
    let missing = app
        .client
        .patch(app.api("/plans/999999"))
        .bearer_auth(&app.hq.token)
        .header("Content-Type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .expect("request");
    assert_problem(missing, 404).await;
}

async fn no_token_gets_401_before_anything_else(backend: Backend) {
    let app = spawn_app(backend).await;
    for endpoint in write_endpoints().iter().filter(|e| !PUBLIC_WRITES.contains(&e.operation.as_str())) {
        let response = app
            .client
            .request(endpoint.method.clone(), app.url(&concrete(&endpoint.path, "not-a-number")))
            .header("Content-Type", "text/plain")
            .body("{")
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 401, "{} {}", endpoint.method, endpoint.path);
    }
}

async fn read_only_roles_get_403_before_query_validation(backend: Backend) {
    let app = spawn_app(backend).await;
    let department = app.department_user("it-promotion", "IT推進課");
    for user in [&app.viewer, &department] {
        assert_problem(app.get("/audit?limit=-5&nonsense=1", user).await, 403).await;
    }
    assert_problem(app.get("/users?limit=abc", &app.viewer).await, 403).await;
    assert_problem(app.get("/users/999999", &app.viewer).await, 403).await;
}
