//! The web view's files: served at `/` and `/app/{file}` with their content types, a strict
//! Content-Security-Policy, revalidation by ETag, and 404 problems for anything else.
//! (The flows themselves run in a real browser: tests/browser/, scripts/browser-test.sh.)

use municipal_kpi::web::{WEB_ASSETS, WEB_CACHE_CONTROL, WEB_CONTENT_SECURITY_POLICY};

use crate::helpers::{Backend, assert_problem, spawn_app};
use crate::on_both_backends;

on_both_backends!(
    the_page_is_served_at_the_root_with_a_strict_policy,
    every_embedded_file_is_served_with_its_content_type,
    unchanged_files_revalidate_with_304,
    unknown_files_and_paths_are_404_problems,
);

async fn the_page_is_served_at_the_root_with_a_strict_policy(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(header("content-type"), "text/html; charset=utf-8");
    assert_eq!(header("content-security-policy"), WEB_CONTENT_SECURITY_POLICY);
    assert!(WEB_CONTENT_SECURITY_POLICY.starts_with("default-src 'self'"));
    assert!(!WEB_CONTENT_SECURITY_POLICY.contains("unsafe"), "no unsafe-inline or unsafe-eval");
    assert_eq!(header("cache-control"), WEB_CACHE_CONTROL);
    assert_eq!(header("x-content-type-options"), "nosniff");
    let page = response.text().await.unwrap();
    assert!(page.contains("<html lang=\"ja\">"), "Japanese first");
    assert!(page.contains("src=\"/app/app.js\""));
    assert!(!page.contains("http://") && !page.contains("https://"), "no external assets");
}

async fn every_embedded_file_is_served_with_its_content_type(backend: Backend) {
    let app = spawn_app(backend).await;
    for asset in WEB_ASSETS {
        let response = app.client.get(app.url(&format!("/app/{}", asset.name))).send().await.unwrap();
        assert_eq!(response.status(), 200, "{}", asset.name);
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        let expected = match asset.name.rsplit('.').next() {
            Some("html") => "text/html; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            Some("js") => "text/javascript; charset=utf-8",
            other => panic!("unexpected file type {other:?}"),
        };
        assert_eq!(content_type, expected, "{}", asset.name);
        assert!(response.headers().contains_key("etag"), "{}", asset.name);
        assert_eq!(response.bytes().await.unwrap().as_ref(), asset.bytes, "{}", asset.name);
    }
}

async fn unchanged_files_revalidate_with_304(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.client.get(app.url("/app/app.js")).send().await.unwrap();
    let tag = first.headers()["etag"].to_str().unwrap().to_owned();
    let again = app.client.get(app.url("/app/app.js")).header("If-None-Match", &tag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), tag);
    let other =
        app.client.get(app.url("/app/app.js")).header("If-None-Match", "\"something-else\"").send().await.unwrap();
    assert_eq!(other.status(), 200);
}

async fn unknown_files_and_paths_are_404_problems(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in ["/app/nope.js", "/app/", "/app/../Cargo.toml", "/app/%2e%2e%2fCargo.toml", "/index.html"] {
        assert_problem(app.client.get(app.url(path)).send().await.unwrap(), 404).await;
    }
}
