//! A municipality's OpenID provider, black-box: a real, certified provider (npm `oidc-provider`,
//! tests/oidc/provider.mjs) started on loopback by each test issues RFC 9068 access tokens that
//! integrating systems send as bearer tokens. Needs node; `npm ci` in tests/oidc runs on first use
//! when its node_modules are missing. A provider that cannot start fails the test.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use municipal_kpi::auth::provider_token::JwksRefetchInterval;
use municipal_kpi::db::DatabaseSettings;
use municipal_kpi::domain::role::Role;
use municipal_kpi::startup::ServerSettings;
use serde_json::{Value, json};

use crate::helpers::{Backend, TEST_PASSWORD, TestApp, TestUser, assert_problem, json, spawn_app_with};
use crate::on_both_backends;

on_both_backends!(
    provider_tokens_provision_accounts_by_the_first_matching_mapping,
    pre_created_mode_refuses_unknown_identities_and_links_a_pre_created_account,
    an_account_deactivated_here_is_refused_whatever_the_provider_says,
    tokens_of_a_rotated_key_are_accepted_and_expired_or_foreign_ones_refused,
    wrong_audience_symmetric_and_unsigned_provider_tokens_are_refused,
    local_passwords_switched_off_refuse_password_login_but_the_system_admin,
);

const TESTS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc");
const AUDIENCE: &str = "urn:municipal-kpi";

/// `npm ci` in tests/oidc, once per run, when the provider package is missing.
fn install_provider_package() {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    let outcome = INSTALLED.get_or_init(|| {
        if std::path::Path::new(TESTS_DIR).join("node_modules/oidc-provider").exists() {
            return Ok(());
        }
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(TESTS_DIR)
            .status()
            .map_err(|e| format!("npm cannot run ({e}); the OpenID tests need node and npm"))?;
        if status.success() { Ok(()) } else { Err(format!("npm ci in tests/oidc failed: {status}")) }
    });
    if let Err(reason) = outcome {
        panic!("{reason}");
    }
}

/// How long a provider may take to say it is ready, and how many times it is started.
const PROVIDER_READY_WITHIN: Duration = Duration::from_secs(30);
const PROVIDER_ATTEMPTS: usize = 3;

/// One run of tests/oidc/provider.mjs, stopped when dropped.
pub(crate) struct Provider {
    child: Child,
    port: u16,
    /// The test server the provider's web client sends browsers back to (tests/api/oidc_login.rs).
    web_origin: Option<String>,
}

impl Provider {
    fn start() -> Self {
        Self::start_on(None, 0, None)
    }

    /// A provider with the web view's client `kpi-web` of the test server at `web_origin`.
    pub(crate) fn start_for_web(web_origin: &str) -> Self {
        Self::start_on(None, 0, Some(web_origin.to_owned()))
    }

    /// A provider on `port` (any free one when `None`) with fresh keys and its clock
    /// `clock_offset_seconds` off. A run that does not say it is ready within
    /// [`PROVIDER_READY_WITHIN`] is stopped and started again: a port found free can be taken by
    /// another test before node listens on it, and a node that never listened once hung a CI run.
    fn start_on(port: Option<u16>, clock_offset_seconds: i64, web_origin: Option<String>) -> Self {
        install_provider_package();
        let mut failures = Vec::new();
        for _ in 0..PROVIDER_ATTEMPTS {
            let port = port.unwrap_or_else(free_port);
            let mut command = Command::new("node");
            if let Some(origin) = &web_origin {
                command.env("WEB_ORIGIN", origin);
            }
            let mut child = command
                .arg("provider.mjs")
                .current_dir(TESTS_DIR)
                .env("PORT", port.to_string())
                .env("CLOCK_OFFSET_SECONDS", clock_offset_seconds.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("node cannot start the OpenID provider: {e}"));
            let stdout = child.stdout.take().expect("stdout");
            let (sender, first_line) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let mut line = String::new();
                let _ = BufReader::new(stdout).read_line(&mut line);
                let _ = sender.send(line);
            });
            match first_line.recv_timeout(PROVIDER_READY_WITHIN) {
                Ok(line) if line.starts_with("ready ") => return Self { child, port, web_origin },
                outcome => {
                    failures.push(format!("port {port}: {outcome:?}"));
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
        }
        panic!("the OpenID provider did not start: {failures:?}");
    }

    pub(crate) fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops this run and starts another on the same port, with new signing keys.
    pub(crate) fn rotate(mut self, clock_offset_seconds: i64) -> Self {
        let port = self.port;
        self.stop();
        Self::start_on(Some(port), clock_offset_seconds, self.web_origin.take())
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// An access token of `client` (client_credentials) for `resource`.
    async fn token(&self, client: &str, resource: &str) -> String {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", client),
            ("client_secret", &format!("{client}-secret")),
            ("scope", "api"),
            ("resource", resource),
        ];
        let response = reqwest::Client::new()
            .post(format!("{}/token", self.issuer()))
            .body(serde_urlencoded::to_string(form).expect("form"))
            .header("content-type", "application/x-www-form-urlencoded")
            .send()
            .await
            .expect("token request");
        let body = json(response).await;
        body["access_token"].as_str().unwrap_or_else(|| panic!("no access token: {body}")).to_owned()
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("addr").port()
}

pub(crate) async fn spawn(backend: Backend) -> TestApp {
    let database = DatabaseSettings { read_pool_size: 8, ..DatabaseSettings::default() };
    // No wait between JWKS fetches: the rotation test restarts the provider at once.
    let server = ServerSettings { jwks_refetch: JwksRefetchInterval(Duration::ZERO), ..ServerSettings::default() };
    spawn_app_with(backend, database, server).await
}

fn bearer(token: String) -> TestUser {
    TestUser { id: 0, username: String::new(), role: Role::Viewer, department_id: None, token }
}

/// Registers `provider` for the test municipality through the API; returns the stored settings.
async fn register(
    app: &TestApp,
    provider: &Provider,
    provisioning: &str,
    mappings: Value,
    local_passwords: bool,
) -> Value {
    let body = json!({
        "issuer": provider.issuer(), "client_id": "municipal-kpi", "client_secret": "a-client-secret-never-shown",
        "audience": AUDIENCE, "provisioning": provisioning, "local_passwords_allowed": local_passwords,
        "claim_mappings": mappings,
    });
    let response = app.put("/identity-provider", &app.admin, &body, None).await;
    assert_eq!(response.status(), 200);
    json(response).await
}

async fn me(app: &TestApp, token: String) -> reqwest::Response {
    app.get("/me", &bearer(token)).await
}

async fn provider_tokens_provision_accounts_by_the_first_matching_mapping(backend: Backend) {
    let app = spawn(backend).await;
    let provider = Provider::start();
    let kosodate = app.department_user("kosodate", "子育て支援課").department_id.expect("department");
    let mappings = json!([
        {"claim": "groups", "value": "kikaku", "role": "hq"},
        {"claim": "groups", "value": "kosodate", "role": "department", "department_id": kosodate},
        {"claim": "groups", "value": "all-staff", "role": "viewer"},
    ]);
    let stored = register(&app, &provider, "auto", mappings, true).await;
    assert_eq!(stored["client_secret_set"], true);
    assert!(!stored.to_string().contains("never-shown"), "the secret is never returned: {stored}");
    let read = json(app.get("/identity-provider", &app.admin).await).await;
    assert!(!read.to_string().contains("never-shown") && read["issuer"] == provider.issuer().as_str());

    // RS256, groups [all-staff, kikaku]: kikaku is listed first.
    let response = me(&app, provider.token("kikaku-system", AUDIENCE).await).await;
    assert_eq!(response.status(), 200);
    let user = json(response).await["user"].clone();
    assert_eq!((user["username"].as_str(), user["role"].as_str()), (Some("kikaku-system"), Some("hq")));
    assert_eq!(user["municipality_id"], app.municipality_id);
    // ES256, groups [all-staff, kosodate]: a department user of its department.
    let user = json(me(&app, provider.token("kosodate-system", AUDIENCE).await).await).await["user"].clone();
    assert_eq!((user["role"].as_str(), user["department_id"].as_i64()), (Some("department"), Some(kosodate.into())));
    // Groups no mapping names: no account.
    let problem = assert_problem(me(&app, provider.token("stranger-system", AUDIENCE).await).await, 401).await;
    assert!(problem["detail"].as_str().unwrap().contains("対応付け"), "{problem}");
    // A second token of a provisioned identity uses its account; no second one is made.
    let again = json(me(&app, provider.token("kikaku-system", AUDIENCE).await).await).await;
    assert_eq!(again["user"]["id"], user_id(&app, "kikaku-system").await);
    let audit = json(app.get("/audit?entity_type=user", &app.admin).await).await;
    assert!(audit.to_string().contains(&format!("openid:{}", provider.issuer())), "provisioning is audited: {audit}");
}

async fn user_id(app: &TestApp, username: &str) -> i64 {
    let users = json(app.get("/users?limit=100", &app.admin).await).await;
    let matching: Vec<&Value> =
        users["items"].as_array().expect("items").iter().filter(|u| u["username"] == username).collect();
    assert_eq!(matching.len(), 1, "exactly one account {username}: {users}");
    matching[0]["id"].as_i64().expect("id")
}

async fn pre_created_mode_refuses_unknown_identities_and_links_a_pre_created_account(backend: Backend) {
    let app = spawn(backend).await;
    let provider = Provider::start();
    register(&app, &provider, "pre_created", json!([{"claim": "groups", "value": "kikaku", "role": "hq"}]), true).await;
    let problem = assert_problem(me(&app, provider.token("kikaku-system", AUDIENCE).await).await, 401).await;
    assert!(problem["detail"].as_str().unwrap().contains("事前登録"), "{problem}");
    // Pre-created as a viewer: the account's role holds, not the mapping's.
    let created = app.user("kikaku-system", Role::Viewer, None);
    let response = me(&app, provider.token("kikaku-system", AUDIENCE).await).await;
    assert_eq!(response.status(), 200);
    let user = json(response).await["user"].clone();
    assert_eq!((user["id"].as_i64(), user["role"].as_str()), (Some(created.id.into()), Some("viewer")));
}

async fn an_account_deactivated_here_is_refused_whatever_the_provider_says(backend: Backend) {
    let app = spawn(backend).await;
    let provider = Provider::start();
    register(&app, &provider, "auto", json!([{"claim": "groups", "value": "kikaku", "role": "hq"}]), true).await;
    let token = provider.token("kikaku-system", AUDIENCE).await;
    assert_eq!(me(&app, token.clone()).await.status(), 200);
    let id = user_id(&app, "kikaku-system").await;
    let response = app.patch(&format!("/users/{id}"), &app.admin, &json!({"active": false})).await;
    assert_eq!(response.status(), 200);
    for token in [token, provider.token("kikaku-system", AUDIENCE).await] {
        let problem = assert_problem(me(&app, token).await, 401).await;
        assert!(problem["detail"].as_str().unwrap().contains("無効"), "{problem}");
    }
}

async fn tokens_of_a_rotated_key_are_accepted_and_expired_or_foreign_ones_refused(backend: Backend) {
    let app = spawn(backend).await;
    let provider = Provider::start();
    register(&app, &provider, "auto", json!([{"claim": "groups", "value": "kikaku", "role": "hq"}]), true).await;
    let before = provider.token("kikaku-system", AUDIENCE).await;
    assert_eq!(me(&app, before.clone()).await.status(), 200);

    // New keys, and a clock two hours behind: its tokens expired long ago.
    let provider = provider.rotate(-7200);
    let expired = provider.token("kikaku-system", AUDIENCE).await;
    let problem = assert_problem(me(&app, expired).await, 401).await;
    assert!(problem["detail"].as_str().unwrap().contains("expired"), "{problem}");

    // New keys again, right clock: the new key is fetched; the retired one is gone.
    let provider = provider.rotate(0);
    assert_eq!(me(&app, provider.token("kikaku-system", AUDIENCE).await).await.status(), 200);
    let problem = assert_problem(me(&app, before).await, 401).await;
    assert!(problem["detail"].as_str().unwrap().contains("does not publish"), "{problem}");

    // A provider no municipality registered.
    let stranger = Provider::start();
    let problem = assert_problem(me(&app, stranger.token("kikaku-system", AUDIENCE).await).await, 401).await;
    assert!(problem["detail"].as_str().unwrap().contains("someone else"), "{problem}");
}

fn forged(alg: &str, issuer: &str, signature: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": alg, "typ": "at+jwt", "kid": "any"}).to_string());
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"iss": issuer, "sub": "kikaku-system", "aud": AUDIENCE, "iat": now, "exp": now + 600,
        "groups": ["kikaku"]});
    format!("{header}.{}.{signature}", URL_SAFE_NO_PAD.encode(claims.to_string()))
}

async fn wrong_audience_symmetric_and_unsigned_provider_tokens_are_refused(backend: Backend) {
    let app = spawn(backend).await;
    let provider = Provider::start();
    register(&app, &provider, "auto", json!([{"claim": "groups", "value": "kikaku", "role": "hq"}]), true).await;
    let problem = assert_problem(me(&app, provider.token("kikaku-system", "urn:another-api").await).await, 401).await;
    assert!(problem["detail"].as_str().unwrap().contains("aud"), "{problem}");

    let now = chrono::Utc::now().timestamp();
    let claims = json!({"iss": provider.issuer(), "sub": "kikaku-system", "aud": AUDIENCE, "iat": now,
        "exp": now + 600, "groups": ["kikaku"]});
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    let symmetric = encode(&header, &claims, &EncodingKey::from_secret(b"client-secret-used-as-hmac-key!!")).unwrap();
    for token in [symmetric, forged("none", &provider.issuer(), "")] {
        let problem = assert_problem(me(&app, token).await, 401).await;
        assert!(problem["detail"].as_str().unwrap().contains("algorithm"), "{problem}");
    }
    // A real RS256 token whose typ is not at+jwt (an ID token's) is refused too.
    let real = provider.token("kikaku-system", AUDIENCE).await;
    let (_, rest) = real.split_once('.').unwrap();
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT","kid":"x"}"#);
    let problem = assert_problem(me(&app, format!("{header}.{rest}")).await, 401).await;
    assert!(problem["detail"].as_str().unwrap().contains("at+jwt"), "{problem}");
    assert_eq!(me(&app, real).await.status(), 200, "the untouched token is accepted");
}

async fn local_passwords_switched_off_refuse_password_login_but_the_system_admin(backend: Backend) {
    let app = spawn(backend).await;
    let provider = Provider::start();
    let login = |username: &str, municipality: Option<&str>| {
        let mut body = json!({"username": username, "password": TEST_PASSWORD});
        if let Some(code) = municipality {
            body["municipality"] = json!(code);
        }
        app.client.post(app.api("/auth/token")).json(&body).send()
    };
    assert_eq!(login("test-hq", Some("131199")).await.expect("login").status(), 200);
    register(&app, &provider, "pre_created", json!([]), false).await;
    let problem = assert_problem(login("test-hq", Some("131199")).await.expect("login"), 403).await;
    assert!(problem["detail"].as_str().unwrap().contains("パスワード"), "{problem}");
    // The break-glass: the system administrator belongs to no municipality and keeps its password.
    assert_eq!(login("test-system-admin", None).await.expect("login").status(), 200);
    // A wrong password is still the same 401 as ever, not a hint that the account exists.
    let response = app
        .client
        .post(app.api("/auth/token"))
        .json(&json!({"username": "test-hq", "password": "wrong password!!", "municipality": "131199"}))
        .send()
        .await
        .expect("login");
    assert_eq!(response.status(), 401);
}
