//! An unreachable or frozen database is a 503 problem with `Retry-After`, never a 500 or a hung
//! request, and the process stays up and recovers without restart.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use municipal_kpi::auth::TokenService;
use municipal_kpi::auth::token::Subject;
use municipal_kpi::db::audit::Actor;
use municipal_kpi::db::{Database, DatabaseSettings, departments};
use municipal_kpi::domain::municipality_code::MunicipalityCode;
use municipal_kpi::domain::role::Role;
use municipal_kpi::error::AppError;
use municipal_kpi::startup::Application;

use crate::helpers::{Backend as TestBackend, TEST_SECRET, TestDatabase, assert_problem, create_user};

crate::async_tests!(an_unreachable_database_answers_503);
crate::postgres_tests!(a_frozen_postgres_answers_503_with_retry_after_and_recovers_after_thaw);
crate::sync_tests!(postgres_urls_are_pointed_at_the_proxy);

async fn an_unreachable_database_answers_503() {
    // Nothing listens on port 1: every connection attempt fails.
    let db = Database::connect("postgres://postgres@127.0.0.1:1/absent", 2).expect("the pool is built lazily");
    let app = Application::build("127.0.0.1:0", db, TokenService::new(TEST_SECRET, 60).unwrap()).unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    assert_eq!(client.get(format!("{base}/healthz")).send().await.unwrap().status(), 200, "the process is alive");
    let problem = assert_problem(client.get(format!("{base}/readyz")).send().await.unwrap(), 503).await;
    assert!(!problem["detail"].as_str().unwrap().contains("127.0.0.1:1"), "no connection details leak");
    let token = TokenService::new(TEST_SECRET, 60)
        .unwrap()
        .issue(&Subject { user_id: 1, username: "hq", role: Role::Hq, department_id: None, token_version: 0 })
        .unwrap();
    let response = client.get(format!("{base}/api/v1/plans")).bearer_auth(token).send().await.unwrap();
    assert_problem(response, 503).await;
}

/// A TCP proxy that can be frozen like a SIGSTOPped server: it keeps accepting and keeps every
/// socket open, but forwards no byte until thawed.
struct FreezableProxy {
    port: u16,
    frozen: Arc<(Mutex<bool>, Condvar)>,
}

impl FreezableProxy {
    fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let frozen = Arc::new((Mutex::new(false), Condvar::new()));
        let gate = Arc::clone(&frozen);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(&upstream) else { continue };
                for (from, to) in [(client.try_clone(), server.try_clone()), (Ok(server), Ok(client))] {
                    let (Ok(from), Ok(to)) = (from, to) else { continue };
                    let gate = Arc::clone(&gate);
                    std::thread::spawn(move || pump(from, to, &gate));
                }
            }
        });
        Self { port, frozen }
    }

    fn set_frozen(&self, frozen: bool) {
        let (state, changed) = &*self.frozen;
        *state.lock().unwrap() = frozen;
        changed.notify_all();
    }
}

/// Copies `from` to `to`, holding each chunk while the proxy is frozen.
fn pump(mut from: TcpStream, mut to: TcpStream, gate: &(Mutex<bool>, Condvar)) {
    let mut buffer = [0u8; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        let (state, changed) = gate;
        let mut frozen = state.lock().unwrap();
        while *frozen {
            frozen = changed.wait(frozen).unwrap();
        }
        drop(frozen);
        if to.write_all(&buffer[..read]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// `host:port` of a `postgres://user@host[:port]/db` URL, and the URL pointed at `address`.
fn split_postgres_url(url: &str, address: Option<&str>) -> (String, String) {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (credentials, rest) = rest.rsplit_once('@').map_or(("", rest), |(c, r)| (c, r));
    let (host, path) = rest.split_once('/').expect("URL ends in /DATABASE");
    let upstream = if host.contains(':') { host.to_owned() } else { format!("{host}:5432") };
    let at = if credentials.is_empty() { String::new() } else { format!("{credentials}@") };
    let proxied = format!("{scheme}://{at}{}/{path}", address.unwrap_or(host));
    (upstream, proxied)
}

fn retry_after_seconds(response: &reqwest::Response) -> Option<u32> {
    response.headers().get("retry-after")?.to_str().ok()?.parse().ok()
}

async fn a_frozen_postgres_answers_503_with_retry_after_and_recovers_after_thaw() {
    let database = TestDatabase::create(TestBackend::Postgres);
    Database::connect(&database.url, 1).expect("direct pool").migrate().expect("migrations");
    let (upstream, _) = split_postgres_url(&database.url, None);
    let proxy = FreezableProxy::start(upstream);
    let (_, proxied_url) = split_postgres_url(&database.url, Some(&format!("127.0.0.1:{}", proxy.port)));
    // Short deadlines keep the test quick; the defaults behave the same, only slower.
    let settings = DatabaseSettings {
        read_pool_size: 2,
        write_pool_size: 1,
        checkout_timeout: Duration::from_millis(500),
        call_deadline: Duration::from_secs(1),
        readiness_deadline: Duration::from_secs(1),
        write_wait: Duration::from_millis(500),
        ..DatabaseSettings::default()
    };
    let db = Database::open(&proxied_url, settings).expect("pool");
    let tokens = TokenService::new(TEST_SECRET, 60).unwrap();
    let municipality_id = db
        .write_blocking(municipal_kpi::db::WriteScope::Installation, |conn| {
            let code = MunicipalityCode::parse("131199").expect("valid code");
            departments::create_municipality(conn, &Actor::system("test"), &code, "板橋区")
        })
        .map_err(|e: AppError| e)
        .expect("municipality")
        .id;
    let admin = create_user(&db, &tokens, "frozen-admin", Role::Admin, None);
    let app = Application::build("127.0.0.1:0", db.clone(), TokenService::new(TEST_SECRET, 60).unwrap()).unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());
    // Only a safety net: without the server's deadline a request would hang here forever.
    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
    let plans = || client.get(format!("{base}/api/v1/plans")).bearer_auth(&admin.token).send();
    let new_department = |code: &str| {
        client
            .post(format!("{base}/api/v1/departments"))
            .bearer_auth(&admin.token)
            .json(&serde_json::json!({"municipality_id": municipality_id, "code": code, "name": code}))
            .send()
    };
    assert_eq!(plans().await.unwrap().status(), 200);
    assert_eq!(client.get(format!("{base}/readyz")).send().await.unwrap().status(), 200);

    proxy.set_frozen(true);
    let response = plans().await.unwrap();
    assert!(retry_after_seconds(&response).is_some_and(|s| s > 0), "GET /plans while frozen: Retry-After");
    assert_problem(response, 503).await;
    let response = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert!(retry_after_seconds(&response).is_some_and(|s| s > 0), "/readyz while frozen: Retry-After");
    assert_problem(response, 503).await;
    let response = new_department("frozen").await.unwrap();
    assert!(retry_after_seconds(&response).is_some(), "a write while frozen: Retry-After");
    assert_problem(response, 503).await;
    assert_eq!(client.get(format!("{base}/healthz")).send().await.unwrap().status(), 200, "the process is alive");

    proxy.set_frozen(false);
    // The threads stuck on the frozen server finish and give their connections back.
    let mut status = 0;
    for _ in 0..40 {
        status = plans().await.unwrap().status().as_u16();
        if status == 200 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(status, 200, "answers again after thaw, without restart");
    assert_eq!(client.get(format!("{base}/readyz")).send().await.unwrap().status(), 200);
    assert_eq!(new_department("after-thaw").await.unwrap().status(), 201, "writes work again");
    let stored = db
        .read_blocking(move |conn| departments::find_by_code_or_name(conn, municipality_id, "frozen"))
        .map_err(|e: AppError| e)
        .unwrap();
    assert!(stored.is_none(), "the write refused while frozen changed nothing");
}

fn postgres_urls_are_pointed_at_the_proxy() {
    let (upstream, proxied) = split_postgres_url("postgres://postgres@127.0.0.1:5432/mkpi", Some("127.0.0.1:9"));
    assert_eq!(upstream, "127.0.0.1:5432");
    assert_eq!(proxied, "postgres://postgres@127.0.0.1:9/mkpi");
    let (upstream, _) = split_postgres_url("postgres://u:p@db/x", None);
    assert_eq!(upstream, "db:5432");
}
