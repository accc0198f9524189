//! Failed logins are throttled per username and per client address (429 with Retry-After), the
//! same way for usernames that exist and those that do not; a successful login resets its username.

use municipal_kpi::auth::throttle::{DEFAULT_MAX_FAILURES_PER_ADDRESS, DEFAULT_MAX_FAILURES_PER_USERNAME};
use serde_json::{Value, json};

use crate::helpers::{Backend, TEST_PASSWORD, TestApp, assert_problem, spawn_app};
use crate::on_both_backends;

on_both_backends!(
    a_username_is_throttled_after_its_failures_whether_or_not_it_exists,
    an_address_is_throttled_across_usernames,
    a_successful_login_resets_the_username_counter,
);

async fn log_in(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.api("/auth/token"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("request")
}

async fn fail_times(app: &TestApp, username: &str, times: u32) {
    for attempt in 1..=times {
        let response = log_in(app, username, "not the password at all").await;
        assert_eq!(response.status(), 401, "attempt {attempt} for {username}");
    }
}

/// Asserts a 429 problem with a Retry-After of whole seconds; returns the problem without the
/// number of seconds, which depends on when it was asked.
async fn assert_throttled(response: reqwest::Response) -> Value {
    let retry_after = response.headers().get("retry-after").expect("Retry-After").to_str().unwrap().to_owned();
    let seconds: u64 = retry_after.parse().expect("Retry-After in seconds");
    assert!(seconds >= 1, "Retry-After {seconds}");
    let mut problem = assert_problem(response, 429).await;
    assert_eq!(problem["type"], "/problems/too-many-requests");
    let detail = problem["detail"].as_str().unwrap().replace(&seconds.to_string(), "N");
    problem["detail"] = detail.into();
    problem
}

async fn a_username_is_throttled_after_its_failures_whether_or_not_it_exists(backend: Backend) {
    let app = spawn_app(backend).await;
    fail_times(&app, &app.hq.username, DEFAULT_MAX_FAILURES_PER_USERNAME).await;
    // Even the right password is refused now: guessing cannot go on.
    let existing = assert_throttled(log_in(&app, &app.hq.username, TEST_PASSWORD).await).await;

    fail_times(&app, "no-such-user", DEFAULT_MAX_FAILURES_PER_USERNAME).await;
    let unknown = assert_throttled(log_in(&app, "no-such-user", TEST_PASSWORD).await).await;
    assert_eq!(existing, unknown, "a 429 says nothing about whether the username exists");

    let other = log_in(&app, &app.viewer.username, TEST_PASSWORD).await;
    assert_eq!(other.status(), 200, "other usernames from the same address still log in");
}

async fn an_address_is_throttled_across_usernames(backend: Backend) {
    let app = spawn_app(backend).await;
    for n in 0..DEFAULT_MAX_FAILURES_PER_ADDRESS {
        fail_times(&app, &format!("sprayed-{n}"), 1).await;
    }
    assert_throttled(log_in(&app, "yet-another-name", "a guess").await).await;
    assert_throttled(log_in(&app, &app.viewer.username, TEST_PASSWORD).await).await;
}

async fn a_successful_login_resets_the_username_counter(backend: Backend) {
    let app = spawn_app(backend).await;
    let below_limit = DEFAULT_MAX_FAILURES_PER_USERNAME - 1;
    fail_times(&app, &app.hq.username, below_limit).await;
    assert_eq!(log_in(&app, &app.hq.username, TEST_PASSWORD).await.status(), 200);
    // Without the reset the limit would be reached by now; with it there is room for as many again.
    fail_times(&app, &app.hq.username, below_limit).await;
    assert_eq!(log_in(&app, &app.hq.username, TEST_PASSWORD).await.status(), 200);
    fail_times(&app, &app.hq.username, DEFAULT_MAX_FAILURES_PER_USERNAME).await;
    assert_throttled(log_in(&app, &app.hq.username, TEST_PASSWORD).await).await;
}
