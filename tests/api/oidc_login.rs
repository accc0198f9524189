//! The web view's login through the municipality's OpenID provider, black-box: the authorization
//! code flow with PKCE, state and nonce against a real provider (tests/oidc/provider.mjs, npm
//! `oidc-provider`) started on loopback by each test, driven as a browser would (its login page,
//! its consent page, cookies and redirects), then the ticket, the token, and logout.

use std::collections::HashMap;

use diesel::prelude::*;
use municipal_kpi::db::WriteScope;
use municipal_kpi::db::schema::oidc_login_attempts;
use municipal_kpi::domain::role::Role;
use municipal_kpi::error::AppError;
use serde_json::{Value, json};

use crate::helpers::{Backend, TEST_PASSWORD, TestApp, TestUser, assert_problem, json};
use crate::oidc::{Provider, spawn};
use crate::on_both_backends;

on_both_backends!(
    a_clerk_logs_in_through_the_provider_and_the_ticket_gives_a_token_once,
    wrong_reused_and_expired_states_are_refused_at_the_callback,
    a_login_after_the_providers_key_rotation_still_succeeds,
    deactivated_and_not_pre_created_accounts_are_refused_at_the_callback,
    local_passwords_off_refuse_the_password_but_not_the_provider_login,
    logout_ends_the_session_here_and_names_the_providers_end_session,
);

const MUNICIPALITY_CODE: &str = "131199";

/// A browser: follows redirects by hand (to see where it is sent) and keeps the provider's
/// cookies.
struct Browser {
    client: reqwest::Client,
    cookies: HashMap<String, String>,
}

impl Browser {
    fn new() -> Self {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Self { client, cookies: HashMap::new() }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> reqwest::Response {
        let cookie = self.cookies.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("; ");
        let response = request.header("cookie", cookie).send().await.expect("request");
        for set in response.headers().get_all("set-cookie") {
            let pair = set.to_str().expect("cookie").split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        response
    }

    /// Where a redirect sends the browser, as an absolute URL.
    fn location(response: &reqwest::Response) -> String {
        assert!(response.status().is_redirection(), "expected a redirect, got {}", response.status());
        let location = response.headers()["location"].to_str().expect("location");
        response.url().join(location).expect("location URL").to_string()
    }

    /// From the login button to the provider's redirect back to the test server: logs in as
    /// `login` on the provider's login page and consents. The callback URL, not yet visited.
    async fn log_in_at_provider(&mut self, app: &TestApp, login: &str) -> String {
        let start =
            self.send(self.client.get(app.api(&format!("/auth/oidc/login?municipality={MUNICIPALITY_CODE}")))).await;
        assert_eq!(start.status(), 302);
        let mut next = Self::location(&start);
        let query: HashMap<String, String> = url::Url::parse(&next).expect("url").query_pairs().into_owned().collect();
        assert_eq!(
            (query["response_type"].as_str(), query["code_challenge_method"].as_str()),
            ("code", "S256"),
            "{next}"
        );
        assert!(query.contains_key("state") && query.contains_key("nonce"), "{next}");
        for _ in 0..10 {
            if next.starts_with(&app.address) {
                return next;
            }
            let response = if next.contains("/interaction/") {
                let page = self.send(self.client.get(&next)).await.text().await.expect("page");
                let prompt = if page.contains("name=\"login\"") { "login" } else { "consent" };
                let form = [("prompt", prompt), ("login", login), ("password", "any password")];
                self.send(self.client.post(&next).form(&form)).await
            } else {
                self.send(self.client.get(&next)).await
            };
            next = Self::location(&response);
        }
        panic!("the provider did not send the browser back: {next}");
    }

    /// Visits the callback; where the test server sends the browser (`/?login_…`).
    async fn visit_callback(&mut self, callback: &str) -> String {
        let response = self.send(self.client.get(callback)).await;
        assert_eq!(response.status(), 303);
        response.headers()["location"].to_str().expect("location").to_owned()
    }
}

/// The `login_ticket` or `login_error` of the web view address the callback sent the browser to.
fn outcome(location: &str) -> (&str, &str) {
    location.strip_prefix("/?").and_then(|query| query.split_once('=')).unwrap_or_else(|| panic!("{location}"))
}

async fn exchange(app: &TestApp, ticket: &str) -> reqwest::Response {
    app.client.post(app.api("/auth/oidc/ticket")).json(&json!({ "ticket": ticket })).send().await.expect("request")
}

/// The whole login as `login`: the token the web view ends up with.
async fn log_in(app: &TestApp, login: &str) -> String {
    let mut browser = Browser::new();
    let callback = browser.log_in_at_provider(app, login).await;
    let location = browser.visit_callback(&callback).await;
    let (kind, ticket) = outcome(&location);
    assert_eq!(kind, "login_ticket", "{location}");
    let response = exchange(app, ticket).await;
    assert_eq!(response.status(), 200);
    json(response).await["access_token"].as_str().expect("token").to_owned()
}

fn bearer(token: &str) -> TestUser {
    TestUser { id: 0, username: String::new(), role: Role::Viewer, department_id: None, token: token.to_owned() }
}

/// The test server and a provider whose web client sends browsers back to it, registered for
/// the test municipality with the web client's id and secret.
async fn set_up(backend: Backend, provisioning: &str, local_passwords: bool) -> (TestApp, Provider) {
    let app = spawn(backend).await;
    let provider = Provider::start_for_web(&app.address);
    let body = json!({
        "issuer": provider.issuer(), "client_id": "kpi-web", "client_secret": "kpi-web-secret",
        "audience": "urn:municipal-kpi", "provisioning": provisioning, "local_passwords_allowed": local_passwords,
        "claim_mappings": [
            {"claim": "groups", "value": "kikaku", "role": "hq"},
            {"claim": "groups", "value": "all-staff", "role": "viewer"},
        ],
    });
    assert_eq!(app.put("/identity-provider", &app.admin, &body, None).await.status(), 200);
    (app, provider)
}

async fn a_clerk_logs_in_through_the_provider_and_the_ticket_gives_a_token_once(backend: Backend) {
    let (app, _provider) = set_up(backend, "auto", true).await;
    let listed = json(app.client.get(app.api("/auth/oidc/providers")).send().await.expect("request")).await;
    assert_eq!(
        listed,
        json!([{"municipality_code": MUNICIPALITY_CODE, "municipality_name": "板橋区",
            "label": "板橋区職員アカウントでログイン", "local_passwords_allowed": true}])
    );

    let mut browser = Browser::new();
    let callback = browser.log_in_at_provider(&app, "kikaku-taro").await;
    let location = browser.visit_callback(&callback).await;
    let (kind, ticket) = outcome(&location);
    assert_eq!(kind, "login_ticket", "{location}");
    let response = exchange(&app, ticket).await;
    assert_eq!(response.status(), 200);
    let token = json(response).await["access_token"].as_str().expect("token").to_owned();
    let me = json(app.get("/me", &bearer(&token)).await).await;
    assert_eq!((me["user"]["username"].as_str(), me["user"]["role"].as_str()), (Some("kikaku-taro"), Some("hq")));
    assert_eq!(me["user"]["municipality_id"], app.municipality_id);

    let problem = assert_problem(exchange(&app, ticket).await, 401).await;
    assert!(problem["detail"].as_str().unwrap().contains("既に使われています"), "{problem}");
    assert_problem(exchange(&app, "a-made-up-ticket").await, 401).await;
    // Another login of the same identity is the same account, not a second one.
    let again = json(app.get("/me", &bearer(&log_in(&app, "kikaku-taro").await)).await).await;
    assert_eq!(again["user"]["id"], me["user"]["id"]);
}

async fn wrong_reused_and_expired_states_are_refused_at_the_callback(backend: Backend) {
    let (app, _provider) = set_up(backend, "auto", true).await;
    let mut browser = Browser::new();
    let callback = browser.log_in_at_provider(&app, "kikaku-taro").await;
    let forged = with_parameter(&callback, "state", "forged-state");
    assert_eq!(browser.visit_callback(&forged).await, "/?login_error=invalid_state");
    // Another issuer answering for this login (a mix-up, RFC 9207) is refused, and uses the state up.
    let mixed_up = with_parameter(&callback, "iss", "https://idp.example");
    assert_eq!(browser.visit_callback(&mixed_up).await, "/?login_error=verification_failed");
    assert_eq!(browser.visit_callback(&callback).await, "/?login_error=invalid_state");
    let callback = browser.log_in_at_provider(&app, "kikaku-taro").await;
    let location = browser.visit_callback(&callback).await;
    assert_eq!(outcome(&location).0, "login_ticket", "{location}");
    assert_eq!(browser.visit_callback(&callback).await, "/?login_error=invalid_state", "a state is used once");

    // A login that took longer than its time: its attempt expired.
    let late = browser.log_in_at_provider(&app, "kikaku-taro").await;
    app.db
        .write_blocking(WriteScope::Installation, |conn| {
            diesel::update(oidc_login_attempts::table)
                .set(oidc_login_attempts::expires_at.eq(chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1)))
                .execute(conn)
                .map_err(AppError::from)
        })
        .expect("expire the attempts");
    assert_eq!(browser.visit_callback(&late).await, "/?login_error=expired");

    // The provider reports an error (the clerk cancelled): the state is used up all the same.
    let cancelled = browser.log_in_at_provider(&app, "kikaku-taro").await;
    let state = url::Url::parse(&cancelled)
        .expect("url")
        .query_pairs()
        .find(|(n, _)| n == "state")
        .expect("state")
        .1
        .into_owned();
    let error = format!("{}/api/v1/auth/oidc/callback?error=access_denied&state={}", app.address, urlencode(&state));
    assert_eq!(browser.visit_callback(&error).await, "/?login_error=provider_error");
    assert_eq!(browser.visit_callback(&cancelled).await, "/?login_error=invalid_state");
}

/// `url` with the query parameter `name` set to `value`.
fn with_parameter(url: &str, name: &str, value: &str) -> String {
    let mut url = url::Url::parse(url).expect("url");
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .map(|(key, old)| if key == name { (key, value.to_owned()) } else { (key, old) })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url.into()
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

async fn a_login_after_the_providers_key_rotation_still_succeeds(backend: Backend) {
    let (app, provider) = set_up(backend, "auto", true).await;
    let before = log_in(&app, "kikaku-taro").await;
    // Same port, new signing keys: the ID token names a key id the cached JWKS lacks.
    let _provider = provider.rotate(0);
    let after = log_in(&app, "kikaku-taro").await;
    let me = json(app.get("/me", &bearer(&after)).await).await;
    assert_eq!(me["user"]["username"], "kikaku-taro");
    assert_eq!(
        app.get("/me", &bearer(&before)).await.status(),
        200,
        "our own token does not depend on the provider's keys"
    );
}

async fn deactivated_and_not_pre_created_accounts_are_refused_at_the_callback(backend: Backend) {
    let (app, _provider) = set_up(backend, "auto", true).await;
    let token = log_in(&app, "kikaku-taro").await;
    let id = json(app.get("/me", &bearer(&token)).await).await["user"]["id"].as_i64().expect("id");
    // A ticket handed out before the deactivation is refused after it.
    let mut browser = Browser::new();
    let callback = browser.log_in_at_provider(&app, "kikaku-taro").await;
    let location = browser.visit_callback(&callback).await;
    let (kind, pending_ticket) = outcome(&location);
    assert_eq!(kind, "login_ticket", "{location}");
    assert_eq!(app.patch(&format!("/users/{id}"), &app.admin, &json!({"active": false})).await.status(), 200);
    assert_problem(exchange(&app, pending_ticket).await, 401).await;
    let callback = browser.log_in_at_provider(&app, "kikaku-taro").await;
    assert_eq!(browser.visit_callback(&callback).await, "/?login_error=account_refused");

    // Pre-created mode: an identity without an account here is refused; a pre-created one logs in.
    let body = json!({
        "issuer": _provider.issuer(), "client_id": "kpi-web", "audience": "urn:municipal-kpi",
        "provisioning": "pre_created", "local_passwords_allowed": true, "claim_mappings": [],
    });
    assert_eq!(app.put("/identity-provider", &app.admin, &body, None).await.status(), 200);
    let callback = browser.log_in_at_provider(&app, "soumu-hanako").await;
    assert_eq!(browser.visit_callback(&callback).await, "/?login_error=account_refused");
    let created = app.user("soumu-jiro", Role::Viewer, None);
    let me = json(app.get("/me", &bearer(&log_in(&app, "soumu-jiro").await)).await).await;
    assert_eq!(me["user"]["id"].as_i64(), Some(created.id.into()));
}

async fn local_passwords_off_refuse_the_password_but_not_the_provider_login(backend: Backend) {
    let (app, provider) = set_up(backend, "auto", false).await;
    let listed = json(app.client.get(app.api("/auth/oidc/providers")).send().await.expect("request")).await;
    assert_eq!(listed[0]["local_passwords_allowed"], false);
    let password_login = app
        .client
        .post(app.api("/auth/token"))
        .json(&json!({"username": "test-hq", "password": TEST_PASSWORD, "municipality": MUNICIPALITY_CODE}))
        .send()
        .await
        .expect("request");
    assert_problem(password_login, 403).await;
    let token = log_in(&app, "somu-saburo").await;
    let me = json(app.get("/me", &bearer(&token)).await).await;
    assert_eq!((me["user"]["username"].as_str(), me["user"]["role"].as_str()), (Some("somu-saburo"), Some("viewer")));

    // The provider is down: the button leads back to the login screen, which explains.
    drop(provider);
    let mut browser = Browser::new();
    let request = browser.client.get(app.api(&format!("/auth/oidc/login?municipality={MUNICIPALITY_CODE}")));
    let response = browser.send(request).await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/?login_error=provider_unavailable");
}

async fn logout_ends_the_session_here_and_names_the_providers_end_session(backend: Backend) {
    let (app, provider) = set_up(backend, "auto", true).await;
    let token = log_in(&app, "kikaku-taro").await;
    let user = bearer(&token);
    assert_eq!(app.get("/me", &user).await.status(), 200);
    let response = app.post("/auth/logout", &user, &json!({})).await;
    assert_eq!(response.status(), 200);
    let end_session: Value = json(response).await["end_session_url"].clone();
    let end_session = end_session.as_str().expect("an end_session_url");
    assert!(end_session.starts_with(&format!("{}/session/end?", provider.issuer())), "{end_session}");
    assert!(end_session.contains("client_id=kpi-web"), "{end_session}");
    assert!(end_session.contains(&urlencode(&format!("{}/", app.address))), "{end_session}");
    let problem = assert_problem(app.get("/me", &user).await, 401).await;
    assert!(problem["detail"].as_str().unwrap().contains("logged out"), "{problem}");

    // A password session has no provider session to end.
    let response = app.post("/auth/logout", &app.viewer, &json!({})).await;
    assert_eq!(json(response).await["end_session_url"], Value::Null);
    assert_eq!(app.get("/me", &app.viewer).await.status(), 401);
}
