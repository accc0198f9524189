//! Every error class answers with RFC 9457 problem details and a 4xx, and changes nothing.

use serde_json::json;

use crate::helpers::{Backend, TestApp, assert_problem, json, spawn_app};
use crate::on_both_backends;

on_both_backends!(
    unknown_routes_are_404_problems,
    wrong_methods_are_405_problems,
    malformed_json_is_400,
    wrong_types_and_unknown_fields_are_422_naming_the_field,
    bodies_over_the_limit_are_413,
    non_json_bodies_are_415,
    bad_municipality_codes_are_422,
    fiscal_years_outside_the_plan_are_422,
    bad_query_and_path_parameters_are_4xx,
    failed_writes_change_nothing,
);

async fn audit_count(app: &TestApp) -> i64 {
    json(app.get("/audit?limit=1", &app.hq).await).await["total"].as_i64().unwrap()
}

async fn create_plan(app: &TestApp) -> i64 {
    let response = app
        .post(
            "/plans",
            &app.hq,
            &json!({"municipality_id": app.municipality_id, "code": "dx-2025", "name": "板橋区DX推進計画2025",
                "start_fiscal_year": 2021, "end_fiscal_year": 2025, "status": "active"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    json(response).await["id"].as_i64().unwrap()
}

async fn unknown_routes_are_404_problems(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_problem(app.client.get(app.url("/no/such/path")).send().await.unwrap(), 404).await;
    assert_problem(app.get("/plans/999999", &app.hq).await, 404).await;
    let problem = assert_problem(app.get("/measures/424242", &app.hq).await, 404).await;
    assert_eq!(problem["detail"], "measure 424242 does not exist");
}

async fn wrong_methods_are_405_problems(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.client.delete(app.api("/plans")).bearer_auth(&app.hq.token).send().await.unwrap();
    assert_problem(response, 405).await;
    let response = app.client.put(app.url("/healthz")).send().await.unwrap();
    assert_problem(response, 405).await;
}

async fn malformed_json_is_400(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .client
        .post(app.api("/plans"))
        .bearer_auth(&app.hq.token)
        .header("Content-Type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    let problem = assert_problem(response, 400).await;
    assert!(problem["detail"].as_str().unwrap().contains("not valid JSON"));
}

async fn wrong_types_and_unknown_fields_are_422_naming_the_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .post(
            "/plans",
            &app.hq,
            &json!({"municipality_id": app.municipality_id, "code": "x", "name": "計画",
            "start_fiscal_year": "二〇二一", "end_fiscal_year": 2025}),
        )
        .await;
    let problem = assert_problem(response, 422).await;
    assert_eq!(problem["errors"][0]["field"], "start_fiscal_year");
    let response = app
        .post(
            "/plans",
            &app.hq,
            &json!({"municipality_id": app.municipality_id, "code": "x", "name": "計画",
            "start_fiscal_year": 2021, "end_fiscal_year": 2025, "colour": "blue"}),
        )
        .await;
    let problem = assert_problem(response, 422).await;
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("unknown field `colour`"));
    let response = app
        .post(
            "/plans",
            &app.hq,
            &json!({"municipality_id": app.municipality_id, "code": "x",
            "name": "計画", "start_fiscal_year": 2021, "end_fiscal_year": 2025, "grading": {"basis": "luck"}}),
        )
        .await;
    let problem = assert_problem(response, 422).await;
    assert!(problem["errors"][0]["field"].as_str().unwrap().starts_with("grading"));
}

async fn bodies_over_the_limit_are_413(backend: Backend) {
    let app = spawn_app(backend).await;
    let huge = "あ".repeat(300 * 1024);
    let response = app.post("/plans", &app.hq, &json!({"name": huge})).await;
    assert_problem(response, 413).await;
}

async fn non_json_bodies_are_415(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .client
        .post(app.api("/plans"))
        .bearer_auth(&app.hq.token)
        .header("Content-Type", "text/plain")
        .body("name=計画")
        .send()
        .await
        .unwrap();
    assert_problem(response, 415).await;
}

async fn bad_municipality_codes_are_422(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.post("/municipalities", &app.system_admin, &json!({"code": "131058", "name": "文京区"})).await;
    let problem = assert_problem(response, 422).await;
    assert_eq!(problem["errors"][0]["field"], "code");
    let response = app.post("/municipalities", &app.system_admin, &json!({"code": "13105", "name": "文京区"})).await;
    assert_eq!(response.status(), 201);
    assert_eq!(json(response).await["code"], "131059");
}

async fn fiscal_years_outside_the_plan_are_422(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan_id = create_plan(&app).await;
    let goal = json(
        app.post(&format!("/plans/{plan_id}/goals"), &app.hq, &json!({"number": 1, "name": "区民サービスの向上"}))
            .await,
    )
    .await;
    let owner = app.department_user("it-promotion", "IT推進課");
    let response = app
        .post(
            &format!("/plans/{plan_id}/measures"),
            &app.hq,
            &json!({"number": 1, "name": "行政手続のオンライン化", "main_goal_id": goal["id"], "review_category": "new",
                "owner_department_ids": [owner.department_id], "added_fiscal_year": 2019}),
        )
        .await;
    let problem = assert_problem(response, 422).await;
    assert_eq!(problem["errors"][0]["field"], "added_fiscal_year");
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("令和3(2021)年度"));
}

async fn bad_query_and_path_parameters_are_4xx(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_problem(app.get("/plans?limit=0", &app.hq).await, 422).await;
    assert_problem(app.get("/plans?limit=ten", &app.hq).await, 422).await;
    assert_problem(app.get("/plans?status=finished", &app.hq).await, 422).await;
    let problem = assert_problem(app.get("/plans/abc", &app.hq).await, 422).await;
    assert_eq!(problem["errors"][0]["field"], "id");
}

async fn failed_writes_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan_id = create_plan(&app).await;
    let before = audit_count(&app).await;
    let plan_before = json(app.get(&format!("/plans/{plan_id}"), &app.hq).await).await;
    // Valid name, invalid phase: the whole update is refused.
    let response = app
        .patch(
            &format!("/plans/{plan_id}"),
            &app.hq,
            &json!({"name": "改名", "phases": [{"name": "後期", "start_fiscal_year": 2024, "end_fiscal_year": 2030}]}),
        )
        .await;
    assert_problem(response, 422).await;
    assert_eq!(audit_count(&app).await, before);
    assert_eq!(json(app.get(&format!("/plans/{plan_id}"), &app.hq).await).await, plan_before);
}
