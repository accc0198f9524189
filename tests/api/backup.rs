//! `backup` and `restore` as an operator runs them: the built binary backs up the database of a
//! running server, restores it into a new, empty database, and a server on the restored database
//! answers exactly as the original did. A non-empty database and an existing file are refused.

use std::path::{Path, PathBuf};
use std::process::Output;

use municipal_kpi::auth::TokenService;
use municipal_kpi::db::{Database, DatabaseSettings};
use municipal_kpi::startup::{Application, ServerSettings};
use serde_json::{Value, json};

use crate::cli::{run, stderr, stdout};
use crate::helpers::{Backend, TEST_SECRET, TestApp, TestDatabase, TestUser, json, spawn_app};
use crate::on_both_backends;

on_both_backends!(
    a_restored_backup_answers_as_the_original,
    restoring_into_a_database_with_data_is_refused_and_changes_nothing,
    a_backup_never_overwrites_a_file,
    an_earlier_releases_backup_is_migrated_on_restore,
);
crate::postgres_tests!(a_missing_pg_dump_is_named_in_one_line);

/// A directory of its own for a test's backup files, removed afterwards.
struct BackupDirectory(PathBuf);

impl BackupDirectory {
    fn new() -> Self {
        let path = std::env::temp_dir().join(format!("mkpi-backup-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).expect("backup directory");
        Self(path)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .expect("listing")
            .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for BackupDirectory {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the binary off the async worker, so the server under test keeps answering meanwhile.
/// `search_path` is its PATH, where it finds pg_dump and pg_restore.
async fn municipal_kpi(command: &str, file: &Path, database_url: &str, search_path: String) -> Output {
    let args = [command.to_owned(), format!("--{}", if command == "backup" { "output" } else { "input" })];
    let (file, database_url) = (file.to_string_lossy().into_owned(), database_url.to_owned());
    actix_web::rt::task::spawn_blocking(move || {
        run(&[&args[0], &args[1], &file], &[("DATABASE_URL", &database_url), ("PATH", &search_path)])
    })
    .await
    .expect("the binary ran")
}

fn operators_path() -> String {
    std::env::var("PATH").unwrap_or_default()
}

async fn backup(database_url: &str, file: &Path) -> Output {
    municipal_kpi("backup", file, database_url, operators_path()).await
}

async fn restore(database_url: &str, file: &Path) -> Output {
    municipal_kpi("restore", file, database_url, operators_path()).await
}

#[track_caller]
fn assert_succeeded(output: &Output) {
    assert!(output.status.success(), "{}{}", stdout(output), stderr(output));
}

/// The single line an operator reads when a command refuses.
#[track_caller]
fn refusal(output: &Output) -> String {
    assert!(!output.status.success(), "{}", stdout(output));
    let text = stderr(output);
    assert_eq!(text.lines().count(), 1, "one line: {text}");
    text
}

async fn created(response: reqwest::Response) -> Value {
    let status = response.status();
    let body = json(response).await;
    assert!(status.is_success(), "{status}: {body}");
    body
}

/// What the test compares: a plan, its indicators and the department that reports them.
struct Fixture {
    plan: i64,
    indicators: [i64; 2],
}

/// A plan with a goal, a measure and two indicators with targets, built through the API; one
/// actual returned, resubmitted and approved, one approved at once; a target revised.
async fn fixture(app: &TestApp) -> Fixture {
    let department = app.department_user("it-promotion", "IT推進課");
    let plan = created(
        app.post(
            "/plans",
            &app.hq,
            &json!({"municipality_id": app.municipality_id, "code": "backup", "name": "バックアップ確認計画",
                "start_fiscal_year": 2020, "end_fiscal_year": 2022, "baseline_fiscal_year": 2019, "status": "active"}),
        )
        .await,
    )
    .await["id"]
        .as_i64()
        .expect("plan id");
    let goal = created(
        app.post(&format!("/plans/{plan}/goals"), &app.hq, &json!({"number": 1, "name": "区民サービスの向上"})).await,
    )
    .await["id"]
        .clone();
    let measure = created(
        app.post(
            &format!("/plans/{plan}/measures"),
            &app.hq,
            &json!({"number": 1, "name": "電子申請の拡大", "main_goal_id": goal, "review_category": "continued",
                "owner_department_ids": [department.department_id]}),
        )
        .await,
    )
    .await["id"]
        .as_i64()
        .expect("measure id");
    let target =
        json!({"value": 200, "target_fiscal_year": 2022, "effective_from_fiscal_year": 2020, "reason": "当初計画"});
    let count = json!({"number": 1, "name": "電子申請件数", "kind": "count", "direction": "increase",
        "baseline": {"fiscal_year": 2019, "value": 100}, "target": target});
    let ratio = json!({"number": 2, "name": "電子申請率", "kind": "ratio", "direction": "increase", "unit": "%",
        "numerator_label": "電子申請件数", "denominator_label": "申請件数",
        "baseline": {"fiscal_year": 2019, "value": 20}, "target": {"value": 40, "target_fiscal_year": 2022,
        "effective_from_fiscal_year": 2020, "reason": "当初計画"}});
    let mut indicators = [0; 2];
    for (slot, body) in indicators.iter_mut().zip([count, ratio]) {
        *slot = created(app.post(&format!("/measures/{measure}/indicators"), &app.hq, &body).await).await["id"]
            .as_i64()
            .expect("indicator id");
    }
    report_actuals(app, &department, indicators).await;
    Fixture { plan, indicators }
}

async fn report_actuals(app: &TestApp, department: &TestUser, indicators: [i64; 2]) {
    let count = format!("/indicators/{}/actuals/2021", indicators[0]);
    let submitted = app.put(&count, department, &json!({"value": 150}), None).await;
    assert_eq!(submitted.status(), 201);
    let returned =
        app.post(&format!("{count}/review"), &app.hq, &json!({"action": "return", "comment": "年度末の件数で"})).await;
    let etag = returned.headers()["etag"].to_str().expect("etag").to_owned();
    assert_eq!(created(returned).await["status"], "returned");
    created(app.put(&count, department, &json!({"value": 170, "note": "年度末で修正"}), Some(&etag)).await).await;
    created(app.post(&format!("{count}/review"), &app.hq, &json!({"action": "approve"})).await).await;
    let ratio = format!("/indicators/{}/actuals/2021", indicators[1]);
    created(app.put(&ratio, department, &json!({"numerator": 30, "denominator": 100}), None).await).await;
    created(app.post(&format!("{ratio}/review"), &app.hq, &json!({"action": "approve"})).await).await;
}

/// Everything the comparison reads, as the server answers it (the evaluation's own timestamp,
/// the moment it was computed, left out).
async fn observed(app: &TestApp, fixture: &Fixture) -> Vec<Value> {
    let mut evaluation = json(app.get(&format!("/plans/{}/evaluation", fixture.plan), &app.hq).await).await;
    evaluation.as_object_mut().expect("an evaluation").remove("evaluated_at");
    let mut answers = vec![evaluation];
    for indicator in fixture.indicators {
        let actuals = format!("/indicators/{indicator}/actuals/2021");
        answers.push(json(app.get(&actuals, &app.viewer).await).await);
        answers.push(json(app.get(&format!("{actuals}/history"), &app.viewer).await).await);
    }
    answers.push(json(app.get("/audit?limit=500", &app.admin).await).await);
    answers
}

/// The same users and tokens as `app`, served from another database.
async fn serve_restored(app: &TestApp, database: TestDatabase) -> TestApp {
    let db = Database::open(&database.url, DatabaseSettings::default()).expect("pool on the restored database");
    let server = Application::build_with(
        "127.0.0.1:0",
        db.clone(),
        TokenService::new(TEST_SECRET, 3600).expect("token service"),
        ServerSettings::default(),
    )
    .expect("bind");
    let address = format!("http://127.0.0.1:{}", server.port());
    actix_web::rt::spawn(server.run_until_stopped());
    TestApp::serving(app, address, db, database)
}

async fn a_restored_backup_answers_as_the_original(backend: Backend) {
    let app = spawn_app(backend).await;
    let fixture = fixture(&app).await;
    let before = observed(&app, &fixture).await;
    assert!(before[2]["items"].as_array().is_some_and(|events| events.len() == 4), "history: {}", before[2]);
    assert!(before.last().expect("audit")["total"].as_i64() > Some(5), "audit: {}", before.last().unwrap());

    let directory = BackupDirectory::new();
    let file = directory.file("municipal-kpi.backup");
    assert_succeeded(&backup(app.database_url(), &file).await);
    assert_eq!(directory.names(), ["municipal-kpi.backup"], "no partial file is left");
    // The server kept answering throughout.
    assert_eq!(app.get("/plans", &app.viewer).await.status(), 200);

    let fresh = TestDatabase::create(backend);
    let restored = restore(&fresh.url, &file).await;
    assert_succeeded(&restored);
    assert!(stdout(&restored).contains("applied 0 migration(s)"), "{}", stdout(&restored));
    let restored = serve_restored(&app, fresh).await;
    assert_eq!(observed(&restored, &fixture).await, before);
}

async fn restoring_into_a_database_with_data_is_refused_and_changes_nothing(backend: Backend) {
    let source = spawn_app(backend).await;
    fixture(&source).await;
    let directory = BackupDirectory::new();
    let file = directory.file("source.backup");
    assert_succeeded(&backup(source.database_url(), &file).await);

    let target = spawn_app(backend).await;
    let plan = created(
        target
            .post(
                "/plans",
                &target.hq,
                &json!({"municipality_id": target.municipality_id, "code": "own", "name": "既存の計画",
                    "start_fiscal_year": 2020, "end_fiscal_year": 2022, "baseline_fiscal_year": 2019, "status": "active"}),
            )
            .await,
    )
    .await;
    let audit = json(target.get("/audit?limit=500", &target.admin).await).await;
    let plans = json(target.get("/plans", &target.viewer).await).await;

    let message = refusal(&restore(target.database_url(), &file).await);
    assert!(message.contains("restore needs an empty database"), "{message}");
    assert_eq!(json(target.get("/plans", &target.viewer).await).await, plans, "the plans are as they were");
    assert_eq!(json(target.get("/audit?limit=500", &target.admin).await).await, audit, "the audit log too");
    assert_eq!(json(target.get(&format!("/plans/{}", plan["id"]), &target.viewer).await).await["code"], "own");
}

async fn a_backup_never_overwrites_a_file(backend: Backend) {
    let app = spawn_app(backend).await;
    let directory = BackupDirectory::new();
    let file = directory.file("yesterday.backup");
    std::fs::write(&file, b"yesterday's backup").expect("an earlier file");
    let message = refusal(&backup(app.database_url(), &file).await);
    assert!(message.contains("already exists"), "{message}");
    assert_eq!(std::fs::read(&file).expect("still there"), b"yesterday's backup");
    assert_eq!(directory.names(), ["yesterday.backup"], "no partial file is left");
}

async fn an_earlier_releases_backup_is_migrated_on_restore(backend: Backend) {
    let earlier = TestDatabase::create(backend);
    let db = Database::open(&earlier.url, DatabaseSettings::default()).expect("pool");
    db.migrate_before("20261205000200").expect("earlier migrations");
    assert!(db.is_ready().is_err(), "a migration is pending");
    let directory = BackupDirectory::new();
    let file = directory.file("earlier.backup");
    assert_succeeded(&backup(&earlier.url, &file).await);

    let fresh = TestDatabase::create(backend);
    let restored = restore(&fresh.url, &file).await;
    assert_succeeded(&restored);
    // Every migration from the held-back one on is applied, however many later ones there are.
    let applied = stdout(&restored);
    assert!(applied.contains(" migration(s)") && !applied.contains("applied 0 "), "{applied}");
    let db = Database::open(&fresh.url, DatabaseSettings::default()).expect("pool");
    db.is_ready().expect("up to date after the restore");
}

async fn a_missing_pg_dump_is_named_in_one_line() {
    let app = spawn_app(Backend::Postgres).await;
    let directory = BackupDirectory::new();
    let file = directory.file("never.backup");
    let output = municipal_kpi("backup", &file, app.database_url(), "/nonexistent".into()).await;
    let message = refusal(&output);
    assert!(message.contains("pg_dump not found") && message.contains("PostgreSQL client tools"), "{message}");
    assert!(directory.names().is_empty(), "no partial file is left");
}
