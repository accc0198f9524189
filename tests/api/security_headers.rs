//! Security headers on every response, no caching of authenticated data, and CORS for an
//! allow-list of origins only.

use municipal_kpi::api::cors::AllowedOrigins;
use municipal_kpi::api::security_headers::{API_CONTENT_SECURITY_POLICY, DOCS_CONTENT_SECURITY_POLICY};
use municipal_kpi::db::DatabaseSettings;
use municipal_kpi::startup::ServerSettings;
use reqwest::Method;

use crate::helpers::{Backend, TestApp, spawn_app, spawn_app_with};
use crate::on_both_backends;

const DASHBOARD_ORIGIN: &str = "https://dashboard.city.example.jp";
const OTHER_ORIGIN: &str = "https://evil.example.com";

on_both_backends!(
    every_response_carries_the_security_headers,
    authenticated_data_is_not_stored_by_caches,
    an_allowed_origin_gets_cors_headers_and_its_preflight_answered,
    other_origins_get_no_cors_headers,
);

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

async fn cors_app(backend: Backend) -> TestApp {
    let server = ServerSettings {
        cors_allowed_origins: AllowedOrigins::parse(DASHBOARD_ORIGIN).expect("origin"),
        ..ServerSettings::default()
    };
    spawn_app_with(backend, DatabaseSettings { read_pool_size: 4, ..DatabaseSettings::default() }, server).await
}

async fn every_response_carries_the_security_headers(backend: Backend) {
    let app = spawn_app(backend).await;
    let responses = [
        ("GET /healthz", app.client.get(app.url("/healthz")).send().await.unwrap()),
        ("GET /readyz", app.client.get(app.url("/readyz")).send().await.unwrap()),
        ("GET /plans", app.get("/plans", &app.viewer).await),
        ("GET /plans without token", app.client.get(app.api("/plans")).send().await.unwrap()),
        ("GET /nowhere", app.client.get(app.url("/nowhere")).send().await.unwrap()),
        ("DELETE /plans", app.client.delete(app.api("/plans")).bearer_auth(&app.hq.token).send().await.unwrap()),
        ("GET /api-docs/openapi.json", app.client.get(app.url("/api-docs/openapi.json")).send().await.unwrap()),
    ];
    for (what, response) in &responses {
        assert_eq!(header(response, "x-content-type-options"), Some("nosniff"), "{what}");
        assert_eq!(header(response, "referrer-policy"), Some("no-referrer"), "{what}");
        assert_eq!(header(response, "x-frame-options"), Some("DENY"), "{what}");
        assert_eq!(header(response, "content-security-policy"), Some(API_CONTENT_SECURITY_POLICY), "{what}");
    }
    let docs = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    let policy = header(&docs, "content-security-policy").expect("a policy on /docs").to_owned();
    assert_eq!(policy, DOCS_CONTENT_SECURITY_POLICY);
    assert!(policy.starts_with("default-src 'self'") && policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(!policy.contains("unsafe-eval") && !policy.contains("script-src"), "scripts only from 'self': {policy}");
    assert_eq!(header(&docs, "x-content-type-options"), Some("nosniff"));
    // The page loads nothing from elsewhere and no inline script, so 'self' covers it.
    let page = docs.text().await.unwrap();
    assert!(!page.contains("http://") && !page.contains("https://"), "{page}");
    assert!(!page.contains("<script>"), "no inline script: {page}");
    let initializer = app.client.get(app.url("/docs/swagger-initializer.js")).send().await.unwrap();
    assert_eq!(header(&initializer, "content-security-policy"), Some(DOCS_CONTENT_SECURITY_POLICY));
    let script = initializer.text().await.unwrap();
    assert!(script.contains("/api-docs/openapi.json"), "the document comes from this server: {script}");
}

async fn authenticated_data_is_not_stored_by_caches(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan_id = app.load_demo();
    for path in
        ["/plans", "/me", &format!("/plans/{plan_id}"), &format!("/plans/{plan_id}/evaluation?fiscal_year=2020")]
    {
        let response = app.get(path, &app.hq).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header(&response, "cache-control"), Some("no-store"), "{path}");
    }
    let denied = app.client.get(app.api("/plans")).send().await.unwrap();
    assert_eq!(denied.status(), 401);
    assert_eq!(header(&denied, "cache-control"), Some("no-store"));

    // The dashboard feed stays revalidatable with its ETag, on 200 and 304 alike.
    let dashboard = app.get(&format!("/plans/{plan_id}/dashboard"), &app.hq).await;
    assert_eq!(dashboard.status(), 200);
    assert_eq!(header(&dashboard, "cache-control"), Some("private, no-cache"));
    let tag = header(&dashboard, "etag").expect("ETag").to_owned();
    let unchanged = app
        .client
        .get(app.api(&format!("/plans/{plan_id}/dashboard")))
        .bearer_auth(&app.hq.token)
        .header("If-None-Match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), 304);
    assert_eq!(header(&unchanged, "cache-control"), Some("private, no-cache"));
    assert_eq!(header(&unchanged, "etag"), Some(tag.as_str()));
}

async fn an_allowed_origin_gets_cors_headers_and_its_preflight_answered(backend: Backend) {
    let app = cors_app(backend).await;
    for (method, path) in [("PUT", "/api/v1/plans/1"), ("POST", "/api/v1/plans"), ("GET", "/api/v1/me")] {
        let preflight = app
            .client
            .request(Method::OPTIONS, app.url(path))
            .header("Origin", DASHBOARD_ORIGIN)
            .header("Access-Control-Request-Method", method)
            .header("Access-Control-Request-Headers", "authorization, content-type, if-match")
            .send()
            .await
            .unwrap();
        assert_eq!(preflight.status(), 200, "preflight {method} {path}: no 401 or 405");
        assert_eq!(header(&preflight, "access-control-allow-origin"), Some(DASHBOARD_ORIGIN));
        let methods = header(&preflight, "access-control-allow-methods").unwrap_or_default().to_owned();
        assert!(methods.contains(method), "{methods}");
        let headers = header(&preflight, "access-control-allow-headers").unwrap_or_default().to_ascii_lowercase();
        for allowed in ["authorization", "content-type", "if-match", "if-none-match"] {
            assert!(headers.contains(allowed), "{allowed} in {headers}");
        }
        assert!(header(&preflight, "access-control-max-age").is_some());
        assert_eq!(header(&preflight, "x-content-type-options"), Some("nosniff"));
    }

    let response = app
        .client
        .get(app.api("/me"))
        .bearer_auth(&app.hq.token)
        .header("Origin", DASHBOARD_ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "access-control-allow-origin"), Some(DASHBOARD_ORIGIN));
    let exposed = header(&response, "access-control-expose-headers").unwrap_or_default().to_ascii_lowercase();
    for name in ["etag", "retry-after", "location"] {
        assert!(exposed.contains(name), "{name} exposed: {exposed}");
    }
    // An error is readable by the dashboard too.
    let denied = app.client.get(app.api("/me")).header("Origin", DASHBOARD_ORIGIN).send().await.unwrap();
    assert_eq!(denied.status(), 401);
    assert_eq!(header(&denied, "access-control-allow-origin"), Some(DASHBOARD_ORIGIN));
}

async fn other_origins_get_no_cors_headers(backend: Backend) {
    for app in [cors_app(backend).await, spawn_app(backend).await] {
        let preflight = app
            .client
            .request(Method::OPTIONS, app.api("/plans"))
            .header("Origin", OTHER_ORIGIN)
            .header("Access-Control-Request-Method", "POST")
            .send()
            .await
            .unwrap();
        assert!(preflight.status().is_client_error(), "preflight from another origin: {}", preflight.status());
        assert!(header(&preflight, "access-control-allow-origin").is_none());
        assert!(header(&preflight, "access-control-allow-methods").is_none());

        let response = app
            .client
            .get(app.api("/me"))
            .bearer_auth(&app.hq.token)
            .header("Origin", OTHER_ORIGIN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "served, but the browser withholds it");
        assert!(header(&response, "access-control-allow-origin").is_none());
        assert!(header(&response, "access-control-expose-headers").is_none());
    }
    // The allowed origin's host under another scheme or port is another origin.
    let app = cors_app(backend).await;
    for origin in ["http://dashboard.city.example.jp", "https://dashboard.city.example.jp:8443"] {
        let response =
            app.client.get(app.api("/me")).bearer_auth(&app.hq.token).header("Origin", origin).send().await.unwrap();
        assert!(header(&response, "access-control-allow-origin").is_none(), "{origin}");
    }
}
