//! One `spawn_app` for every integration test: a fresh database on the chosen backend, the real
//! application on a random port, and tokens for one user per role.

use std::sync::OnceLock;

use diesel::Connection;
use diesel::connection::SimpleConnection;
use municipal_kpi::auth::TokenService;
use municipal_kpi::auth::password::hash_password;
use municipal_kpi::auth::token::Subject;
use municipal_kpi::db::audit::Actor;
use municipal_kpi::db::{Database, DatabaseSettings, departments, users};
use municipal_kpi::domain::municipality_code::MunicipalityCode;
use municipal_kpi::domain::role::Role;
use municipal_kpi::error::AppError;
use municipal_kpi::startup::{Application, ServerSettings};
use serde_json::Value;

pub const TEST_SECRET: &[u8] = b"test-secret-test-secret-test-secret!";
pub const TEST_PASSWORD: &str = "correct horse battery staple";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

// How tests are registered. This binary has its own runner (tests/api/harness.rs, `harness =
// false`): a function marked `#[test]`, `#[actix_web::test]` or `#[tokio::test]` is NOT compiled
// here and would never run (a guard test fails on one). Register every test with one of these
// macros, after its function, in the module that defines it:
//
//   on_both_backends!(name, ...)   async fn name(backend: Backend): `name::sqlite`, `name::postgres`
//   sync_tests!(name, ...)         fn name(): no database, or one it makes itself
//   async_tests!(name, ...)        async fn name(): no backend parameter
//   postgres_tests!(name, ...)     async fn name(): needs PostgreSQL only
//
// Each test runs on a thread of its own, an async one on an actix runtime of its own, in parallel
// with the others. A PostgreSQL test is reported as ignored, with the reason, when the server is
// unreachable, and fails instead under MUNICIPAL_KPI_REQUIRE_POSTGRES=1 (CI).

/// Generates a `sqlite` and a `postgres` variant of an async test taking a `Backend`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                fn sqlite() {
                    $crate::harness::block_on(super::$name($crate::helpers::Backend::Sqlite))
                }
                fn postgres() {
                    $crate::harness::block_on(super::$name($crate::helpers::Backend::Postgres))
                }
                ::inventory::submit! {
                    $crate::harness::RegisteredTest::new(
                        concat!(module_path!(), "::sqlite"),
                        $crate::harness::Needs::Nothing,
                        sqlite,
                    )
                }
                ::inventory::submit! {
                    $crate::harness::RegisteredTest::new(
                        concat!(module_path!(), "::postgres"),
                        $crate::harness::Needs::Postgres,
                        postgres,
                    )
                }
            }
        )+
    };
}

/// Registers synchronous tests: `fn name()`.
#[macro_export]
macro_rules! sync_tests {
    ($($name:ident),+ $(,)?) => {
        $(
            ::inventory::submit! {
                $crate::harness::RegisteredTest::new(
                    concat!(module_path!(), "::", stringify!($name)),
                    $crate::harness::Needs::Nothing,
                    $name,
                )
            }
        )+
    };
}

/// Registers async tests without a backend parameter: `async fn name()`.
#[macro_export]
macro_rules! async_tests {
    ($($name:ident),+ $(,)?) => {
        $(
            ::inventory::submit! {
                $crate::harness::RegisteredTest::new(
                    concat!(module_path!(), "::", stringify!($name)),
                    $crate::harness::Needs::Nothing,
                    || $crate::harness::block_on($name()),
                )
            }
        )+
    };
}

/// Registers async tests that need PostgreSQL and nothing else: `async fn name()`.
#[macro_export]
macro_rules! postgres_tests {
    ($($name:ident),+ $(,)?) => {
        $(
            ::inventory::submit! {
                $crate::harness::RegisteredTest::new(
                    concat!(module_path!(), "::", stringify!($name)),
                    $crate::harness::Needs::Postgres,
                    || $crate::harness::block_on($name()),
                )
            }
        )+
    };
}

/// The PostgreSQL server's maintenance database, where test databases are created.
pub fn admin_url() -> String {
    std::env::var("MUNICIPAL_KPI_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database that exists for one test and is removed afterwards.
pub struct TestDatabase {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFile(std::path::PathBuf),
    PostgresDatabase(String),
}

impl TestDatabase {
    pub fn create(backend: Backend) -> Self {
        let unique = uuid::Uuid::new_v4().simple().to_string();
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("municipal-kpi-test-{unique}.db"));
                Self { url: format!("sqlite://{}", path.display()), cleanup: Cleanup::SqliteFile(path) }
            }
            Backend::Postgres => {
                let name = format!("mkpi_test_{unique}");
                let mut admin = diesel::PgConnection::establish(&admin_url()).expect("connect to PostgreSQL");
                admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("create test database");
                let base = admin_url();
                let url = match base.rsplit_once('/') {
                    Some((server, _)) => format!("{server}/{name}"),
                    None => panic!("MUNICIPAL_KPI_TEST_POSTGRES_URL must end in /DATABASE"),
                };
                Self { url, cleanup: Cleanup::PostgresDatabase(name) }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::PostgresDatabase(name) => {
                if let Ok(mut admin) = diesel::PgConnection::establish(&admin_url()) {
                    let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            }
        }
    }
}

fn test_password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password(TEST_PASSWORD).expect("hash"))
}

#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: i32,
    pub username: String,
    pub role: Role,
    pub department_id: Option<i32>,
    pub token: String,
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: Database,
    pub tokens: std::sync::Arc<TokenService>,
    pub municipality_id: i32,
    pub admin: TestUser,
    pub hq: TestUser,
    pub viewer: TestUser,
    pub system_admin: TestUser,
    _database: TestDatabase,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.address)
    }

    /// `original`'s users and tokens, answered by another server on another database (a copy).
    pub fn serving(original: &TestApp, address: String, db: Database, database: TestDatabase) -> TestApp {
        TestApp {
            address,
            client: reqwest::Client::new(),
            db,
            tokens: original.tokens.clone(),
            municipality_id: original.municipality_id,
            admin: original.admin.clone(),
            hq: original.hq.clone(),
            viewer: original.viewer.clone(),
            system_admin: original.system_admin.clone(),
            _database: database,
        }
    }

    /// The `DATABASE_URL` of this test's database, for the command line.
    pub fn database_url(&self) -> &str {
        &self._database.url
    }

    /// A department and a user of the department role in it.
    pub fn department_user(&self, code: &str, name: &str) -> TestUser {
        let municipality_id = self.municipality_id;
        let (code, name) = (code.to_owned(), name.to_owned());
        let department = self
            .db
            .write_blocking(municipal_kpi::db::WriteScope::Installation, move |conn| {
                match departments::find_by_code_or_name(conn, municipality_id, &code)? {
                    Some(existing) => Ok(existing),
                    None => departments::create(
                        conn,
                        &Actor::system("test"),
                        &departments::NewDepartment { municipality_id, code: &code, name: &name, parent_id: None },
                    ),
                }
            })
            .map_err(|e: AppError| e)
            .expect("department");
        self.user(&format!("user-{}", department.code), Role::Department, Some(department.id))
    }

    /// A user with this name and role (created on first use) and a token for it.
    pub fn user(&self, username: &str, role: Role, department_id: Option<i32>) -> TestUser {
        create_user(&self.db, &self.tokens, username, role, department_id)
    }

    pub async fn get(&self, path: &str, user: &TestUser) -> reqwest::Response {
        self.client.get(self.api(path)).bearer_auth(&user.token).send().await.expect("request")
    }

    pub async fn post(&self, path: &str, user: &TestUser, body: &Value) -> reqwest::Response {
        self.client.post(self.api(path)).bearer_auth(&user.token).json(body).send().await.expect("request")
    }

    pub async fn patch(&self, path: &str, user: &TestUser, body: &Value) -> reqwest::Response {
        self.client.patch(self.api(path)).bearer_auth(&user.token).json(body).send().await.expect("request")
    }

    pub async fn put(&self, path: &str, user: &TestUser, body: &Value, if_match: Option<&str>) -> reqwest::Response {
        let mut request = self.client.put(self.api(path)).bearer_auth(&user.token).json(body);
        if let Some(tag) = if_match {
            request = request.header("If-Match", tag);
        }
        request.send().await.expect("request")
    }

    /// `POST /plans/import` of a TOML plan document as `user`.
    pub async fn import_plan(&self, user: &TestUser, document: String) -> reqwest::Response {
        self.client
            .post(self.api("/plans/import"))
            .bearer_auth(&user.token)
            .header("Content-Type", "application/toml")
            .body(document)
            .send()
            .await
            .expect("request")
    }

    /// Loads the demo plan (without sample actuals) through the same code as `--demo`; its id.
    pub fn load_demo(&self) -> i32 {
        municipal_kpi::demo::ensure_loaded(&self.db, false).expect("demo loads").plan_id()
    }
}

pub fn create_user(
    db: &Database,
    tokens: &TokenService,
    username: &str,
    role: Role,
    department_id: Option<i32>,
) -> TestUser {
    create_user_in(db, tokens, username, role, department_id, None)
}

/// [`create_user`] in a named municipality (needed once the database holds more than one).
pub fn create_user_in(
    db: &Database,
    tokens: &TokenService,
    username: &str,
    role: Role,
    department_id: Option<i32>,
    municipality_id: Option<i32>,
) -> TestUser {
    let name = username.to_owned();
    let user = db
        .write_blocking(municipal_kpi::db::WriteScope::Installation, move |conn| {
            // The same username in the same municipality (or none) is the same account.
            let existing = users::find_login(conn, users::LoginScope::Anywhere, &name, 100)?
                .into_iter()
                .map(|login| login.user)
                .find(|user| user.municipality_id == municipality_id || municipality_id.is_none());
            if let Some(existing) = existing {
                return Ok::<_, AppError>(existing);
            }
            users::create(
                conn,
                &Actor::system("test"),
                &users::NewUser {
                    username: &name,
                    display_name: &name,
                    password_hash: test_password_hash(),
                    role,
                    department_id,
                    municipality_id,
                    email: None,
                },
            )
        })
        .expect("user");
    let token = tokens
        .issue(&Subject { user_id: user.id, username: &user.username, role, department_id, token_version: 0 })
        .expect("token");
    TestUser { id: user.id, username: user.username, role, department_id, token }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    let settings = DatabaseSettings { read_pool_size: 8, ..DatabaseSettings::default() };
    spawn_app_with(backend, settings, ServerSettings::default()).await
}

/// [`spawn_app`] with explicit database and server settings.
pub async fn spawn_app_with(backend: Backend, settings: DatabaseSettings, server: ServerSettings) -> TestApp {
    let database = TestDatabase::create(backend);
    let db = Database::open(&database.url, settings).expect("pool");
    db.migrate().expect("migrations");
    let tokens = std::sync::Arc::new(TokenService::new(TEST_SECRET, 3600).expect("token service"));
    let app = Application::build_with(
        "127.0.0.1:0",
        db.clone(),
        TokenService::new(TEST_SECRET, 3600).expect("token service"),
        server,
    )
    .expect("bind");
    let address = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());
    let municipality_id = db
        .write_blocking(municipal_kpi::db::WriteScope::Installation, |conn| {
            let code = MunicipalityCode::parse("131199").expect("valid code");
            departments::create_municipality(conn, &Actor::system("test"), &code, "板橋区")
        })
        .map_err(|e: AppError| e)
        .expect("municipality")
        .id;
    // Not the demo's usernames, so tests can load the demo plan next to them.
    let admin = create_user(&db, &tokens, "test-admin", Role::Admin, None);
    let hq = create_user(&db, &tokens, "test-hq", Role::Hq, None);
    let viewer = create_user(&db, &tokens, "test-viewer", Role::Viewer, None);
    let system_admin = create_user(&db, &tokens, "test-system-admin", Role::SystemAdmin, None);
    TestApp {
        address,
        client: reqwest::Client::new(),
        db,
        tokens,
        municipality_id,
        admin,
        hq,
        viewer,
        system_admin,
        _database: database,
    }
}

/// Reads a response as JSON, failing the test with the body when it is not.
pub async fn json(response: reqwest::Response) -> Value {
    let text = response.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Asserts an RFC 9457 problem with this status and returns it.
pub async fn assert_problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(content_type.starts_with("application/problem+json"), "content type was {content_type}");
    let problem = json(response).await;
    assert_eq!(problem["status"], status);
    assert!(problem["type"].as_str().is_some_and(|t| t.starts_with("/problems/")), "{problem}");
    assert!(problem["title"].is_string() && problem["detail"].is_string(), "{problem}");
    problem
}
