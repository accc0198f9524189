//! Invalidation that follows the data: a write invalidates the cached answers of its own
//! municipality only, in every server process sharing the database, and writes of different
//! municipalities never wait for each other on a shared row.
use std::time::Duration;

use municipal_kpi::auth::TokenService;
use municipal_kpi::db::{Database, DatabaseSettings};
use municipal_kpi::startup::{Application, ServerSettings};
use serde_json::{Value, json};

use crate::helpers::{Backend, TEST_SECRET, TestApp, TestUser, json, spawn_app};
use crate::municipalities::{Other, other_municipality};
use crate::{on_both_backends, postgres_tests};

on_both_backends!(
    a_write_invalidates_its_municipalitys_answers_and_leaves_anothers_cached,
    records_besides_actuals_are_kept_across_writes_of_actuals_only,
);
postgres_tests!(
    two_server_processes_see_each_others_writes_per_municipality,
    two_server_processes_keep_records_besides_actuals_only_until_they_change,
    a_municipalitys_write_does_not_wait_for_anothers_open_write,
);

const YEAR: i32 = 2020;

/// The server a test reads through: the test app itself, or a second process on its database.
struct Reader {
    address: String,
    db: Database,
}

impl Reader {
    fn of(app: &TestApp) -> Self {
        Self { address: app.address.clone(), db: app.db.clone() }
    }

    /// A second server process (its own pools, response cache and workers) on `app`'s database.
    async fn second_process(app: &TestApp) -> Self {
        let settings = DatabaseSettings { read_pool_size: 4, ..DatabaseSettings::default() };
        let db = Database::open(app.database_url(), settings).expect("pool");
        let tokens = TokenService::new(TEST_SECRET, 3600).expect("token service");
        let server =
            Application::build_with("127.0.0.1:0", db.clone(), tokens, ServerSettings::default()).expect("bind");
        let address = format!("http://127.0.0.1:{}", server.port());
        actix_web::rt::spawn(server.run_until_stopped());
        Self { address, db }
    }

    async fn get(&self, app: &TestApp, path: &str, user: &TestUser) -> Value {
        let response =
            app.client.get(format!("{}/api/v1{path}", self.address)).bearer_auth(&user.token).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        json(response).await
    }

    /// Statements run on this process's read pool so far.
    fn read_statements(&self) -> u64 {
        self.db.pool_status()[0].1.statements
    }
}

fn evaluation_path(plan: impl std::fmt::Display) -> String {
    format!("/plans/{plan}/evaluation?fiscal_year={YEAR}")
}

fn name_of(evaluation: &Value, indicator: i64) -> String {
    let found = evaluation["indicators"].as_array().unwrap().iter().find(|i| i["indicator_id"] == indicator);
    found.expect("the indicator is in the evaluation")["name"].as_str().unwrap().to_owned()
}

/// 台東区 renames its indicator through `app`; read through `reader`, 台東区's next evaluation
/// has the new name while 板橋区's evaluation is still served from the cache: one statement (the
/// caller and the versions), where computing it runs dozens.
async fn check_invalidation_follows_the_data(app: &TestApp, reader: &Reader) {
    let ours = municipal_kpi::demo::ensure_loaded(&app.db, true).expect("demo loads").plan_id();
    let Other { hq: their_hq, plan: their_plan, indicator: their_indicator, .. } = other_municipality(app).await;
    let ours_path = evaluation_path(ours);
    reader.get(app, &ours_path, &app.hq).await;
    let theirs = reader.get(app, &evaluation_path(their_plan), &their_hq).await;
    assert_eq!(name_of(&theirs, their_indicator), "マイナンバーカード交付率");
    let before = reader.read_statements();
    reader.get(app, &ours_path, &app.hq).await;
    assert_eq!(reader.read_statements() - before, 1, "板橋区's evaluation is cached");

    let renamed =
        app.patch(&format!("/indicators/{their_indicator}"), &their_hq, &json!({"name": "カード交付率（改）"})).await;
    assert_eq!(renamed.status(), 200);

    let theirs = reader.get(app, &evaluation_path(their_plan), &their_hq).await;
    assert_eq!(name_of(&theirs, their_indicator), "カード交付率（改）", "台東区's next read sees its write");
    let before = reader.read_statements();
    reader.get(app, &ours_path, &app.hq).await;
    assert_eq!(reader.read_statements() - before, 1, "板橋区's evaluation is still cached after 台東区's write");

    // And the other way round: 板橋区's write is seen by 板橋区's next read.
    let evaluation = reader.get(app, &ours_path, &app.hq).await;
    let our_indicator = evaluation["indicators"][0]["indicator_id"].as_i64().unwrap();
    let renamed = app.patch(&format!("/indicators/{our_indicator}"), &app.hq, &json!({"name": "改名した指標"})).await;
    assert_eq!(renamed.status(), 200);
    let before = reader.read_statements();
    let evaluation = reader.get(app, &ours_path, &app.hq).await;
    assert!(reader.read_statements() - before > 1, "computed afresh");
    assert_eq!(name_of(&evaluation, our_indicator), "改名した指標");
}

/// Through `reader`: after a review of an actual written through `app`, the next evaluation shows
/// it, computed afresh from the plan's other records as kept (fewer statements than reading them
/// again); after a rename, a write besides actuals, they are read again and show the new name.
async fn check_records_kept_across_actuals(app: &TestApp, reader: &Reader) {
    let plan = municipal_kpi::demo::ensure_loaded(&app.db, true).expect("demo loads").plan_id();
    let path = evaluation_path(plan);
    let evaluation = reader.get(app, &path, &app.hq).await;
    let pending = evaluation["indicators"].as_array().unwrap().iter().find(|i| i["submission"] == "submitted");
    let indicator = pending.expect("the demo has FY2020 actuals awaiting review")["indicator_id"].as_i64().unwrap();
    let submission_of = |evaluation: &Value| {
        let found = evaluation["indicators"].as_array().unwrap().iter().find(|i| i["indicator_id"] == indicator);
        found.unwrap()["submission"].clone()
    };

    let review = app
        .post(&format!("/indicators/{indicator}/actuals/{YEAR}/review"), &app.hq, &json!({"action": "approve"}))
        .await;
    assert_eq!(review.status(), 200);
    let before = reader.read_statements();
    let evaluation = reader.get(app, &path, &app.hq).await;
    let after_actual = reader.read_statements() - before;
    assert_eq!(submission_of(&evaluation), "approved", "the next read sees the review");
    assert!(after_actual > 1, "computed afresh, not served from the cache");

    let renamed = app.patch(&format!("/indicators/{indicator}"), &app.hq, &json!({"name": "改名した指標"})).await;
    assert_eq!(renamed.status(), 200);
    let before = reader.read_statements();
    let evaluation = reader.get(app, &path, &app.hq).await;
    let after_rename = reader.read_statements() - before;
    assert_eq!(name_of(&evaluation, indicator), "改名した指標", "the next read sees the rename");
    assert_eq!(submission_of(&evaluation), "approved");
    assert!(
        after_actual + 5 < after_rename,
        "after a review only the actuals are read ({after_actual} statements), after a rename the plan's records \
         too ({after_rename})"
    );
}

async fn records_besides_actuals_are_kept_across_writes_of_actuals_only(backend: Backend) {
    let app = spawn_app(backend).await;
    check_records_kept_across_actuals(&app, &Reader::of(&app)).await;
}

async fn two_server_processes_keep_records_besides_actuals_only_until_they_change() {
    let app = spawn_app(Backend::Postgres).await;
    let second = Reader::second_process(&app).await;
    check_records_kept_across_actuals(&app, &second).await;
}

async fn a_write_invalidates_its_municipalitys_answers_and_leaves_anothers_cached(backend: Backend) {
    let app = spawn_app(backend).await;
    check_invalidation_follows_the_data(&app, &Reader::of(&app)).await;
}

async fn two_server_processes_see_each_others_writes_per_municipality() {
    let app = spawn_app(Backend::Postgres).await;
    let second = Reader::second_process(&app).await;
    check_invalidation_follows_the_data(&app, &second).await;
}

/// While a write of 台東区 holds its municipality's version row (its transaction still open, as
/// every write holds it from its last statement to its commit), a write of 板橋区 commits at once;
/// a second write of 台東区 waits for the first, and goes through once it ends.
async fn a_municipalitys_write_does_not_wait_for_anothers_open_write() {
    use diesel::Connection;
    use diesel::connection::SimpleConnection;

    let app = spawn_app(Backend::Postgres).await;
    let ours = municipal_kpi::demo::ensure_loaded(&app.db, true).expect("demo loads").plan_id();
    let evaluation = json(app.get(&evaluation_path(ours), &app.hq).await).await;
    let our_indicator = evaluation["indicators"][0]["indicator_id"].as_i64().unwrap();
    let taito = other_municipality(&app).await;

    let mut open_write = diesel::PgConnection::establish(app.database_url()).expect("connect");
    open_write
        .batch_execute(&format!(
            "BEGIN; INSERT INTO municipality_data_versions (municipality_id, counter) VALUES ({}, 1) \
             ON CONFLICT (municipality_id) DO UPDATE SET counter = municipality_data_versions.counter + 1",
            taito.id
        ))
        .expect("holds 台東区's version row");

    let rename = |user: &TestUser, indicator: i64, name: &str| {
        let request = app
            .client
            .patch(app.api(&format!("/indicators/{indicator}")))
            .bearer_auth(&user.token)
            .json(&json!({ "name": name }));
        async move { request.send().await.map(|response| response.status().as_u16()) }
    };
    // Far below the write wait and the statement timeout, far above a write on a busy machine.
    let our_write =
        actix_web::rt::time::timeout(Duration::from_secs(4), rename(&app.hq, our_indicator, "板橋区の指標")).await;
    assert_eq!(our_write.expect("板橋区's write does not wait for 台東区's").expect("answered"), 200);

    let theirs = actix_web::rt::spawn(rename(&taito.hq, taito.indicator, "台東区の指標"));
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    assert!(!theirs.is_finished(), "台東区's second write waits for its first");
    open_write.batch_execute("ROLLBACK").expect("the first write ends");
    assert_eq!(theirs.await.expect("no panic").expect("answered"), 200);
}
