//! `GET /indicators/{id}` reads the indicator in the statement that reads the caller, one round
//! trip on PostgreSQL: it answers what the storage layer reads alone, as fresh, and who may read
//! it is decided exactly as for every other route.

use municipal_kpi::db::indicators;
use municipal_kpi::domain::ids::IndicatorId;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, json, spawn_app};
use crate::municipalities::other_municipality;
use crate::on_both_backends;

on_both_backends!(
    an_indicator_is_read_with_its_caller_in_one_statement,
    every_indicator_answers_what_the_storage_reads_alone,
    a_change_shows_in_the_next_read,
    another_municipality_s_indicator_reads_as_a_missing_one,
    a_deactivated_caller_gets_no_indicator
);

/// Statements run so far on the read and the write pool.
fn statements_run(app: &TestApp) -> [u64; 2] {
    app.db.pool_status().map(|(_, status)| status.statements)
}

/// The demo plan's indicators, as its evaluation lists them.
async fn demo_indicators(app: &TestApp) -> Vec<Value> {
    let plan = app.load_demo();
    let evaluation = json(app.get(&format!("/plans/{plan}/evaluation?fiscal_year=2020"), &app.hq).await).await;
    evaluation["indicators"].as_array().expect("indicators").clone()
}

/// The indicator as the storage layer reads it on its own, as JSON.
async fn stored(app: &TestApp, id: i64) -> Value {
    let id = IndicatorId::new(i32::try_from(id).expect("an indicator id"));
    let indicator = app.db.read(move |conn| indicators::get(conn, id)).await.expect("the indicator is stored");
    serde_json::to_value(indicator).expect("serialises")
}

async fn an_indicator_is_read_with_its_caller_in_one_statement(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut stored_indicators = Vec::new();
    for row in demo_indicators(&app).await {
        stored_indicators.push(stored(&app, row["indicator_id"].as_i64().unwrap()).await);
    }
    let national = stored_indicators.iter().find(|indicator| indicator["national_indicator_code"].is_string());
    let plain = stored_indicators
        .iter()
        .find(|indicator| indicator["national_indicator_code"].is_null())
        .expect("an indicator of the plan's own");
    let id = plain["id"].as_i64().unwrap();
    // Two target revisions, so that the statement returns several rows.
    let revised = app
        .post(
            &format!("/indicators/{id}/targets"),
            &app.hq,
            &json!({"value": 300, "target_fiscal_year": 2020, "effective_from_fiscal_year": 2020, "reason": "目標を上方修正"}),
        )
        .await;
    assert_eq!(revised.status(), 201, "{}", json(revised).await);
    let before = statements_run(&app);
    let body = json(app.get(&format!("/indicators/{id}"), &app.hq).await).await;
    let after = statements_run(&app);
    assert_eq!([after[0] - before[0], after[1] - before[1]], [1, 0], "[read, write] statements of {body}");
    assert_eq!(body["current_target"]["reason"], "目標を上方修正", "the latest of the revisions: {body}");
    assert_eq!(body, stored(&app, id).await);
    // One referring to the national catalogue also reads that definition's items: one statement more.
    let national = national.expect("the demo links an indicator to the national catalogue");
    let id = national["id"].as_i64().unwrap();
    let before = statements_run(&app);
    assert_eq!(app.get(&format!("/indicators/{id}"), &app.hq).await.status(), 200);
    assert_eq!(statements_run(&app)[0] - before[0], 2);
}

async fn every_indicator_answers_what_the_storage_reads_alone(backend: Backend) {
    let app = spawn_app(backend).await;
    let rows = demo_indicators(&app).await;
    assert!(rows.len() > 50, "the demo plan's indicators");
    let untargeted = json!({"number": 99, "name": "目標を定めていない指標", "kind": "count", "direction": "increase"});
    let added = app.post(&format!("/measures/{}/indicators", rows[0]["measure_id"]), &app.hq, &untargeted).await;
    assert_eq!(added.status(), 201);
    let mut ids: Vec<i64> = rows.iter().map(|row| row["indicator_id"].as_i64().unwrap()).collect();
    ids.push(json(added).await["id"].as_i64().unwrap());
    // With a current target and without.
    let mut shapes = [0; 2];
    for &id in &ids {
        let body = json(app.get(&format!("/indicators/{id}"), &app.viewer).await).await;
        assert_eq!(body, stored(&app, id).await, "indicator {id}");
        shapes[usize::from(body["current_target"].is_object())] += 1;
    }
    assert!(shapes.iter().all(|&count| count > 0), "indicators without and with a target: {shapes:?}");
    let missing = ids.iter().max().unwrap() + 1000;
    assert_problem(app.get(&format!("/indicators/{missing}"), &app.viewer).await, 404).await;
}

async fn a_change_shows_in_the_next_read(backend: Backend) {
    let app = spawn_app(backend).await;
    let rows = demo_indicators(&app).await;
    let id = rows[0]["indicator_id"].as_i64().unwrap();
    let first = app.get(&format!("/indicators/{id}"), &app.hq).await;
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let renamed = app.patch(&format!("/indicators/{id}"), &app.hq, &json!({"name": "改めた指標名"})).await;
    assert_eq!(renamed.status(), 200);
    let next = app.get(&format!("/indicators/{id}"), &app.hq).await;
    assert_ne!(next.headers()["etag"].to_str().unwrap(), etag);
    let body = json(next).await;
    assert_eq!(body["name"], "改めた指標名");
    assert_eq!(body, stored(&app, id).await);
}

async fn another_municipality_s_indicator_reads_as_a_missing_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let ours = demo_indicators(&app).await[0]["indicator_id"].as_i64().unwrap();
    let other = other_municipality(&app).await;
    let missing = other.indicator.max(ours) + 1000;
    let problem_of = |value: Value| (value["status"].clone(), value["type"].clone(), value["title"].clone());
    let theirs = assert_problem(app.get(&format!("/indicators/{}", other.indicator), &app.hq).await, 404).await;
    let absent = assert_problem(app.get(&format!("/indicators/{missing}"), &app.hq).await, 404).await;
    assert_eq!(problem_of(theirs.clone()), problem_of(absent), "{theirs}");
    assert!(!theirs.to_string().contains("マイナンバー"), "nothing of the record shows: {theirs}");
    assert_problem(app.get(&format!("/indicators/{ours}"), &other.hq).await, 404).await;
    assert_eq!(app.get(&format!("/indicators/{}", other.indicator), &other.hq).await.status(), 200);
}

async fn a_deactivated_caller_gets_no_indicator(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = demo_indicators(&app).await[0]["indicator_id"].as_i64().unwrap();
    assert_eq!(app.get(&format!("/indicators/{id}"), &app.viewer).await.status(), 200);
    let deactivated = app.patch(&format!("/users/{}", app.viewer.id), &app.admin, &json!({"active": false})).await;
    assert_eq!(deactivated.status(), 200);
    assert_problem(app.get(&format!("/indicators/{id}"), &app.viewer).await, 401).await;
}
