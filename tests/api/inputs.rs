//! Bounded, well-explained input: NUL characters, plain messages without Rust names, conflicts
//! naming field and value, exact decimals within a stated precision, length limits, and one
//! page shape for every collection.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestUser, assert_problem, json, spawn_app};
use crate::on_both_backends;

on_both_backends!(
    nul_characters_are_refused_in_bodies_keys_queries_and_paths,
    error_messages_never_show_internal_names,
    conflicts_name_the_field_and_the_value,
    decimals_beyond_the_supported_precision_are_refused_not_rounded,
    a_ratio_whose_percent_overflows_is_refused,
    full_width_digits_and_thousands_separators_are_stored_exactly,
    exponent_notation_is_bounded_like_the_value_it_stands_for,
    texts_and_lists_over_their_limits_are_refused,
    fiscal_years_in_paths_and_queries_are_range_checked,
    every_collection_endpoint_returns_one_page_shape,
    the_history_of_many_versions_is_paginated,
);
crate::sync_tests!(the_openapi_document_states_the_enforced_bounds);

/// What no client-facing message may contain.
const INTERNAL_NAMES: &[&str] = &["$serde_json", "UNIQUE constraint", "i32", "Decimal type", "struct", "duplicate key"];

fn assert_no_internal_names(problem: &Value) {
    let text = problem.to_string();
    for name in INTERNAL_NAMES {
        assert!(!text.contains(name), "{name} shown to the client: {text}");
    }
}

fn first_error(problem: &Value) -> (&str, &str) {
    (
        problem["errors"][0]["field"].as_str().unwrap_or_default(),
        problem["errors"][0]["message"].as_str().unwrap_or_default(),
    )
}

/// The demo plan's indicator `number` of measure `measure`.
async fn indicator(app: &TestApp, plan_id: i32, measure: i64, number: i64) -> Value {
    let page = json(app.get(&format!("/plans/{plan_id}/measures?limit=500"), &app.hq).await).await;
    let measure = page["items"].as_array().unwrap().iter().find(|m| m["number"] == measure).unwrap().clone();
    let indicators = json(app.get(&format!("/measures/{}/indicators?limit=500", measure["id"]), &app.hq).await).await;
    indicators["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["number"] == number && i["status"] == "active")
        .unwrap()
        .clone()
}

fn actual_path(indicator: &Value, year: i32) -> String {
    format!("/indicators/{}/actuals/{year}", indicator["id"])
}

async fn send_raw(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    user: &TestUser,
    body: &str,
) -> reqwest::Response {
    app.client
        .request(method, app.api(path))
        .bearer_auth(&user.token)
        .header("Content-Type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("request")
}

fn new_plan(app: &TestApp, code: &str) -> Value {
    json!({"municipality_id": app.municipality_id, "code": code, "name": "板橋区DX推進計画2025",
        "start_fiscal_year": 2021, "end_fiscal_year": 2025})
}

async fn plan_total(app: &TestApp) -> i64 {
    json(app.get("/plans?limit=1", &app.hq).await).await["total"].as_i64().unwrap()
}

async fn nul_characters_are_refused_in_bodies_keys_queries_and_paths(backend: Backend) {
    let app = spawn_app(backend).await;
    // Loaded first: the load blocks this task longer than the server keeps idle connections.
    let plan_id = app.load_demo();
    // Unauthenticated: the login body.
    let login = |body: Value| app.client.post(app.api("/auth/token")).json(&body).send();
    let problem = assert_problem(login(json!({"username": "hq\u{0}", "password": "x"})).await.unwrap(), 422).await;
    assert_eq!(first_error(&problem).0, "username");
    assert!(first_error(&problem).1.contains("U+0000"));
    let problem = assert_problem(login(json!({"username": "hq", "password": "\u{0}"})).await.unwrap(), 422).await;
    assert_eq!(first_error(&problem).0, "password");
    let problem = assert_problem(login(json!({"user\u{0}name": "hq", "password": "x"})).await.unwrap(), 422).await;
    assert_eq!(first_error(&problem).0, "body", "a key with NUL is named by its parent");
    let query = app.client.post(app.api("/auth/token?username=hq%00")).json(&json!({"username": "a", "password": "b"}));
    let problem = assert_problem(query.send().await.unwrap(), 422).await;
    assert_eq!(first_error(&problem).0, "username");

    // Write endpoints: nothing is stored.
    let before = plan_total(&app).await;
    let mut plan = new_plan(&app, "dx-2025");
    plan["name"] = json!("板橋区\u{0}計画");
    let problem = assert_problem(app.post("/plans", &app.hq, &plan).await, 422).await;
    assert_eq!(first_error(&problem).0, "name");
    let mut plan = new_plan(&app, "dx-2025");
    plan["phases"] = json!([{"name": "前期", "start_fiscal_year": 2021, "end_fiscal_year": 2023, "no\u{0}te": 1}]);
    let problem = assert_problem(app.post("/plans", &app.hq, &plan).await, 422).await;
    assert_eq!(first_error(&problem).0, "phases[0]");
    assert_eq!(plan_total(&app).await, before);

    let count = indicator(&app, plan_id, 1, 1).await;
    let problem = assert_problem(
        app.put(&actual_path(&count, 2019), &app.hq, &json!({"value": 220, "note": "備考\u{0}"}), None).await,
        422,
    )
    .await;
    assert_eq!(first_error(&problem).0, "note");
    assert_problem(app.get(&actual_path(&count, 2019), &app.hq).await, 404).await;

    // Query and path parameters.
    let problem = assert_problem(app.get("/audit?actor=hq%00", &app.hq).await, 422).await;
    assert_eq!(first_error(&problem).0, "actor");
    let problem = assert_problem(app.get("/plans?status=dra%00ft", &app.hq).await, 422).await;
    assert_eq!(first_error(&problem).0, "status");
    let problem = assert_problem(app.get(&format!("/plans/{plan_id}%00"), &app.hq).await, 422).await;
    assert_eq!(first_error(&problem).0, "id");
    let problem =
        assert_problem(app.get(&format!("/indicators/{}/actuals/2019%00", count["id"]), &app.hq).await, 422).await;
    assert_eq!(first_error(&problem).0, "fiscal_year");

    // A plan document.
    let response = app
        .client
        .post(app.api("/plans/import"))
        .bearer_auth(&app.hq.token)
        .header("Content-Type", "application/toml")
        .body("[plan]\ncode = \"x\u{0}\"\n")
        .send()
        .await
        .unwrap();
    let problem = assert_problem(response, 422).await;
    assert!(first_error(&problem).1.contains("U+0000"), "{problem}");
}

async fn error_messages_never_show_internal_names(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan_id = app.load_demo();
    let count = indicator(&app, plan_id, 1, 1).await;
    let path = actual_path(&count, 2019);
    let cases: &[(&str, &str)] = &[
        (r#"{"value": true}"#, "value"),
        (r#"{"value": {"amount": 1}}"#, "value"),
        (r#"{"value": "abc"}"#, "value"),
        (r#"{"value": 1e400}"#, "value"),
        (r#"{"value": 220, "note": 5}"#, "note"),
        (r#"{"value": 220, "stage": "two"}"#, "stage"),
        (r#"[]"#, "body"),
        (r#""220""#, "body"),
    ];
    for (body, field) in cases {
        let problem = assert_problem(send_raw(&app, reqwest::Method::PUT, &path, &app.hq, body).await, 422).await;
        assert_eq!(first_error(&problem).0, *field, "{body}: {problem}");
        assert_no_internal_names(&problem);
    }
    let plan = json!({"municipality_id": "板橋区", "code": "x", "name": "計画",
        "start_fiscal_year": 2021, "end_fiscal_year": 2025});
    let problem = assert_problem(app.post("/plans", &app.hq, &plan).await, 422).await;
    assert_eq!(first_error(&problem), ("municipality_id", "整数で入力してください (expected a whole number)"));
    let problem = assert_problem(app.post("/plans", &app.hq, &json!({"code": "x"})).await, 422).await;
    assert_eq!(first_error(&problem).1, "必須項目です (required)");
    assert_no_internal_names(&problem);
    // A map keyed by fiscal year whose key is not a year: well-formed JSON, so 422, never 400.
    for key in ["abc", "２０１９", "1988", "20190"] {
        let revision = json!({"value": 230, "target_fiscal_year": 2020, "effective_from_fiscal_year": 2018,
            "interim": {key: 221}, "reason": "上方修正"});
        let problem =
            assert_problem(app.post(&format!("/indicators/{}/targets", count["id"]), &app.hq, &revision).await, 422)
                .await;
        assert_eq!(first_error(&problem).0, "interim", "{key}: {problem}");
        assert_no_internal_names(&problem);
    }
    let problem = assert_problem(app.get("/plans/import-2020", &app.hq).await, 422).await;
    assert_eq!(first_error(&problem).0, "id");
    assert_no_internal_names(&problem);
    let problem =
        assert_problem(app.get(&format!("/indicators/{}/actuals/import", count["id"]), &app.hq).await, 422).await;
    assert_eq!(first_error(&problem).0, "fiscal_year");
    assert_no_internal_names(&problem);
    let problem = assert_problem(app.get("/plans?limit=ten", &app.hq).await, 422).await;
    assert_eq!(first_error(&problem), ("limit", "整数で入力してください (expected a whole number)"));
    let problem = assert_problem(app.get("/plans?colour=blue", &app.hq).await, 422).await;
    assert_eq!(first_error(&problem).0, "colour");
    assert_no_internal_names(&problem);
}

async fn conflicts_name_the_field_and_the_value(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(app.post("/plans", &app.hq, &new_plan(&app, "itabashi-dx-2025")).await.status(), 201);
    let problem = assert_problem(app.post("/plans", &app.hq, &new_plan(&app, "itabashi-dx-2025")).await, 409).await;
    assert_eq!(problem["detail"], "code: a plan with code \"itabashi-dx-2025\" already exists");
    assert_no_internal_names(&problem);

    let problem = assert_problem(
        app.post("/municipalities", &app.system_admin, &json!({"code": "131199", "name": "板橋区"})).await,
        409,
    )
    .await;
    assert_eq!(problem["detail"], "code: a municipality with code \"131199\" already exists");

    let department = json!({"municipality_id": app.municipality_id, "code": "family-registry", "name": "戸籍住民課"});
    assert_eq!(app.post("/departments", &app.admin, &department).await.status(), 201);
    let problem = assert_problem(app.post("/departments", &app.admin, &department).await, 409).await;
    assert_eq!(problem["detail"], "code: a department with code \"family-registry\" already exists");

    let plan_id = json(app.get("/plans", &app.hq).await).await["items"][0]["id"].clone();
    let goal = json!({"number": 1, "name": "区民サービスの向上"});
    assert_eq!(app.post(&format!("/plans/{plan_id}/goals"), &app.hq, &goal).await.status(), 201);
    let problem = assert_problem(app.post(&format!("/plans/{plan_id}/goals"), &app.hq, &goal).await, 409).await;
    assert_eq!(problem["detail"], "number: a basic goal of this plan with number \"1\" already exists");
    let strategy = json!({"number": 2, "name": "官民データの利活用"});
    assert_eq!(app.post(&format!("/plans/{plan_id}/strategies"), &app.hq, &strategy).await.status(), 201);
    let problem =
        assert_problem(app.post(&format!("/plans/{plan_id}/strategies"), &app.hq, &strategy).await, 409).await;
    assert_eq!(problem["detail"], "number: a strategy of this plan with number \"2\" already exists");
    assert_no_internal_names(&problem);

    let user = json!({"username": "test-hq", "password": "correct horse battery staple", "role": "viewer"});
    let problem = assert_problem(app.post("/users", &app.admin, &user).await, 409).await;
    assert_eq!(problem["detail"], "username: a user with username \"test-hq\" already exists");
}

async fn decimals_beyond_the_supported_precision_are_refused_not_rounded(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan_id = app.load_demo();
    let count = indicator(&app, plan_id, 1, 1).await;
    let path = actual_path(&count, 2019);
    let forty = "1".repeat(40);
    for body in [
        format!(r#"{{"value": 0.{forty}}}"#),
        format!(r#"{{"value": "0.{forty}"}}"#),
        r#"{"value": 1234567890123456}"#.to_owned(),
        r#"{"value": "0.00000000001"}"#.to_owned(),
    ] {
        let problem = assert_problem(send_raw(&app, reqwest::Method::PUT, &path, &app.hq, &body).await, 422).await;
        assert_eq!(first_error(&problem).0, "value", "{body}");
        assert!(
            first_error(&problem).1.contains("at most 15 digits before and 10 after the decimal point"),
            "{problem}"
        );
        assert_no_internal_names(&problem);
    }
    assert_problem(app.get(&path, &app.hq).await, 404).await;
    // At the limit the value is kept digit for digit.
    let response =
        send_raw(&app, reqwest::Method::PUT, &path, &app.hq, r#"{"value": 999999999999999.9999999999}"#).await;
    assert_eq!(response.status(), 201);
    assert_eq!(json(app.get(&path, &app.hq).await).await["value"].to_string(), "999999999999999.9999999999");

    // Targets and grading thresholds go through the same type.
    let target = format!(
        r#"{{"value": 0.{forty}, "target_fiscal_year": 2020, "effective_from_fiscal_year": 2019, "reason": "試行"}}"#
    );
    let problem = assert_problem(
        send_raw(&app, reqwest::Method::POST, &format!("/indicators/{}/targets", count["id"]), &app.hq, &target).await,
        422,
    )
    .await;
    assert_eq!(first_error(&problem).0, "value");
    let mut plan = new_plan(&app, "dx-2025");
    plan["grading"] = json!({"grade_a_min": format!("100.{forty}")});
    let problem = assert_problem(app.post("/plans", &app.hq, &plan).await, 422).await;
    assert_eq!(first_error(&problem).0, "grading.grade_a_min");
}

async fn a_ratio_whose_percent_overflows_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan_id = app.load_demo();
    let card_rate = indicator(&app, plan_id, 6, 2).await;
    let path = actual_path(&card_rate, 2019);
    let body = json!({"numerator": "999999999999999", "denominator": "0.0000000001"});
    let problem = assert_problem(app.put(&path, &app.hq, &body, None).await, 422).await;
    assert_eq!(first_error(&problem).0, "denominator");
    assert_problem(app.get(&path, &app.hq).await, 404).await;
    let fine = app.put(&path, &app.hq, &json!({"numerator": 180000, "denominator": 570000}), None).await;
    assert_eq!(fine.status(), 201);
    assert_eq!(json(fine).await["rate"].as_f64(), Some(31.6));
}

async fn full_width_digits_and_thousands_separators_are_stored_exactly(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan_id = app.load_demo();
    let count = indicator(&app, plan_id, 1, 1).await;
    for (year, sent, stored) in [
        (2017, json!("１，２３４"), "1234"),
        (2018, json!("１２３．５"), "123.5"),
        (2019, json!("12,345,678.25"), "12345678.25"),
        (2020, json!("１２３"), "123"),
    ] {
        let path = actual_path(&count, year);
        let response = app.put(&path, &app.hq, &json!({"value": sent}), None).await;
        assert_eq!(response.status(), 201, "{sent}: {}", response.text().await.unwrap());
        assert_eq!(json(app.get(&path, &app.hq).await).await["value"].to_string(), stored, "{sent}");
    }
    let path = actual_path(&count, 2016);
    for ambiguous in ["1,23", "1.2.3", "1,234,56", "１，２３"] {
        let problem = assert_problem(app.put(&path, &app.hq, &json!({"value": ambiguous}), None).await, 422).await;
        assert_eq!(first_error(&problem).0, "value", "{ambiguous}");
        assert!(first_error(&problem).1.starts_with("桁区切り") || first_error(&problem).1.starts_with("数値"));
    }
    let problem = assert_problem(app.put(&path, &app.hq, &json!({"value": "1,23"}), None).await, 422).await;
    assert!(first_error(&problem).1.contains("exactly three digits"), "{problem}");
    assert_problem(app.get(&path, &app.hq).await, 404).await;
}

/// `1e-10` is `0.0000000001`: accepted and stored as such, as a JSON number or a string; `1e-11`
/// is refused like `0.00000000001`.
async fn exponent_notation_is_bounded_like_the_value_it_stands_for(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan_id = app.load_demo();
    let count = indicator(&app, plan_id, 1, 1).await;
    for (year, body, stored) in [
        (2016, r#"{"value": 1e-10}"#, "0.0000000001"),
        (2017, r#"{"value": "1e-10"}"#, "0.0000000001"),
        (2018, r#"{"value": 0.0000000001}"#, "0.0000000001"),
        (2019, r#"{"value": 1e-2}"#, "0.01"),
    ] {
        let path = actual_path(&count, year);
        let response = send_raw(&app, reqwest::Method::PUT, &path, &app.hq, body).await;
        assert_eq!(response.status(), 201, "{body}: {}", response.text().await.unwrap());
        assert_eq!(json(app.get(&path, &app.hq).await).await["value"].to_string(), stored, "{body}");
    }
    let path = actual_path(&count, 2020);
    for body in [r#"{"value": 1e-11}"#, r#"{"value": "1e-11"}"#, r#"{"value": 0.00000000001}"#] {
        let problem = assert_problem(send_raw(&app, reqwest::Method::PUT, &path, &app.hq, body).await, 422).await;
        assert!(first_error(&problem).1.contains("10 after the decimal point"), "{body}: {problem}");
    }
    assert_problem(app.get(&path, &app.hq).await, 404).await;
}

async fn texts_and_lists_over_their_limits_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let before = plan_total(&app).await;
    let mut plan = new_plan(&app, "dx-2025");
    plan["name"] = json!("x".repeat(200 * 1024));
    let problem = assert_problem(app.post("/plans", &app.hq, &plan).await, 422).await;
    assert_eq!(first_error(&problem).0, "name");
    assert!(first_error(&problem).1.contains("at most 200 characters"), "{problem}");
    // Characters, not bytes: 200 kanji (600 bytes) are fine, 201 are not.
    plan["name"] = json!("区".repeat(201));
    assert_problem(app.post("/plans", &app.hq, &plan).await, 422).await;
    plan["name"] = json!("区".repeat(200));
    plan["code"] = json!("c".repeat(65));
    let problem = assert_problem(app.post("/plans", &app.hq, &plan).await, 422).await;
    assert_eq!(first_error(&problem).0, "code");
    plan["code"] = json!("dx-2025");
    plan["description"] = json!("説".repeat(2001));
    let problem = assert_problem(app.post("/plans", &app.hq, &plan).await, 422).await;
    assert_eq!(first_error(&problem).0, "description");
    plan["description"] = json!("説".repeat(2000));
    let phases: Vec<Value> = (0..101)
        .map(|i| json!({"name": format!("期{i}"), "start_fiscal_year": 2021, "end_fiscal_year": 2021}))
        .collect();
    plan["phases"] = json!(phases);
    let problem = assert_problem(app.post("/plans", &app.hq, &plan).await, 422).await;
    assert_eq!(first_error(&problem).0, "phases");
    assert!(first_error(&problem).1.contains("at most 100 items"), "{problem}");
    assert_eq!(plan_total(&app).await, before);
    plan.as_object_mut().unwrap().remove("phases");
    assert_eq!(app.post("/plans", &app.hq, &plan).await.status(), 201, "at the limits");
}

async fn fiscal_years_in_paths_and_queries_are_range_checked(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan_id = app.load_demo();
    let count = indicator(&app, plan_id, 1, 1).await;
    for year in [1988, 2101, 3000] {
        let problem = assert_problem(app.get(&actual_path(&count, year), &app.hq).await, 422).await;
        assert_eq!(first_error(&problem).0, "fiscal_year");
        assert!(first_error(&problem).1.contains("1989–2100"), "{problem}");
        let problem =
            assert_problem(app.put(&actual_path(&count, year), &app.hq, &json!({"value": 1}), None).await, 422).await;
        assert_eq!(first_error(&problem).0, "fiscal_year");
        for query in [
            format!("/plans/{plan_id}/evaluation?fiscal_year={year}"),
            format!("/plans/{plan_id}/submissions?fiscal_year={year}"),
            format!("/indicators/{}/achievement?fiscal_year={year}", count["id"]),
        ] {
            let problem = assert_problem(app.get(&query, &app.hq).await, 422).await;
            assert_eq!(first_error(&problem).0, "fiscal_year", "{query}");
        }
    }
    let problem = assert_problem(
        app.post(&format!("/plans/{plan_id}/collections"), &app.hq, &json!({"fiscal_year": 1900})).await,
        422,
    )
    .await;
    assert_eq!(first_error(&problem).0, "fiscal_year");
}

async fn every_collection_endpoint_returns_one_page_shape(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan_id = app.load_demo();
    let count = indicator(&app, plan_id, 1, 1).await;
    let measure_id = count["measure_id"].clone();
    let indicator_id = count["id"].clone();
    for year in [2019, 2020] {
        let opened = app.post(&format!("/plans/{plan_id}/collections"), &app.hq, &json!({"fiscal_year": year})).await;
        assert_eq!(opened.status(), 201);
        let submitted = app.put(&actual_path(&count, year), &app.hq, &json!({"value": 220}), None).await;
        assert_eq!(submitted.status(), 201);
    }
    let lists: Vec<(String, &TestUser)> = vec![
        ("/plans".into(), &app.viewer),
        ("/users".into(), &app.admin),
        ("/audit".into(), &app.hq),
        ("/municipalities".into(), &app.viewer),
        ("/departments".into(), &app.viewer),
        (format!("/plans/{plan_id}/goals"), &app.viewer),
        (format!("/plans/{plan_id}/strategies"), &app.viewer),
        (format!("/plans/{plan_id}/measures"), &app.viewer),
        (format!("/plans/{plan_id}/collections"), &app.viewer),
        (format!("/measures/{measure_id}/indicators"), &app.viewer),
        (format!("/indicators/{indicator_id}/targets"), &app.viewer),
        (format!("/indicators/{indicator_id}/definitions"), &app.viewer),
        (format!("/indicators/{indicator_id}/actuals"), &app.viewer),
        (format!("/indicators/{indicator_id}/actuals/2019/history"), &app.viewer),
        (format!("/indicators/{indicator_id}/achievement"), &app.viewer),
    ];
    for (list, user) in &lists {
        let separator = if list.contains('?') { '&' } else { '?' };
        let whole = json(app.get(&format!("{list}{separator}limit=500"), user).await).await;
        let total = whole["total"].as_i64().unwrap_or_else(|| panic!("{list}: {whole}"));
        let items = whole["items"].as_array().unwrap_or_else(|| panic!("{list}: {whole}"));
        assert_eq!(items.len() as i64, total.min(500), "{list}");
        assert_eq!((whole["limit"].as_i64(), whole["offset"].as_i64()), (Some(500), Some(0)), "{list}");
        let default = json(app.get(list, user).await).await;
        assert_eq!((default["limit"].as_i64(), default["total"].as_i64()), (Some(50), Some(total)), "{list}");
        let second = json(app.get(&format!("{list}{separator}limit=1&offset=1"), user).await).await;
        assert_eq!(second["total"], total, "{list}");
        let expected: Vec<Value> = items.iter().skip(1).take(1).cloned().collect();
        assert_eq!(second["items"].as_array().unwrap(), &expected, "{list}: offset 1 is the second item");
        for bad in ["limit=0", "limit=501", "offset=-1", "offset=1000001", "limit=x"] {
            let problem = assert_problem(app.get(&format!("{list}{separator}{bad}"), user).await, 422).await;
            let field = bad.split('=').next().unwrap();
            assert_eq!(first_error(&problem).0, field, "{list}?{bad}");
        }
    }
    // Every list above with more than one item proved that offset moves.
    let multi = ["/departments", "/goals", "/strategies", "/collections", "/targets", "/actuals", "/achievement"];
    for needle in multi {
        let (list, user) = lists.iter().find(|(l, _)| l.ends_with(needle)).unwrap();
        let total = json(app.get(list, user).await).await["total"].as_i64().unwrap();
        assert!(total >= 2, "{list} has {total} items; the offset check needs two");
    }
}

async fn the_history_of_many_versions_is_paginated(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan_id = app.load_demo();
    let count = indicator(&app, plan_id, 1, 1).await;
    let path = actual_path(&count, 2019);
    let mut etag: Option<String> = None;
    for value in 200..212 {
        let response =
            app.put(&path, &app.hq, &json!({"value": value, "note": format!("第{value}版")}), etag.as_deref()).await;
        assert!(response.status().is_success(), "{}", response.status());
        etag = Some(response.headers()["etag"].to_str().unwrap().to_owned());
    }
    let page = json(app.get(&format!("{path}/history?limit=5&offset=5"), &app.viewer).await).await;
    assert_eq!(page["total"], 12);
    let versions: Vec<i64> = page["items"].as_array().unwrap().iter().map(|e| e["version"].as_i64().unwrap()).collect();
    assert_eq!(versions, vec![6, 7, 8, 9, 10]);
    let last = json(app.get(&format!("{path}/history?limit=5&offset=10"), &app.viewer).await).await;
    assert_eq!(last["items"].as_array().unwrap().len(), 2);
    let beyond = json(app.get(&format!("{path}/history?offset=100"), &app.viewer).await).await;
    assert!(beyond["items"].as_array().unwrap().is_empty());
    assert_eq!(beyond["total"], 12);
}

/// The spec states what the server enforces: the same numbers as the named bounds, and a maximum
/// on every free-form string and every list of every request body.
fn the_openapi_document_states_the_enforced_bounds() {
    use municipal_kpi::api::pagination::{MAX_LIMIT, MAX_OFFSET};
    use municipal_kpi::domain::fiscal_year::{MAX_YEAR, MIN_YEAR};
    use municipal_kpi::domain::limits::{
        MAX_CODE_CHARS, MAX_LIST_ITEMS, MAX_NAME_CHARS, MAX_PASSWORD_CHARS, MAX_TEXT_CHARS,
    };

    let document: Value = serde_json::from_str(&municipal_kpi::api::openapi::document_json()).unwrap();
    let schemas = &document["components"]["schemas"];
    let property = |schema: &str, name: &str| schemas[schema]["properties"][name].clone();
    let as_usize = |value: &Value| value.as_u64().map(|n| n as usize);
    assert_eq!(as_usize(&property("CreatePlan", "name")["maxLength"]), Some(MAX_NAME_CHARS));
    assert_eq!(as_usize(&property("CreatePlan", "code")["maxLength"]), Some(MAX_CODE_CHARS));
    assert_eq!(as_usize(&property("CreatePlan", "description")["maxLength"]), Some(MAX_TEXT_CHARS));
    assert_eq!(as_usize(&property("CreatePlan", "phases")["maxItems"]), Some(MAX_LIST_ITEMS));
    assert_eq!(as_usize(&property("TokenRequest", "password")["maxLength"]), Some(MAX_PASSWORD_CHARS));
    assert_eq!(property("CreatePlan", "start_fiscal_year")["minimum"], MIN_YEAR);
    assert_eq!(property("CreatePlan", "start_fiscal_year")["maximum"], MAX_YEAR);

    let mut request_schemas = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().unwrap();
                let schema = &parameter["schema"];
                match name {
                    "limit" => assert_eq!(
                        (&schema["minimum"], &schema["maximum"]),
                        (&json!(1), &json!(MAX_LIMIT)),
                        "{method} {path}"
                    ),
                    "offset" => assert_eq!(
                        (&schema["minimum"], &schema["maximum"]),
                        (&json!(0), &json!(MAX_OFFSET)),
                        "{method} {path}"
                    ),
                    name if name.ends_with("fiscal_year") => {
                        assert_eq!(
                            (&schema["minimum"], &schema["maximum"]),
                            (&json!(MIN_YEAR), &json!(MAX_YEAR)),
                            "{method} {path} {name}"
                        )
                    }
                    _ => {}
                }
            }
            if let Some(reference) = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()
            {
                request_schemas.push(reference.trim_start_matches("#/components/schemas/").to_owned());
            }
        }
    }
    assert!(request_schemas.len() > 20, "{request_schemas:?}");
    let mut seen = std::collections::BTreeSet::new();
    while let Some(name) = request_schemas.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let schema = &schemas[&name];
        for (field, property) in schema["properties"].as_object().into_iter().flatten() {
            let mut candidates = vec![property.clone()];
            candidates.extend(property["oneOf"].as_array().into_iter().flatten().cloned());
            for candidate in candidates {
                if let Some(reference) = candidate["$ref"].as_str() {
                    request_schemas.push(reference.trim_start_matches("#/components/schemas/").to_owned());
                }
                let types = match &candidate["type"] {
                    Value::String(one) => vec![one.clone()],
                    Value::Array(many) => many.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect(),
                    _ => vec![],
                };
                let free_text = types.iter().any(|t| t == "string")
                    && candidate["enum"].is_null()
                    && candidate["format"].is_null()
                    // Shown in responses of the shared schemas, never read from a request.
                    && !field.ends_with("fiscal_year_label");
                if free_text {
                    assert!(candidate["maxLength"].is_u64(), "{name}.{field} has no maxLength: {candidate}");
                }
                if types.iter().any(|t| t == "array") {
                    assert!(candidate["maxItems"].is_u64(), "{name}.{field} has no maxItems: {candidate}");
                    if let Some(reference) = candidate["items"]["$ref"].as_str() {
                        request_schemas.push(reference.trim_start_matches("#/components/schemas/").to_owned());
                    }
                }
            }
        }
    }
}
