//! Cached answers (evaluation and its CSV, dashboard, achievement, collection status, a plan's
//! measures, a measure's indicators) are the bytes a fresh computation sends,
//! and a write is visible in the very next answer, also while other requests read and write.
use municipal_kpi::domain::ids::PlanId;

use chrono::NaiveDateTime;
use municipal_kpi::domain::timestamp::parse_utc;
use municipal_kpi::error::AppError;
use municipal_kpi::evaluation::plan::evaluate_plan_at;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, json, spawn_app};
use crate::on_both_backends;

on_both_backends!(
    cached_answers_are_byte_identical_to_fresh_ones,
    a_write_is_visible_in_the_very_next_answer,
    concurrent_writes_are_each_visible_to_the_next_read,
    a_cached_answer_costs_one_statement,
);

const YEAR: i32 = 2020;

async fn body_of(app: &TestApp, path: &str) -> (String, Vec<u8>) {
    let response = app.get(path, &app.hq).await;
    assert_eq!(response.status(), 200, "{path}");
    let etag = response.headers().get("etag").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    // Large bodies leave the server in slices (`api::sliced_body`): still announced in full.
    let announced = response.content_length().expect("Content-Length");
    let body = response.bytes().await.expect("body").to_vec();
    assert_eq!(announced, body.len() as u64, "{path}");
    (etag, body)
}

/// The plan's evaluation computed in-process, serialised as the API serialises it, at `now`.
fn fresh_evaluation(app: &TestApp, plan_id: i32, now: NaiveDateTime) -> Vec<u8> {
    let evaluation = app
        .db
        .read_blocking(move |conn| evaluate_plan_at(conn, PlanId::new(plan_id), YEAR, None, now))
        .map_err(|e: AppError| e)
        .expect("evaluation");
    serde_json::to_vec(&evaluation).expect("serialises")
}

fn evaluated_at(body: &[u8]) -> NaiveDateTime {
    let value: Value = serde_json::from_slice(body).expect("JSON");
    parse_utc(value["evaluated_at"].as_str().expect("evaluated_at")).expect("a time")
}

/// A write that changes nothing but the data version: the next request computes afresh.
fn raise_data_version(app: &TestApp) {
    app.db.write_blocking(municipal_kpi::db::WriteScope::Installation, |_| Ok::<_, AppError>(())).expect("empty write");
}

async fn cached_answers_are_byte_identical_to_fresh_ones(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = municipal_kpi::demo::ensure_loaded(&app.db, true).expect("demo loads").plan_id();
    let evaluation_path = format!("/plans/{plan}/evaluation?fiscal_year={YEAR}");
    let (_, computed) = body_of(&app, &evaluation_path).await;
    let (_, cached) = body_of(&app, &evaluation_path).await;
    assert!(cached.len() > 4 * municipal_kpi::api::sliced_body::SLICE_BYTES, "the demo's evaluation spans slices");
    assert!(evaluated_at(&cached) > evaluated_at(&computed), "each answer says when it was sent");
    for body in [&computed, &cached] {
        let fresh = fresh_evaluation(&app, plan, evaluated_at(body));
        assert_eq!(std::str::from_utf8(body).unwrap(), std::str::from_utf8(&fresh).unwrap());
    }

    let first_row = serde_json::from_slice::<Value>(&cached).unwrap()["indicators"][0].clone();
    let (indicator, measure) = (first_row["indicator_id"].as_i64().unwrap(), first_row["measure_id"].as_i64().unwrap());
    for path in [
        format!("/measures/{measure}/indicators"),
        format!("/measures/{measure}/indicators?limit=1&offset=1"),
        format!("/plans/{plan}/dashboard"),
        format!("/indicators/{indicator}/achievement?fiscal_year={YEAR}"),
        format!("/indicators/{indicator}/achievement?limit=2&offset=1"),
        format!("/plans/{plan}/submissions?fiscal_year={YEAR}"),
        format!("/plans/{plan}/evaluation?fiscal_year={YEAR}&format=csv"),
        format!("/plans/{plan}/measures?limit=5&offset=2"),
        format!("/plans/{plan}/measures?status=active"),
    ] {
        body_of(&app, &path).await;
        let (cached_tag, cached) = body_of(&app, &path).await;
        raise_data_version(&app);
        let (fresh_tag, fresh) = body_of(&app, &path).await;
        assert_eq!(cached, fresh, "{path}");
        assert_eq!(cached_tag, fresh_tag, "{path}");
    }
}

/// The dashboard's status for `If-None-Match: tag`, as hq.
async fn revalidate_dashboard(app: &TestApp, plan: i32, tag: &str) -> u16 {
    let response = app
        .client
        .get(app.api(&format!("/plans/{plan}/dashboard")))
        .bearer_auth(&app.hq.token)
        .header("If-None-Match", tag)
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

/// Statements run so far on the read and the write pool.
fn statements_run(app: &TestApp) -> [u64; 2] {
    app.db.pool_status().map(|(_, status)| status.statements)
}

/// A cached answer, and its 304, cost the one statement that reads the caller, whose the resource
/// is and the data version together: on PostgreSQL every statement is a round trip.
async fn a_cached_answer_costs_one_statement(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = municipal_kpi::demo::ensure_loaded(&app.db, true).expect("demo loads").plan_id();
    let evaluation = json(app.get(&format!("/plans/{plan}/evaluation?fiscal_year={YEAR}"), &app.hq).await).await;
    let indicator = evaluation["indicators"][0]["indicator_id"].as_i64().unwrap();
    let measure = evaluation["indicators"][0]["measure_id"].as_i64().unwrap();
    let (dashboard_tag, _) = body_of(&app, &format!("/plans/{plan}/dashboard")).await;
    for path in [
        format!("/measures/{measure}/indicators?limit=10"),
        format!("/plans/{plan}/evaluation?fiscal_year={YEAR}"),
        format!("/plans/{plan}/dashboard"),
        format!("/indicators/{indicator}/achievement?fiscal_year={YEAR}"),
        format!("/plans/{plan}/submissions?fiscal_year={YEAR}"),
        format!("/plans/{plan}/evaluation?fiscal_year={YEAR}&format=csv"),
        format!("/plans/{plan}/measures?limit=10"),
    ] {
        body_of(&app, &path).await;
        let before = statements_run(&app);
        body_of(&app, &path).await;
        let after = statements_run(&app);
        assert_eq!([after[0] - before[0], after[1] - before[1]], [1, 0], "{path}: [read, write] statements");
    }
    let before = statements_run(&app);
    assert_eq!(revalidate_dashboard(&app, plan, &dashboard_tag).await, 304);
    assert_eq!(statements_run(&app)[0] - before[0], 1, "a 304 reads the caller and the version, nothing else");
    // An uncached read still pays for what it reads, after the same first statement.
    let before = statements_run(&app);
    assert_eq!(app.get(&format!("/indicators/{indicator}/targets"), &app.hq).await.status(), 200);
    assert!(statements_run(&app)[0] - before[0] > 1);
}

async fn a_write_is_visible_in_the_very_next_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = municipal_kpi::demo::ensure_loaded(&app.db, true).expect("demo loads").plan_id();
    let evaluation_path = format!("/plans/{plan}/evaluation?fiscal_year={YEAR}");
    let evaluation = json(app.get(&evaluation_path, &app.hq).await).await;
    let pending = evaluation["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["submission"] == "submitted")
        .expect("the demo has FY2020 actuals awaiting review");
    let indicator = pending["indicator_id"].as_i64().unwrap();
    let (dashboard_tag, _) = body_of(&app, &format!("/plans/{plan}/dashboard")).await;
    let achievement_path = format!("/indicators/{indicator}/achievement?fiscal_year={YEAR}");
    let achievement = json(app.get(&achievement_path, &app.hq).await).await;
    assert_eq!(achievement["result"]["pending"], true);
    let submissions_path = format!("/plans/{plan}/submissions?fiscal_year={YEAR}");
    let approved_count = |status: &Value| -> u64 {
        status["departments"].as_array().unwrap().iter().map(|d| d["counts"]["approved"].as_u64().unwrap()).sum()
    };
    let approved_before = approved_count(&json(app.get(&submissions_path, &app.hq).await).await);
    let csv_path = format!("/plans/{plan}/evaluation?fiscal_year={YEAR}&format=csv");
    let (_, csv_before) = body_of(&app, &csv_path).await;
    let measures_path = format!("/plans/{plan}/measures?limit=500");
    let measures_before = json(app.get(&measures_path, &app.hq).await).await;
    let measure_indicators_path = format!("/measures/{}/indicators?limit=500", pending["measure_id"]);
    let name_in_measure = |page: &Value| {
        page["items"].as_array().unwrap().iter().find(|i| i["id"] == indicator).map(|i| i["name"].clone())
    };
    let listed_before = name_in_measure(&json(app.get(&measure_indicators_path, &app.hq).await).await);
    assert!(listed_before.is_some_and(|name| name != "改名した指標"), "the measure lists its indicator");

    // Approval: the evaluation, the achievement and the dashboard change at once.
    let review = app
        .post(&format!("/indicators/{indicator}/actuals/{YEAR}/review"), &app.hq, &json!({"action": "approve"}))
        .await;
    assert_eq!(review.status(), 200);
    let indicator_in = |evaluation: &Value| {
        evaluation["indicators"].as_array().unwrap().iter().find(|i| i["indicator_id"] == indicator).unwrap().clone()
    };
    assert_eq!(indicator_in(&json(app.get(&evaluation_path, &app.hq).await).await)["submission"], "approved");
    let achievement = json(app.get(&achievement_path, &app.hq).await).await;
    assert_eq!(achievement["result"]["pending"], false);
    assert_eq!(revalidate_dashboard(&app, plan, &dashboard_tag).await, 200, "an approved actual changes the dashboard");
    let approved_after = approved_count(&json(app.get(&submissions_path, &app.hq).await).await);
    assert_eq!(approved_after, approved_before + 1, "the collection status counts the approval at once");
    let (_, csv_after) = body_of(&app, &csv_path).await;
    assert_ne!(csv_before, csv_after, "the CSV 進捗管理表 shows the approval at once");

    // A target revision.
    let revision = app
        .post(
            &format!("/indicators/{indicator}/targets"),
            &app.hq,
            &json!({"value": 999_999, "target_fiscal_year": YEAR, "effective_from_fiscal_year": YEAR, "reason": "目標を上方修正"}),
        )
        .await;
    assert_eq!(revision.status(), 201, "{}", revision.text().await.unwrap_or_default());
    let target = &indicator_in(&json(app.get(&evaluation_path, &app.hq).await).await)["target"];
    assert_eq!(target["value"].as_f64(), Some(999_999.0));
    let achievement = json(app.get(&achievement_path, &app.hq).await).await;
    assert_eq!(achievement["inputs"]["target"]["value"].as_f64(), Some(999_999.0));

    // Renaming the indicator and the plan.
    let renamed = app.patch(&format!("/indicators/{indicator}"), &app.hq, &json!({"name": "改名した指標"})).await;
    assert_eq!(renamed.status(), 200);
    let renamed_plan = app.patch(&format!("/plans/{plan}"), &app.hq, &json!({"name": "改名した計画"})).await;
    assert_eq!(renamed_plan.status(), 200);
    let evaluation = json(app.get(&evaluation_path, &app.hq).await).await;
    assert_eq!(indicator_in(&evaluation)["name"], "改名した指標");
    assert_eq!(evaluation["plan_name"], "改名した計画");
    let dashboard = json(app.get(&format!("/plans/{plan}/dashboard"), &app.hq).await).await;
    assert_eq!(dashboard["plan_name"], "改名した計画");
    let (_, csv) = body_of(&app, &csv_path).await;
    assert!(String::from_utf8(csv).unwrap().contains("改名した指標"), "the CSV shows the rename at once");
    let listed = name_in_measure(&json(app.get(&measure_indicators_path, &app.hq).await).await);
    assert_eq!(listed, Some(Value::from("改名した指標")), "the measure's indicators show the rename at once");

    // Renaming a measure: the plan's measure list shows it in the next answer.
    let measure = measures_before["items"][0]["id"].as_i64().unwrap();
    let renamed = app.patch(&format!("/measures/{measure}"), &app.hq, &json!({"name": "改名した施策"})).await;
    assert_eq!(renamed.status(), 200, "{}", renamed.text().await.unwrap_or_default());
    let measures = json(app.get(&measures_path, &app.hq).await).await;
    assert_eq!(measures["items"][0]["name"], "改名した施策");
}

async fn concurrent_writes_are_each_visible_to_the_next_read(backend: Backend) {
    const WRITERS: usize = 3;
    const RENAMES: usize = 8;
    let app = std::sync::Arc::new(spawn_app(backend).await);
    let plan = municipal_kpi::demo::ensure_loaded(&app.db, true).expect("demo loads").plan_id();
    let evaluation_path = format!("/plans/{plan}/evaluation?fiscal_year={YEAR}");
    let evaluation = json(app.get(&evaluation_path, &app.hq).await).await;
    let indicators: Vec<i64> = evaluation["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .take(WRITERS)
        .map(|i| i["indicator_id"].as_i64().unwrap())
        .collect();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Readers keep computing and storing evaluations while the writers write.
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (app, done, path) = (app.clone(), done.clone(), evaluation_path.clone());
            actix_web::rt::spawn(async move {
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    assert_eq!(app.get(&path, &app.hq).await.status(), 200);
                }
            })
        })
        .collect();
    let writers: Vec<_> = indicators
        .iter()
        .map(|&indicator| {
            let (app, path) = (app.clone(), evaluation_path.clone());
            actix_web::rt::spawn(async move {
                for round in 0..RENAMES {
                    let name = format!("指標{indicator}の名前{round}");
                    let renamed = app.patch(&format!("/indicators/{indicator}"), &app.hq, &json!({"name": name})).await;
                    assert_eq!(renamed.status(), 200);
                    let evaluation = json(app.get(&path, &app.hq).await).await;
                    let seen = evaluation["indicators"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|i| i["indicator_id"] == indicator)
                        .map(|i| i["name"].clone());
                    assert_eq!(seen, Some(Value::from(name)), "the next evaluation after a rename");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("writer");
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    for reader in readers {
        reader.await.expect("reader");
    }
}
