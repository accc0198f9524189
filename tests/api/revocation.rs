//! A token is only as good as its account is now: deactivation, demotion, a department change, a
//! password change and a vanished user take effect on the very next request; `nbf` and `iat` are
//! honoured.

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::helpers::{Backend, TEST_PASSWORD, TEST_SECRET, TestApp, TestUser, assert_problem, json, spawn_app};
use crate::on_both_backends;

on_both_backends!(
    a_deactivated_account_is_refused_at_once_and_stays_refused_after_reactivation,
    a_demoted_hq_user_can_no_longer_approve,
    a_department_change_moves_the_scope_on_the_next_request,
    a_token_whose_user_does_not_exist_gets_401,
    a_password_change_ends_the_tokens_issued_before_it,
    tokens_not_yet_valid_or_issued_in_the_future_get_401,
    a_token_signed_with_another_key_says_to_log_in_again,
);

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

fn actual_path(indicator: &Value, year: i32) -> String {
    format!("/indicators/{}/actuals/{year}", indicator["id"])
}

async fn log_in(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.api("/auth/token"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("request")
}

/// The user with a fresh token from a real login.
async fn logged_in(app: &TestApp, user: &TestUser, password: &str) -> TestUser {
    let response = log_in(app, &user.username, password).await;
    assert_eq!(response.status(), 200, "login of {}", user.username);
    let token = json(response).await["access_token"].as_str().expect("token").to_owned();
    TestUser { token, ..user.clone() }
}

async fn a_deactivated_account_is_refused_at_once_and_stays_refused_after_reactivation(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = app.load_demo();
    let it = app.department_user("it-promotion", "IT推進課");
    let open_data = indicator(&app, plan, 1, 1).await;
    assert_eq!(app.put(&actual_path(&open_data, 2018), &it, &json!({"value": 210}), None).await.status(), 201);

    let deactivated = app.patch(&format!("/users/{}", it.id), &app.admin, &json!({"active": false})).await;
    assert_eq!(deactivated.status(), 200);
    let refused = app.put(&actual_path(&open_data, 2019), &it, &json!({"value": 220}), None).await;
    let problem = assert_problem(refused, 401).await;
    assert!(problem["detail"].as_str().unwrap().contains("deactivated"), "{problem}");
    assert_problem(app.get("/me", &it).await, 401).await;
    let history = json(app.get(&format!("{}/history", actual_path(&open_data, 2019)), &app.hq).await).await;
    assert_eq!(history["status"], 404, "the refused write changed nothing: {history}");

    let reactivated = app.patch(&format!("/users/{}", it.id), &app.admin, &json!({"active": true})).await;
    assert_eq!(reactivated.status(), 200);
    assert_problem(app.get("/me", &it).await, 401).await;
    let fresh = logged_in(&app, &it, TEST_PASSWORD).await;
    assert_eq!(app.get("/me", &fresh).await.status(), 200, "a new login works again");
}

async fn a_demoted_hq_user_can_no_longer_approve(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = app.load_demo();
    let it = app.department_user("it-promotion", "IT推進課");
    let open_data = indicator(&app, plan, 1, 1).await;
    for year in [2018, 2019] {
        let submitted = app.put(&actual_path(&open_data, year), &it, &json!({"value": 210 + year - 2018}), None).await;
        assert_eq!(submitted.status(), 201);
    }
    let review = |year| format!("{}/review", actual_path(&open_data, year));
    assert_eq!(app.post(&review(2018), &app.hq, &json!({"action": "approve"})).await.status(), 200);

    let demoted = app.patch(&format!("/users/{}", app.hq.id), &app.admin, &json!({"role": "viewer"})).await;
    assert_eq!(demoted.status(), 200);
    assert_problem(app.post(&review(2019), &app.hq, &json!({"action": "approve"})).await, 403).await;
    let me = json(app.get("/me", &app.hq).await).await;
    assert_eq!(me["user"]["role"], "viewer", "the same token now acts as a viewer");
    let actual = json(app.get(&actual_path(&open_data, 2019), &it).await).await;
    assert_eq!(actual["status"], "submitted", "the refused approval changed nothing");
}

async fn a_department_change_moves_the_scope_on_the_next_request(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = app.load_demo();
    let kouhou = app.department_user("public-relations", "広聴広報課");
    let it = app.department_user("it-promotion", "IT推進課");
    let open_data = indicator(&app, plan, 1, 1).await; // No.1, IT推進課 only
    assert_problem(app.put(&actual_path(&open_data, 2019), &kouhou, &json!({"value": 220}), None).await, 403).await;

    let moved =
        app.patch(&format!("/users/{}", kouhou.id), &app.admin, &json!({"department_id": it.department_id})).await;
    assert_eq!(moved.status(), 200);
    let allowed = app.put(&actual_path(&open_data, 2019), &kouhou, &json!({"value": 220}), None).await;
    assert_eq!(allowed.status(), 201, "the new department's indicator, with the old token");

    let back =
        app.patch(&format!("/users/{}", kouhou.id), &app.admin, &json!({"department_id": kouhou.department_id})).await;
    assert_eq!(back.status(), 200);
    let refused = app.put(&actual_path(&open_data, 2020), &kouhou, &json!({"value": 225}), None).await;
    assert_problem(refused, 403).await;
}

fn signed(claims: &Value) -> String {
    encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(TEST_SECRET)).expect("sign")
}

fn claims_for(user_id: i32) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"sub": user_id.to_string(), "username": "someone", "role": "admin", "department_id": null,
        "iat": now, "exp": now + 600, "iss": "municipal-kpi", "aud": "municipal-kpi-api"})
}

async fn get_with(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.client.get(app.api(path)).bearer_auth(token).send().await.expect("request")
}

async fn a_token_whose_user_does_not_exist_gets_401(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = signed(&claims_for(987_654));
    for path in ["/me", "/users/987654", "/plans", "/audit"] {
        let problem = assert_problem(get_with(&app, path, &token).await, 401).await;
        assert!(problem["detail"].as_str().unwrap().contains("no longer exists"), "{path}: {problem}");
    }
    // The role in the token counts for nothing: the admin claim of a real viewer is not honoured.
    let viewer_claiming_admin = signed(&claims_for(app.viewer.id));
    assert_problem(get_with(&app, "/users", &viewer_claiming_admin).await, 403).await;
}

async fn a_password_change_ends_the_tokens_issued_before_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let before = logged_in(&app, &app.viewer, TEST_PASSWORD).await;
    assert_eq!(app.get("/me", &before).await.status(), 200);
    let new_password = "a brand new password 2026";
    let changed = app.patch(&format!("/users/{}", app.viewer.id), &app.admin, &json!({"password": new_password})).await;
    assert_eq!(changed.status(), 200);
    for token_holder in [&before, &app.viewer] {
        let problem = assert_problem(app.get("/me", token_holder).await, 401).await;
        assert!(problem["detail"].as_str().unwrap().contains("password"), "{problem}");
    }
    assert_problem(log_in(&app, &app.viewer.username, TEST_PASSWORD).await, 401).await;
    let after = logged_in(&app, &app.viewer, new_password).await;
    assert_eq!(app.get("/me", &after).await.status(), 200);
    // Other changes (here the display name) leave tokens alone.
    let renamed = app.patch(&format!("/users/{}", app.viewer.id), &app.admin, &json!({"display_name": "閲覧者"})).await;
    assert_eq!(renamed.status(), 200);
    assert_eq!(app.get("/me", &after).await.status(), 200);
}

async fn tokens_not_yet_valid_or_issued_in_the_future_get_401(backend: Backend) {
    let app = spawn_app(backend).await;
    let now = chrono::Utc::now().timestamp();
    let mut not_yet = claims_for(app.admin.id);
    not_yet["nbf"] = json!(now + 600);
    let mut from_the_future = claims_for(app.admin.id);
    from_the_future["iat"] = json!(now + 600);
    for (case, claims) in [("nbf", &not_yet), ("iat", &from_the_future)] {
        let problem = assert_problem(get_with(&app, "/me", &signed(claims)).await, 401).await;
        assert!(problem["detail"].as_str().unwrap().contains(case), "{case}: {problem}");
    }
    // A few seconds of clock difference between servers are tolerated.
    let mut slightly_ahead = claims_for(app.admin.id);
    slightly_ahead["iat"] = json!(now + 5);
    slightly_ahead["nbf"] = json!(now + 5);
    assert_eq!(get_with(&app, "/me", &signed(&slightly_ahead)).await.status(), 200);
}

async fn a_token_signed_with_another_key_says_to_log_in_again(backend: Backend) {
    let app = spawn_app(backend).await;
    let other_key = encode(
        &Header::new(Algorithm::HS256),
        &claims_for(app.admin.id),
        &EncodingKey::from_secret(b"the key of an earlier --demo run, 48 bytes long!"),
    )
    .expect("sign");
    let problem = assert_problem(get_with(&app, "/me", &other_key).await, 401).await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("signed with another key"), "{detail}");
    assert!(detail.contains("POST /api/v1/auth/token"), "{detail}");
}
