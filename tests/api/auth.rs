//! The authentication matrix of RFC 8725 and the role checks.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use municipal_kpi::domain::role::Role;
use serde_json::json;

use crate::helpers::{Backend, TEST_PASSWORD, TEST_SECRET, assert_problem, json, spawn_app};
use crate::on_both_backends;

on_both_backends!(
    login_returns_a_bearer_token_that_opens_me,
    unknown_user_and_wrong_password_get_the_same_answer,
    inactive_users_cannot_log_in,
    forged_expired_and_misaddressed_tokens_get_401,
    missing_or_malformed_authorization_gets_401,
    wrong_role_gets_403,
    health_and_docs_need_no_token,
);

async fn login_returns_a_bearer_token_that_opens_me(backend: Backend) {
    let app = spawn_app(backend).await;
    let department = app.department_user("family-registry", "戸籍住民課");
    let response = app
        .client
        .post(app.api("/auth/token"))
        .json(&json!({"username": department.username, "password": TEST_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = json(response).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().unwrap();
    let me = app.client.get(app.api("/me")).bearer_auth(token).send().await.unwrap();
    assert_eq!(me.status(), 200);
    let me = json(me).await;
    assert_eq!(me["user"]["username"], department.username.as_str());
    assert_eq!(me["user"]["role"], "department");
    assert_eq!(me["department"]["name"], "戸籍住民課");
    assert!(me["user"].get("password_hash").is_none());
}

async fn unknown_user_and_wrong_password_get_the_same_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut problems = Vec::new();
    for (username, password) in [("nobody", TEST_PASSWORD), (app.hq.username.as_str(), "wrong password here")] {
        let response = app
            .client
            .post(app.api("/auth/token"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        problems.push(assert_problem(response, 401).await);
    }
    assert_eq!(problems[0], problems[1]);
}

async fn inactive_users_cannot_log_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.patch(&format!("/users/{}", app.viewer.id), &app.admin, &json!({"active": false})).await;
    assert_eq!(response.status(), 200);
    let response = app
        .client
        .post(app.api("/auth/token"))
        .json(&json!({"username": app.viewer.username, "password": TEST_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_problem(response, 401).await;
}

fn claims(exp_offset: i64, iss: &str, aud: &str) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    json!({"sub": "1", "username": "admin", "role": "admin", "department_id": null,
        "iat": now, "exp": now + exp_offset, "iss": iss, "aud": aud})
}

fn sign(claims: &serde_json::Value, algorithm: Algorithm, secret: &[u8]) -> String {
    encode(&Header::new(algorithm), claims, &EncodingKey::from_secret(secret)).unwrap()
}

async fn forged_expired_and_misaddressed_tokens_get_401(backend: Backend) {
    let app = spawn_app(backend).await;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims(3600, "municipal-kpi", "municipal-kpi-api").to_string());
    let valid = sign(&claims(3600, "municipal-kpi", "municipal-kpi-api"), Algorithm::HS256, TEST_SECRET);
    let (head, rest) = valid.split_once('.').unwrap();
    let (body, _signature) = rest.split_once('.').unwrap();
    let mut no_audience = claims(3600, "municipal-kpi", "municipal-kpi-api");
    no_audience.as_object_mut().unwrap().remove("aud");
    let cases = [
        ("alg none", format!("{header}.{payload}.")),
        ("bad signature", format!("{head}.{body}.{}", URL_SAFE_NO_PAD.encode(b"not the signature"))),
        (
            "another key",
            sign(
                &claims(3600, "municipal-kpi", "municipal-kpi-api"),
                Algorithm::HS256,
                b"another-secret-another-secret-1234",
            ),
        ),
        ("another algorithm", sign(&claims(3600, "municipal-kpi", "municipal-kpi-api"), Algorithm::HS384, TEST_SECRET)),
        ("wrong issuer", sign(&claims(3600, "someone-else", "municipal-kpi-api"), Algorithm::HS256, TEST_SECRET)),
        ("wrong audience", sign(&claims(3600, "municipal-kpi", "another-api"), Algorithm::HS256, TEST_SECRET)),
        ("no audience", sign(&no_audience, Algorithm::HS256, TEST_SECRET)),
        ("expired", sign(&claims(-7200, "municipal-kpi", "municipal-kpi-api"), Algorithm::HS256, TEST_SECRET)),
        ("garbage", "not.a.token".to_owned()),
    ];
    for (case, token) in cases {
        let response = app.client.get(app.api("/plans")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status(), 401, "{case}");
        assert_problem(response, 401).await;
    }
    let response = app.client.get(app.api("/plans")).bearer_auth(&valid).send().await.unwrap();
    assert_eq!(response.status(), 200, "the control token is valid");
}

async fn missing_or_malformed_authorization_gets_401(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.client.get(app.api("/plans")).send().await.unwrap();
    let problem = assert_problem(response, 401).await;
    assert!(problem["detail"].as_str().unwrap().contains("Bearer"));
    let response = app
        .client
        .get(app.api("/plans"))
        .header("Authorization", format!("Basic {}", app.hq.token))
        .send()
        .await
        .unwrap();
    assert_problem(response, 401).await;
}

async fn wrong_role_gets_403(backend: Backend) {
    let app = spawn_app(backend).await;
    let department = app.department_user("it-promotion", "IT推進課");
    let plan = json!({"municipality_id": app.municipality_id, "code": "p", "name": "計画", "start_fiscal_year": 2021, "end_fiscal_year": 2025});
    for user in [&app.viewer, &department, &app.admin] {
        assert_problem(app.post("/plans", user, &plan).await, 403).await;
    }
    let new_user = json!({"username": "someone", "password": "a long enough password", "role": "viewer"});
    for user in [&app.viewer, &department, &app.hq] {
        assert_problem(app.post("/users", user, &new_user).await, 403).await;
    }
    assert_problem(app.get("/audit", &app.viewer).await, 403).await;
    assert_problem(app.get("/audit", &department).await, 403).await;
    assert_eq!(app.get("/audit", &app.hq).await.status(), 200);
    assert_eq!(app.post("/plans", &app.hq, &plan).await.status(), 201);
    assert_eq!(app.post("/users", &app.admin, &new_user).await.status(), 201);
    assert_eq!(Role::Viewer, app.viewer.role);
}

async fn health_and_docs_need_no_token(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in ["/healthz", "/readyz", "/api-docs/openapi.json", "/docs/"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
    let ready = json(app.client.get(app.url("/readyz")).send().await.unwrap()).await;
    assert_eq!(ready["status"], "ready");
}
