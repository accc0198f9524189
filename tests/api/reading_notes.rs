//! Caveats that travel with the data (issue 22): plans, phases, goals, measures and references carry
//! a reading note; a reference names its source and issue date; a 見直し区分 no source states is left
//! empty. Through the plan file (the demo) and through the API.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, json, spawn_app};
use crate::on_both_backends;

on_both_backends!(
    the_demo_plans_carry_their_readings_of_the_seeds,
    reading_notes_are_written_and_removed_through_the_api,
);

async fn created(response: reqwest::Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body
}

async fn items(app: &TestApp, path: &str) -> Vec<Value> {
    json(app.get(path, &app.viewer).await).await["items"].as_array().unwrap().clone()
}

fn note(record: &Value) -> &str {
    record["reading_note"].as_str().unwrap_or_default()
}

async fn the_demo_plans_carry_their_readings_of_the_seeds(backend: Backend) {
    let app = spawn_app(backend).await;
    app.load_demo();
    let plans = items(&app, "/plans?limit=500").await;
    let plan = plans.iter().find(|p| p["code"] == "itabashi-dx-2025").unwrap();
    let plan_id = plan["id"].as_i64().unwrap();
    assert!(note(plan).contains("renamed_fiscal_year"), "{plan}");
    assert_eq!(plan["baseline_fiscal_year"], Value::Null, "no seed gives it");

    let measures = items(&app, &format!("/plans/{plan_id}/measures")).await;
    assert_eq!(measures.len(), 3);
    for measure in &measures {
        assert_eq!(measure["review_category"], Value::Null, "{measure}");
        assert_eq!(measure["review_category_label"], Value::Null, "{measure}");
        assert!(note(measure).contains("所管課を記した資料はない"), "{measure}");
    }
    assert!(note(&measures[2]).contains("経営改革推進課"));

    let visions = items(&app, &format!("/plans/{plan_id}/goals?kind=ICT活用ビジョン")).await;
    assert!(visions.iter().all(|vision| note(vision).contains("仮の名称")), "{visions:?}");

    let references = items(&app, &format!("/plans/{plan_id}/references?limit=100")).await;
    let procedure_act = references.iter().find(|r| r["title"] == "デジタル手続法").unwrap();
    assert_eq!(procedure_act["issued"], "2019-05");
    assert_eq!(procedure_act["source"], "seed 000 2");
    let basic_act = references.iter().find(|r| r["title"] == "官民データ活用推進基本法").unwrap();
    assert_eq!(basic_act["issued"], "2016-12");
    assert!(note(basic_act).contains("平成28年12月14日"));
    for title in
        ["東京都ICT戦略", "TOKYO Data Highway 基本戦略", "世界最先端IT国家創造宣言・官民データ活用推進基本計画"]
    {
        assert!(references.iter().any(|r| r["title"] == title), "{title}");
    }
}

async fn reading_notes_are_written_and_removed_through_the_api(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.department_user("it-promotion", "IT推進課");
    let plan = created(
        app.post(
            "/plans",
            &app.hq,
            &json!({"code": "dx", "name": "DX推進計画", "start_fiscal_year": 2021, "end_fiscal_year": 2025,
                    "reading_note": "名称変更の年度は推定",
                    "phases": [{"name": "後期実施計画", "start_fiscal_year": 2024, "end_fiscal_year": 2025,
                                "reading_note": "期間は seed 000 3"}]}),
        )
        .await,
    )
    .await;
    let plan_id = plan["id"].as_i64().unwrap();
    assert_eq!(plan["reading_note"], "名称変更の年度は推定");
    assert_eq!(plan["phases"][0]["reading_note"], "期間は seed 000 3");

    let patched = json(app.patch(&format!("/plans/{plan_id}"), &app.hq, &json!({"reading_note": null})).await).await;
    assert_eq!(patched["reading_note"], Value::Null, "{patched}");
    assert_eq!(patched["phases"][0]["reading_note"], "期間は seed 000 3", "a PATCH without phases keeps them");

    let goal = created(
        app.post(
            &format!("/plans/{plan_id}/goals"),
            &app.hq,
            &json!({"number": 1, "name": "ICT活用ビジョン1", "kind": "ICT活用ビジョン", "reading_note": "仮の名称"}),
        )
        .await,
    )
    .await;
    assert_eq!(goal["reading_note"], "仮の名称");

    let measures = format!("/plans/{plan_id}/measures");
    let measure = created(
        app.post(
            &measures,
            &app.hq,
            &json!({"number": 1, "name": "テレワーク環境の整備", "owner_department_ids": [owner.department_id],
                    "reading_note": "所管課は仮定"}),
        )
        .await,
    )
    .await;
    assert_eq!(measure["review_category"], Value::Null, "left out: not stated");
    assert_eq!(measure["reading_note"], "所管課は仮定");
    let measure_id = measure["id"].as_i64().unwrap();
    let categorised = json(
        app.patch(
            &format!("/measures/{measure_id}"),
            &app.hq,
            &json!({"review_category": "継続", "reading_note": null}),
        )
        .await,
    )
    .await;
    assert_eq!(categorised["review_category_label"], "継続", "{categorised}");
    assert_eq!(categorised["reading_note"], Value::Null);
    let uncategorised =
        json(app.patch(&format!("/measures/{measure_id}"), &app.hq, &json!({"review_category": null})).await).await;
    assert_eq!(uncategorised["review_category"], Value::Null, "{uncategorised}");

    let references = format!("/plans/{plan_id}/references");
    let undated = app
        .post(
            &references,
            &app.hq,
            &json!({"kind": "national_policy", "title": "東京都ICT戦略", "issued": "平成29年12月"}),
        )
        .await;
    assert_eq!(assert_problem(undated, 422).await["errors"][0]["field"], "issued");
    let reference = created(
        app.post(
            &references,
            &app.hq,
            &json!({"kind": "national_policy", "title": "東京都ICT戦略", "issued": "2017-12", "source": "seed 000 2",
                    "reading_note": "月までしか記されていない"}),
        )
        .await,
    )
    .await;
    assert_eq!(reference["issued"], "2017-12");
    assert_eq!(reference["source"], "seed 000 2");
    assert_eq!(reference["reading_note"], "月までしか記されていない");
}
