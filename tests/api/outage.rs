//! An unreachable database is a 503 problem, never a 500, and the process stays up.

use municipal_kpi::auth::TokenService;
use municipal_kpi::auth::token::Subject;
use municipal_kpi::db::Database;
use municipal_kpi::domain::role::Role;
use municipal_kpi::startup::Application;

use crate::helpers::{TEST_SECRET, assert_problem};

#[actix_web::test]
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
