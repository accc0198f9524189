//! The README's walk-through, run as written: every `curl` line of its block with its method,
//! path, body, `If-Match` and the status its `#` comment promises, on a fresh `serve --demo` database.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app};
use crate::on_both_backends;

on_both_backends!(the_readme_walk_through_works_as_written);

/// The shell block between the README's walk-through markers.
fn walkthrough_lines() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md");
    let start = readme.find("<!-- walkthrough:start -->").expect("start marker");
    let end = readme.find("<!-- walkthrough:end -->").expect("end marker");
    readme[start..end].lines().map(str::trim).map(str::to_owned).collect()
}

/// `-d '…'`: the body as sent.
fn body_of(line: &str) -> Option<Value> {
    let (_, rest) = line.split_once(" -d '")?;
    let (body, _) = rest.split_once('\'')?;
    Some(serde_json::from_str(body).unwrap_or_else(|e| panic!("README body is not JSON ({e}): {body}")))
}

/// The path after `$API`, without quotes.
fn path_of(line: &str) -> String {
    let word = line.split_whitespace().find(|w| w.trim_matches('"').starts_with("$API")).expect("a $API path");
    format!("/api/v1{}", word.trim_matches('"').trim_start_matches("$API"))
}

fn expected_status(line: &str) -> u16 {
    let (_, comment) = line.rsplit_once("# ").unwrap_or_else(|| panic!("no expected status: {line}"));
    comment.trim().parse().unwrap_or_else(|_| panic!("not a status: {line}"))
}

async fn login(app: &TestApp, username: &str, password: &str) -> String {
    let response = app
        .client
        .post(app.api("/auth/token"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("login");
    assert_eq!(response.status(), 200, "{username} logs in with the README's password");
    response.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
}

async fn the_readme_walk_through_works_as_written(backend: Backend) {
    let app = spawn_app(backend).await;
    // As `serve --demo` does: the plan, its users and the sample actuals.
    municipal_kpi::demo::ensure_loaded(&app.db, true).expect("demo loads");

    let mut tokens: HashMap<String, String> = HashMap::new();
    let mut etag = String::new();
    let mut requests = 0;
    let mut problems = Vec::new();
    for line in walkthrough_lines() {
        if let Some((variable, call)) = line.split_once("=$(login ") {
            let mut words = call.trim_end_matches(')').split_whitespace();
            let (username, password) = (words.next().unwrap(), words.next().unwrap());
            tokens.insert(format!("${variable}"), login(&app, username, password).await);
        } else if line == "ETAG=$(etag)" {
            let response = app
                .client
                .get(app.api("/indicators/16/actuals/2020"))
                .bearer_auth(&tokens["$KOSEKI"])
                .send()
                .await
                .unwrap();
            etag = response.headers()["etag"].to_str().unwrap().to_owned();
        } else if line.starts_with("curl ") {
            let method = match line.split_once("-X ") {
                Some((_, rest)) => rest.split_whitespace().next().unwrap().to_owned(),
                None => "GET".to_owned(),
            };
            let path = path_of(&line);
            let user = tokens.keys().find(|name| line.contains(&format!("Bearer {name}\""))).expect("a known token");
            let mut request = app.client.request(method.parse().unwrap(), app.url(&path)).bearer_auth(&tokens[user]);
            if line.contains("If-Match: $ETAG") {
                request = request.header("If-Match", &etag);
            }
            if let Some(body) = body_of(&line) {
                request = request.json(&body);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            assert_eq!(status, expected_status(&line), "{method} {path}: {text}");
            if status >= 400 {
                problems.push((status, serde_json::from_str::<Value>(&text).unwrap()));
            }
            requests += 1;
        }
    }
    assert!(requests >= 12, "the walk-through ran {requests} requests");
    // The precondition problems say where the current ETag is.
    for (status, problem) in problems.iter().filter(|(status, _)| [412, 428].contains(status)) {
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains("GET /api/v1/indicators/16/actuals/2020") && detail.contains("ETag"),
            "{status}: {detail}"
        );
    }
    // The end state: approved by the 本部, then reopened with the comment.
    let history = app
        .client
        .get(app.api("/indicators/16/actuals/2020/history"))
        .bearer_auth(&tokens["$HQ"])
        .send()
        .await
        .unwrap();
    let history: Value = history.json().await.unwrap();
    let events: Vec<&str> = history["items"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["submitted", "corrected", "returned", "resubmitted", "approved", "reopened"], "{history}");
}
