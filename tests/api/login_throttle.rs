//! Failed logins are throttled per client address and per address and username (429 with
//! Retry-After), the same way for usernames that exist and those that do not. Failures elsewhere
//! never lock out someone who has the password, and correct logins never use up the allowance.

use std::net::{IpAddr, Ipv4Addr};

use municipal_kpi::auth::throttle::{DEFAULT_MAX_FAILURES_PER_ADDRESS, DEFAULT_MAX_FAILURES_PER_ADDRESS_AND_USERNAME};
use serde_json::{Value, json};

use crate::helpers::{Backend, TEST_PASSWORD, TestApp, assert_problem, spawn_app};
use crate::on_both_backends;

on_both_backends!(
    failures_from_another_address_do_not_lock_the_user_out,
    an_address_and_username_is_throttled_whether_or_not_the_username_exists,
    an_address_is_throttled_across_usernames_while_other_addresses_log_in,
    a_burst_of_correct_logins_is_never_refused,
    concurrent_wrong_guesses_get_no_more_than_the_allowance,
);

/// A client whose requests come from 127.0.0.2 (the server listens on 127.0.0.1; the whole
/// 127.0.0.0/8 block is loopback on Linux).
fn client_from_other_address() -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)))
        .build()
        .expect("client bound to 127.0.0.2")
}

async fn log_in_with(client: &reqwest::Client, app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    client
        .post(app.api("/auth/token"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("request")
}

async fn log_in(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    log_in_with(&app.client, app, username, password).await
}

async fn fail_times_with(client: &reqwest::Client, app: &TestApp, username: &str, times: u32) {
    for attempt in 1..=times {
        let response = log_in_with(client, app, username, "not the password at all").await;
        assert_eq!(response.status(), 401, "attempt {attempt} for {username}");
    }
}

/// Asserts a 429 problem with a Retry-After of whole seconds; returns the problem without the
/// number of seconds, which depends on when it was asked.
async fn assert_throttled(response: reqwest::Response) -> Value {
    let retry_after = response.headers().get("retry-after").expect("Retry-After").to_str().unwrap().to_owned();
    let seconds: u64 = retry_after.parse().expect("Retry-After in seconds");
    assert!((1..=900).contains(&seconds), "Retry-After {seconds}");
    let mut problem = assert_problem(response, 429).await;
    assert_eq!(problem["type"], "/problems/too-many-requests");
    let detail = problem["detail"].as_str().unwrap().replace(&seconds.to_string(), "N");
    problem["detail"] = detail.into();
    problem
}

async fn failures_from_another_address_do_not_lock_the_user_out(backend: Backend) {
    let app = spawn_app(backend).await;
    let elsewhere = client_from_other_address();
    fail_times_with(&elsewhere, &app, &app.hq.username, DEFAULT_MAX_FAILURES_PER_ADDRESS_AND_USERNAME).await;
    assert_throttled(log_in_with(&elsewhere, &app, &app.hq.username, "another guess").await).await;
    // The real user, from their own address, still gets in.
    assert_eq!(log_in(&app, &app.hq.username, TEST_PASSWORD).await.status(), 200);
}

async fn an_address_and_username_is_throttled_whether_or_not_the_username_exists(backend: Backend) {
    let app = spawn_app(backend).await;
    let limit = DEFAULT_MAX_FAILURES_PER_ADDRESS_AND_USERNAME;
    fail_times_with(&app.client, &app, &app.hq.username, limit).await;
    // Even the right password is refused from this address now: guessing cannot go on.
    let existing = assert_throttled(log_in(&app, &app.hq.username, TEST_PASSWORD).await).await;

    fail_times_with(&app.client, &app, "no-such-user", limit).await;
    let unknown = assert_throttled(log_in(&app, "no-such-user", TEST_PASSWORD).await).await;
    assert_eq!(existing, unknown, "a 429 says nothing about whether the username exists");

    let other = log_in(&app, &app.viewer.username, TEST_PASSWORD).await;
    assert_eq!(other.status(), 200, "other usernames from the same address still log in");
}

async fn an_address_is_throttled_across_usernames_while_other_addresses_log_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let sprayer = client_from_other_address();
    for n in 0..DEFAULT_MAX_FAILURES_PER_ADDRESS {
        fail_times_with(&sprayer, &app, &format!("sprayed-{n}"), 1).await;
    }
    assert_throttled(log_in_with(&sprayer, &app, "yet-another-name", "a guess").await).await;
    assert_throttled(log_in_with(&sprayer, &app, &app.viewer.username, TEST_PASSWORD).await).await;
    assert_eq!(log_in(&app, &app.viewer.username, TEST_PASSWORD).await.status(), 200, "another address");
}

async fn a_burst_of_correct_logins_is_never_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let logins = (0..10).map(|_| log_in(&app, &app.hq.username, TEST_PASSWORD));
    let statuses: Vec<u16> =
        futures_util::future::join_all(logins).await.iter().map(|response| response.status().as_u16()).collect();
    assert_eq!(statuses, vec![200; 10]);
    // Correct logins used none of the allowance: the failures allowed are all still there.
    fail_times_with(&app.client, &app, &app.hq.username, DEFAULT_MAX_FAILURES_PER_ADDRESS_AND_USERNAME).await;
    assert_throttled(log_in(&app, &app.hq.username, TEST_PASSWORD).await).await;
}

async fn concurrent_wrong_guesses_get_no_more_than_the_allowance(backend: Backend) {
    let app = spawn_app(backend).await;
    let limit = DEFAULT_MAX_FAILURES_PER_ADDRESS_AND_USERNAME;
    let guesses = (0..2 * limit).map(|n| log_in(&app, &app.hq.username, if n == 0 { "guess" } else { "other guess" }));
    let mut statuses: Vec<u16> =
        futures_util::future::join_all(guesses).await.iter().map(|response| response.status().as_u16()).collect();
    statuses.sort_unstable();
    let expected: Vec<u16> = [vec![401; limit as usize], vec![429; limit as usize]].concat();
    assert_eq!(statuses, expected, "guesses sent at once cannot all slip past the check");
}
