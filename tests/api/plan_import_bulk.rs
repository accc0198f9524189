//! A plan document's indicators are written in bulk (a few statements per thousand indicators);
//! the indicators, targets, versions and audit entries must be the ones the one-by-one path writes.
//! The same document is loaded twice: as it is (bulk), and with every indicator naming its own name
//! as a former name, which sends it through the one-by-one path without renaming it.

use serde_json::{Value, json as json_value};

use crate::helpers::{Backend, TestApp, assert_problem, json, spawn_app};
use crate::on_both_backends;

const INDICATORS: &[&str] = &[
    // Two revisions, the second with interim targets.
    r#"number = 1
name = "オープンデータ数"
kind = "count"
direction = "increase"
unit = "件"
department = "bulk-test"
baseline = { fiscal_year = 2019, value = "203" }
[[measures.indicators.targets]]
value = "230"
target_fiscal_year = 2024
effective_from_fiscal_year = 2020
reason = "当初計画"
[[measures.indicators.targets]]
value = "260"
target_fiscal_year = 2024
effective_from_fiscal_year = 2022
interim = { 2022 = "240", 2023 = "250" }
reason = "目標を上方修正""#,
    r#"number = 2
name = "電子申請率"
kind = "ratio"
direction = "increase"
unit = "%"
numerator_label = "電子申請件数"
denominator_label = "申請件数"
[[measures.indicators.targets]]
value = "50"
target_fiscal_year = 2024
effective_from_fiscal_year = 2020
reason = "当初計画""#,
    r#"number = 3
name = "基盤の構築"
kind = "milestone"
direction = "milestone"
stages = ["未着手", "検討", "完了"]
baseline = { fiscal_year = 2019, stage = "未着手" }
[[measures.indicators.targets]]
stage = "完了"
target_fiscal_year = 2023
effective_from_fiscal_year = 2020
reason = "当初計画""#,
    r#"number = 4
name = "満足度"
kind = "percent"
direction = "trend_up"
unit = "%""#,
];

fn document(code: &str, one_by_one: bool, broken_target: Option<&str>) -> String {
    let mut toml = format!(
        "[municipality]\ncode = \"131199\"\nname = \"板橋区\"\n\n[plan]\ncode = \"{code}\"\nname = \"一括取込試験\"\n\
         start_fiscal_year = 2020\nend_fiscal_year = 2024\nstatus = \"draft\"\nbaseline_fiscal_year = 2019\n\n\
         [[departments]]\ncode = \"bulk-test\"\nname = \"一括試験課\"\n\n[[goals]]\nnumber = 1\nname = \"目標\"\n\n"
    );
    for measure in 1..=2 {
        toml.push_str(&format!(
            "[[measures]]\nnumber = {measure}\nname = \"施策{measure}\"\nreview_category = \"継続\"\nmain_goal = 1\n\
             owners = [\"bulk-test\"]\nstatus = \"active\"\nsummary = \"\"\n\n"
        ));
        for indicator in INDICATORS {
            let name = indicator.lines().nth(1).and_then(|l| l.strip_prefix("name = ")).expect("a name line");
            let (definition, targets) = indicator.split_once("\n[[").map_or((*indicator, ""), |(d, t)| (d, t));
            toml.push_str("[[measures.indicators]]\n");
            toml.push_str(definition);
            if one_by_one {
                toml.push_str(&format!("\nformer_names = [{name}]"));
            }
            if !targets.is_empty() {
                toml.push_str("\n[[");
                toml.push_str(targets);
            }
            toml.push_str("\n\n");
        }
    }
    if let Some(broken) = broken_target {
        toml = toml.replacen("value = \"260\"", broken, 2);
    }
    toml
}

/// What a plan's indicators are as stored, without what differs between two loads (ids, times).
async fn stored(app: &TestApp, plan: i64) -> Vec<Value> {
    let measures = json(app.get(&format!("/plans/{plan}/measures"), &app.hq).await).await;
    let mut indicators = Vec::new();
    for measure in measures["items"].as_array().expect("measures") {
        let listed = json(app.get(&format!("/measures/{}/indicators", measure["id"]), &app.hq).await).await;
        for indicator in listed["items"].as_array().expect("indicators") {
            let id = indicator["id"].as_i64().expect("id");
            let one = json(app.get(&format!("/indicators/{id}"), &app.hq).await).await;
            let targets = json(app.get(&format!("/indicators/{id}/targets"), &app.hq).await).await;
            let audit = json(app.get(&format!("/audit?entity_type=indicator&entity_id={id}"), &app.hq).await).await;
            let mut audit: Vec<Value> = audit["items"].as_array().expect("audit").clone();
            audit.sort_by_key(|entry| entry["id"].as_i64());
            indicators.push(without_ids(json_value!({
                "measure": measure["number"], "indicator": one, "targets": targets,
                "audit": audit.iter().map(|e| json_value!({
                    "action": e["action"], "actor": e["actor_username"], "reason": e["reason"],
                    "old": e["old_value"], "new": e["new_value"],
                })).collect::<Vec<_>>(),
            })));
        }
    }
    indicators
}

fn without_ids(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(key, _)| {
                    !matches!(key.as_str(), "id" | "measure_id" | "indicator_id" | "department_id")
                        && !key.ends_with("_at")
                })
                .map(|(key, value)| (key, without_ids(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_ids).collect()),
        other => other,
    }
}

async fn a_plan_documents_indicators_are_stored_as_one_by_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut plans = Vec::new();
    for (code, one_by_one) in [("bulk", false), ("one-by-one", true)] {
        let response = app.import_plan(&app.hq, document(code, one_by_one, None)).await;
        assert_eq!(response.status(), 201, "{code}");
        let report = json(response).await;
        assert_eq!(
            (report["indicators"].as_i64(), report["target_revisions"].as_i64()),
            (Some(8), Some(8)),
            "{report}"
        );
        plans.push(report["plan_id"].as_i64().expect("plan_id"));
    }
    let (bulk, one_by_one) = (stored(&app, plans[0]).await, stored(&app, plans[1]).await);
    assert_eq!(bulk.len(), 8);
    assert_eq!(bulk, one_by_one);

    let first = &bulk[0];
    assert_eq!(first["indicator"]["version"], 3, "created, then two target revisions: {first}");
    assert_eq!(first["indicator"]["current_target"]["value"], 260);
    let actions: Vec<&str> = first["audit"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["create", "revise_target", "revise_target"]);
    assert_eq!(first["audit"][0]["new"]["current_target"], Value::Null, "created before its targets");
    assert_eq!(first["audit"][1]["old"], Value::Null);
    assert_eq!(first["audit"][2]["old"]["value"], 230, "the second revision replaces the first");
    assert_eq!(first["audit"][2]["reason"], "目標を上方修正");
    assert_eq!(bulk[3]["indicator"]["version"], 1, "no targets: {}", bulk[3]);
}

async fn a_bad_target_deep_in_a_plan_document_loads_nothing_and_is_named(backend: Backend) {
    let app = spawn_app(backend).await;
    let plans_before = json(app.get("/plans", &app.hq).await).await["total"].clone();
    for broken in ["value = \"-5\"", "stage = \"完了\""] {
        let problem =
            assert_problem(app.import_plan(&app.hq, document("broken", false, Some(broken))).await, 422).await;
        let fields: Vec<&str> =
            problem["errors"].as_array().unwrap().iter().filter_map(|e| e["field"].as_str()).collect();
        assert!(fields.iter().any(|f| f.starts_with("measures[0].indicators[0].targets[1].")), "{broken}: {problem}");
    }
    assert_eq!(json(app.get("/plans", &app.hq).await).await["total"], plans_before, "nothing was loaded");
    let codes = json(app.get("/departments", &app.hq).await).await.to_string();
    assert!(!codes.contains("bulk-test"), "the document's department was rolled back too");
}

on_both_backends!(
    a_plan_documents_indicators_are_stored_as_one_by_one,
    a_bad_target_deep_in_a_plan_document_loads_nothing_and_is_named
);
