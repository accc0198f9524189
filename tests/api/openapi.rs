//! The committed OpenAPI document is the one the code generates and the one the server serves.

use crate::helpers::{Backend, spawn_app};
use crate::on_both_backends;

on_both_backends!(served_document_is_the_committed_file);

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

#[test]
fn document_is_openapi_3_1_with_bearer_auth_on_every_protected_operation() {
    let document: serde_json::Value = serde_json::from_str(&municipal_kpi::api::openapi::document_json()).unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(document["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let public = ["/healthz", "/readyz", "/api/v1/auth/token"];
    for (path, operations) in document["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let secured = operation.get("security").is_some();
            assert_eq!(secured, !public.contains(&path.as_str()), "{method} {path}");
            let responses = operation["responses"].as_object().unwrap();
            if secured {
                assert!(responses.keys().any(|s| s.starts_with('4')), "{method} {path} documents its errors");
            }
        }
    }
    assert!(document.to_string().contains("マイナンバー"), "Japanese examples are kept");
}
